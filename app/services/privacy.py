"""Privacy rights: everything about one person (access), and erasure by anonymisation that
keeps the shop's counts but leaves nothing of the person in the database file."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, is_postgres
from app.models import (
    Attendance,
    ConsentEvent,
    Customer,
    CustomFieldValue,
    Delivery,
    Enquiry,
    EnquiryContact,
    Enrolment,
    FamilyMember,
    ImportantDate,
    LineCode,
    LineLink,
    Purchase,
    Reminder,
    Stay,
    Tag,
    TimelineEntry,
    TimelineRevision,
    customer_tag,
)
from app.models.campaign import Campaign
from app.services.search import backend as search_backend


class PrivacyError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _iso(value) -> str | None:
    return value.isoformat() if value else None


def person_data(session: Session, customer: Customer) -> dict:
    """Everything the shop holds about this person, as plain JSON-ready data."""
    fields = {
        value.field.label: value.value
        for value in session.scalars(
            sa.select(CustomFieldValue).where(CustomFieldValue.customer_id == customer.id)
        )
    }
    tags = session.scalars(
        sa.select(Tag.name)
        .join(customer_tag, customer_tag.c.tag_id == Tag.id)
        .where(customer_tag.c.customer_id == customer.id)
        .order_by(Tag.name)
    ).all()
    entries = session.scalars(
        sa.select(TimelineEntry)
        .where(TimelineEntry.customer_id == customer.id)
        .order_by(TimelineEntry.created_at, TimelineEntry.id)
    ).all()
    deliveries = session.execute(
        sa.select(Delivery, Campaign.subject)
        .join(Campaign, Campaign.id == Delivery.campaign_id)
        .where(Delivery.customer_id == customer.id)
        .order_by(Delivery.id)
    ).all()
    consent = session.scalars(
        sa.select(ConsentEvent)
        .where(ConsentEvent.customer_id == customer.id)
        .order_by(ConsentEvent.at, ConsentEvent.id)
    ).all()
    return {
        "profile": {
            "name": customer.display_name,
            "nickname": customer.nickname,
            "member_number": customer.member_number,
            "level": customer.level,
            "birthday": _iso(customer.birthday),
            "phone": customer.phone,
            "email": customer.email,
            "postal_address": customer.postal_address,
            "preferred_channel": customer.preferred_channel,
            "occupation": customer.occupation,
            "summary": customer.summary,
            "created_at": _iso(customer.created_at),
            "updated_at": _iso(customer.updated_at),
            "last_contact_at": _iso(customer.last_contact_at),
            "email_opt_out": customer.email_opt_out,
            "email_opt_out_at": _iso(customer.email_opt_out_at),
            "email_opt_out_source": customer.email_opt_out_source,
            "sms_opt_out": customer.sms_opt_out,
            "consent_purposes": sorted(customer.consents),
            "custom_fields": fields,
        },
        "family": [
            {
                "name": member.name,
                "relation": member.relation,
                "phone": member.phone,
                "email": member.email,
                "birthday": _iso(member.birthday),
                "guardian": member.is_guardian,
            }
            for member in customer.family_members
        ],
        "line_accounts": [
            {
                "line_user_id": link.user_id,
                "name": link.display_name,
                "linked_at": _iso(link.linked_at),
                "unfollowed_at": _iso(link.unfollowed_at),
            }
            for link in customer.line_links
        ],
        "important_dates": [
            {"label": row.label, "date": _iso(row.date)} for row in customer.important_dates
        ],
        "tags": list(tags),
        "timeline": [
            {
                "at": _iso(entry.created_at),
                "kind": entry.kind,
                "text": entry.body,
                "author": entry.author.name if entry.author else None,
                "alert_category": entry.alert_category,
                "alert_keywords": entry.keywords,
                "edited_at": _iso(entry.edited_at),
            }
            for entry in entries
        ],
        "consent_history": [
            {
                "at": _iso(event.at),
                "purpose": event.purpose,
                "action": event.action,
                "method": event.method,
                "recorded_by": event.recorded_by.name if event.recorded_by else None,
                "source": event.source,
            }
            for event in consent
        ],
        "emails": [
            {
                "campaign": subject,
                "address": delivery.address,
                "status": delivery.status,
                "sent_at": _iso(delivery.sent_at),
                "unsubscribed_at": _iso(delivery.unsubscribed_at),
            }
            for delivery, subject in deliveries
        ],
    }


def record_consent(
    session: Session,
    customer: Customer,
    *,
    purpose: str,
    action: str,
    method: str | None,
    actor,
    source: str | None = None,
) -> str:
    """Gives or withdraws one purpose's consent, with its history row; returns the change."""
    from app.models.customer import CONSENT_METHODS, CONSENT_PURPOSES
    from app.services.customers import audit_consent, record_consent_changes

    if purpose not in CONSENT_PURPOSES or action not in ("given", "withdrawn"):
        raise PrivacyError("choice")
    if method is not None and method not in CONSENT_METHODS:
        raise PrivacyError("choice")
    if action == "given" and not method:
        raise PrivacyError("method")
    begin_write(session)
    before = customer.consents
    after = before | {purpose} if action == "given" else before - {purpose}
    if after == before:
        raise PrivacyError("unchanged")
    changes = record_consent_changes(customer, before, after, method, actor, source)
    if action == "given":
        customer.consent_method = method
        customer.consent_given_at = utcnow()
        customer.consent_recorded_by_id = actor.id if actor else None
    customer.consents = after
    session.flush()
    audit_consent(customer, changes, actor)
    return changes


def erase(session: Session, customer: Customer, *, typed_name: str, now: datetime | None = None):
    """Anonymises the customer for good. The row, its level, tags, entry kinds and dates stay
    (the dashboard's counts do not change); every word about the person goes."""
    if customer.erased_at is not None:
        raise PrivacyError("already")
    if " ".join((typed_name or "").split()) != " ".join(customer.display_name.split()):
        raise PrivacyError("name")
    begin_write(session)
    now = now or utcnow()
    customer_id = customer.id
    # secure_delete zeroes what is deleted or overwritten, so old text does not linger in
    # free pages of the file.
    if not is_postgres(session):
        session.execute(sa.text("PRAGMA secure_delete = ON"))
    for model in (FamilyMember, ImportantDate, CustomFieldValue):
        session.execute(sa.delete(model).where(model.customer_id == customer_id))
    entry_ids = sa.select(TimelineEntry.id).where(TimelineEntry.customer_id == customer_id)
    session.execute(sa.delete(TimelineRevision).where(TimelineRevision.entry_id.in_(entry_ids)))
    # Updating body fires the search triggers, which drop the old words from the index.
    session.execute(
        sa.update(TimelineEntry)
        .where(TimelineEntry.customer_id == customer_id)
        .values(body="", alert_keywords=None)
    )
    session.execute(
        sa.update(Delivery)
        .where(Delivery.customer_id == customer_id)
        .values(address=None, recipient_name=None, error=None)
    )
    session.execute(
        sa.update(Reminder).where(Reminder.customer_id == customer_id).values(text="", reason=None)
    )
    # Nothing is left on anyone's worklist for a person who is gone.
    session.execute(
        sa.update(Reminder)
        .where(Reminder.customer_id == customer_id, Reminder.done_at.is_(None))
        .values(done_at=now, done_how="resolved")
    )
    # Dated records keep their dates, rooms and amounts (the reports' counts), not words.
    session.execute(
        sa.update(Stay)
        .where(Stay.customer_id == customer_id)
        .values(
            note="", source="", preferences="", occasion_label="", occasion_who="", occasion_on=None
        )  # fmt: skip
    )
    session.execute(sa.update(Purchase).where(Purchase.customer_id == customer_id).values(note=""))
    # Their enquiries keep stage, source, money and dates (the forecast's counts), no words.
    enquiry_ids = sa.select(Enquiry.id).where(Enquiry.customer_id == customer_id)
    session.execute(
        sa.update(Enquiry)
        .where(Enquiry.customer_id == customer_id)
        .values(
            name="—", phone="", email="", wants="", room_wanted="", child_grade="", lost_note=""
        )  # fmt: skip
    )
    session.execute(
        sa.update(EnquiryContact).where(EnquiryContact.enquiry_id.in_(enquiry_ids)).values(note="")
    )
    session.execute(
        sa.update(Attendance)
        .where(Attendance.customer_id == customer_id)
        .values(absence_reason="", picked_up_by_other="", picked_up_by_id=None)
    )
    # Their LINE accounts are forgotten: nothing can reach them there, no id remains.
    session.execute(sa.delete(LineLink).where(LineLink.customer_id == customer_id))
    session.execute(sa.delete(LineCode).where(LineCode.customer_id == customer_id))
    session.expire(customer)
    customer = session.get(Customer, customer_id)
    customer.display_name = f"#{customer.member_number}"
    for name in ("nickname", "birthday", "phone", "phone_digits", "email", "postal_address",
                 "preferred_channel", "occupation", "summary", "email_opt_out_source"):  # fmt: skip
        setattr(customer, name, None)
    customer.erased_at = now
    customer.email_opt_out = True
    customer.sms_opt_out = True
    customer.version += 1
    session.flush()
    # Records merged into this one are the same person: nothing of them stays either.
    for merged in session.scalars(
        sa.select(Customer).where(
            Customer.merged_into_id == customer_id, Customer.erased_at.is_(None)
        )  # fmt: skip
    ).all():
        erase(session, merged, typed_name=merged.display_name, now=now)
    return customer


def purge_traces(session: Session, step_pages: int = 1000) -> None:
    """After an erasure, clear what the database keeps of deleted text beyond the rows
    (the search backend's indexes, SQLite's write-ahead log, PostgreSQL's dead rows)."""
    search_backend(session).purge(session, step_pages)


# ---- nothing new about an erased person --------------------------------------------------


class CustomerErased(PrivacyError):
    """Something tried to add to or change an erased customer's record."""

    def __init__(self, customer_id: int | None = None):
        super().__init__("erased")
        self.customer_id = customer_id


def refuse_if_erased(customer: Customer) -> None:
    if customer.erased_at is not None:
        raise CustomerErased(customer.id)


def _erased_before_this_flush(session: Session, customer: Customer | None, customer_id) -> bool:
    if customer is None and customer_id is not None:
        customer = session.get(Customer, customer_id)
    if customer is None:
        return False
    history = sa.inspect(customer).attrs.erased_at.history
    committed = [*history.unchanged, *history.deleted]
    return any(value is not None for value in committed)


# Rows that belong to one person's record: none is added, changed or deleted once the person
# was erased (erasure itself changes them in bulk statements, before erased_at is committed).
PERSONAL_ROWS = (
    TimelineEntry,
    FamilyMember,
    ImportantDate,
    CustomFieldValue,
    Reminder,
    ConsentEvent,
    Stay,
    Purchase,
    Enrolment,
    Attendance,
    LineLink,
    LineCode,
)


def _refuse_writes_to_erased(session: Session, _context, _instances) -> None:
    """Every ORM write path (notes, alerts, tag events, family, dates, fields, consent,
    reminders, stays, purchases, enrolments, attendance, LINE links, profile edits, import
    updates; edits and deletes of existing rows too) goes through a flush: refuse there,
    whatever the route or job, so an erased person's record never changes again."""
    for obj in (*session.new, *session.deleted):
        if isinstance(obj, PERSONAL_ROWS) and _erased_before_this_flush(
            session, obj.__dict__.get("customer"), obj.customer_id
        ):
            raise CustomerErased(obj.customer_id)
    for obj in session.dirty:
        if isinstance(obj, PERSONAL_ROWS):
            if session.is_modified(obj) and _erased_before_this_flush(
                session, obj.__dict__.get("customer"), obj.customer_id
            ):
                raise CustomerErased(obj.customer_id)
        elif (
            isinstance(obj, Customer)
            and session.is_modified(obj, include_collections=True)
            and _erased_before_this_flush(session, obj, None)
        ):
            raise CustomerErased(obj.id)


# The rows a route names by id, and whose record each belongs to: a POST that names an erased
# person's row is refused before any form is read.
_ROW_ARGUMENTS = {
    "stay_id": Stay,
    "purchase_id": Purchase,
    "enrolment_id": Enrolment,
    "entry_id": TimelineEntry,
    "reminder_id": Reminder,
    "link_id": LineLink,
    "member_id": FamilyMember,
    "date_id": ImportantDate,
}


def erased_owner(session: Session, view_args: dict) -> int | None:
    """The erased customer whose record a request's URL names (directly, or through one of
    their rows), or None."""
    customer_ids = set()
    if isinstance(view_args.get("customer_id"), int):
        customer_ids.add(view_args["customer_id"])
    for name, model in _ROW_ARGUMENTS.items():
        if isinstance(view_args.get(name), int):
            owner = session.scalar(sa.select(model.customer_id).where(model.id == view_args[name]))
            if owner is not None:
                customer_ids.add(owner)
    if not customer_ids:
        return None
    return session.scalar(
        sa.select(Customer.id)
        .where(Customer.id.in_(customer_ids), Customer.erased_at.is_not(None))
        .limit(1)
    )


def install_erasure_guard() -> None:
    from sqlalchemy import event
    from sqlalchemy.orm import Session as OrmSession

    if not event.contains(OrmSession, "before_flush", _refuse_writes_to_erased):
        event.listen(OrmSession, "before_flush", _refuse_writes_to_erased)


def consent_history(session: Session, customer_id: int) -> list[ConsentEvent]:
    """Every consent given or withdrawn, newest first."""
    return list(
        session.scalars(
            sa.select(ConsentEvent)
            .where(ConsentEvent.customer_id == customer_id)
            .order_by(ConsentEvent.at.desc(), ConsentEvent.id.desc())
        )
    )


# ---- two records of one person made one (services.merging) ------------------------------

_CONSENT_COLUMNS = ("consent_method", "consent_given_at", "consent_recorded_by_id")


def merge_consents(session: Session, survivor: Customer, other: Customer, *, actor,
                   source: str) -> dict:  # fmt: skip
    """The survivor of a merge holds every consent either record held (the same person gave
    them), each new one with its history row marked `source`; the other record's history
    rows move along with its other rows. Returns what unmerge_consents puts back."""
    before = {name: getattr(survivor, name) for name in _CONSENT_COLUMNS}
    before["consent_given_at"] = _iso(before["consent_given_at"])
    before["consents"] = sorted(survivor.consents)
    for purpose in sorted(other.consents - survivor.consents):
        record_consent(session, survivor, purpose=purpose, action="given",
                       method=other.consent_method or "paper", actor=actor, source=source)  # fmt: skip
    return before


def unmerge_consents(session: Session, survivor: Customer, before: dict, *, source: str) -> None:
    """Undoes merge_consents: the survivor's consent as it was, the rows the merge added gone."""
    session.execute(
        sa.delete(ConsentEvent).where(
            ConsentEvent.customer_id == survivor.id, ConsentEvent.source == source
        )
    )
    for name in _CONSENT_COLUMNS:
        value = before.get(name)
        if name == "consent_given_at" and value:
            value = datetime.fromisoformat(value)
        setattr(survivor, name, value)
    survivor.consents = before.get("consents") or ()
