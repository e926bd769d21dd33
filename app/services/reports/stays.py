"""A homestay's year in months: stays begun, room-nights and how full the rooms were."""

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Room, Stay, begins_a_stay


@dataclass
class MonthOccupancy:
    month: int
    stays: int  # stays that began in the month (a room change mid-stay: still one stay)
    nights: int  # room-nights in the month (stays across a month end are split)
    amount: int  # NT$ of the stays that began in the month
    occupancy: float | None  # nights / (rooms in use × days); None without rooms


def month_occupancy(session: Session, year: int) -> list[MonthOccupancy]:
    """Stays per month and how full the rooms were, for one year (stayed stays only)."""
    start, end = date(year, 1, 1), date(year + 1, 1, 1)
    rows = session.execute(
        sa.select(Stay.check_in, Stay.check_out, Stay.amount, begins_a_stay()).where(
            Stay.status == "stayed", Stay.check_in < end, Stay.check_out > start
        )
    ).all()
    stays = [0] * 13
    nights = [0] * 13
    amount = [0] * 13
    for check_in, check_out, money, begins in rows:
        if check_in >= start and begins:
            stays[check_in.month] += 1
            amount[check_in.month] += money
        day = max(check_in, start)
        while day < min(check_out, end):
            nights[day.month] += 1
            day += timedelta(days=1)
    room_count = session.scalar(
        sa.select(sa.func.count()).select_from(Room).where(Room.active.is_(True))
    )
    result = []
    for month in range(1, 13):
        capacity = room_count * calendar.monthrange(year, month)[1]
        share = round(nights[month] / capacity, 3) if capacity else None
        result.append(MonthOccupancy(month, stays[month], nights[month], amount[month], share))
    return result
