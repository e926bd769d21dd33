"""Room rates and the holidays the shop lists, and the quote they give for a booking:
each night priced as a weekday, a weekend (Friday and Saturday) or a listed holiday."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Holiday, Room, RoomRate

MAX_PRICE = 1_000_000  # one night, NT$
MAX_NIGHTS = 366
MAX_EXTRA = 20  # extra beds or children on one booking
WEEKEND_DAYS = (4, 5)  # Friday and Saturday nights (Monday is 0)
NIGHT_KINDS = ("weekday", "weekend", "holiday")
RATE_FIELDS = ("weekday", "weekend", "holiday", "extra_bed", "child")


class MoneyError(ValueError):
    """A refused value; `code` says which rule (the view words it), `detail` what it was."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


def whole(value, code: str, lowest: int, highest: int) -> int:
    """A whole number within bounds (empty: 0), or MoneyError(code)."""
    try:
        number = int(value if value not in (None, "") else 0)
    except (TypeError, ValueError):
        raise MoneyError(code) from None
    if not lowest <= number <= highest:
        raise MoneyError(code)
    return number


# ---- rates ------------------------------------------------------------------------------------


def rate_for(session: Session, room_id: int) -> RoomRate:
    """The room's rates (all 0 when none are saved yet; not added to the session)."""
    return session.get(RoomRate, room_id) or RoomRate(
        room_id=room_id, weekday=0, weekend=0, holiday=0, extra_bed=0, child=0
    )


def rates_by_room(session: Session) -> list[tuple[Room, RoomRate]]:
    saved = {rate.room_id: rate for rate in session.scalars(sa.select(RoomRate))}
    rooms = session.scalars(sa.select(Room).order_by(Room.active.desc(), Room.name))
    return [(room, saved.get(room.id) or rate_for(session, room.id)) for room in rooms]


def save_rate(session: Session, room: Room, values: dict) -> RoomRate:
    prices = {name: whole(values.get(name), "price", 0, MAX_PRICE) for name in RATE_FIELDS}
    rate = session.get(RoomRate, room.id)
    if rate is None:
        rate = RoomRate(room_id=room.id)
        session.add(rate)
    for name, price in prices.items():
        setattr(rate, name, price)
    session.flush()
    return rate


# ---- holidays ---------------------------------------------------------------------------------


def holidays(session: Session, since: date | None = None) -> list[Holiday]:
    query = sa.select(Holiday).order_by(Holiday.day)
    if since is not None:
        query = query.where(Holiday.day >= since)
    return list(session.scalars(query))


def add_holiday(session: Session, day: date | None, name: str) -> Holiday:
    name = " ".join((name or "").split())
    if not isinstance(day, date):
        raise MoneyError("holiday-day")
    if not name:
        raise MoneyError("holiday-name")
    if len(name) > 60:
        raise MoneyError("holiday-name-long")
    if session.scalar(sa.select(Holiday.id).where(Holiday.day == day)):
        raise MoneyError("holiday-exists", day.isoformat())
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    return holiday


def delete_holiday(session: Session, holiday: Holiday) -> None:
    session.delete(holiday)
    session.flush()


# ---- the quote --------------------------------------------------------------------------------


@dataclass
class QuoteLine:
    kind: str  # weekday | weekend | holiday | extra_bed | child
    count: int  # nights (or nights × beds, nights × children)
    unit: int
    names: list[str] = field(default_factory=list)  # the holidays' names

    @property
    def amount(self) -> int:
        return self.count * self.unit


@dataclass
class Quote:
    room_id: int
    check_in: date
    check_out: date
    adults: int
    children: int
    extra_beds: int
    nights: list[tuple[date, str]]  # each night and its kind
    lines: list[QuoteLine]
    priced: bool  # False when the room has no rates saved

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def night_count(self) -> int:
        return len(self.nights)


def night_kind(day: date, holiday_days: dict[date, str]) -> str:
    if day in holiday_days:
        return "holiday"
    return "weekend" if day.weekday() in WEEKEND_DAYS else "weekday"


def _night_price(rate: RoomRate, kind: str) -> int:
    """A holiday without its own price costs a weekend night; a weekend without one, a
    weekday night."""
    weekend = rate.weekend or rate.weekday
    return {"weekday": rate.weekday, "weekend": weekend, "holiday": rate.holiday or weekend}[kind]


def check_stay_dates(check_in, check_out) -> None:
    if not isinstance(check_in, date) or not isinstance(check_out, date):
        raise MoneyError("dates")
    if check_out <= check_in:
        raise MoneyError("check-out-first")
    if (check_out - check_in).days > MAX_NIGHTS:
        raise MoneyError("too-long")


def quote(
    session: Session, room_id: int, check_in: date, check_out: date, adults: int = 2,
    children: int = 0, extra_beds: int = 0,
) -> Quote:  # fmt: skip
    """What a stay costs at the room's rates: its nights itemised by kind, extra beds and
    children per night. Raises MoneyError for dates or counts out of bounds."""
    check_stay_dates(check_in, check_out)
    if session.get(Room, room_id) is None:
        raise MoneyError("room")
    adults = whole(adults, "people", 0, 99)
    children = whole(children, "people", 0, MAX_EXTRA)
    extra_beds = whole(extra_beds, "extra-beds", 0, MAX_EXTRA)
    rate = rate_for(session, room_id)
    listed = dict(
        session.execute(
            sa.select(Holiday.day, Holiday.name).where(
                Holiday.day >= check_in, Holiday.day < check_out
            )
        ).all()
    )
    listed = {date.fromisoformat(d) if isinstance(d, str) else d: n for d, n in listed.items()}
    nights = []
    day = check_in
    while day < check_out:
        nights.append((day, night_kind(day, listed)))
        day += timedelta(days=1)
    lines = []
    for kind in NIGHT_KINDS:
        days = [d for d, k in nights if k == kind]
        if days:
            names = sorted({listed[d] for d in days}) if kind == "holiday" else []
            lines.append(QuoteLine(kind, len(days), _night_price(rate, kind), names))
    if extra_beds:
        lines.append(QuoteLine("extra_bed", extra_beds * len(nights), rate.extra_bed))
    if children:
        lines.append(QuoteLine("child", children * len(nights), rate.child))
    priced = any(getattr(rate, name) for name in RATE_FIELDS)
    return Quote(room_id, check_in, check_out, adults, children, extra_beds, nights, lines,
                 priced)  # fmt: skip
