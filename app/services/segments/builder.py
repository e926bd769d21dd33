"""The point-and-click builder: a form's worth of conditions, to and from an expression."""

from dataclasses import dataclass, field

from app.services.segments.language import (
    BIRTHDAY_WHEN,
    AmountAtom,
    And,
    BirthdayAtom,
    BoughtAtom,
    DurationAtom,
    HasAtom,
    LevelAtom,
    Not,
    Or,
    SegmentError,
    TagAtom,
    TextAtom,
    parse,
    quote_value,
    to_text,
)

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
        parts = [*self._tag_parts(), *self._day_parts()]
        if self.has_email:
            parts.append("has:email")
        parts.extend(self._money_parts())
        if self.text.strip():
            parts.append(quote_value(" ".join(self.text.split())))
        return " and ".join(parts)

    def _tag_parts(self) -> list[str]:
        parts = []
        if len(self.include) == 1:
            parts.append(to_text(TagAtom(self.include[0])))
        elif self.include:
            parts.append("(" + " or ".join(to_text(TagAtom(name)) for name in self.include) + ")")
        parts.extend("not " + to_text(TagAtom(name)) for name in self.exclude)
        if self.levels:
            parts.append(to_text(LevelAtom(tuple(sorted(self.levels)))))
        return parts

    def _day_parts(self) -> list[str]:
        parts = [
            to_text(DurationAtom(field_name, op, getattr(self, attribute)))
            for (field_name, op), attribute in BUILDER_DURATIONS.items()
            if getattr(self, attribute)
        ]
        if self.birthday in BIRTHDAY_WHEN:
            parts.append(to_text(BirthdayAtom(self.birthday)))
        elif self.birthday == "within30":
            parts.append(to_text(BirthdayAtom("within", 30)))
        return parts

    def _money_parts(self) -> list[str]:
        parts = []
        if self.bought.strip():
            within = self.bought_within_days
            parts.append(to_text(BoughtAtom(" ".join(self.bought.split()), "<" if within else None,
                                            within or 0)))  # fmt: skip
        parts.extend(
            to_text(AmountAtom(field_name, op, getattr(self, attribute)))
            for (field_name, op), attribute in BUILDER_AMOUNTS.items()
            if getattr(self, attribute)
        )
        return parts


def _builder_field(name: str) -> str:
    return "visited" if name == "stayed" else name  # a homestay's word for the same


# The builder's money boxes: (field, comparison) → Builder attribute.
BUILDER_AMOUNTS = {("spend", ">="): "spend_at_least", ("stays", ">="): "stays_at_least"}


# ---- from an expression: each kind of condition fills its own box -------------------------
# A taker puts one condition into the builder and says whether it could (False: its box is
# taken already, or the builder has no box for that form of the condition).


def _take_tag(builder: Builder, item: TagAtom) -> bool:
    if builder.include:
        return False
    builder.include = [item.name]
    return True


def _take_any_of_tags(builder: Builder, item: Or) -> bool:
    if builder.include or not all(isinstance(i, TagAtom) for i in item.items):
        return False
    builder.include = [i.name for i in item.items]
    return True


def _take_not_tag(builder: Builder, item: Not) -> bool:
    if not isinstance(item.item, TagAtom):
        return False
    builder.exclude.append(item.item.name)
    return True


def _take_levels(builder: Builder, item: LevelAtom) -> bool:
    if builder.levels:
        return False
    builder.levels = list(item.levels)
    return True


def _take_duration(builder: Builder, item: DurationAtom) -> bool:
    attribute = BUILDER_DURATIONS.get((_builder_field(item.field), item.op))
    if attribute is None or getattr(builder, attribute):
        return False
    setattr(builder, attribute, item.days)
    return True


def _take_birthday(builder: Builder, item: BirthdayAtom) -> bool:
    if builder.birthday or (item.when == "within" and item.days != 30):
        return False
    builder.birthday = "within30" if item.when == "within" else item.when
    return True


def _take_has(builder: Builder, item: HasAtom) -> bool:
    if item.what != "email":
        return False
    builder.has_email = True
    return True


def _take_bought(builder: Builder, item: BoughtAtom) -> bool:
    if builder.bought or item.op not in (None, "<"):
        return False
    builder.bought = item.product
    builder.bought_within_days = item.days if item.op else None
    return True


def _take_amount(builder: Builder, item: AmountAtom) -> bool:
    attribute = BUILDER_AMOUNTS.get((item.field, item.op))
    if attribute is None or getattr(builder, attribute):
        return False
    setattr(builder, attribute, item.value)
    return True


def _take_text(builder: Builder, item: TextAtom) -> bool:
    if builder.text:
        return False
    builder.text = item.text
    return True


_TAKERS = {
    TagAtom: _take_tag,
    Or: _take_any_of_tags,
    Not: _take_not_tag,
    LevelAtom: _take_levels,
    DurationAtom: _take_duration,
    BirthdayAtom: _take_birthday,
    HasAtom: _take_has,
    BoughtAtom: _take_bought,
    AmountAtom: _take_amount,
    TextAtom: _take_text,
}


def builder_from_text(text: str) -> Builder:
    """What the builder shows for an expression (best effort; else `representable` False)."""
    builder = Builder()
    if not text or not text.strip():
        return builder
    try:
        node = parse(text)
    except SegmentError:
        return Builder(representable=False)
    for item in node.items if isinstance(node, And) else (node,):
        take = _TAKERS.get(type(item))
        if take is None or not take(builder, item):
            builder.representable = False
    return builder


# ---- from the builder's form ---------------------------------------------------------------

# The form's day-count boxes → Builder attributes.
_FORM_DAYS = {
    "nocontact": "no_contact_days",
    "novisit": "no_visit_days",
    "visitedwithin": "visited_within_days",
    "boughtwithin": "bought_within_days",
    "minstays": "stays_at_least",
}


def _whole_number(values, name: str, below: int) -> int | None:
    value = values.get(name, "").strip()
    return int(value) if value.isdecimal() and 0 < int(value) < below else None


def builder_from_form(values) -> Builder:
    """The builder's state from its form (a MultiDict: getlist for repeated boxes), with the
    add or remove button that was pressed applied."""
    birthday = values.get("birthday", "")
    builder = Builder(
        include=[name for name in values.getlist("inc") if name.strip()],
        exclude=[name for name in values.getlist("exc") if name.strip()],
        levels=[level for level in values.getlist("level") if level in ("A", "B", "C")],
        birthday=birthday if birthday in ("this_month", "next_month", "within30") else "",
        has_email=values.get("has_email") == "1",
        bought=" ".join(values.get("bought", "").split())[:120],
        text=values.get("text", ""),
        spend_at_least=_whole_number(values, "minspend", 10**9),
    )
    for name, attribute in _FORM_DAYS.items():
        setattr(builder, attribute, _whole_number(values, name, 100000))
    _press_buttons(builder, values)
    return builder


def _press_buttons(builder: Builder, values) -> None:
    """ "Add" puts the typed tag into the include or exclude list; "drop" takes one out."""
    for key, target in (("inc", builder.include), ("exc", builder.exclude)):
        new = " ".join(values.get(f"{key}_new", "").split())
        if new and values.get("add") == key and new not in target:
            target.append(new)
    key, _, name = values.get("drop", "").partition(":")
    target = {"inc": builder.include, "exc": builder.exclude}.get(key, [])
    if name in target:
        target.remove(name)


# ---- in words ------------------------------------------------------------------------------

# The builder's fields a description names, in the order a sentence reads.
_DESCRIBED = (
    "include", "exclude", "levels", "no_contact_days", "no_visit_days", "visited_within_days",
    "birthday", "has_email", "bought", "spend_at_least", "stays_at_least", "text",
)  # fmt: skip


def describe(text: str) -> list[tuple[str, object]] | None:
    """An expression as the builder's (field, value) pairs, for a page to say in words (the
    template's segment_words macro); None when the builder cannot show it."""
    builder = builder_from_text(text)
    if not builder.representable or not (text or "").strip():
        return None
    parts = []
    for name in _DESCRIBED:
        value = getattr(builder, name)
        if isinstance(value, str):
            value = value.strip()
        if value:
            parts.append((name, sorted(value) if name == "levels" else value))
    return parts
