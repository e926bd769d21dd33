"""A homestay's guest book as dated records: rooms, stays (past ones typed in from paper too),
each on the guest's timeline and feeding "last stay" and filters.

No room is booked twice: `clash_for` is the one gate every writer of a stay goes through
(this module's save_stay, the phone booking, check-in/out on other days, extend, room change,
the history import), called under the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: the
writers' advisory lock), so check-then-write is atomic; on PostgreSQL the exclusion
constraint `stay_no_double_booking` is the backstop, its violation answered the same way.
The stay's life (check-in, check-out, extend, room change) is in `life`, the phone booking
in `booking`, next year's occasion reminders in `occasions`."""

from dataclasses import dataclass, field
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, aliased, joinedload

from app.db import begin_write, days_between
from app.models import (
    ACTIVE_STAY_STATUSES,
    OCCASIONS,
    STAY_STATUSES,
    Customer,
    Room,
    Stay,
    TimelineEntry,
    User,
)
from app.services.text import one_line

MAX_NIGHTS = 366
MAX_MONEY = 100_000_000
MAX_PEOPLE = 99


CLASH_CONSTRAINT = "stay_no_double_booking"
MAX_CHILD_AGE = 17


class StayError(ValueError):
    """A refused stay; `clash` is the booking it would overlap (code "clash")."""

    def __init__(self, code: str, detail: str = "", clash: Stay | None = None):
        super().__init__(code)
        self.code = code
        self.detail = detail
        self.clash = clash


# ---- the gate: no room booked twice -----------------------------------------------------------


def clash_for(
    session: Session,
    room_id: int | None,
    check_in: date,
    check_out: date,
    exclude_stay_id: int | None = None,
) -> Stay | None:
    """The active stay (booked or stayed) holding any of the nights [check_in, check_out) of
    the room, if there is one. The single place that says whether a room is free."""
    if room_id is None:
        return None
    query = (
        sa.select(Stay)
        .where(
            Stay.room_id == room_id,
            Stay.status.in_(ACTIVE_STAY_STATUSES),
            Stay.check_in < check_out,
            Stay.check_out > check_in,
        )
        .options(joinedload(Stay.customer), joinedload(Stay.room))
        .order_by(Stay.check_in, Stay.id)
        .limit(1)
    )
    if exclude_stay_id is not None:
        query = query.where(Stay.id != exclude_stay_id)
    return session.scalars(query).first()


def ensure_free(
    session: Session,
    room_id: int | None,
    check_in: date,
    check_out: date,
    exclude_stay_id: int | None = None,
) -> None:
    """Takes the write lock (if not yet held), then raises StayError("clash") naming the
    booking that already holds one of the nights."""
    if room_id is None:
        return
    begin_write(session)
    other = clash_for(session, room_id, check_in, check_out, exclude_stay_id)
    if other is not None:
        raise StayError("clash", describe_booking(other), clash=other)
    from app.services.rooms.blocks import blocks_overlapping, describe_block

    blocks = blocks_overlapping(session, room_id, check_in, check_out)
    if blocks:
        raise StayError("clash", describe_block(blocks[0]))


def describe_booking(stay: Stay) -> str:
    """ "林美華 2026-12-20 → 2026-12-22 海景雙人房": whose booking, when, which room."""
    name = stay.customer.display_name if stay.customer is not None else ""
    room = stay.room.name if stay.room is not None else ""
    return f"{name} {stay.check_in.isoformat()} → {stay.check_out.isoformat()} {room}".strip()


def flush_guarded(session: Session, stay: Stay) -> None:
    """Flushes; PostgreSQL's exclusion constraint (a writer that went round the gate, or a
    race the lock did not cover) becomes the same StayError("clash") as the gate's."""
    try:
        session.flush()
    except sa.exc.IntegrityError as error:
        if CLASH_CONSTRAINT not in str(error.orig):
            raise
        room_id, check_in, check_out = stay.room_id, stay.check_in, stay.check_out
        session.rollback()
        other = clash_for(session, room_id, check_in, check_out)
        raise StayError("clash", describe_booking(other) if other else "", clash=other) from None


# ---- rooms ------------------------------------------------------------------------------------


def save_room(
    session: Session, room: Room | None, name: str, active: bool = True, capacity: int | None = None
) -> Room:
    name = one_line(name)
    if not name:
        raise StayError("room-name")
    if len(name) > 60:
        raise StayError("room-name-long")
    clash = session.scalar(sa.select(Room.id).where(sa.func.lower(Room.name) == name.lower()))
    if clash and (room is None or clash != room.id):
        raise StayError("room-exists", name)
    if room is None:
        room = Room(name=name)
        session.add(room)
    if capacity is not None:
        room.capacity = _whole(capacity, "capacity", 1, MAX_PEOPLE)
    room.name, room.active = name, active
    session.flush()
    return room


def rooms(session: Session, *, active_only: bool = False) -> list[Room]:
    query = sa.select(Room).order_by(Room.active.desc(), Room.name)
    if active_only:
        query = query.where(Room.active.is_(True))
    return list(session.scalars(query))


# ---- stays ------------------------------------------------------------------------------------


def _whole(value, code: str, lowest: int, highest: int) -> int:
    try:
        number = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        raise StayError(code) from None
    if not lowest <= number <= highest:
        raise StayError(code)
    return number


@dataclass
class StayValues:
    room_id: int | None
    check_in: date
    check_out: date
    adults: int
    children: int
    amount: int
    deposit: int
    status: str
    source: str
    note: str
    children_ages: list[int] = field(default_factory=list)
    preferences: str = ""
    occasion: str = ""
    occasion_label: str = ""
    occasion_who: str = ""
    occasion_on: date | None = None


def parse_ages(text: str | list | None) -> list[int]:
    """ "6, 9" (or 6、9 / 6，9 / 6 9, or a list) → [6, 9]; StayError("ages") for anything
    else."""
    if isinstance(text, list | tuple):
        text = ", ".join(str(age) for age in text)
    parts = (text or "").replace("，", ",").replace("、", ",").replace(" ", ",").split(",")
    ages = []
    for part in filter(None, (p.strip() for p in parts)):
        if not part.isdigit() or int(part) > MAX_CHILD_AGE:
            raise StayError("ages")
        ages.append(int(part))
    if len(ages) > MAX_PEOPLE:
        raise StayError("ages")
    return ages


def _occasion(values: dict, check_in: date) -> dict:
    occasion = values.get("occasion") or ""
    if occasion not in OCCASIONS:
        raise StayError("occasion")
    label = " ".join((values.get("occasion_label") or "").split())
    who = " ".join((values.get("occasion_who") or "").split())
    if len(label) > 60 or len(who) > 60:
        raise StayError("text-long")
    if occasion == "other" and not label:
        raise StayError("occasion-label")
    day = values.get("occasion_on") or None
    if not occasion:
        return {"occasion": "", "occasion_label": "", "occasion_who": "", "occasion_on": None}
    if day is not None and not isinstance(day, date):
        raise StayError("dates")
    return {"occasion": occasion, "occasion_label": label if occasion == "other" else "",
            "occasion_who": who, "occasion_on": day or check_in}  # fmt: skip


def _check_dates(values: dict, today: date) -> tuple[date, date]:
    check_in, check_out = values.get("check_in"), values.get("check_out")
    if not isinstance(check_in, date) or not isinstance(check_out, date):
        raise StayError("dates")
    if check_in.year < 1900 or check_out.year > today.year + 5:
        raise StayError("date-range")
    if check_out <= check_in:
        raise StayError("check-out-first")
    if (check_out - check_in).days > MAX_NIGHTS:
        raise StayError("too-long")
    return check_in, check_out


def check(values: dict, today: date) -> StayValues:
    """Every rule a stay must meet; raises StayError(code) for the first one broken."""
    check_in, check_out = _check_dates(values, today)
    status = values.get("status") or "booked"
    if status not in STAY_STATUSES:
        raise StayError("status")
    if status in ("stayed", "no_show") and check_in > today:
        raise StayError("not-yet")
    source = " ".join((values.get("source") or "").split())
    note = " ".join((values.get("note") or "").split())
    preferences = " ".join((values.get("preferences") or "").split())
    if len(source) > 60 or len(note) > 500 or len(preferences) > 500:
        raise StayError("text-long")
    adults = _whole(values.get("adults", 1), "people", 0, MAX_PEOPLE)
    children = _whole(values.get("children", 0), "people", 0, MAX_PEOPLE)
    ages = parse_ages(values.get("children_ages"))
    children = max(children, len(ages))
    if adults + children == 0 or children > MAX_PEOPLE:
        raise StayError("people")
    return StayValues(
        room_id=values.get("room_id") or None,
        check_in=check_in,
        check_out=check_out,
        adults=adults,
        children=children,
        amount=_whole(values.get("amount"), "money", 0, MAX_MONEY),
        deposit=_whole(values.get("deposit"), "money", 0, MAX_MONEY),
        status=status,
        source=source,
        note=note,
        children_ages=ages,
        preferences=preferences,
        **_occasion(values, check_in),
    )


def _noon(day: date, zone: str) -> datetime:
    local = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def status_label(status: str) -> str:
    from flask_babel import gettext as _

    return {
        "booked": _("Booked"),
        "stayed": _("Stayed"),
        "cancelled": _("Cancelled"),
        "no_show": _("No-show"),
    }[status]


STATES = ("booked", "deposit_paid", "arriving", "in_house", "departed", "cancelled", "no_show")


def stay_state(stay: Stay, today: date, *, deposit_paid: bool = False) -> str:
    """Where the stay is in its life, as the desk says it: booked → deposit paid (the money
    side tells: `deposit_paid`) → arriving (today, or due and not come yet) → in house
    (checked in) → departed (checked out, or its nights are over)."""
    if stay.status in ("cancelled", "no_show"):
        return stay.status
    if stay.status == "stayed":
        if stay.checked_out_at is not None or stay.check_out < today:
            return "departed"
        return "in_house"
    if stay.check_in <= today < stay.check_out:
        return "arriving"
    return "deposit_paid" if deposit_paid else "booked"


def state_label(state: str) -> str:
    from flask_babel import gettext as _

    return {
        "booked": _("Booked"),
        "deposit_paid": _("Deposit paid"),
        "arriving": _("Arriving"),
        "in_house": _("In house"),
        "departed": _("Departed"),
        "cancelled": _("Cancelled"),
        "no_show": _("No-show"),
    }[state]


def _entry_text(stay: Stay, locale: str) -> str:
    """Stored text, so written once in the shop's language."""
    from flask_babel import force_locale, ngettext

    with force_locale(locale):
        room = f"{stay.room.name} · " if stay.room else ""
        nights = ngettext("%(num)d night", "%(num)d nights", stay.nights)
        text = (
            f"{status_label(stay.status)}: {room}{stay.check_in.isoformat()} → "
            f"{stay.check_out.isoformat()} ({nights})"
        )
    if stay.amount:
        text += f" · NT${stay.amount:,}"
    return f"{text} — {stay.note}" if stay.note else text


def _sync_entry(session: Session, stay: Stay, author: User | None, zone: str) -> None:
    """The stay's line on the timeline: a visit once stayed, a note while only booked."""
    from app.services.shop import get_shop

    entry = session.get(TimelineEntry, stay.entry_id) if stay.entry_id else None
    if entry is None:
        entry = TimelineEntry(customer_id=stay.customer_id, author_id=author.id if author else None)
        session.add(entry)
    entry.kind = "visit" if stay.status == "stayed" else "note"
    entry.action = "stay"
    entry.body = _entry_text(stay, get_shop(session).default_locale or "zh_Hant")
    entry.created_at = _noon(stay.check_in, zone)
    session.flush()
    stay.entry_id = entry.id


def refresh_last_visit(session: Session, customer: Customer) -> None:
    """Last visit = the latest visit on the timeline (stays typed in late included)."""
    session.flush()
    customer.last_visit_at = session.scalar(
        sa.select(sa.func.max(TimelineEntry.created_at)).where(
            TimelineEntry.customer_id == customer.id, TimelineEntry.kind == "visit"
        )
    )
    if customer.last_visit_at and (
        customer.last_contact_at is None or customer.last_contact_at < customer.last_visit_at
    ):
        customer.last_contact_at = customer.last_visit_at


def save_stay(
    session: Session,
    customer: Customer,
    stay: Stay | None,
    values: dict,
    *,
    actor: User | None,
    today: date,
    zone: str = "Asia/Taipei",
) -> Stay:
    checked = check(values, today)
    if checked.room_id is not None and session.get(Room, checked.room_id) is None:
        raise StayError("room")
    if checked.status in ACTIVE_STAY_STATUSES:
        ensure_free(session, checked.room_id, checked.check_in, checked.check_out,
                    stay.id if stay is not None else None)  # fmt: skip
    if stay is None:
        stay = Stay(customer_id=customer.id, created_by_id=actor.id if actor else None)
        session.add(stay)
    for name, value in checked.__dict__.items():
        setattr(stay, name, value)
    flush_guarded(session, stay)
    session.refresh(stay, ["room"])
    _sync_entry(session, stay, actor, zone)
    from app.services.booking_money import booking_saved  # hook: the booking's deposit due

    booking_saved(session, stay, today)
    refresh_last_visit(session, customer)
    return stay


def check_in_now(session: Session, stay: Stay, customer: Customer, zone: str) -> None:
    """Checks the guest in today (My day's button); see life.check_in."""
    from app.services.shop import shop_context
    from app.services.stays import life

    life.check_in(session, stay, customer, actor=None, today=shop_context(session).today,
                  zone=zone)  # fmt: skip


def check_out_now(session: Session, stay: Stay) -> None:
    """Checks the guest out today (My day's button); see life.check_out."""
    from app.services.shop import shop_context
    from app.services.stays import life

    context = shop_context(session)
    life.check_out(session, stay, stay.customer, actor=None, today=context.today,
                   zone=context.zone)  # fmt: skip


def delete_stay(session: Session, stay: Stay, customer: Customer) -> None:
    session.execute(
        sa.update(Stay)
        .where(Stay.moved_from_id == stay.id)
        .values(moved_from_id=stay.moved_from_id)
    )
    if stay.entry_id:
        entry = session.get(TimelineEntry, stay.entry_id)
        if entry is not None:
            session.delete(entry)
    session.delete(stay)
    refresh_last_visit(session, customer)


@dataclass
class GuestFigures:
    stays: int
    nights: int
    spend: int
    last_stay: date | None


def figures(session: Session, customer_id: int) -> GuestFigures:
    """Stays (a stay continued in another room counted once), nights, spend, last stay."""
    stays, nights, spend, last = session.execute(
        sa.select(
            sa.func.count(Stay.id) - sa.func.count(Stay.moved_from_id),
            sa.func.coalesce(sa.func.sum(days_between(Stay.check_out, Stay.check_in)), 0),
            sa.func.coalesce(sa.func.sum(Stay.amount), 0),
            sa.func.max(Stay.check_in),
        ).where(Stay.customer_id == customer_id, Stay.status == "stayed")
    ).one()  # fmt: skip
    if isinstance(last, str):
        last = date.fromisoformat(last)
    return GuestFigures(stays, int(nights), spend, last)


def guest_stays(session: Session, customer_id: int, limit: int = 20) -> list[Stay]:
    return list(
        session.scalars(
            sa.select(Stay)
            .where(Stay.customer_id == customer_id)
            .options(joinedload(Stay.room))
            .order_by(Stay.check_in.desc(), Stay.id.desc())
            .limit(limit)
        )
    )


_continued = aliased(Stay)


def arriving(session: Session, day: date) -> list[Stay]:
    """Booked stays that start on the day (not yet checked in)."""
    return list(
        session.scalars(
            sa.select(Stay)
            .where(Stay.check_in == day, Stay.status == "booked", Stay.moved_from_id.is_(None))
            .options(joinedload(Stay.room), joinedload(Stay.customer))
            .order_by(Stay.id)
        )
    )


def leaving(session: Session, day: date) -> list[Stay]:
    """Stays that end on the day and have not checked out yet."""
    return list(
        session.scalars(
            sa.select(Stay)
            .where(
                Stay.check_out == day,
                Stay.status == "stayed",
                Stay.checked_out_at.is_(None),
                ~sa.exists().where(_continued.moved_from_id == Stay.id),
            )
            .options(joinedload(Stay.room), joinedload(Stay.customer))
            .order_by(Stay.id)
        )
    )


from app.services.stays.history import STAY_HISTORY  # noqa: E402,F401 - uses the gate above
