"""A homestay's day and month from its stays: arrivals, departures, who is in house now,
rooms to prepare, and for the owner occupancy (room-nights) and income by month. Reads only
the stay's own columns (dates, actual check-in/out, status, room, party, amount)."""

from calendar import monthrange
from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import Purchase, Room, Stay
from app.services import timeline as timeline_service

# What counts as a real booking: cancelled stays and no-shows take no room and earn nothing.
ACTIVE = ("booked", "stayed")
LISTS = ("arrivals", "departures", "in_house", "prepare", "month")


def _stays(session: Session, *conditions, order=None) -> list[Stay]:
    return list(
        session.scalars(
            sa.select(Stay)
            .outerjoin(Room, Room.id == Stay.room_id)
            .where(*conditions)
            .options(joinedload(Stay.room), joinedload(Stay.customer))
            .order_by(*(order or (Stay.check_in, Room.name, Stay.id)))
        )
    )


def arrivals(session: Session, day: date) -> list[Stay]:
    """Booked stays that start on the day and have not checked in yet."""
    return _stays(
        session, Stay.check_in == day, Stay.status == "booked", Stay.checked_in_at.is_(None),
        order=(Room.name, Stay.id),
    )  # fmt: skip


def departures(session: Session, day: date) -> list[Stay]:
    """Stays planned to end on the day that have not checked out yet."""
    return _stays(
        session, Stay.check_out == day, Stay.status == "stayed", Stay.checked_out_at.is_(None),
        order=(Room.name, Stay.id),
    )  # fmt: skip


def in_house(session: Session, today: date) -> list[Stay]:
    """Checked in and not checked out, whatever their planned dates (overstays included);
    a stay saved as "stayed" without a check-in counts while its dates cover today (so a
    guest book typed in from paper does not fill the house)."""
    return _stays(
        session, Stay.status == "stayed", Stay.checked_out_at.is_(None),
        sa.or_(
            Stay.checked_in_at.is_not(None),
            sa.and_(Stay.check_in <= today, Stay.check_out >= today),
        ),
        order=(Room.name, Stay.id),
    )  # fmt: skip


@dataclass
class RoomToPrepare:
    arrival: Stay
    previous: Stay | None  # the room's last guest before this arrival, if any
    today: date

    @property
    def state(self) -> str:
        """ "empty" (nobody before), "left" (checked out, or due out before today), "in" (still
        in the room), or "booked" (their booking ends when this one starts; not here yet)."""
        previous = self.previous
        if previous is None:
            return "empty"
        if previous.checked_out_at is not None or previous.check_out < self.today:
            return "left"
        return "in" if previous.status == "stayed" else "booked"


def rooms_to_prepare(session: Session, today: date) -> list[RoomToPrepare]:
    """Rooms with an arrival today or tomorrow, in order of arrival, each with the guest who
    was in it before (left, or still to leave)."""
    coming = _stays(
        session, Stay.check_in.in_([today, today + timedelta(days=1)]),
        Stay.status == "booked", Stay.checked_in_at.is_(None), Stay.room_id.is_not(None),
    )  # fmt: skip
    rooms = []
    for stay in coming:
        previous = session.scalar(
            sa.select(Stay)
            .where(
                Stay.room_id == stay.room_id, Stay.id != stay.id, Stay.status.in_(ACTIVE),
                Stay.check_out <= stay.check_in, Stay.check_out >= stay.check_in - timedelta(30),
            )
            .options(joinedload(Stay.customer))
            .order_by(Stay.check_out.desc(), Stay.id.desc())
            .limit(1)
        )  # fmt: skip
        rooms.append(RoomToPrepare(stay, previous, today))
    return rooms


@dataclass
class HomestayDay:
    today: date
    arrivals: list[Stay] = field(default_factory=list)
    departures: list[Stay] = field(default_factory=list)
    in_house: list[Stay] = field(default_factory=list)
    prepare: list[RoomToPrepare] = field(default_factory=list)
    alerts: dict = field(default_factory=dict)  # customer id → open alerts


def homestay_day(session: Session, today: date) -> HomestayDay:
    """The four lists of a homestay's Today, with the guests' open alerts and preferences."""
    day = HomestayDay(
        today=today,
        arrivals=arrivals(session, today),
        departures=departures(session, today),
        in_house=in_house(session, today),
        prepare=rooms_to_prepare(session, today),
    )
    guests = {stay.customer_id for stay in day.arrivals + day.departures + day.in_house}
    guests |= {room.arrival.customer_id for room in day.prepare}
    day.alerts = timeline_service.open_alerts_by_customer(session, sorted(guests))
    return day


# ---- the owner's month: room-nights and income ------------------------------------------------


def month_start(day: date, months: int = 0) -> date:
    """The first of day's month, moved by a number of months."""
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def _month_end(start: date) -> date:
    return start + timedelta(days=monthrange(start.year, start.month)[1])


def month_stays(session: Session, start: date) -> list[Stay]:
    """Active stays with at least one night in the month starting on `start`."""
    return _stays(
        session, Stay.status.in_(ACTIVE), Stay.check_in < _month_end(start),
        Stay.check_out > start,
    )  # fmt: skip


def nights_in(stay: Stay, start: date) -> int:
    """The stay's nights that fall in the month starting on `start`."""
    return max(0, (min(stay.check_out, _month_end(start)) - max(stay.check_in, start)).days)


@dataclass
class Occupancy:
    month: date  # its first day
    booked: int  # room-nights
    available: int

    @property
    def percent(self) -> int:
        return round(100 * self.booked / self.available) if self.available else 0


def occupancy(session: Session, start: date) -> Occupancy:
    """Room-nights booked (active stays with a room) against the active rooms' nights. The
    rooms are today's: a room added since last year counts in last year's month too."""
    rooms = session.scalar(sa.select(sa.func.count()).where(Room.active.is_(True))) or 0
    booked = sum(nights_in(stay, start) for stay in month_stays(session, start) if stay.room_id)
    return Occupancy(start, booked, rooms * (_month_end(start) - start).days)


@dataclass
class Income:
    month: date
    stays: int  # NT$: each stay's amount spread evenly over its nights, this month's share
    purchases: int  # NT$: purchases dated in the month

    @property
    def total(self) -> int:
        return self.stays + self.purchases


def income(session: Session, start: date) -> Income:
    stays = sum(
        stay.amount * nights_in(stay, start) // stay.nights
        for stay in month_stays(session, start)
        if stay.nights and stay.amount
    )
    purchases = session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(Purchase.quantity * Purchase.unit_price), 0)).where(
            Purchase.purchased_on >= start, Purchase.purchased_on < _month_end(start)
        )
    )
    return Income(start, stays, int(purchases))


@dataclass
class OwnerFigures:
    today: date
    arrivals: int
    departures: int
    in_house: int
    occupancy: list[tuple[Occupancy, Occupancy]]  # (this year's month, last year's), ×2
    income: Income


def owner_figures(session: Session, today: date) -> OwnerFigures:
    """The homestay owner's home: today's movements, occupancy this month and next against
    the same months last year, and this month's income."""
    this_month = month_start(today)
    return OwnerFigures(
        today=today,
        arrivals=len(arrivals(session, today)),
        departures=len(departures(session, today)),
        in_house=len(in_house(session, today)),
        occupancy=[
            (
                occupancy(session, month_start(today, n)),
                occupancy(session, month_start(today, n - 12)),
            )
            for n in (0, 1)
        ],
        income=income(session, this_month),
    )


def stays_list(session: Session, which: str, day: date) -> list[Stay]:
    """The full list behind a count: arrivals, departures, in house, rooms to prepare (their
    arriving stays) on the day, or the stays with nights in the day's month."""
    if which == "arrivals":
        return arrivals(session, day)
    if which == "departures":
        return departures(session, day)
    if which == "in_house":
        return in_house(session, day)
    if which == "prepare":
        return [room.arrival for room in rooms_to_prepare(session, day)]
    return month_stays(session, month_start(day))
