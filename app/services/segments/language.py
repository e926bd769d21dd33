"""The segment language: tokens, the parser, and writing a tree back as text (the tree's
nodes are in segments.tree)."""

import re
from dataclasses import dataclass
from datetime import date

from app.services.segments.tree import (  # noqa: F401  (the language's nodes, named here too)
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
    TagAtom,
    TextAtom,
)

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
    """Tokens of an expression: each reader in turn tries the text at the current place."""
    tokens, i = [], 0
    while i < len(text):
        if text[i].isspace():
            i += 1
            continue
        for read in _READERS:
            found = read(text, i)
            if found is not None:
                token, i = found
                tokens.append(token)
                break
    tokens.append(Token("end", None, len(text)))
    return tokens


def _read_parenthesis(text: str, i: int):
    return (Token(text[i], text[i], i), i + 1) if text[i] in "()" else None


def _read_on_date(text: str, i: int):
    match = _ON_DATE.match(text, i)
    if not match:
        return None
    try:
        day = date.fromisoformat(match["day"])
    except ValueError:
        raise SegmentError(
            i + match.start("day") - match.start(), "bad-date", match["day"]
        ) from None
    return Token("atom", DateAtom(match["field"].lower(), match["op"], day), i), match.end()


def _read_duration(text: str, i: int):
    match = _DURATION.match(text, i)
    if not match:
        return None
    op = match["op"][0]  # >= behaves as >, <= as <: days are whole numbers
    atom = DurationAtom(match["field"].lower(), op, int(match["num"]))
    return Token("atom", atom, i), match.end()


def _read_amount(text: str, i: int):
    match = _AMOUNT.match(text, i)
    if not match:
        return None
    atom = AmountAtom(match["field"].lower(), match["op"], int(match["num"]))
    return Token("atom", atom, i), match.end()


def _refuse_bare_field(text: str, i: int):
    """`last_contact` or `spend` without a comparison: say what was expected."""
    word_match = re.match(r"[a-z_]+", text[i:], re.IGNORECASE)
    word = word_match.group(0).lower() if word_match else ""
    if text[i + len(word) : i + len(word) + 1] != ":":
        if word in DURATION_FIELDS:
            raise SegmentError(i, "expected-duration", word)
        if word in AMOUNT_FIELDS:
            raise SegmentError(i, "expected-amount", word)
    return None


def _read_within(text: str, i: int):
    match = _WITHIN.match(text, i)
    if not match:
        return None
    return Token("atom", BirthdayAtom("within", int(match["num"])), i), match.end()


def _read_field(text: str, i: int, start: int):
    """field:NAME=VALUE, where VALUE may be "quoted with spaces"."""
    equals = text.find("=", start)
    name = text[start:equals] if equals >= 0 else ""
    if equals < 0 or not name.strip() or any(c.isspace() or c in "()" for c in name):
        raise SegmentError(start, "bad-field", text[start:].split(" ")[0])
    field_value, end = _read_value(text, equals + 1)
    return Token("atom", FieldAtom(name.strip(), field_value.strip(), i), i), end


def _read_bought(text: str, i: int, start: int):
    value, end = _read_value(text, start)
    product = " ".join(value.split())
    if not product:
        raise SegmentError(start, "expected-value", "bought")
    after = _AFTER_BOUGHT.match(text, end)
    op, days = (after["op"][0], int(after["num"])) if after else (None, 0)
    return Token("atom", BoughtAtom(product, op, days), i), after.end() if after else end


def _read_keyed(text: str, i: int):
    match = _KEYED.match(text, i)
    if not match:
        return None
    key = match["key"].lower()
    if key == "field":
        return _read_field(text, i, match.end())
    if key == "bought":
        return _read_bought(text, i, match.end())
    value, end = _read_value(text, match.end())
    return Token("atom", _keyed_atom(key, value, i, match.end()), i), end


def _read_quoted(text: str, i: int):
    if text[i] != '"':
        return None
    value, end = _read_value(text, i)
    if not value.strip():
        raise SegmentError(i, "empty-text")
    return Token("atom", TextAtom(value.strip()), i), end


def _read_word(text: str, i: int):
    value, end = _read_value(text, i)
    if value.lower() in KEYWORDS:
        return Token("op", value.lower(), i), end
    return Token("atom", TextAtom(value), i), end


_READERS = (
    _read_parenthesis, _read_on_date, _read_duration, _read_amount, _refuse_bare_field,
    _read_within, _read_keyed, _read_quoted, _read_word,
)  # fmt: skip


def _keyed_atom(key: str, value: str, position: int, value_position: int):
    """tag:, level:, birthday:, has:, optout:, alert:, reminder: with their value checked."""
    make = _KEYED_ATOMS.get(key)
    if make is None:
        raise SegmentError(position, "unknown-atom", key)
    atom = make(value, position)
    if atom is None:
        raise SegmentError(value_position, *_KEYED_PROBLEMS[key](value))
    return atom


def _level(value: str, _position: int):
    levels = tuple(sorted({part.strip().upper() for part in value.split(",") if part.strip()}))
    if not levels or any(level not in ("A", "B", "C") for level in levels):
        return None
    return LevelAtom(levels)


def _named(value: str) -> str:
    return " ".join(value.split())


# key -> (value, position) -> atom, or None when the value is not acceptable
_KEYED_ATOMS = {
    "tag": lambda value, position: TagAtom(_named(value), position) if value.strip() else None,
    "level": _level,
    "birthday": lambda value, _p: (
        BirthdayAtom(value.lower()) if value.lower() in BIRTHDAY_WHEN else None
    ),
    "has": lambda value, _p: HasAtom(value.lower()) if value.lower() in HAS_WHAT else None,
    "optout": lambda value, _p: OptOutAtom("email") if value.lower() == "email" else None,
    "alert": lambda value, _p: AlertAtom(value.strip().lower()) if value.strip() else None,
    "reminder": lambda value, position: (
        ReminderAtom(_named(value), position) if value.strip() else None
    ),
}
# key -> value -> (problem code, detail) for a value that is not acceptable
_KEYED_PROBLEMS = {
    "tag": lambda _v: ("expected-value", "tag"),
    "level": lambda value: ("bad-level", value),
    "birthday": lambda value: ("bad-birthday", value),
    "has": lambda value: ("bad-has", value),
    "optout": lambda value: ("bad-optout", value),
    "alert": lambda _v: ("expected-value", "alert"),
    "reminder": lambda _v: ("expected-value", "reminder"),
}


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


def quote_value(value: str) -> str:
    if (
        value
        and not any(ch.isspace() or ch in '()"' for ch in value)
        and value.lower() not in KEYWORDS
    ):
        return value
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_text(node) -> str:
    """The canonical text of a tree (what the builder writes into the expression box)."""
    try:
        write = _WRITERS[type(node)]
    except KeyError:
        raise TypeError(node) from None
    return write(node)


def _not_text(node) -> str:
    inner = node.item
    return "not " + (f"({to_text(inner)})" if isinstance(inner, And | Or) else to_text(inner))


def _bought_text(node) -> str:
    when = f" {node.op} {node.days}d" if node.op else ""
    return f"bought:{quote_value(node.product)}{when}"


_WRITERS = {
    And: lambda node: " and ".join(_wrap(item, Or) for item in node.items),
    Or: lambda node: " or ".join(_wrap(item, And) for item in node.items),
    Not: _not_text,
    TagAtom: lambda node: f"tag:{quote_value(node.name)}",
    LevelAtom: lambda node: f"level:{','.join(node.levels)}",
    BirthdayAtom: lambda node: (
        f"birthday:within {node.days}d" if node.when == "within" else f"birthday:{node.when}"
    ),
    DurationAtom: lambda node: f"{node.field} {node.op} {node.days}d",
    DateAtom: lambda node: f"{node.field} {node.op} {node.day.isoformat()}",
    HasAtom: lambda node: f"has:{node.what}",
    OptOutAtom: lambda node: f"optout:{node.channel}",
    AlertAtom: lambda node: f"alert:{quote_value(node.keyword)}",
    FieldAtom: lambda node: f"field:{node.name}={quote_value(node.value)}",
    ReminderAtom: lambda node: f"reminder:{quote_value(node.rule)}",
    BoughtAtom: _bought_text,
    AmountAtom: lambda node: f"{node.field} {node.op} {node.value}",
    TextAtom: lambda node: quote_value(node.text),
}


def _wrap(node, needs_parentheses) -> str:
    text = to_text(node)
    return f"({text})" if isinstance(node, needs_parentheses) else text
