"""A homestay's guest book as dated records: rooms, stays (past ones typed in from paper too),
check-in and check-out, each on the guest's timeline and feeding "last stay" and filters."""

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.clock import utcnow
from app.db import days_between
from app.models import STAY_STATUSES, Customer, Room, Stay, TimelineEntry, User
from app.services.importer.history import HistoryLine, HistorySpec, day_or_none
from app.services.text import one_line

MAX_NIGHTS = 366
MAX_MONEY = 100_000_000
MAX_PEOPLE = 99


class StayError(ValueError):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---- rooms ------------------------------------------------------------------------------------


def save_room(session: Session, room: Room | None, name: str, active: bool = True) -> Room:
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
    if len(source) > 60 or len(note) > 500:
        raise StayError("text-long")
    adults = _whole(values.get("adults", 1), "people", 0, MAX_PEOPLE)
    children = _whole(values.get("children", 0), "people", 0, MAX_PEOPLE)
    if adults + children == 0:
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
    if stay is None:
        stay = Stay(customer_id=customer.id, created_by_id=actor.id if actor else None)
        session.add(stay)
    for name, value in checked.__dict__.items():
        setattr(stay, name, value)
    session.flush()
    session.refresh(stay, ["room"])
    _sync_entry(session, stay, actor, zone)
    from app.services.booking_money import booking_saved  # hook: the booking's deposit due

    booking_saved(session, stay, today)
    refresh_last_visit(session, customer)
    return stay


def check_in_now(session: Session, stay: Stay, customer: Customer, zone: str) -> None:
    stay.status = "stayed"
    stay.checked_in_at = stay.checked_in_at or utcnow()
    _sync_entry(session, stay, None, zone)
    refresh_last_visit(session, customer)


def check_out_now(session: Session, stay: Stay) -> None:
    stay.checked_out_at = stay.checked_out_at or utcnow()
    session.flush()


def delete_stay(session: Session, stay: Stay, customer: Customer) -> None:
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
    stays, nights, spend, last = session.execute(
        sa.select(
            sa.func.count(Stay.id),
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


def arriving(session: Session, day: date) -> list[Stay]:
    """Booked stays that start on the day (not yet checked in)."""
    return list(
        session.scalars(
            sa.select(Stay)
            .where(Stay.check_in == day, Stay.status == "booked")
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
            )
            .options(joinedload(Stay.room), joinedload(Stay.customer))
            .order_by(Stay.id)
        )
    )


# ---- a stays history sheet (the paper guest book, typed into a spreadsheet) ------------------

STAY_HISTORY_COLUMNS = {
    "member_number": ["會員編號", "會員號碼", "編號", "membernumber", "memberno", "member"],
    "name": ["姓名", "房客", "客人", "name", "guest"],
    "check_in": ["入住", "入住日", "入住日期", "checkin", "arrival", "from"],
    "check_out": ["退房", "退房日", "退房日期", "checkout", "departure", "to"],
    "room": ["房間", "房號", "房型", "room"],
    "adults": ["大人", "成人", "adults"],
    "children": ["小孩", "兒童", "children", "kids"],
    "amount": ["金額", "房費", "amount", "price", "total"],
    "note": ["備註", "note", "notes", "memo"],
}
MAX_STAY_HISTORY_ROWS = 5_000


def _check_history_line(line: HistoryLine, _rooms: dict, today: date) -> None:
    """Checked like a stay typed in by hand (status: stayed; a room by its name)."""
    values = line.values
    values["check_in"] = day_or_none(values["check_in"])
    values["check_out"] = day_or_none(values["check_out"])
    for key, default in (("adults", 2), ("children", 0), ("amount", 0)):
        text = values[key].replace(",", "")
        values[key] = int(text) if text.isdigit() else (default if not text else text)
    if len(values["room"]) > 60:
        line.errors.append(("room", values["room"][:60]))
    try:
        check({**values, "status": "stayed", "deposit": 0, "source": "", "room_id": None},
              today)  # fmt: skip
    except StayError as error:
        line.errors.append((error.code, ""))


def _rooms_by_name(session: Session) -> dict[str, Room]:
    return {room.name.lower(): room for room in rooms(session)}


def _save_history_line(
    session: Session, line: HistoryLine, known: dict[str, Room], *, actor, today, zone
) -> None:
    """A room named in the sheet is created when new (and known for the next lines)."""
    room = None
    name = " ".join(line.values["room"].split())
    if name:
        room = known.get(name.lower()) or save_room(session, None, name)
        known[room.name.lower()] = room
    values = {**line.values, "status": "stayed", "room_id": room.id if room else None,
              "deposit": 0, "source": ""}  # fmt: skip
    save_stay(session, line.customer, None, values, actor=actor, today=today, zone=zone)


STAY_HISTORY = HistorySpec(
    kind="stays",
    columns=STAY_HISTORY_COLUMNS,
    required=("check_in", "check_out"),
    max_rows=MAX_STAY_HISTORY_ROWS,
    check_line=_check_history_line,
    save_line=_save_history_line,
    lookup=_rooms_by_name,
)
