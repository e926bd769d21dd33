"""The room calendar: rooms × nights for a window of days, each booking or block a bar that
spans its nights (clipped at the window's edges), every other night free or left blank."""

import re
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import Room, RoomBlock, RoomFeed, Stay, TimelineEntry
from app.services.rooms.blocks import ACTIVE_STAY_STATUSES
from app.services.stays import MAX_NIGHTS
from app.services.timeline import open_alerts_by_customer

WINDOWS = (14, 31)  # two weeks (a tablet), a month (a desktop)
DEFAULT_DAYS = 14
ONE_DAY = timedelta(days=1)


class CalendarError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class Day:
    day: date
    is_today: bool
    weekend: bool  # Friday and Saturday nights: the busy ones


@dataclass
class Bar:
    """A stay or a block in one room's lane, spanning `span` columns of the window."""

    kind: str  # stay | closed | ota
    starts_on: date
    ends_on: date
    span: int
    first_column: date
    clipped_before: bool
    clipped_after: bool
    stay: Stay | None = None
    block: RoomBlock | None = None
    source: str = ""
    alerts: list[TimelineEntry] = field(default_factory=list)

    @property
    def nights(self) -> int:
        return (self.ends_on - self.starts_on).days

    is_bar = True


@dataclass
class Cell:
    """One night with nothing in this lane: free (a link that starts a booking) or blank
    (another lane holds a booking on that night)."""

    day: date
    free: bool
    iso: str  # the night's date, and the next morning's, as the booking link writes them
    next_iso: str
    is_bar = False

    @property
    def next_day(self) -> date:
        return self.day + ONE_DAY


@dataclass
class RoomRow:
    room: Room
    lanes: list[list[Bar | Cell]]


@dataclass
class Grid:
    start: date
    end: date  # the first day after the window
    days: list[Day]
    rows: list[RoomRow]
    today: date

    @property
    def length(self) -> int:
        return len(self.days)

    @property
    def previous_start(self) -> date:
        return self.start - timedelta(days=self.length)

    @property
    def next_start(self) -> date:
        return self.end


def window(start_text: str | None, days_text: str | None, today: date) -> tuple[date, int]:
    """The window asked for in the address (?start=YYYY-MM-DD&days=14|31); raises
    CalendarError for anything else. Without a start, today; without days, two weeks."""
    try:
        start = date.fromisoformat(start_text) if start_text else today
    except ValueError:
        raise CalendarError("start") from None
    if not today.year - 10 <= start.year <= today.year + 5:
        raise CalendarError("start-range")
    if days_text in (None, ""):
        return start, DEFAULT_DAYS
    if not days_text.isdigit() or int(days_text) not in WINDOWS:
        raise CalendarError("days")
    return start, int(days_text)


def _natural(name: str) -> list:
    """2號房 before 10號房."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name.lower())]


def _items(session: Session, room_ids: list[int], start: date, end: date):
    stays = session.scalars(
        sa.select(Stay)
        .where(
            Stay.room_id.in_(room_ids),
            Stay.status.in_(ACTIVE_STAY_STATUSES),
            Stay.check_in < end,
            Stay.check_out > start,
            # No stay is longer than MAX_NIGHTS: bounding the check-out on both sides lets
            # the database read a short range of its check-out index, not all of history.
            Stay.check_out <= end + timedelta(days=MAX_NIGHTS),
        )
        .options(joinedload(Stay.customer))
        .order_by(Stay.check_in, Stay.id)
    ).all()
    blocks = session.execute(
        sa.select(RoomBlock, RoomFeed.name)
        .outerjoin(RoomFeed, RoomFeed.id == RoomBlock.feed_id)
        .where(
            RoomBlock.room_id.in_(room_ids),
            RoomBlock.starts_on < end,
            RoomBlock.ends_on > start,
        )
        .order_by(RoomBlock.starts_on, RoomBlock.id)
    ).all()
    alerts = open_alerts_by_customer(session, sorted({stay.customer_id for stay in stays}))
    items: dict[int, list[Bar]] = {room_id: [] for room_id in room_ids}
    for stay in stays:
        items[stay.room_id].append(
            _bar("stay", stay.check_in, stay.check_out, start, end, stay=stay,
                 alerts=alerts.get(stay.customer_id, []))
        )  # fmt: skip
    for block, source in blocks:
        items[block.room_id].append(
            _bar(block.kind, block.starts_on, block.ends_on, start, end, block=block,
                 source=source or "")
        )  # fmt: skip
    return items


def _bar(kind: str, starts_on: date, ends_on: date, start: date, end: date, **extra) -> Bar:
    first, last = max(starts_on, start), min(ends_on, end)
    return Bar(
        kind=kind, starts_on=starts_on, ends_on=ends_on, span=(last - first).days,
        first_column=first, clipped_before=starts_on < start, clipped_after=ends_on > end,
        **extra,
    )  # fmt: skip


def _lanes(bars: list[Bar], days: list[date]) -> list[list[Bar | Cell]]:
    """Bars placed in the first lane where they fit (overlaps, which should not happen but
    can come from a booking site, get a lane of their own and stay visible); the nights
    between them are cells, free when no lane holds anything that night. Works on column
    numbers: this runs for every room on every view of the calendar."""
    start = days[0]
    column = {bar.first_column: (bar.first_column - start).days for bar in bars}
    bars = sorted(bars, key=lambda bar: (column[bar.first_column], bar.kind != "stay"))
    placed: list[list[Bar]] = []
    ends: list[int] = []  # the first column after each lane's last bar
    taken = [False] * len(days)
    for bar in bars:
        first = column[bar.first_column]
        taken[first : first + bar.span] = [True] * bar.span
        for number, lane_end in enumerate(ends):
            if lane_end <= first:
                placed[number].append(bar)
                ends[number] = first + bar.span
                break
        else:
            placed.append([bar])
            ends.append(first + bar.span)
    isos = [day.isoformat() for day in days] + [(days[-1] + ONE_DAY).isoformat()]

    def cells(since: int, until: int) -> list[Cell]:
        return [Cell(days[n], not taken[n], isos[n], isos[n + 1]) for n in range(since, until)]

    lanes = []
    for lane in placed or [[]]:
        row: list[Bar | Cell] = []
        at = 0
        for bar in lane:
            first = column[bar.first_column]
            row.extend(cells(at, first))
            row.append(bar)
            at = first + bar.span
        row.extend(cells(at, len(days)))
        lanes.append(row)
    return lanes


def build_grid(session: Session, start: date, length: int, today: date) -> Grid:
    """Every room in use with its stays (booked or in house; cancelled and no-show left
    out), closures and booking-site blocks over [start, start + length) in two queries
    (and one for the guests' open alerts)."""
    end = start + timedelta(days=length)
    rooms = sorted(
        session.scalars(sa.select(Room).where(Room.active.is_(True))),
        key=lambda room: _natural(room.name),
    )
    items = _items(session, [room.id for room in rooms], start, end) if rooms else {}
    columns = [start + timedelta(days=n) for n in range(length)]
    return Grid(
        start=start,
        end=end,
        days=[Day(day, day == today, day.weekday() in (4, 5)) for day in columns],
        rows=[RoomRow(room, _lanes(items[room.id], columns)) for room in rooms],
        today=today,
    )
