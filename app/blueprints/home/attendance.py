"""Marking the after-school roll from the Today board: arrived, picked up (by whom), absent;
each answers with the child's attendance block again (htmx) or goes back to Today."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.home import today_bp
from app.extensions import db
from app.htmx import is_partial
from app.models import Customer
from app.security import audit, staff_required
from app.services import attendance
from app.services.shop import get_shop, shop_context


def _words() -> dict:
    """The day's timeline line is stored text: written in the shop's language."""
    from flask_babel import force_locale
    from flask_babel import gettext as _

    with force_locale(get_shop(db.session).default_locale or "zh_Hant"):
        return {
            "arrived": _("Arrived %(time)s", time="%(time)s"),
            "picked_up": _("picked up %(time)s by %(who)s", time="%(time)s", who="%(who)s"),
            "absent": _("Absent"),
            "not_listed": _("(not a listed guardian)"),
        }


def _answer(customer: Customer, row):
    """The child's attendance block again (htmx), or back to Today."""
    if is_partial():
        return render_template(
            "today/_attendance.html",
            child=customer,
            row=row,
            family=attendance.families(db.session, [customer.id]),
            expected={customer.id},
            markable={customer.id},
        )
    return redirect(url_for("today.index") + f"#child-{customer.id}")


def _mark(customer_id: int, action):
    from flask_babel import gettext as _

    customer = db.get_or_404(Customer, customer_id)
    if not attendance.markable(db.session, get_shop(db.session), current_user, [customer.id]):
        abort(403)  # a teacher marks the children of their own classes only
    context = shop_context(db.session)
    try:
        row = action(customer, context)
    except attendance.AttendanceError as error:
        db.session.rollback()
        message = {
            "not-here": _("Mark the child as arrived first."),
            "who": _("Choose who picked the child up, or type their name."),
        }.get(error.code, _("Check the values and try again."))
        if is_partial():
            return render_template(
                "today/_attendance.html", child=customer, error=message,
                row=attendance.day_rows(db.session, [customer.id], context.today).get(customer.id),
                family=attendance.families(db.session, [customer.id]), expected={customer.id}, markable={customer.id},
            ), 422  # fmt: skip
        flash(message, "error")
        return redirect(url_for("today.index"))
    detail = f"{row.day} {row.status} in={row.checked_in_at} out={row.checked_out_at}"
    if row.unexpected_pickup:
        detail += " NOT A LISTED GUARDIAN"
    audit(f"attendance.{request.endpoint.rsplit('.', 1)[-1]}", "customer", customer.id, detail)
    db.session.commit()
    return _answer(customer, row)


@today_bp.route("/today/<int:customer_id>/arrive", methods=["POST"])
@staff_required
def arrive(customer_id: int):
    return _mark(customer_id, lambda customer, context: attendance.check_in(
        db.session, customer, context.today, actor=current_user, zone=context.zone,
        words=_words(),
    ))  # fmt: skip


@today_bp.route("/today/<int:customer_id>/pickup", methods=["POST"])
@staff_required
def pickup(customer_id: int):
    member = request.form.get("member", "")
    return _mark(customer_id, lambda customer, context: attendance.check_out(
        db.session, customer, context.today,
        member_id=int(member) if member.isdigit() else None,
        other_name=request.form.get("other", ""), actor=current_user, zone=context.zone,
        words=_words(),
    ))  # fmt: skip


@today_bp.route("/today/<int:customer_id>/absent", methods=["POST"])
@staff_required
def absent(customer_id: int):
    return _mark(customer_id, lambda customer, context: attendance.mark_absent(
        db.session, customer, context.today, reason=request.form.get("reason", ""),
        actor=current_user, zone=context.zone, words=_words(),
    ))  # fmt: skip
