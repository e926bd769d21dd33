"""An after-school centre's day on the owner's home: who is here, absent (and without a
reason) or still expected across every class, today's birthdays, and the most urgent open
reminders (overdue first)."""

from dataclasses import dataclass, field
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import Reminder, Shop
from app.services import attendance
from app.services import groups as group_service
from app.services import segments as seg

URGENT_SHOWN = 6


@dataclass
class Child:
    customer_id: int
    name: str


@dataclass
class CentreToday:
    today: date
    groups: list[str]
    expected: int = 0
    present: int = 0
    absent: int = 0
    missing: int = 0
    absent_without_reason: list[Child] = field(default_factory=list)
    birthdays: list = field(default_factory=list)


def most_urgent(session: Session, today: date, limit: int = URGENT_SHOWN) -> list[Reminder]:
    """Open reminders due by today, most urgent first: the longest overdue, then those a
    person wrote or assigned by hand before the ones a rule made."""
    return list(
        session.scalars(
            sa.select(Reminder)
            .options(joinedload(Reminder.customer))
            .where(Reminder.done_at.is_(None), Reminder.due_date <= today)
            .order_by(
                Reminder.due_date,
                Reminder.rule_id.is_not(None),
                Reminder.assignee_id.is_(None),
                Reminder.id,
            )
            .limit(limit)
        )
    )


def centre_today(session: Session, shop: Shop, context: seg.Context) -> CentreToday:
    from app.services.home.dashboard import todays_birthdays

    today = context.today
    groups = group_service.group_names(session, shop)
    children = group_service.members(session, shop, groups)
    ids = [child.id for child in children]
    expected = attendance.expected_today(session, ids, today)
    roll = attendance.day_rows(session, ids, today)
    result = CentreToday(today=today, groups=groups, expected=len(expected))
    result.present = sum(1 for row in roll.values() if row.status == "present")
    result.absent = sum(1 for row in roll.values() if row.status == "absent")
    result.missing = len(expected - set(roll))
    result.absent_without_reason = [
        Child(child.id, child.display_name)
        for child in children
        if child.id in roll
        and roll[child.id].status == "absent"
        and not (roll[child.id].absence_reason or "").strip()
    ]
    result.birthdays = todays_birthdays(session, context)
    return result
