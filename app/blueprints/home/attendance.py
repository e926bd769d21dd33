"""Marking the after-school roll from the Today board: arrived, picked up (by whom), absent,
undo; each answers with the child's tile or card again, the tally and a toast (htmx), or goes
back to Today."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.blueprints.home import today_bp
from app.blueprints.shared import initials
from app.extensions import db, htmx
from app.htmx import is_partial
from app.models import Customer
from app.security import audit, staff_required
from app.services import attendance
from app.services.home import today_board
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


def _toast(customer: Customer, row) -> str:
    """What the tap did, said in the toast above Undo."""
    from flask_babel import gettext as _

    name = customer.display_name
    if row is None:
        return _("%(name)s: today's mark taken back.", name=name)
    if row.status == "absent":
        return _("%(name)s marked absent.", name=name)
    if row.checked_out_at:
        return _("%(name)s picked up.", name=name)
    return _("%(name)s arrived.", name=name)


def _answer(customer: Customer, *, undone: bool = False, error: str | None = None):
    """The tapped tile or card again with, out of band, the other one, the roll's tally and
    a toast offering Undo (htmx); or back to Today."""
    chosen = request.form.getlist("group")
    if not is_partial():
        if error:
            flash(error, "error")
        return redirect(url_for("today.index", group=chosen) + f"#child-{customer.id}")
    marked = today_board.after_mark(
        db.session, get_shop(db.session), current_user, customer, chosen=chosen,
        day=shop_context(db.session).today,
    )  # fmt: skip
    html = render_template(
        "today/_marked.html",
        from_tile=(htmx.target or "").startswith("tile-"),
        child=customer,
        row=marked.row,
        family=marked.family,
        expected=marked.expected,
        markable={customer.id},
        classes={customer.id: marked.class_name},
        avatars={customer.id: marked.avatar},
        selected=chosen,
        tally=marked.tally,
        initials=initials,
        error=error,
        toast=None if error else _toast(customer, marked.row),
        toast_undo=not error and not undone,
    )
    return html, 422 if error else 200


def _mark(customer_id: int, action, *, undo: bool = False):
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
            "nothing": _("Nothing to undo: the child has no mark today."),
        }.get(error.code, _("Check the values and try again."))
        return _answer(customer, error=message)
    if row is None:
        detail = "today's mark removed"
    else:
        detail = f"{row.day} {row.status} in={row.checked_in_at} out={row.checked_out_at}"
        if row.unexpected_pickup:
            detail += " NOT A LISTED GUARDIAN"
    audit(f"attendance.{request.endpoint.rsplit('.', 1)[-1]}", "customer", customer.id, detail)
    db.session.commit()
    return _answer(customer, undone=undo)


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


@today_bp.route("/today/<int:customer_id>/undo", methods=["POST"])
@staff_required
def undo(customer_id: int):
    """Takes back today's last tap on the child (a mis-tap on the roll)."""
    return _mark(customer_id, lambda customer, context: attendance.undo_mark(
        db.session, customer, context.today, actor=current_user, zone=context.zone,
        words=_words(),
    ), undo=True)  # fmt: skip
