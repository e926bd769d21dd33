"""Enquiries: recording one in the shop's terms, moving it along its stages (new → contacted
→ trial/quote → won or lost with a reason), marking it hot, logging each time the shop got
back to the person (warning when it is too soon), and the lists the desk works from."""

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.clock import utcnow
from app.db import begin_write
from app.models import (
    ENQUIRY_SOURCES,
    ENQUIRY_STAGES,
    OPEN_STAGES,
    Customer,
    Enquiry,
    EnquiryContact,
    LostReason,
    User,
)
from app.services.audit import record as audit_record
from app.services.shop import ensure_shop, get_shop
from app.services.text import one_line, trim

# The follow-up rhythm is the shop's (Shop.enquiry_quiet_days, enquiry_min_gap_hours): a hot
# enquiry nobody has got back to in that many days comes back on its owner's My day; getting
# back sooner than the gap after the last time is "following too closely".
QUIET_DAYS_RANGE = (1, 60)
MIN_GAP_HOURS_RANGE = (0, 168)
BUDGET_MAX = 100_000_000
BOARD_LIMIT = 200  # per stage column


class EnquiryError(Exception):
    def __init__(self, code: str, field: str = "name"):
        super().__init__(code)
        self.code, self.field = code, field


@dataclass
class Filters:
    owner_id: int | None = None
    source: str = ""
    hot: bool = False
    text: str = ""
    show_closed: bool = False


def _month(value: date | None) -> date | None:
    return value.replace(day=1) if value else None


def _check(values: dict, kind: str, today: date) -> dict:
    """The enquiry's fields from a form's values, each checked; raises EnquiryError."""
    name, phone, email = _who(values)
    source = values.get("source") or "phone"
    if source not in ENQUIRY_SOURCES:
        raise EnquiryError("choice", "source")
    budget = values.get("budget") or 0
    if not 0 <= budget <= BUDGET_MAX:
        raise EnquiryError("budget", "budget")
    confidence = values.get("confidence")
    confidence = 50 if confidence is None else confidence
    if not 0 <= confidence <= 100:
        raise EnquiryError("confidence", "confidence")
    wants = trim(values.get("wants"))
    if len(wants) > 2000:
        raise EnquiryError("too-long", "wants")
    found = {
        "name": name, "phone": phone, "email": email, "source": source, "wants": wants,
        "budget": budget, "confidence": confidence,
        "expected_month": _month(values.get("expected_month")),
        "next_follow_up": values.get("next_follow_up"),
        "owner_id": values.get("owner_id") or None,
    }  # fmt: skip
    found.update(_wish(values, kind, today))
    return found


def _who(values: dict) -> tuple[str, str, str]:
    """The enquirer's name, phone and email: a name, and a way to get back to them."""
    name = one_line(values.get("name"))
    if not name:
        raise EnquiryError("name-required", "name")
    if len(name) > 120:
        raise EnquiryError("too-long", "name")
    phone, email = one_line(values.get("phone")), one_line(values.get("email")).lower()
    if len(phone) > 40:
        raise EnquiryError("too-long", "phone")
    if len(email) > 254 or (email and "@" not in email):
        raise EnquiryError("email", "email")
    if not (phone or email or values.get("customer_id")):
        raise EnquiryError("contact", "phone")
    return name, phone, email


def _wish(values: dict, kind: str, today: date) -> dict:
    """What they want in the shop's own terms: nights and party at a homestay; grade, start
    month and trial class at an after-school centre."""
    if kind == "homestay":
        start, end = values.get("wanted_from"), values.get("wanted_to")
        if start and end and end <= start:
            raise EnquiryError("nights", "wanted_to")
        if start and not today - timedelta(days=1) <= start <= today + timedelta(days=3 * 366):
            raise EnquiryError("date-range", "wanted_from")
        adults, children = values.get("adults"), values.get("children")
        if adults is not None and not 0 <= adults <= 50:
            raise EnquiryError("party", "adults")
        if children is not None and not 0 <= children <= 50:
            raise EnquiryError("party", "children")
        room = one_line(values.get("room_wanted"))
        if len(room) > 60:
            raise EnquiryError("too-long", "room_wanted")
        return {"wanted_from": start, "wanted_to": end, "adults": adults,
                "children": children, "room_wanted": room}  # fmt: skip
    grade = one_line(values.get("child_grade"))
    if len(grade) > 30:
        raise EnquiryError("too-long", "child_grade")
    return {"child_grade": grade, "start_month": _month(values.get("start_month")),
            "trial_on": values.get("trial_on")}  # fmt: skip


def create(
    session: Session, values: dict, *, kind: str, today: date, actor: User | None
) -> Enquiry:
    begin_write(session)
    fields = _check(values, kind, today)
    enquiry = Enquiry(**fields, created_by_id=actor.id if actor else None, created_at=utcnow())
    customer_id = values.get("customer_id")
    if customer_id:
        customer = session.get(Customer, int(customer_id))
        if customer is None or customer.erased_at is not None:
            raise EnquiryError("customer", "name")
        enquiry.customer_id = customer.id
    if enquiry.owner_id is None and actor is not None:
        enquiry.owner_id = actor.id
    session.add(enquiry)
    session.flush()
    audit_record(session, "enquiry.created", "enquiry", enquiry.id, user_id=_id(actor))
    return enquiry


def update(
    session: Session, enquiry: Enquiry, values: dict, *, kind: str, today: date,
    expected_version: int, actor: User | None,
) -> Enquiry:  # fmt: skip
    begin_write(session)
    session.refresh(enquiry)
    if enquiry.version != expected_version:
        raise EnquiryError("version", "name")
    for name, value in _check(values, kind, today).items():
        setattr(enquiry, name, value)
    enquiry.version += 1
    audit_record(session, "enquiry.edited", "enquiry", enquiry.id, user_id=_id(actor))
    return enquiry


def _id(actor: User | None) -> int | None:
    return actor.id if actor else None


def move(
    session: Session, enquiry: Enquiry, stage: str, *, actor: User | None,
    lost_reason_id: int | None = None, lost_note: str = "",
) -> Enquiry:  # fmt: skip
    """To another stage. Lost needs a reason from the owner's list (or words when the list
    is empty); a lost or won enquiry can be opened again."""
    begin_write(session)
    if stage not in ENQUIRY_STAGES:
        raise EnquiryError("choice", "stage")
    note = one_line(lost_note)
    if len(note) > 200:
        raise EnquiryError("too-long", "lost_note")
    if stage == "lost":
        reason = session.get(LostReason, lost_reason_id) if lost_reason_id else None
        if reason is None and (lost_reasons(session) or not note):
            raise EnquiryError("lost-reason", "lost_reason_id")
        enquiry.lost_reason_id = reason.id if reason else None
        enquiry.lost_note = note
    else:
        enquiry.lost_reason_id, enquiry.lost_note = None, ""
    before = enquiry.stage
    enquiry.stage = stage
    enquiry.closed_at = None if stage in OPEN_STAGES else utcnow()
    if stage == "contacted" and enquiry.last_contact_at is None:
        enquiry.last_contact_at = utcnow()
    enquiry.version += 1
    audit_record(session, "enquiry.stage", "enquiry", enquiry.id, f"{before} → {stage}",
                 user_id=_id(actor))  # fmt: skip
    return enquiry


def set_hot(session: Session, enquiry: Enquiry, hot: bool, *, actor: User | None) -> Enquiry:
    begin_write(session)
    if enquiry.hot != hot:
        enquiry.hot = hot
        enquiry.hot_since = utcnow() if hot else None
        audit_record(session, "enquiry.hot" if hot else "enquiry.not_hot", "enquiry", enquiry.id,
                     user_id=_id(actor))  # fmt: skip
    return enquiry


@dataclass
class Contacted:
    contact: EnquiryContact
    too_soon: bool  # the last time was less than the minimum gap ago
    previous: datetime | None


def record_contact(
    session: Session, enquiry: Enquiry, *, channel: str, note: str, actor: User | None,
    next_follow_up: date | None = None, now: datetime | None = None,
) -> Contacted:  # fmt: skip
    """Logs that the shop got back to them. New enquiries become contacted; the next
    follow-up date moves to what was typed (or clears)."""
    begin_write(session)
    now = now or utcnow()
    note = trim(note)
    if len(note) > 500:
        raise EnquiryError("too-long", "note")
    if channel not in ENQUIRY_SOURCES:
        raise EnquiryError("choice", "channel")
    if not enquiry.is_open:
        raise EnquiryError("closed", "note")
    previous = enquiry.last_contact_at
    contact = EnquiryContact(enquiry=enquiry, at=now, user_id=_id(actor), channel=channel,
                             note=note)  # fmt: skip
    session.add(contact)
    enquiry.last_contact_at = now
    enquiry.next_follow_up = next_follow_up
    if enquiry.stage == "new":
        enquiry.stage = "contacted"
    enquiry.version += 1
    return Contacted(contact, previous is not None and now - previous < _gap(session), previous)


def _gap(session: Session) -> timedelta:
    return timedelta(hours=get_shop(session).enquiry_min_gap_hours or 0)


def too_soon(session: Session, enquiry: Enquiry, now: datetime | None = None) -> bool:
    """Would getting back now be following too closely? (Shown before the desk calls.)"""
    last = enquiry.last_contact_at
    return last is not None and (now or utcnow()) - last < _gap(session)


def save_rhythm(session: Session, quiet_days: int | None, min_gap_hours: int | None) -> None:
    """The owner's follow-up rhythm; raises EnquiryError naming the field out of range."""
    begin_write(session)
    low, high = QUIET_DAYS_RANGE
    if quiet_days is None or not low <= quiet_days <= high:
        raise EnquiryError("quiet-days", "quiet_days")
    low, high = MIN_GAP_HOURS_RANGE
    if min_gap_hours is None or not low <= min_gap_hours <= high:
        raise EnquiryError("gap-hours", "min_gap_hours")
    shop = ensure_shop(session)
    shop.enquiry_quiet_days, shop.enquiry_min_gap_hours = quiet_days, min_gap_hours


def lost_reasons(session: Session) -> list[LostReason]:
    return list(
        session.scalars(sa.select(LostReason).where(LostReason.active).order_by(LostReason.name))
    )


def board(session: Session, filters: Filters) -> dict[str, list[Enquiry]]:
    """The enquiries by stage (hot first, then the next follow-up), open stages always,
    won and lost only when asked."""
    stages = ENQUIRY_STAGES if filters.show_closed else OPEN_STAGES
    query = sa.select(Enquiry).options(joinedload(Enquiry.owner), joinedload(Enquiry.customer))
    if filters.owner_id:
        query = query.where(Enquiry.owner_id == filters.owner_id)
    if filters.source:
        query = query.where(Enquiry.source == filters.source)
    if filters.hot:
        query = query.where(Enquiry.hot.is_(True))
    if filters.text:
        like = f"%{filters.text.replace('%', '').replace('_', '')}%"
        query = query.where(
            sa.or_(Enquiry.name.ilike(like), Enquiry.phone.ilike(like), Enquiry.wants.ilike(like))
        )
    columns = {}
    for stage in stages:
        columns[stage] = list(
            session.scalars(
                query.where(Enquiry.stage == stage)
                .order_by(
                    Enquiry.hot.desc(),
                    Enquiry.next_follow_up.is_(None),
                    Enquiry.next_follow_up,
                    Enquiry.created_at.desc(),
                    Enquiry.id.desc(),
                )  # fmt: skip
                .limit(BOARD_LIMIT)
            ).unique()
        )
    return columns


def to_follow_up(session: Session, user_id: int, today: date) -> list[tuple[Enquiry, str]]:
    """For My day: this person's hot enquiries left quiet ("quiet"), then their enquiries
    whose follow-up day has come ("due"), each once."""
    found = [(enquiry, "quiet") for enquiry in quiet_hot(session, user_id)]
    seen = {enquiry.id for enquiry, _ in found}
    found += [(e, "due") for e in follow_ups_due(session, user_id, today) if e.id not in seen]
    return found


def quiet_hot(session: Session, user_id: int, now: datetime | None = None) -> list[Enquiry]:
    """Hot enquiries this person looks after that nobody has got back to for the shop's
    quiet days (or never, and made that long ago): for their My day."""
    since = (now or utcnow()) - timedelta(days=get_shop(session).enquiry_quiet_days or 3)
    last = sa.func.coalesce(Enquiry.last_contact_at, Enquiry.created_at)
    return list(
        session.scalars(
            sa.select(Enquiry)
            .where(
                Enquiry.owner_id == user_id,
                Enquiry.hot.is_(True),
                Enquiry.stage.in_(OPEN_STAGES),
                last < since,
            )
            .order_by(last, Enquiry.id)
            .limit(50)
        )
    )


def follow_ups_due(session: Session, user_id: int, today: date) -> list[Enquiry]:
    """Open enquiries this person looks after whose next follow-up day has come."""
    return list(
        session.scalars(
            sa.select(Enquiry)
            .where(
                Enquiry.owner_id == user_id,
                Enquiry.stage.in_(OPEN_STAGES),
                Enquiry.next_follow_up <= today,
            )
            .order_by(Enquiry.next_follow_up, Enquiry.id)
            .limit(50)
        )
    )


def add_lost_reason(session: Session, name: str) -> LostReason:
    begin_write(session)
    name = one_line(name)
    if not name or len(name) > 60:
        raise EnquiryError("too-long", "name")
    found = session.scalar(sa.select(LostReason).where(LostReason.name == name))
    if found is not None and found.active:
        raise EnquiryError("exists", "name")
    if found is None:
        found = LostReason(name=name)
        session.add(found)
    found.active = True
    session.flush()
    return found


def remove_lost_reason(session: Session, reason_id: int) -> bool:
    """Takes a reason off the list; enquiries lost for it keep it."""
    begin_write(session)
    reason = session.get(LostReason, reason_id)
    if reason is None or not reason.active:
        return False
    reason.active = False
    return True
