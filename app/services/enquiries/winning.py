"""An enquiry won without retyping: a homestay's becomes a booking (the phone booking page
filled in from it, the enquiry closed when the booking is saved); a centre's becomes a child
with an enrolment in their class. Either way the person is a customer and the enquiry stays
on their timeline."""

from datetime import date

from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import Customer, Enquiry, Stay, User
from app.services import attendance, tags
from app.services.audit import record as audit_record
from app.services.customers import create_customer
from app.services.enquiries import EnquiryError
from app.services.timeline import add_entry


def booking_prefill(enquiry: Enquiry) -> dict:
    """The phone booking page's query string for this enquiry."""
    values = {"enquiry_id": enquiry.id}
    if enquiry.customer_id:
        values["guest_id"] = enquiry.customer_id
    else:
        values.update(guest_name=enquiry.name, guest_phone=enquiry.phone,
                      guest_email=enquiry.email)  # fmt: skip
    if enquiry.wanted_from and enquiry.wanted_to:
        values.update(check_in=enquiry.wanted_from.isoformat(),
                      check_out=enquiry.wanted_to.isoformat())  # fmt: skip
    if enquiry.adults:
        values["adults"] = enquiry.adults
    return values


def _close_won(session: Session, enquiry: Enquiry, customer: Customer, what: str,
               actor: User | None) -> None:  # fmt: skip
    enquiry.customer_id = customer.id
    enquiry.stage = "won"
    enquiry.closed_at = utcnow()
    enquiry.lost_reason_id, enquiry.lost_note = None, ""
    enquiry.version += 1
    add_entry(session, customer, author=actor, kind="note",
              body=f"{what} ← {enquiry.wants or enquiry.name}"[:2000])  # fmt: skip
    audit_record(session, "enquiry.won", "enquiry", enquiry.id, what,
                 user_id=actor.id if actor else None)  # fmt: skip


def won_by_booking(session: Session, enquiry_id: int | None, stay: Stay, *, what: str,
                   actor: User | None) -> None:  # fmt: skip
    """Called by the booking service when a booking made from an enquiry is saved."""
    if not enquiry_id:
        return
    enquiry = session.get(Enquiry, enquiry_id)
    if enquiry is None or not enquiry.is_open:
        return
    _close_won(session, enquiry, stay.customer, what, actor)


def won_by_enrolment(
    session: Session, enquiry: Enquiry, *, group: str, starts_on: date | None,
    actor: User | None, today: date,
) -> Customer:  # fmt: skip
    """A centre's enquiry won: the child (the linked customer, or a new one from the
    enquiry's name and contact), enrolled in the class from the start month, in the class's
    group so they are on Today at once."""
    begin_write(session)
    if not enquiry.is_open:
        raise EnquiryError("closed", "group")
    group = " ".join((group or "").split())
    if not group or len(group) > 60:
        raise EnquiryError("group", "group")
    customer = enquiry.customer
    if customer is None:
        customer = create_customer(
            session, {"display_name": enquiry.name, "phone": enquiry.phone or None,
                      "email": enquiry.email or None}, actor=actor, consent=set(),
        )  # fmt: skip
    elif customer.erased_at is not None:
        raise EnquiryError("customer", "group")
    start = starts_on or enquiry.start_month or today
    attendance.enrol(session, customer, group=group, starts_on=start)
    tag = tags.find_tag(session, group)
    if tag is not None and tag.is_group:
        tags.stick(session, customer, tag, actor=actor)
    _close_won(session, enquiry, customer, f"{group} {start.isoformat()}", actor)
    return customer
