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
            parts.append(quote_value(" ".join(self.text.split())))
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
