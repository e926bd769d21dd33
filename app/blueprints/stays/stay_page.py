"""The stay's page: where it is in its life (booked … departed), the party, preferences,
occasion and the guest's alerts, and the desk's actions on it: check in or out (any day),
one more night, a room change from a chosen night."""

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.stays import bp
from app.blueprints.stays.forms import MoveForm
from app.blueprints.stays.routes import _describe, error_message
from app.extensions import db
from app.models import Customer, Stay
from app.security import audit, desk_required
from app.services.shop import shop_context
from app.services.stays import StayError, life


def _render(stay: Stay, move_form: MoveForm | None = None, status: int = 200):
    context = shop_context(db.session)
    page = life.stay_page(db.session, stay, context.today)
    if move_form is None:
        move_form = MoveForm(prefix="move")
        move_form.from_day.data = page.move_from
    return render_template("stays/show.html", page=page, move_form=move_form), status


@bp.route("/stays/<int:stay_id>")
@desk_required
def show(stay_id: int):
    return _render(db.get_or_404(Stay, stay_id))


@bp.route("/stays/<int:stay_id>/extend", methods=["POST"])
@desk_required
def extend(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    try:
        life.extend(db.session, stay, customer, actor=current_user,
                    zone=shop_context(db.session).zone)  # fmt: skip
    except StayError as error:
        db.session.rollback()
        flash(error_message(error)[1], "error")
    else:
        audit("stay.extend", "customer", customer.id, _describe(stay))
        db.session.commit()
        flash(_("One more night: %(name)s now leaves on %(day)s.", name=customer.display_name,
                day=stay.check_out.isoformat()), "success")  # fmt: skip
    return redirect(url_for("stays.show", stay_id=stay.id))


@bp.route("/stays/<int:stay_id>/move", methods=["POST"])
@desk_required
def move(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    customer = db.get_or_404(Customer, stay.customer_id)
    form = MoveForm(prefix="move")
    if not form.validate():
        return _render(stay, form, 422)
    context = shop_context(db.session)
    before = _describe(stay)
    try:
        rest = life.move(
            db.session, stay, customer, room_id=int(form.room_id.data or 0) or None,
            from_day=form.from_day.data, actor=current_user, today=context.today,
            zone=context.zone,
        )  # fmt: skip
    except StayError as error:
        db.session.rollback()
        field, message = error_message(error)
        getattr(form, field if field in ("room_id", "from_day") else "room_id").errors = [message]
        return _render(db.get_or_404(Stay, stay_id), form, 422)
    audit("stay.move", "customer", customer.id, f"{before} -> {_describe(rest)}")
    db.session.commit()
    flash(_("Room changed: from %(day)s in %(room)s.", day=rest.check_in.isoformat(),
            room=rest.room.name), "success")  # fmt: skip
    return redirect(url_for("stays.show", stay_id=rest.id))
