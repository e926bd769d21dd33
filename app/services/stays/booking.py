"""A phone booking at the front desk in one step: an existing guest (found by name or phone)
or a new one (name and phone or email, made a customer), the room and nights (free, through
the gate), the party, the guest's room preferences and the stay's occasion."""

from datetime import date

from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import Customer, Stay, TimelineEntry, User
from app.services import search as search_service
from app.services.enquiries import winning
from app.services.stays import StayError, check, ensure_free, save_stay
from app.services.text import one_line

GUEST_RESULTS = 8


def find_guests(session: Session, text: str) -> list[tuple[Customer, list[TimelineEntry]]]:
    """Guests whose name, number, phone or email matches (the booking page's search), each
    with their open alerts."""
    from app.services.timeline import open_alerts_by_customer

    if not text.strip():
        return []
    guests = search_service.search(session, text, limit=GUEST_RESULTS).customers
    alerts = open_alerts_by_customer(session, [guest.id for guest in guests])
    return [(guest, alerts.get(guest.id, [])) for guest in guests]


def needing_a_room(session: Session, today: date) -> list[Stay]:
    """Bookings still to come (or in house) without a room: double bookings the migration
    took the room from, or stays saved without one. The desk gives them a room."""
    import sqlalchemy as sa
    from sqlalchemy.orm import joinedload

    return list(
        session.scalars(
            sa.select(Stay)
            .where(
                Stay.room_id.is_(None),
                Stay.status.in_(("booked", "stayed")),
                Stay.check_out > today,
                Stay.checked_out_at.is_(None),
            )
            .options(joinedload(Stay.customer))
            .order_by(Stay.check_in, Stay.id)
            .limit(50)
        )
    )


def open_alerts(session: Session, customer_id: int) -> list[TimelineEntry]:
    from app.services.timeline import open_alerts_by_customer

    return open_alerts_by_customer(session, [customer_id]).get(customer_id, [])


def _guest(session: Session, values: dict, actor: User | None) -> Customer:
    """The chosen guest, or a new customer from the name and phone/email typed in."""
    from app.services.customers import CustomerError, create_customer

    if values.get("guest_id"):
        customer = session.get(Customer, int(values["guest_id"]))
        if customer is None or customer.erased_at is not None:
            raise StayError("guest")
        return customer
    name = one_line(values.get("guest_name") or "")
    phone = one_line(values.get("guest_phone") or "")
    email = one_line(values.get("guest_email") or "")
    if not name:
        raise StayError("guest")
    if not phone and not email:
        raise StayError("guest-contact")
    try:
        return create_customer(
            session, {"display_name": name, "phone": phone or None, "email": email or None},
            actor=actor,
        )  # fmt: skip
    except CustomerError:
        raise StayError("guest-contact") from None


def book(session: Session, values: dict, *, actor: User | None, today: date, zone: str) -> Stay:
    """Checks everything (the room free those nights first, before a new guest is made),
    then saves the guest and the booked stay. Raises StayError."""
    begin_write(session)
    if not values.get("room_id"):
        raise StayError("room-needed")
    stay_values = {**values, "status": "booked", "children": 0, "amount": 0, "deposit": 0}
    checked = check(stay_values, today)
    if checked.check_in < today:
        raise StayError("past")
    ensure_free(session, checked.room_id, checked.check_in, checked.check_out)
    customer = _guest(session, values, actor)
    stay = save_stay(session, customer, None, stay_values, actor=actor, today=today, zone=zone)
    winning.won_by_booking(
        session, values.get("enquiry_id"), stay, actor=actor,
        what=f"{stay.room.name if stay.room else ''} {stay.check_in.isoformat()} → "
        f"{stay.check_out.isoformat()}",
    )  # fmt: skip
    return stay
