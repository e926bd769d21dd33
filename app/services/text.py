"""Text as people see it: names on one line, with invisible characters (zero-width spaces,
byte-order marks, direction marks, blank fillers) trimmed from the ends, so a name typed or
pasted as only such characters counts as empty and "VIP\u200b" is the same tag as "VIP"."""

import unicodedata

# Letters that draw nothing although Unicode calls them letters or symbols.
_BLANK_LETTERS = {"\u115f", "\u1160", "\u3164", "\uffa0", "\u2800"}


def _invisible(character: str) -> bool:
    return (
        character.isspace()
        or character in _BLANK_LETTERS
        or unicodedata.category(character) in ("Cf", "Cc", "Zs", "Zl", "Zp")
    )


def trim(text: str | None) -> str:
    """The text without whitespace or invisible characters at either end."""
    text = text or ""
    start, end = 0, len(text)
    while start < end and _invisible(text[start]):
        start += 1
    while end > start and _invisible(text[end - 1]):
        end -= 1
    return text[start:end]


def one_line(text: str | None) -> str:
    """A name on one line: runs of whitespace become one space, invisible ends are trimmed."""
    return trim(" ".join((text or "").split()))
