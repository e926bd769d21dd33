"""Reminders: entered by hand or made by the owner's rules, evaluated daily (idempotently)."""

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.db import begin_write, insert_ignore_rows, month_day
from app.models import (
    Customer,
    FamilyMember,
    ImportantDate,
    Reminder,
    ReminderRule,
    Segment,
    TimelineEntry,
    User,
    customer_tag,
)
from app.models.reminder import RETURN_KINDS, RETURN_WINDOW_DAYS, RULE_KINDS, SNOOZE_DAYS
from app.services import segments as seg

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


@dataclass
class ReminderGroup:
    """One group on My day: due today, or overdue from one rule (None: added by hand)."""

    due_today: bool
    rule_id: int | None
    rule_name: str | None
    count: int  # all of them
    items: list[Reminder]  # the first few


def my_day_groups(
    session: Session, today: date, user_id: int, *, limit: int = 20
) -> list[ReminderGroup]:
    """Open reminders due by today for this staff member (or anyone), counted in full with
    one GROUP BY, each group with its first `limit` reminders."""
    mine = sa.or_(Reminder.assignee_id == user_id, Reminder.assignee_id.is_(None))
    base = (Reminder.done_at.is_(None), Reminder.due_date <= today, mine)
    is_today = (Reminder.due_date >= today).label("is_today")
    counts = session.execute(
        sa.select(is_today, Reminder.rule_id, sa.func.count())
        .where(*base)
        .group_by(is_today, Reminder.rule_id)
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
                .order_by(Reminder.due_date, Reminder.id)
                .limit(limit)
            ).unique()
        )

    groups = []
    due_today = sum(count for today_flag, _rule, count in counts if today_flag)
    if due_today:
        groups.append(ReminderGroup(True, None, None, due_today, first(Reminder.due_date >= today)))
    overdue = sorted(
        ((rule_id, count) for today_flag, rule_id, count in counts if not today_flag),
        key=lambda item: (item[0] is None, names.get(item[0]) or ""),
    )
    for rule_id, count in overdue:
        rule_condition = (
            Reminder.rule_id.is_(None) if rule_id is None else Reminder.rule_id == rule_id
        )
        groups.append(
            ReminderGroup(
                False,
                rule_id,
                names.get(rule_id),
                count,
                first(Reminder.due_date < today, rule_condition),
            )  # fmt: skip
        )
    return groups


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


# ---- rules --------------------------------------------------------------------------------


def check_rule(session: Session, rule: ReminderRule) -> None:
    """Raises ReminderError for a rule that cannot work (checked before saving)."""
    if rule.kind not in RULE_KINDS:
        raise ReminderError("kind")
    if not (0 <= (rule.days or 0) <= 3650):
        raise ReminderError("days")
    if rule.kind in ("no_contact", "lapsed", "return") and rule.days < 1:
        raise ReminderError("days")
    if rule.kind == "return" and rule.entry_kind not in RETURN_KINDS:
        raise ReminderError("entry-kind")
    if any(level not in ("A", "B", "C") for level in rule.level_list):
        raise ReminderError("levels")


def save_rule(session: Session, rule: ReminderRule, data: dict) -> None:
    """Copies the owner's choices into the rule and checks it (ReminderError with a code:
    "name" when another rule has the name). Nothing is flushed before the check passes."""

    def optional_id(name: str) -> int | None:
        return int(data[name]) if data.get(name) else None

    def optional_text(name: str) -> str | None:
        return (data.get(name) or "").strip() or None

    with session.no_autoflush:
        rule.name = " ".join((data.get("name") or "").split())
        rule.kind = data.get("kind")
        rule.days = data.get("days")
        rule.segment_id, rule.tag_id = optional_id("segment_id"), optional_id("tag_id")
        rule.levels = ",".join(sorted(data.get("levels") or []))
        rule.include_family = bool(data.get("include_family"))
        rule.entry_kind = data.get("entry_kind") or None
        rule.keyword, rule.action = optional_text("keyword"), optional_text("action")
        rule.assignee_id = optional_id("assignee_id")
        rule.active = bool(data.get("active"))
        check_rule(session, rule)
        clash = session.scalar(
            sa.select(ReminderRule.id).where(
                sa.func.lower(ReminderRule.name) == rule.name.lower(),
                ReminderRule.id != (rule.id or 0),
            )
        )
    if clash:
        raise ReminderError("name")
    if rule.id is None:
        session.add(rule)


def _who_clause(session: Session, rule: ReminderRule, context: seg.Context):
    """The customers a rule looks at (never archived or erased ones)."""
    clauses = [Customer.archived_at.is_(None), Customer.erased_at.is_(None)]
    if rule.segment_id:
        segment = session.get(Segment, rule.segment_id)
        if segment is not None:
            clauses.append(seg.compile_expression(session, seg.parse(segment.expression), context))
    else:
        if rule.tag_id:
            clauses.append(
                Customer.id.in_(
                    sa.select(customer_tag.c.customer_id).where(
                        customer_tag.c.tag_id == rule.tag_id
                    )
                )
            )
        if rule.level_list:
            clauses.append(Customer.level.in_(rule.level_list))
    return sa.and_(*clauses)


def who_label(rule: ReminderRule) -> str:
    """Whom the rule is about, in the shop's own words (tag, segment or levels)."""
    if rule.segment_id and rule.segment is not None:
        return rule.segment.name
    parts = []
    if rule.tag is not None:
        parts.append(rule.tag.name)
    if rule.level_list:
        parts.append("/".join(rule.level_list))
    return ", ".join(parts)


def upcoming_days(today: date, days: int) -> dict[str, date]:
    """ "MM-DD" → the date it next falls on within [today, today + days]. A 29 February
    birthday falls on 28 February in other years."""
    found: dict[str, date] = {}
    for offset in range(days + 1):
        day = today + timedelta(days=offset)
        found.setdefault(day.strftime("%m-%d"), day)
        if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
            found.setdefault("02-29", day)
    return found


def _due_birthdays(session, rule, who, today):
    window = upcoming_days(today, rule.days)
    rows = session.execute(
        sa.select(Customer.id, Customer.display_name, Customer.birthday, Customer.assigned_user_id)
        .where(who, Customer.birthday.is_not(None))
        .where(month_day(Customer.birthday).in_(sorted(window)))
    ).all()
    for customer_id, name, birthday, assigned in rows:
        on = window[birthday.strftime("%m-%d")]
        reason = {"code": "birthday", "name": name, "date": on.isoformat()}
        yield customer_id, assigned, f"birthday:{on.isoformat()}", reason
    if rule.include_family:
        rows = session.execute(
            sa.select(
                FamilyMember.id,
                FamilyMember.name,
                FamilyMember.relation,
                FamilyMember.birthday,
                Customer.id,
                Customer.assigned_user_id,
            )
            .join(Customer, Customer.id == FamilyMember.customer_id)
            .where(who, FamilyMember.birthday.is_not(None))
            .where(month_day(FamilyMember.birthday).in_(sorted(window)))
        ).all()
        for member_id, name, relation, birthday, customer_id, assigned in rows:
            on = window[birthday.strftime("%m-%d")]
            reason = {
                "code": "birthday",
                "name": name,
                "relation": relation,
                "date": on.isoformat(),
            }
            yield customer_id, assigned, f"birthday:f{member_id}:{on.isoformat()}", reason


def _due_important_dates(session, rule, who, today):
    window = upcoming_days(today, rule.days)
    rows = session.execute(
        sa.select(
            ImportantDate.id,
            ImportantDate.label,
            ImportantDate.date,
            Customer.id,
            Customer.assigned_user_id,
        )
        .join(Customer, Customer.id == ImportantDate.customer_id)
        .where(who, month_day(ImportantDate.date).in_(sorted(window)))
    ).all()
    for date_id, label, when, customer_id, assigned in rows:
        on = window[when.strftime("%m-%d")]
        if on < when:  # a date in the future is not an anniversary yet
            continue
        reason = {"code": "important_date", "label": label, "date": on.isoformat()}
        yield customer_id, assigned, f"date:{date_id}:{on.isoformat()}", reason


def _due_since(session, rule, who, now, column, code):
    """Customers whose `column` (or, if never, their creation) is more than N days ago."""
    since = sa.func.coalesce(column, Customer.created_at)
    rows = session.execute(
        sa.select(Customer.id, Customer.assigned_user_id, column, Customer.level).where(
            who, since < now - timedelta(days=rule.days)
        )
    ).all()
    for customer_id, assigned, last, level in rows:
        stamp = last.isoformat(timespec="seconds") if last else "never"
        reason = {"code": code, "last": last.isoformat(timespec="seconds") if last else None}
        if code == "lapsed":
            reason["level"] = level
        yield customer_id, assigned, f"{code}:{stamp}", reason


def _contains(column, keyword: str):
    escaped = keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return column.ilike(f"%{escaped}%", escape="\\")


def _last_in_window(session, rule, who, query, last, newest):
    """(customer_id, assignee_id, last) for the customers whose `last` (grouped per customer
    by `query`) lies N to N + RETURN_WINDOW_DAYS days before `newest`."""
    query = query.group_by(query.selected_columns[0]).having(
        last < newest - timedelta(days=rule.days),
        last >= newest - timedelta(days=rule.days + RETURN_WINDOW_DAYS),
    )
    found = dict(session.execute(query).all())
    if not found:
        return []
    rows = session.execute(
        sa.select(Customer.id, Customer.assigned_user_id).where(who, Customer.id.in_(list(found)))
    ).all()
    return [(customer_id, assigned, found[customer_id]) for customer_id, assigned in rows]


def _due_repurchases(session, rule, who, today):
    """ "N days after the last purchase": from the purchases themselves (their dates as
    typed, past ones too), of products whose name contains the keyword (or any)."""
    from app.models import Product, Purchase

    last = sa.func.max(Purchase.purchased_on)
    query = sa.select(Purchase.customer_id, last).join(Product, Product.id == Purchase.product_id)
    if rule.keyword:
        query = query.where(_contains(Product.name, rule.keyword))
    for customer_id, assigned, day in _last_in_window(session, rule, who, query, last, today):
        if isinstance(day, str):
            day = date.fromisoformat(day)
        stamp = datetime.combine(day, datetime.min.time()).isoformat(timespec="seconds")
        reason = {"code": "return", "kind": "purchase", "keyword": rule.keyword, "last": stamp}
        yield customer_id, assigned, f"return:{day.isoformat()}", reason


def _due_returns(session, rule, who, now):
    kinds = [rule.entry_kind] if rule.entry_kind in RETURN_KINDS else list(RETURN_KINDS)
    last = sa.func.max(TimelineEntry.created_at)
    query = sa.select(TimelineEntry.customer_id, last).where(TimelineEntry.kind.in_(kinds))
    if rule.keyword:
        query = query.where(_contains(TimelineEntry.body, rule.keyword))
    for customer_id, assigned, when in _last_in_window(session, rule, who, query, last, now):
        stamp = when.isoformat(timespec="seconds")
        reason = {"code": "return", "kind": rule.entry_kind, "keyword": rule.keyword, "last": stamp}
        yield customer_id, assigned, f"return:{stamp}", reason


def due_for_rule(session: Session, rule: ReminderRule, context: seg.Context):
    """(customer_id, assignee_id, occasion, reason) for every customer the rule applies to now."""
    who = _who_clause(session, rule, context)
    today, now = context.today, context.now
    if rule.kind == "birthday":
        return list(_due_birthdays(session, rule, who, today))
    if rule.kind == "important_date":
        return list(_due_important_dates(session, rule, who, today))
    if rule.kind == "no_contact":
        return list(_due_since(session, rule, who, now, Customer.last_contact_at, "no_contact"))
    if rule.kind == "lapsed":
        return list(_due_since(session, rule, who, now, Customer.last_visit_at, "lapsed"))
    if rule.kind == "return" and rule.entry_kind == "purchase":
        from app.models import Purchase

        if session.scalar(sa.select(Purchase.id).limit(1)) is not None:
            return list(_due_repurchases(session, rule, who, today))
    if rule.kind == "return":
        return list(_due_returns(session, rule, who, now))
    return []


# Rules whose reminders go away by themselves when the reason does (a call was logged…).
SELF_RESOLVING = ("no_contact", "lapsed", "return")


def run_rule(
    session: Session, rule: ReminderRule, context: seg.Context, *, commit: bool = False
) -> tuple[int, int]:
    """Creates the missing reminders of one rule; closes the ones whose reason has gone.
    Returns (created, resolved). Safe to run any number of times. With commit=True it
    commits every chunk, so the web's writes are never kept waiting long."""
    due = due_for_rule(session, rule, context)
    known = {
        (customer_id, occasion): (reminder_id, done)
        for reminder_id, customer_id, occasion, done in session.execute(
            sa.select(
                Reminder.id, Reminder.customer_id, Reminder.occasion, Reminder.done_at.is_not(None)
            ).where(Reminder.rule_id == rule.id)
        )
    }
    rule_id, assignee_id, action = rule.id, rule.assignee_id, rule.action or ""
    fresh, current = [], set()
    for customer_id, assigned, occasion, reason in due:
        current.add((customer_id, occasion))
        if (customer_id, occasion) not in known:
            fresh.append({
                "customer_id": customer_id, "rule_id": rule_id, "occasion": occasion,
                "assignee_id": assignee_id or assigned, "due_date": context.today,
                "text": action, "reason": reason, "snooze_count": 0, "created_at": context.now,
            })  # fmt: skip
    stale = []
    if rule.kind in SELF_RESOLVING:
        stale = [rid for key, (rid, done) in known.items() if not done and key not in current]
    created = resolved = 0
    for start in range(0, len(fresh), RUN_CHUNK):
        begin_write(session)
        # OR IGNORE: another run that got there first already made this one.
        created += insert_ignore_rows(session, Reminder.__table__, fresh[start : start + RUN_CHUNK])
        if commit:
            session.commit()
    for start in range(0, len(stale), RUN_CHUNK):
        begin_write(session)
        resolved += session.execute(
            sa.update(Reminder)
            .where(Reminder.id.in_(stale[start : start + RUN_CHUNK]), Reminder.done_at.is_(None))
            .values(done_at=context.now, done_how="resolved")
        ).rowcount
        if commit:
            session.commit()
    return created, resolved


RUN_CHUNK = 1000


def run_rules(session: Session, context: seg.Context) -> RunResult:
    """Every active rule, one commit each (a broken segment skips its rule, not the run)."""
    result = RunResult()
    rules = session.scalars(
        sa.select(ReminderRule).where(ReminderRule.active.is_(True)).order_by(ReminderRule.id)
    ).all()
    for rule_id in [rule.id for rule in rules]:
        rule = session.get(ReminderRule, rule_id)
        try:
            created, resolved = run_rule(session, rule, context, commit=True)
        except seg.SegmentError:
            session.rollback()
            continue
        session.commit()
        result.created += created
        result.resolved += resolved
        result.per_rule[rule_id] = created
    return result


def all_rules(session: Session) -> list[ReminderRule]:
    return list(session.scalars(sa.select(ReminderRule).order_by(ReminderRule.name)))
