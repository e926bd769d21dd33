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

from app.services.segments.builder import (
    BUILDER_DURATIONS,
    Builder,
    builder_from_form,
    builder_from_text,
    describe,
)
from app.services.segments.compiler import (
    Context,
    birthday_month_days,
    compile_expression,
    count,
    customers_query,
)
from app.services.segments.language import (
    AMOUNT_FIELDS,
    BIRTHDAY_WHEN,
    DURATION_FIELDS,
    HAS_WHAT,
    KEYWORDS,
    MAX_DEPTH,
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
    Token,
    parse,
    quote_value,
    to_text,
    tokenize,
)
from app.services.segments.saved import (
    customers_for_labels,
    name_taken,
    saved_segments,
    segment_by_id,
)

__all__ = [
    "customers_for_labels",
    "name_taken",
    "saved_segments",
    "segment_by_id",
    "quote_value",
    "BUILDER_DURATIONS",
    "Builder",
    "builder_from_form",
    "builder_from_text",
    "describe",
    "Context",
    "birthday_month_days",
    "compile_expression",
    "customers_query",
    "count",
    "KEYWORDS",
    "DURATION_FIELDS",
    "HAS_WHAT",
    "AMOUNT_FIELDS",
    "BIRTHDAY_WHEN",
    "MAX_DEPTH",
    "SegmentError",
    "And",
    "Or",
    "Not",
    "TagAtom",
    "LevelAtom",
    "BirthdayAtom",
    "DurationAtom",
    "HasAtom",
    "OptOutAtom",
    "AlertAtom",
    "FieldAtom",
    "DateAtom",
    "ReminderAtom",
    "BoughtAtom",
    "AmountAtom",
    "TextAtom",
    "Token",
    "tokenize",
    "parse",
    "to_text",
]
