"""The owner's reminder rules: checked and saved, then evaluated (hourly, idempotently) into
reminders, which resolve themselves when the reason is gone."""

import calendar
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import begin_write, insert_ignore_rows, month_day
from app.models import (
    Customer,
    FamilyMember,
    ImportantDate,
    Reminder,
    ReminderRule,
    Segment,
    TimelineEntry,
    customer_tag,
)
from app.models.reminder import RETURN_KINDS, RETURN_WINDOW_DAYS, RULE_KINDS
from app.services import segments as seg
from app.services.reminders.worklist import ReminderError, RunResult


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
        rule.levels = sorted(data.get("levels") or [])
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
    result.created += _stay_occasions(session, context)
    return result


def _stay_occasions(session: Session, context: seg.Context) -> int:
    """A homestay's occasions coming round again (a birthday or anniversary a guest stayed
    for last year): reminders six weeks ahead, with the room to offer."""
    from app.services.stays import occasions

    made = occasions.make_reminders(session, context.today)
    session.commit()
    return made


def all_rules(session: Session) -> list[ReminderRule]:
    return list(session.scalars(sa.select(ReminderRule).order_by(ReminderRule.name)))
