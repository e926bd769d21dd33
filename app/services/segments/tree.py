"""The segment language's syntax tree: and/or/not and one node per kind of condition."""

from dataclasses import dataclass, field
from datetime import date


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
