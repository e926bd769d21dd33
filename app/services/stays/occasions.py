"""Next year's occasion: a stay that carried a birthday or an anniversary makes a reminder
six weeks before the day comes round again, offering last year's room, or a bigger room when
the party has grown (the children a year older no longer fit it). Made by the hourly rules
run (reminders.run_rules); once per stay and year, however often it runs."""

import calendar
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.db import begin_write
from app.models import Customer, Reminder, Room, Stay

LEAD_DAYS = 42  # six weeks
# Children younger than this share a bed and take no place in the room.
TAKES_A_PLACE_FROM_AGE = 4


def _same_day_in(year: int, day: date) -> date:
    if day.month == 2 and day.day == 29 and not calendar.isleap(year):
        return date(year, 2, 28)
    return day.replace(year=year)


def next_occasion(stay: Stay, today: date) -> date | None:
    """The occasion's day in the first year after the stay's that is today or later."""
    if stay.occasion_on is None:
        return None
    year = max(stay.occasion_on.year + 1, today.year)
    day = _same_day_in(year, stay.occasion_on)
    return day if day >= today else _same_day_in(year + 1, stay.occasion_on)


def places_needed(stay: Stay, years_later: int) -> int:
    """The party's places `years_later` on: every adult, and every child old enough then
    (a child without an age takes a place)."""
    ages = stay.ages
    unknown = max(0, stay.children - len(ages))
    grown = sum(1 for age in ages if age + years_later >= TAKES_A_PLACE_FROM_AGE)
    return stay.adults + grown + unknown


def room_offer(session: Session, stay: Stay, years_later: int) -> tuple[Room | None, bool]:
    """(the room to offer, whether it is a bigger one than last time)."""
    needed = places_needed(stay, years_later)
    room = stay.room
    if room is not None and room.active and (room.capacity or 0) >= needed:
        return room, False
    bigger = session.scalar(
        sa.select(Room)
        .where(Room.active.is_(True), Room.capacity >= needed)
        .order_by(Room.capacity, Room.name)
        .limit(1)
    )
    return (bigger, True) if bigger is not None else (room, False)


def _candidates(session: Session, today: date) -> list[Stay]:
    """Stays with an occasion whose day (month and day) may come round within six weeks."""
    return list(
        session.scalars(
            sa.select(Stay)
            .join(Customer, Customer.id == Stay.customer_id)
            .where(
                Stay.occasion != "",
                Stay.occasion_on.is_not(None),
                Stay.occasion_on < today,
                Stay.occasion_on >= today - timedelta(days=3 * 366),
                Stay.status.in_(("booked", "stayed")),
                Stay.moved_from_id.is_(None),
                Customer.archived_at.is_(None),
                Customer.erased_at.is_(None),
            )
            .options(joinedload(Stay.room), joinedload(Stay.customer))
        )
    )


def _reason(stay: Stay, day: date, room: Room | None, bigger: bool, needed: int) -> dict:
    return {
        "code": "stay_occasion",
        "occasion": stay.occasion,
        "label": stay.occasion_label,
        "who": stay.occasion_who,
        "date": day.isoformat(),
        "last_room": stay.room.name if stay.room is not None else "",
        "room": room.name if room is not None else "",
        "bigger": bigger,
        "people": needed,
    }


def make_reminders(session: Session, today: date) -> int:
    """Creates the occasion reminders due (six weeks ahead); returns how many are new."""
    made = 0
    for stay in _candidates(session, today):
        day = next_occasion(stay, today)
        if day is None or (day - today).days > LEAD_DAYS:
            continue
        occasion = f"stay-occasion:{stay.id}:{day.year}"
        begin_write(session)
        known = session.scalar(
            sa.select(Reminder.id).where(
                Reminder.customer_id == stay.customer_id, Reminder.occasion == occasion
            )
        )
        if known is not None:
            continue
        years = day.year - stay.occasion_on.year
        room, bigger = room_offer(session, stay, years)
        session.add(Reminder(
            customer_id=stay.customer_id, occasion=occasion, due_date=today,
            assignee_id=stay.customer.assigned_user_id, text="",
            reason=_reason(stay, day, room, bigger, places_needed(stay, years)),
        ))  # fmt: skip
        made += 1
    session.flush()
    return made
