"""Segments: a small, safe filter language (tag algebra with conditions) compiled to SQLAlchemy.

    tag:VIP and not tag:競爭對手
    (tag:"wine club" or tag:VIP) and last_contact > 15d
    birthday:next_month and tag:VIP
    level:A and not visited < 365d

Operators: and, or, not, minus (a minus b = a and not b), parentheses; neighbouring terms
are joined with "and". Atoms: tag:NAME, level:A (or level:A,B), birthday:this_month |
next_month | within Nd, last_contact > Nd / < Nd, visited > Nd / < Nd (visited > Nd: came,
but not for N days), created > Nd / < Nd, has:email | phone | address | birthday | purchase |
visit | stay, optout:email, alert:KEYWORD, field:NAME=VALUE, reminder:RULE, bought:PRODUCT
(* wildcards; optionally < Nd / > Nd), spend / purchases / stays compared with a number, and
bare words or "quoted phrases" as free-text search. Never builds SQL from strings.
"""

import difflib
import re
from dataclasses import dataclass, field
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
    customer_tag,
)
from app.services import search

KEYWORDS = {"and", "or", "not", "minus"}
DURATION_FIELDS = {"last_contact", "visited", "stayed", "created"}
HAS_WHAT = {"email", "phone", "address", "birthday", "purchase", "visit", "stay"}
AMOUNT_FIELDS = {"spend", "purchases", "stays"}
BIRTHDAY_WHEN = {"this_month", "next_month"}


MAX_DEPTH = 30  # nested parentheses / "not"s: far beyond what anyone writes, far below recursion


class SegmentError(ValueError):
    """A bad expression: where (0-based character position), what went wrong, and hints."""

    def __init__(
        self, position: int, code: str, detail: str = "", suggestions: list[str] | None = None
    ):
        super().__init__(f"{code} at {position}: {detail}")
        self.position = position
        self.code = code
        self.detail = detail
        self.suggestions = suggestions or []


# ---- syntax tree ------------------------------------------------------------------------


@dataclass(frozen=True)
class And:
    items: tuple


@dataclass(frozen=True)
class Or:
    items: tuple


@dataclass(frozen=True)
class Not:
    item: object


@dataclass(frozen=True)
class TagAtom:
    name: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class LevelAtom:
    levels: tuple


@dataclass(frozen=True)
class BirthdayAtom:
    when: str  # this_month | next_month | within
    days: int = 0


@dataclass(frozen=True)
class DurationAtom:
    field: str  # last_contact | visited | created
    op: str  # > or <
    days: int


@dataclass(frozen=True)
class HasAtom:
    what: str


@dataclass(frozen=True)
class OptOutAtom:
    channel: str


@dataclass(frozen=True)
class AlertAtom:
    keyword: str


@dataclass(frozen=True)
class FieldAtom:
    name: str
    value: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class DateAtom:
    """`created >= 2026-11-01`: a moment compared with a day in the shop's time zone."""

    field: str  # last_contact, visited, created
    op: str  # >=, >, <, <=
    day: date


@dataclass(frozen=True)
class ReminderAtom:
    """Customers with an open reminder from the rule of that name (a rule's due list)."""

    rule: str
    position: int = field(default=0, compare=False)


@dataclass(frozen=True)
class BoughtAtom:
    """`bought:普洱茶` (ever), `bought:"普洱*" < 90d` (within 90 days), `> 90d` (bought it,
    but not for 90 days). `*` in the name stands for anything."""

    product: str
    op: str | None = None
    days: int = 0


@dataclass(frozen=True)
class AmountAtom:
    """`spend >= 10000` (NT$ of all purchases), `purchases > 3`, `stays >= 3` (stayed)."""

    field: str
    op: str
    value: int


@dataclass(frozen=True)
class TextAtom:
    text: str


# ---- tokens -----------------------------------------------------------------------------

_DURATION = re.compile(
    r"(?P<field>last_contact|visited|stayed|created)\s*(?P<op>>=|<=|>|<)\s*(?P<num>\d{1,5})\s*(?:d|days?|天)?(?=$|[\s()])",
    re.IGNORECASE,
)
_ON_DATE = re.compile(
    r"(?P<field>last_contact|visited|stayed|created)\s*(?P<op>>=|<=|>|<)\s*(?P<day>\d{4}-\d{2}-\d{2})(?=$|[\s()])",
    re.IGNORECASE,
)
_AMOUNT = re.compile(
    r"(?P<field>spend|purchases|stays)\s*(?P<op>>=|<=|>|<|=)\s*(?P<num>\d{1,12})(?=$|[\s()])",
    re.IGNORECASE,
)
_AFTER_BOUGHT = re.compile(
    r"\s*(?P<op>>=|<=|>|<)\s*(?P<num>\d{1,5})\s*(?:d|days?|天)?(?=$|[\s()])", re.IGNORECASE
)
_WITHIN = re.compile(
    r"birthday:within\s*(?P<num>\d{1,3})\s*(?:d|days?|天)?(?=$|[\s()])", re.IGNORECASE
)
_KEYED = re.compile(r"(?P<key>[a-z_]+):", re.IGNORECASE)


@dataclass
class Token:
    kind: str  # ( ) op atom end
    value: object
    position: int


def _read_value(text: str, start: int) -> tuple[str, int]:
    """A quoted "value with spaces" (\\" for a quotation mark inside, \\\\ for a backslash)
    or a run of characters up to a space or parenthesis."""
    if start < len(text) and text[start] == '"':
        value, i = [], start + 1
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text) and text[i + 1] in '"\\':
                value.append(text[i + 1])
                i += 2
                continue
            if char == '"':
                return "".join(value), i + 1
            value.append(char)
            i += 1
        raise SegmentError(start, "unclosed-quote")
    end = start
    while end < len(text) and not text[end].isspace() and text[end] not in "()":
        end += 1
    return text[start:end], end


def tokenize(text: str) -> list[Token]:
    tokens, i = [], 0
    while i < len(text):
        char = text[i]
        if char.isspace():
            i += 1
            continue
        if char in "()":
            tokens.append(Token(char, char, i))
            i += 1
            continue
        match = _ON_DATE.match(text, i)
        if match:
            try:
                day = date.fromisoformat(match["day"])
            except ValueError:
                raise SegmentError(
                    i + match.start("day") - match.start(), "bad-date", match["day"]
                ) from None
            tokens.append(Token("atom", DateAtom(match["field"].lower(), match["op"], day), i))
            i = match.end()
            continue
        match = _DURATION.match(text, i)
        if match:
            op = match["op"][0]  # >= behaves as >, <= as <: days are whole numbers
            tokens.append(
                Token("atom", DurationAtom(match["field"].lower(), op, int(match["num"])), i)
            )
            i = match.end()
            continue
        match = _AMOUNT.match(text, i)
        if match:
            atom = AmountAtom(match["field"].lower(), match["op"], int(match["num"]))
            tokens.append(Token("atom", atom, i))
            i = match.end()
            continue
        word_match = re.match(r"[a-z_]+", text[i:], re.IGNORECASE)
        word = word_match.group(0).lower() if word_match else ""
        if word in DURATION_FIELDS and not text[i + len(word) : i + len(word) + 1] == ":":
            raise SegmentError(i, "expected-duration", word)
        if word in AMOUNT_FIELDS and not text[i + len(word) : i + len(word) + 1] == ":":
            raise SegmentError(i, "expected-amount", word)
        match = _WITHIN.match(text, i)
        if match:
            tokens.append(Token("atom", BirthdayAtom("within", int(match["num"])), i))
            i = match.end()
            continue
        match = _KEYED.match(text, i)
        if match:
            key = match["key"].lower()
            if key == "field":
                # field:NAME=VALUE, where VALUE may be "quoted with spaces".
                equals = text.find("=", match.end())
                name = text[match.end() : equals] if equals >= 0 else ""
                if equals < 0 or not name.strip() or any(c.isspace() or c in "()" for c in name):
                    raise SegmentError(match.end(), "bad-field", text[match.end() :].split(" ")[0])
                field_value, end = _read_value(text, equals + 1)
                tokens.append(Token("atom", FieldAtom(name.strip(), field_value.strip(), i), i))
                i = end
                continue
            value, end = _read_value(text, match.end())
            if key == "bought":
                product = " ".join(value.split())
                if not product:
                    raise SegmentError(match.end(), "expected-value", "bought")
                after = _AFTER_BOUGHT.match(text, end)
                op, days = (after["op"][0], int(after["num"])) if after else (None, 0)
                tokens.append(Token("atom", BoughtAtom(product, op, days), i))
                i = after.end() if after else end
                continue
            tokens.append(Token("atom", _keyed_atom(key, value, i, match.end()), i))
            i = end
            continue
        if char == '"':
            value, end = _read_value(text, i)
            if not value.strip():
                raise SegmentError(i, "empty-text")
            tokens.append(Token("atom", TextAtom(value.strip()), i))
            i = end
            continue
        value, end = _read_value(text, i)
        if value.lower() in KEYWORDS:
            tokens.append(Token("op", value.lower(), i))
        else:
            tokens.append(Token("atom", TextAtom(value), i))
        i = end
    tokens.append(Token("end", None, len(text)))
    return tokens


def _keyed_atom(key: str, value: str, position: int, value_position: int):
    if key == "tag":
        if not value.strip():
            raise SegmentError(value_position, "expected-value", "tag")
        return TagAtom(" ".join(value.split()), position)
    if key == "level":
        levels = tuple(sorted({part.strip().upper() for part in value.split(",") if part.strip()}))
        if not levels or any(level not in ("A", "B", "C") for level in levels):
            raise SegmentError(value_position, "bad-level", value)
        return LevelAtom(levels)
    if key == "birthday":
        if value.lower() in BIRTHDAY_WHEN:
            return BirthdayAtom(value.lower())
        raise SegmentError(value_position, "bad-birthday", value)
    if key == "has":
        if value.lower() in HAS_WHAT:
            return HasAtom(value.lower())
        raise SegmentError(value_position, "bad-has", value)
    if key == "optout":
        if value.lower() == "email":
            return OptOutAtom("email")
        raise SegmentError(value_position, "bad-optout", value)
    if key == "alert":
        if not value.strip():
            raise SegmentError(value_position, "expected-value", "alert")
        return AlertAtom(value.strip().lower())
    if key == "reminder":
        if not value.strip():
            raise SegmentError(value_position, "expected-value", "reminder")
        return ReminderAtom(" ".join(value.split()), position)
    raise SegmentError(position, "unknown-atom", key)


# ---- parser (recursive descent) ---------------------------------------------------------


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def parse(self):
        if self.current.kind == "end":
            raise SegmentError(0, "empty")
        node = self.parse_or()
        if self.current.kind != "end":
            token = self.current
            if token.kind == ")":
                raise SegmentError(token.position, "unbalanced-close")
            raise SegmentError(token.position, "expected-operator", str(token.value))
        return node

    def parse_or(self):
        items = [self.parse_and()]
        while self.current.kind == "op" and self.current.value == "or":
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items))

    def parse_and(self):
        items = [self.parse_not()]
        while True:
            token = self.current
            if token.kind == "op" and token.value == "and":
                self.advance()
                items.append(self.parse_not())
            elif token.kind == "op" and token.value == "minus":
                self.advance()
                items.append(Not(self.parse_not()))
            elif token.kind in ("atom", "(") or (token.kind == "op" and token.value == "not"):
                items.append(self.parse_not())  # neighbouring terms: and
            else:
                break
        return items[0] if len(items) == 1 else And(tuple(items))

    def parse_not(self):
        if self.current.kind == "op" and self.current.value == "not":
            token = self.advance()
            self._deeper(token)
            node = Not(self.parse_not())
            self.depth -= 1
            return node
        return self.parse_primary()

    def _deeper(self, token: Token) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise SegmentError(token.position, "too-deep", str(MAX_DEPTH))

    def parse_primary(self):
        token = self.current
        if token.kind == "(":
            self._deeper(token)
            self.advance()
            if self.current.kind == ")":
                raise SegmentError(self.current.position, "empty-parentheses")
            node = self.parse_or()
            if self.current.kind != ")":
                raise SegmentError(token.position, "unbalanced-open")
            self.advance()
            self.depth -= 1
            return node
        if token.kind == "atom":
            self.advance()
            return token.value
        if token.kind == "end":
            raise SegmentError(token.position, "unexpected-end")
        if token.kind == ")":
            raise SegmentError(token.position, "unbalanced-close")
        raise SegmentError(token.position, "expected-term", str(token.value))


def parse(text: str):
    """The syntax tree of an expression, or SegmentError saying where and what went wrong."""
    if not text or not text.strip():
        raise SegmentError(0, "empty")
    if len(text) > 2000:
        raise SegmentError(2000, "too-long")
    text = "".join(" " if ord(char) < 32 else char for char in text)
    return _Parser(tokenize(text)).parse()


# ---- writing an expression back -----------------------------------------------------------


def _quote(value: str) -> str:
    if (
        value
        and not any(ch.isspace() or ch in '()"' for ch in value)
        and value.lower() not in KEYWORDS
    ):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_text(node) -> str:
    """The canonical text of a tree (what the builder writes into the expression box)."""
    if isinstance(node, And):
        return " and ".join(_wrap(item, Or) for item in node.items)
    if isinstance(node, Or):
        return " or ".join(_wrap(item, And) for item in node.items)
    if isinstance(node, Not):
        inner = node.item
        return "not " + (f"({to_text(inner)})" if isinstance(inner, And | Or) else to_text(inner))
    if isinstance(node, TagAtom):
        return f"tag:{_quote(node.name)}"
    if isinstance(node, LevelAtom):
        return f"level:{','.join(node.levels)}"
    if isinstance(node, BirthdayAtom):
        return f"birthday:within {node.days}d" if node.when == "within" else f"birthday:{node.when}"
    if isinstance(node, DurationAtom):
        return f"{node.field} {node.op} {node.days}d"
    if isinstance(node, DateAtom):
        return f"{node.field} {node.op} {node.day.isoformat()}"
    if isinstance(node, HasAtom):
        return f"has:{node.what}"
    if isinstance(node, OptOutAtom):
        return f"optout:{node.channel}"
    if isinstance(node, AlertAtom):
        return f"alert:{_quote(node.keyword)}"
    if isinstance(node, FieldAtom):
        return f"field:{node.name}={_quote(node.value)}"
    if isinstance(node, ReminderAtom):
        return f"reminder:{_quote(node.rule)}"
    if isinstance(node, BoughtAtom):
        when = f" {node.op} {node.days}d" if node.op else ""
        return f"bought:{_quote(node.product)}{when}"
    if isinstance(node, AmountAtom):
        return f"{node.field} {node.op} {node.value}"
    if isinstance(node, TextAtom):
        return _quote(node.text)
    raise TypeError(node)


def _wrap(node, needs_parentheses) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, needs_parentheses) else text


# ---- compiling to SQLAlchemy --------------------------------------------------------------


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
        if isinstance(node, And):
            return sa.and_(*(self.compile(item) for item in node.items))
        if isinstance(node, Or):
            return sa.or_(*(self.compile(item) for item in node.items))
        if isinstance(node, Not):
            return sa.not_(self.compile(node.item))
        if isinstance(node, TagAtom):
            tag_id = self.tag_ids().get(node.name.lower())
            if tag_id is None:
                names = [name for name in self.session.scalars(sa.select(Tag.name))]
                close = difflib.get_close_matches(node.name, names, n=3, cutoff=0.4)
                close += [n for n in names if node.name.lower() in n.lower() and n not in close][:3]
                raise SegmentError(node.position, "unknown-tag", node.name, close[:5])
            return Customer.id.in_(
                sa.select(customer_tag.c.customer_id).where(customer_tag.c.tag_id == tag_id)
            )
        if isinstance(node, LevelAtom):
            return Customer.level.in_(node.levels)
        if isinstance(node, BirthdayAtom):
            days = sorted(birthday_month_days(node, self.context.today))
            return sa.and_(
                Customer.birthday.is_not(None),
                month_day(Customer.birthday).in_(days),
            )
        if isinstance(node, DurationAtom):
            cutoff = self.context.now - timedelta(days=node.days)
            column = {
                "last_contact": Customer.last_contact_at,
                "visited": Customer.last_visit_at,
                "stayed": Customer.last_visit_at,  # a homestay's word for the same
                "created": Customer.created_at,
            }[node.field]
            if node.op == "<":  # within the last N days
                return sa.and_(column.is_not(None), column >= cutoff)
            if node.field == "last_contact":
                # Never contacted counts from when they joined, as the no-contact reminder
                # rule does: someone added yesterday was not "left alone for 15 days".
                return sa.func.coalesce(column, Customer.created_at) < cutoff
            # "visited > 730d": came, but not for two years. Someone who never came is not
            # a lapsed guest (write "not has:visit" for them).
            return sa.and_(column.is_not(None), column < cutoff)
        if isinstance(node, DateAtom):
            column = {
                "last_contact": Customer.last_contact_at,
                "visited": Customer.last_visit_at,
                "stayed": Customer.last_visit_at,  # a homestay's word for the same
                "created": Customer.created_at,
            }[node.field]
            day = node.day + timedelta(days=1) if node.op in (">", "<=") else node.day
            moment = self.context.start_of(day)
            return column >= moment if node.op in (">", ">=") else column < moment
        if isinstance(node, HasAtom):
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
        if isinstance(node, OptOutAtom):
            return Customer.email_opt_out.is_(True)
        if isinstance(node, BoughtAtom):
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
        if isinstance(node, AmountAtom):
            if node.field == "stays":
                figure = sa.func.count(Stay.id)
                grouped = sa.select(Stay.customer_id).where(Stay.status == "stayed")
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
        if isinstance(node, AlertAtom):
            escaped = node.keyword.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            alerts = sa.select(TimelineEntry.customer_id).where(
                TimelineEntry.kind == "alert",
                TimelineEntry.alert_resolved_at.is_(None),
                sa.or_(
                    TimelineEntry.alert_keywords.like(f"%{escaped}%", escape="\\"),
                    TimelineEntry.alert_category == node.keyword,
                ),
            )
            return Customer.id.in_(alerts)
        if isinstance(node, FieldAtom):
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
                    sa.select(CustomFieldValue.customer_id).where(
                        CustomFieldValue.field_id == field_id
                    )
                )
            return Customer.id.in_(values)
        if isinstance(node, ReminderAtom):
            from app.models import Reminder, ReminderRule

            rule_id = self.session.scalar(
                sa.select(ReminderRule.id).where(
                    sa.func.lower(ReminderRule.name) == node.rule.lower()
                )
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
        if isinstance(node, TextAtom):
            return sa.or_(
                Customer.id.in_(search.customer_ids_matching(node.text, self.session)),
                Customer.id.in_(search.customers_with_notes_matching(node.text, self.session)),
            )
        raise TypeError(node)


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


# ---- the point-and-click builder ----------------------------------------------------------


# The builder's day-count boxes: (field, comparison) → Builder attribute.
BUILDER_DURATIONS = {
    ("last_contact", ">"): "no_contact_days",
    ("visited", ">"): "no_visit_days",
    ("visited", "<"): "visited_within_days",
}


@dataclass
class Builder:
    """The builder's state; `representable` is False for expressions it cannot show."""

    include: list[str] = field(default_factory=list)
    exclude: list[str] = field(default_factory=list)
    levels: list[str] = field(default_factory=list)
    no_contact_days: int | None = None
    no_visit_days: int | None = None  # came (stayed), but not for N days
    visited_within_days: int | None = None  # visited in the last N days
    birthday: str = ""  # "", this_month, next_month, within30
    has_email: bool = False
    bought: str = ""  # a product name (* wildcards)
    bought_within_days: int | None = None  # bought it in the last N days (None: ever)
    spend_at_least: int | None = None  # NT$ of all purchases
    stays_at_least: int | None = None  # stayed this many times (homestay)
    text: str = ""
    representable: bool = True

    def to_text(self) -> str:
        parts = []
        if len(self.include) == 1:
            parts.append(to_text(TagAtom(self.include[0])))
        elif self.include:
            parts.append("(" + " or ".join(to_text(TagAtom(name)) for name in self.include) + ")")
        parts.extend("not " + to_text(TagAtom(name)) for name in self.exclude)
        if self.levels:
            parts.append(to_text(LevelAtom(tuple(sorted(self.levels)))))
        for (field_name, op), attribute in BUILDER_DURATIONS.items():
            if getattr(self, attribute):
                parts.append(to_text(DurationAtom(field_name, op, getattr(self, attribute))))
        if self.birthday in BIRTHDAY_WHEN:
            parts.append(to_text(BirthdayAtom(self.birthday)))
        elif self.birthday == "within30":
            parts.append(to_text(BirthdayAtom("within", 30)))
        if self.has_email:
            parts.append("has:email")
        if self.bought.strip():
            within = self.bought_within_days
            parts.append(to_text(BoughtAtom(" ".join(self.bought.split()), "<" if within else None,
                                            within or 0)))  # fmt: skip
        if self.spend_at_least:
            parts.append(to_text(AmountAtom("spend", ">=", self.spend_at_least)))
        if self.stays_at_least:
            parts.append(to_text(AmountAtom("stays", ">=", self.stays_at_least)))
        if self.text.strip():
            parts.append(_quote(" ".join(self.text.split())))
        return " and ".join(parts)


def _builder_field(name: str) -> str:
    return "visited" if name == "stayed" else name  # a homestay's word for the same


def builder_from_text(text: str) -> Builder:
    """What the builder shows for an expression (best effort; else `representable` False)."""
    builder = Builder()
    if not text or not text.strip():
        return builder
    try:
        node = parse(text)
    except SegmentError:
        return Builder(representable=False)
    items = node.items if isinstance(node, And) else (node,)
    for item in items:
        if isinstance(item, TagAtom) and not builder.include:
            builder.include = [item.name]
        elif (
            isinstance(item, Or)
            and not builder.include
            and all(isinstance(i, TagAtom) for i in item.items)
        ):
            builder.include = [i.name for i in item.items]
        elif isinstance(item, Not) and isinstance(item.item, TagAtom):
            builder.exclude.append(item.item.name)
        elif isinstance(item, LevelAtom) and not builder.levels:
            builder.levels = list(item.levels)
        elif (
            isinstance(item, DurationAtom)
            and (_builder_field(item.field), item.op) in BUILDER_DURATIONS
            and not getattr(builder, BUILDER_DURATIONS[_builder_field(item.field), item.op])
        ):
            setattr(builder, BUILDER_DURATIONS[_builder_field(item.field), item.op], item.days)
        elif (
            isinstance(item, BirthdayAtom)
            and not builder.birthday
            and (item.when != "within" or item.days == 30)
        ):
            builder.birthday = "within30" if item.when == "within" else item.when
        elif isinstance(item, HasAtom) and item.what == "email":
            builder.has_email = True
        elif isinstance(item, BoughtAtom) and not builder.bought and item.op in (None, "<"):
            builder.bought = item.product
            builder.bought_within_days = item.days if item.op else None
        elif (
            isinstance(item, AmountAtom)
            and (item.field, item.op) == ("spend", ">=")
            and not builder.spend_at_least
        ):
            builder.spend_at_least = item.value
        elif (
            isinstance(item, AmountAtom)
            and (item.field, item.op) == ("stays", ">=")
            and not builder.stays_at_least
        ):
            builder.stays_at_least = item.value
        elif isinstance(item, TextAtom) and not builder.text:
            builder.text = item.text
        else:
            builder.representable = False
    return builder
