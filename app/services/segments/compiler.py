"""Compiling a segment's syntax tree to a SQLAlchemy clause over Customer (one function per
kind of atom, looked up in a table), and running it."""

import difflib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import month_day
from app.models import (
    Customer,
    CustomField,
    CustomFieldValue,
    FamilyMember,
    Product,
    Purchase,
    Stay,
    Tag,
    TimelineEntry,
    begins_a_stay,
    customer_tag,
)
from app.services import search
from app.services.segments.language import (
    AlertAtom,
    AmountAtom,
    And,
    BirthdayAtom,
    BoughtAtom,
    DateAtom,
    DurationAtom,
    FieldAtom,
    HasAtom,
    LevelAtom,
    Not,
    OptOutAtom,
    Or,
    ReminderAtom,
    SegmentError,
    TagAtom,
    TextAtom,
    parse,
)


@dataclass
class Context:
    """What an expression is evaluated against: now, the shop's zone, known tags and fields."""

    now: datetime  # naive UTC
    zone: str = "Asia/Taipei"

    @property
    def today(self) -> date:
        return self.now.replace(tzinfo=UTC).astimezone(ZoneInfo(self.zone)).date()

    def start_of(self, day: date) -> datetime:
        """Midnight of a day in the shop's zone, as stored (naive UTC)."""
        local = datetime.combine(day, time.min, tzinfo=ZoneInfo(self.zone))
        return local.astimezone(UTC).replace(tzinfo=None)


def birthday_month_days(atom: BirthdayAtom, today: date) -> set[str]:
    """The "MM-DD" birthdays the atom covers. A 29 February birthday counts on 28 February
    in years without one."""
    if atom.when in ("this_month", "next_month"):
        month = today.month if atom.when == "this_month" else today.month % 12 + 1
        return {f"{month:02d}-{day:02d}" for day in range(1, 32)}
    days = set()
    for offset in range(atom.days + 1):
        day = today + timedelta(days=offset)
        days.add(day.strftime("%m-%d"))
        if day.month == 2 and day.day == 28 and not _is_leap(day.year):
            days.add("02-29")
    return days


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def compile_expression(session: Session, node, context: Context):
    """A boolean SQLAlchemy clause over Customer for the tree."""
    return _Compiler(session, context).compile(node)


# The moment each duration/date field reads.
WHEN_COLUMNS = {
    "last_contact": Customer.last_contact_at,
    "visited": Customer.last_visit_at,
    "stayed": Customer.last_visit_at,  # a homestay's word for the same
    "created": Customer.created_at,
}


class _Compiler:
    def __init__(self, session: Session, context: Context):
        self.session = session
        self.context = context
        self._tags: dict[str, int] | None = None
        self._fields: dict[str, int] | None = None

    def tag_ids(self) -> dict[str, int]:
        if self._tags is None:
            self._tags = {
                name.lower(): tag_id
                for tag_id, name in self.session.execute(sa.select(Tag.id, Tag.name))
            }
        return self._tags

    def field_ids(self) -> dict[str, int]:
        if self._fields is None:
            self._fields = {}
            for field_id, key, label in self.session.execute(
                sa.select(CustomField.id, CustomField.key, CustomField.label)
            ):
                self._fields[key.lower()] = field_id
                self._fields.setdefault(label.lower(), field_id)
        return self._fields

    def compile(self, node):
        try:
            rule = self.RULES[type(node)]
        except KeyError:
            raise TypeError(node) from None
        return rule(self, node)

    def _and(self, node):
        return sa.and_(*(self.compile(item) for item in node.items))

    def _or(self, node):
        # "tag:A or tag:B" is one look-up of customers with either tag: a single IN lets the
        # database start from those few customers (PostgreSQL cannot turn an OR of two
        # sub-selects into a join, and read every customer to test each).
        tags = [item for item in node.items if isinstance(item, TagAtom)]
        others = [self.compile(item) for item in node.items if not isinstance(item, TagAtom)]
        if len(tags) > 1:
            return sa.or_(self._tags_atom(tags), *others)
        return sa.or_(*(self.compile(item) for item in node.items))

    def _not(self, node):
        return sa.not_(self.compile(node.item))

    def _tag_id(self, node) -> int:
        tag_id = self.tag_ids().get(node.name.lower())
        if tag_id is None:
            names = [name for name in self.session.scalars(sa.select(Tag.name))]
            close = difflib.get_close_matches(node.name, names, n=3, cutoff=0.4)
            close += [n for n in names if node.name.lower() in n.lower() and n not in close][:3]
            raise SegmentError(node.position, "unknown-tag", node.name, close[:5])
        return tag_id

    def _tag_atom(self, node):
        return Customer.id.in_(
            sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == self._tag_id(node))
        )

    def _tags_atom(self, nodes):
        """Customers with any of these tags."""
        tag_ids = sorted({self._tag_id(node) for node in nodes})
        return Customer.id.in_(
            sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id.in_(tag_ids))
        )

    def _level_atom(self, node):
        return Customer.level.in_(node.levels)

    def _birthday_atom(self, node):
        days = sorted(birthday_month_days(node, self.context.today))
        return sa.and_(
            Customer.birthday.is_not(None),
            month_day(Customer.birthday).in_(days),
        )

    def _duration_atom(self, node):
        cutoff = self.context.now - timedelta(days=node.days)
        column = WHEN_COLUMNS[node.field]
        if node.op == "<":  # within the last N days
            return sa.and_(column.is_not(None), column >= cutoff)
        if node.field == "last_contact":
            # Never contacted counts from when they joined, as the no-contact reminder
            # rule does: someone added yesterday was not "left alone for 15 days".
            return sa.func.coalesce(column, Customer.created_at) < cutoff
        # "visited > 730d": came, but not for two years. Someone who never came is not
        # a lapsed guest (write "not has:visit" for them).
        return sa.and_(column.is_not(None), column < cutoff)

    def _date_atom(self, node):
        column = WHEN_COLUMNS[node.field]
        day = node.day + timedelta(days=1) if node.op in (">", "<=") else node.day
        moment = self.context.start_of(day)
        return column >= moment if node.op in (">", ">=") else column < moment

    def _has_atom(self, node):
        if node.what == "email":
            guardian = sa.select(FamilyMember.customer_id).where(
                FamilyMember.is_guardian.is_(True),
                sa.func.coalesce(FamilyMember.email, "") != "",
            )
            return sa.or_(sa.func.coalesce(Customer.email, "") != "", Customer.id.in_(guardian))
        column = {"phone": Customer.phone, "address": Customer.postal_address}.get(node.what)
        if column is not None:
            return sa.func.coalesce(column, "") != ""
        if node.what == "purchase":
            return Customer.id.in_(sa.select(Purchase.customer_id))
        if node.what == "visit":
            return Customer.last_visit_at.is_not(None)
        if node.what == "stay":
            return Customer.id.in_(sa.select(Stay.customer_id).where(Stay.status == "stayed"))
        return Customer.birthday.is_not(None)

    def _opt_out_atom(self, node):
        return Customer.email_opt_out.is_(True)

    def _bought_atom(self, node):
        from app.services.purchases import wildcard

        pattern = wildcard(node.product) if "*" in node.product else None
        matching = (
            Product.name.ilike(pattern, escape="\\")
            if pattern
            else sa.func.lower(Product.name) == node.product.lower()
        )
        bought = (
            sa.select(Purchase.customer_id)
            .join(Product, Product.id == Purchase.product_id)
            .where(matching)
        )
        if node.op is None:
            return Customer.id.in_(bought)
        cutoff = self.context.today - timedelta(days=node.days)
        if node.op == "<":  # bought it within the last N days
            return Customer.id.in_(bought.where(Purchase.purchased_on >= cutoff))
        last = bought.group_by(Purchase.customer_id).having(
            sa.func.max(Purchase.purchased_on) < cutoff
        )
        return Customer.id.in_(last)

    def _amount_atom(self, node):
        if node.field == "stays":
            # A stay that changed room mid-way is two parts, one stay.
            figure = sa.func.count(Stay.id)
            grouped = sa.select(Stay.customer_id).where(Stay.status == "stayed", begins_a_stay())
            grouped = grouped.group_by(Stay.customer_id)
        else:
            figure = (
                sa.func.sum(Purchase.quantity * Purchase.unit_price)
                if node.field == "spend"
                else sa.func.count(Purchase.id)
            )
            grouped = sa.select(Purchase.customer_id).group_by(Purchase.customer_id)
        compare = {
            ">": figure > node.value, ">=": figure >= node.value, "=": figure == node.value,
            "<": figure >= node.value, "<=": figure > node.value,
        }[node.op]  # fmt: skip
        if node.op in ("<", "<="):  # people with none count as 0: all but those above
            return Customer.id.not_in(grouped.having(compare))
        if node.op == "=" and node.value == 0:
            return Customer.id.not_in(grouped)
        return Customer.id.in_(grouped.having(compare))

    def _alert_atom(self, node):
        # One of an open alert's keywords exactly, or its category: the same test as the
        # feed's keyword filter (timeline.alert_matches), so a list and the feed agree.
        from app.services.timeline import alert_matches

        alerts = sa.select(TimelineEntry.customer_id).where(
            alert_matches(node.keyword), TimelineEntry.alert_resolved_at.is_(None)
        )
        return Customer.id.in_(alerts)

    def _field_atom(self, node):
        field_id = self.field_ids().get(node.name.lower())
        if field_id is None:
            names = sorted(self.field_ids())
            raise SegmentError(
                node.position,
                "unknown-field",
                node.name,
                difflib.get_close_matches(node.name.lower(), names, n=3, cutoff=0.4),
            )
        values = sa.select(CustomFieldValue.customer_id).where(
            CustomFieldValue.field_id == field_id,
            sa.func.lower(sa.func.trim(CustomFieldValue.value)) == node.value.lower(),
        )
        if node.value == "":
            return Customer.id.not_in(
                sa.select(CustomFieldValue.customer_id).where(CustomFieldValue.field_id == field_id)
            )
        return Customer.id.in_(values)

    def _reminder_atom(self, node):
        from app.models import Reminder, ReminderRule

        rule_id = self.session.scalar(
            sa.select(ReminderRule.id).where(sa.func.lower(ReminderRule.name) == node.rule.lower())
        )
        if rule_id is None:
            names = list(self.session.scalars(sa.select(ReminderRule.name)))
            raise SegmentError(
                node.position,
                "unknown-rule",
                node.rule,
                difflib.get_close_matches(node.rule, names, n=3, cutoff=0.4),
            )
        return Customer.id.in_(
            sa.select(Reminder.customer_id).where(
                Reminder.rule_id == rule_id, Reminder.done_at.is_(None)
            )
        )

    def _text_atom(self, node):
        return sa.or_(
            Customer.id.in_(search.customer_ids_matching(node.text, self.session)),
            Customer.id.in_(search.customers_with_notes_matching(node.text, self.session)),
        )


_Compiler.RULES = {
    And: _Compiler._and,
    Or: _Compiler._or,
    Not: _Compiler._not,
    TagAtom: _Compiler._tag_atom,
    LevelAtom: _Compiler._level_atom,
    BirthdayAtom: _Compiler._birthday_atom,
    DurationAtom: _Compiler._duration_atom,
    DateAtom: _Compiler._date_atom,
    HasAtom: _Compiler._has_atom,
    OptOutAtom: _Compiler._opt_out_atom,
    BoughtAtom: _Compiler._bought_atom,
    AmountAtom: _Compiler._amount_atom,
    AlertAtom: _Compiler._alert_atom,
    FieldAtom: _Compiler._field_atom,
    ReminderAtom: _Compiler._reminder_atom,
    TextAtom: _Compiler._text_atom,
}


# ---- running a segment --------------------------------------------------------------------


def customers_query(
    session: Session, text: str, context: Context, *, include_archived: bool = False
):
    """SELECT Customer for an expression; raises SegmentError for bad ones."""
    clause = compile_expression(session, parse(text), context)
    query = sa.select(Customer).where(clause)
    if not include_archived:
        query = query.where(Customer.archived_at.is_(None))
    return query


def count(session: Session, text: str, context: Context) -> int:
    query = customers_query(session, text, context)
    return session.scalar(query.with_only_columns(sa.func.count()).order_by(None))
