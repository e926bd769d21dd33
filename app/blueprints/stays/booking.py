"""The phone booking page for the front desk: /bookings/new (the room calendar's free cells
link here with the room and dates filled in), the guest search it asks as you type (htmx)."""

from datetime import date

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.stays import bp
from app.blueprints.stays.forms import BookingForm
from app.blueprints.stays.routes import _describe, error_message
from app.extensions import db
from app.models import Customer
from app.security import audit, desk_required
from app.services.shop import shop_context
from app.services.stays import StayError, booking


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None


def _prefill(form: BookingForm) -> None:
    """?room_id=…&check_in=…&check_out=… (YYYY-MM-DD) from the calendar's free cell."""
    room = request.args.get("room_id", "")
    if room.isdigit() and any(choice[0] == room for choice in form.room_id.iter_choices()):
        form.room_id.data = room
    form.check_in.data = _day(request.args.get("check_in")) or form.check_in.data
    form.check_out.data = _day(request.args.get("check_out")) or form.check_out.data
    guest = request.args.get("guest_id", "")
    form.guest_id.data = int(guest) if guest.isdigit() else None
    enquiry = request.args.get("enquiry_id", "")
    form.enquiry_id.data = int(enquiry) if enquiry.isdigit() else None
    for name in ("guest_name", "guest_phone", "guest_email"):
        getattr(form, name).data = request.args.get(name, "")[:120] or getattr(form, name).data
    adults = request.args.get("adults", "")
    if adults.isdigit() and 0 < int(adults) < 100:
        form.adults.data = int(adults)


def _chosen(form: BookingForm):
    """(the chosen guest, their open alerts) when an existing guest is chosen."""
    guest = db.session.get(Customer, form.guest_id.data) if form.guest_id.data else None
    if guest is None:
        return None, []
    return guest, booking.open_alerts(db.session, guest.id)


def _page(form: BookingForm, status: int = 200):
    guest, alerts = _chosen(form)
    unplaced = booking.needing_a_room(db.session, shop_context(db.session).today)
    return render_template(
        "stays/new_booking.html", form=form, guest=guest, alerts=alerts, unplaced=unplaced
    ), status


@bp.route("/bookings/new", methods=["GET", "POST"])
@desk_required
def new_booking():
    form = BookingForm()
    if request.method == "GET":
        _prefill(form)
        return _page(form)
    if not form.validate():
        return _page(form, 422)
    context = shop_context(db.session)
    try:
        stay = booking.book(db.session, form.values(), actor=current_user, today=context.today,
                            zone=context.zone)  # fmt: skip
    except StayError as error:
        db.session.rollback()
        field, message = error_message(error)
        getattr(form, field, form.room_id).errors = [message]
        return _page(form, 422)
    audit("stay.book", "customer", stay.customer_id, _describe(stay))
    db.session.commit()
    flash(_("Booked: %(name)s, %(room)s, %(check_in)s → %(check_out)s.",
            name=stay.customer.display_name, room=stay.room.name,
            check_in=stay.check_in.isoformat(), check_out=stay.check_out.isoformat()),
          "success")  # fmt: skip
    return redirect(url_for("stays.show", stay_id=stay.id))


@bp.route("/bookings/guests")
@desk_required
def find_guests():
    """The guests matching what the desk typed, each with their open alerts (htmx)."""
    text = request.args.get("q", "").strip()
    found = booking.find_guests(db.session, text)
    return render_template("stays/_guest_results.html", found=found, q=text)
