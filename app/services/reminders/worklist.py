"""Reminders entered by hand, and the worklists that read them (my day, open, done, counts)."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.db import begin_write
from app.models import (
    Customer,
    Reminder,
    ReminderRule,
    User,
)
from app.models.reminder import SNOOZE_DAYS

MAX_TEXT = 300


class ReminderError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class RunResult:
    created: int = 0
    resolved: int = 0
    per_rule: dict[int, int] = field(default_factory=dict)


# ---- by hand ------------------------------------------------------------------------------


def add_reminder(
    session: Session,
    customer: Customer,
    *,
    text: str,
    due_date: date,
    assignee_id: int | None,
    created_by: User | None,
) -> Reminder:
    text = (text or "").strip()
    if not text:
        raise ReminderError("empty")
    if len(text) > MAX_TEXT:
        raise ReminderError("too-long")
    if assignee_id is not None and session.get(User, assignee_id) is None:
        raise ReminderError("assignee")
    begin_write(session)
    reminder = Reminder(
        customer_id=customer.id,
        text=text,
        due_date=due_date,
        assignee_id=assignee_id,
        created_by_id=created_by.id if created_by else None,
    )
    session.add(reminder)
    session.flush()
    return reminder


def mark_done(session: Session, reminder: Reminder, user: User | None, now: datetime, how="done"):
    begin_write(session)
    if reminder.done_at is None:
        reminder.done_at, reminder.done_by_id, reminder.done_how = now, user and user.id, how


def snooze(session: Session, reminder: Reminder, days: int, today: date) -> None:
    if days not in SNOOZE_DAYS:
        raise ReminderError("snooze")
    begin_write(session)
    reminder.due_date = max(reminder.due_date, today) + timedelta(days=days)
    reminder.snooze_count += 1


def reopen(session: Session, reminder: Reminder) -> None:
    begin_write(session)
    reminder.done_at = reminder.done_by_id = reminder.done_how = None


# ---- reading ------------------------------------------------------------------------------


def open_reminders(
    session: Session,
    *,
    due_by: date | None = None,
    due_after: date | None = None,
    assignee_id: int | None = None,
    include_unassigned: bool = False,
    rule_id: int | None = None,
    customer_id: int | None = None,
    limit: int | None = 200,
) -> list[Reminder]:
    query = (
        sa.select(Reminder)
        .where(Reminder.done_at.is_(None))
        .options(joinedload(Reminder.customer), joinedload(Reminder.assignee))
        .order_by(Reminder.due_date, Reminder.id)
    )
    if due_by is not None:
        query = query.where(Reminder.due_date <= due_by)
    if due_after is not None:
        query = query.where(Reminder.due_date > due_after)
    if assignee_id is not None:
        mine = Reminder.assignee_id == assignee_id
        query = query.where(
            sa.or_(mine, Reminder.assignee_id.is_(None)) if include_unassigned else mine
        )
    if rule_id is not None:
        query = query.where(Reminder.rule_id == rule_id)
    if customer_id is not None:
        query = query.where(Reminder.customer_id == customer_id)
    if limit:
        query = query.limit(limit)
    return list(session.scalars(query).unique())


# What a reminder is to the one reading My day, most theirs first: assigned to them by name
# (by the owner, or by a rule that names them), added by hand for anyone, made by a rule.
# (Reminders have no role of their own: everyone's are the ones assigned to nobody.)
KINDS = ("assigned", "by_hand", "rules")


@dataclass
class ReminderGroup:
    """One group on My day: assigned to me ("mine"), due today ("today"), or overdue from one
    rule ("overdue"; rule None: added by hand)."""

    due_today: bool
    rule_id: int | None
    rule_name: str | None
    count: int  # all of them
    items: list[Reminder]  # the first few, most mine first
    key: str = ""
    today_count: int = 0  # of `count`, due today (the rest are overdue)
    by_kind: dict[str, int] = field(default_factory=dict)  # KINDS → how many in the group

    @property
    def hidden(self) -> dict[str, int]:
        """How many of each kind are not among `items`, in KINDS order, none left out."""
        shown = {kind: 0 for kind in KINDS}
        for reminder in self.items:
            shown[self.kind_of(reminder)] += 1
        left = {kind: self.by_kind.get(kind, 0) - shown[kind] for kind in KINDS}
        return {kind: number for kind, number in left.items() if number > 0}

    def kind_of(self, reminder: Reminder) -> str:
        if self.key == "mine":
            return "assigned"
        return "by_hand" if reminder.rule_id is None else "rules"


def _kind(user_id: int):
    """KINDS' index of a reminder, in SQL, for ordering and counting."""
    return sa.case((Reminder.assignee_id == user_id, 0), (Reminder.rule_id.is_(None), 1), else_=2)


def my_day_groups(
    session: Session, today: date, user_id: int, *, limit: int = 20
) -> list[ReminderGroup]:
    """Open reminders due by today for this staff member (or anyone), counted in full with
    one GROUP BY, each group with its first `limit`: first those assigned to me by name
    (overdue first), then today's (added by hand before rule-made), then the overdue ones by
    the rule that made them (added by hand first)."""
    mine = sa.or_(Reminder.assignee_id == user_id, Reminder.assignee_id.is_(None))
    base = (Reminder.done_at.is_(None), Reminder.due_date <= today, mine)
    is_today = (Reminder.due_date >= today).label("is_today")
    kind = _kind(user_id).label("kind")
    counts = session.execute(
        sa.select(is_today, Reminder.rule_id, kind, sa.func.count())
        .where(*base)
        .group_by(is_today, Reminder.rule_id, kind)
    ).all()
    names = dict(session.execute(sa.select(ReminderRule.id, ReminderRule.name)).all())

    def first(*conditions) -> list[Reminder]:
        return list(
            session.scalars(
                sa.select(Reminder)
                .where(*base, *conditions)
                .options(
                    joinedload(Reminder.customer),
                    joinedload(Reminder.assignee),
                    joinedload(Reminder.rule),
                )
                .order_by(_kind(user_id), Reminder.due_date, Reminder.id)
                .limit(limit)
            ).unique()
        )

    groups = []
    assigned = [row for row in counts if row[2] == 0]
    if assigned:
        groups.append(
            _group(assigned, "mine", first(Reminder.assignee_id == user_id), due_today=False)
        )
    others = [row for row in counts if row[2] != 0]
    not_mine = sa.or_(Reminder.assignee_id.is_(None), Reminder.assignee_id != user_id)
    due_today = [row for row in others if row[0]]
    if due_today:
        groups.append(
            _group(due_today, "today", first(Reminder.due_date >= today, not_mine), due_today=True)
        )
    overdue: dict[int | None, list] = {}
    for row in others:
        if not row[0]:
            overdue.setdefault(row[1], []).append(row)
    for rule_id in sorted(overdue, key=lambda rule: (rule is not None, names.get(rule) or "")):
        rule_condition = (
            Reminder.rule_id.is_(None) if rule_id is None else Reminder.rule_id == rule_id
        )
        items = first(Reminder.due_date < today, rule_condition, not_mine)
        group = _group(overdue[rule_id], "overdue", items, due_today=False)
        group.rule_id, group.rule_name = rule_id, names.get(rule_id)
        groups.append(group)
    return groups


def _group(counts: list, key: str, items: list[Reminder], *, due_today: bool) -> ReminderGroup:
    """A group from its rows of the GROUP BY (is today, rule, kind, count) and its first few."""
    by_kind: dict[str, int] = {}
    for _today, _rule, index, count in counts:
        by_kind[KINDS[index]] = by_kind.get(KINDS[index], 0) + count
    return ReminderGroup(
        due_today, None, None, sum(row[3] for row in counts), items, key=key,
        today_count=sum(row[3] for row in counts if row[0]), by_kind=by_kind,
    )  # fmt: skip


def done_reminders(session: Session, limit: int = 100) -> list[Reminder]:
    return list(
        session.scalars(
            sa.select(Reminder)
            .where(Reminder.done_at.is_not(None))
            .options(joinedload(Reminder.customer), joinedload(Reminder.done_by))
            .order_by(Reminder.done_at.desc())
            .limit(limit)
        )
    )


def count_open(session: Session, today: date) -> dict[str, int]:
    """Open reminders due today, overdue (due before today) and later."""
    row = session.execute(
        sa.select(
            sa.func.count().filter(Reminder.due_date == today),
            sa.func.count().filter(Reminder.due_date < today),
            sa.func.count().filter(Reminder.due_date > today),
        ).where(Reminder.done_at.is_(None))
    ).one()
    return {"today": row[0], "overdue": row[1], "later": row[2]}


def open_counts_by_rule(session: Session) -> dict[int, int]:
    return dict(
        session.execute(
            sa.select(Reminder.rule_id, sa.func.count())
            .where(Reminder.done_at.is_(None), Reminder.rule_id.is_not(None))
            .group_by(Reminder.rule_id)
        ).all()
    )
