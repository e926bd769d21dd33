"""The owner's list of alert keywords that mean the same thing ("花生 = peanut = 土豆"): kept
as one line per group on the shop, and used to count such keywords as one."""

import re

from sqlalchemy.orm import Session

from app.models import Shop

SEPARATOR = re.compile(r"\s*[=＝]\s*")
MAX_LINES = 100


class SynonymError(ValueError):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code, self.detail = code, detail


def parse(text: str) -> list[list[str]]:
    """Lines of "a = b = c" as groups of keywords (lower-cased, as alerts store them); a line
    with one word, or words already in another line, is refused with the line."""
    groups: list[list[str]] = []
    seen: set[str] = set()
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        words = [" ".join(word.split()).lower() for word in SEPARATOR.split(line.strip())]
        words = list(dict.fromkeys(word for word in words if word))
        if len(words) < 2:
            raise SynonymError("one-word", line.strip())
        if any(len(word) > 40 for word in words):
            raise SynonymError("too-long", line.strip())
        repeated = [word for word in words if word in seen]
        if repeated:
            raise SynonymError("repeated", repeated[0])
        seen.update(words)
        groups.append(words)
    if len(groups) > MAX_LINES:
        raise SynonymError("too-many", str(MAX_LINES))
    return groups


def as_text(shop: Shop) -> str:
    return "\n".join(shop.alert_synonyms or [])


def save(session: Session, shop: Shop, text: str) -> list[list[str]]:
    groups = parse(text)
    shop.alert_synonyms = [" = ".join(words) for words in groups]
    session.flush()
    return groups


def canonical_names(shop: Shop) -> dict[str, list[str]]:
    """Each keyword of the owner's lines → its whole line (the first word names it)."""
    names: dict[str, list[str]] = {}
    for line in shop.alert_synonyms or []:
        words = [word for word in SEPARATOR.split(line.strip()) if word]
        for word in words:
            names.setdefault(word.lower(), words)
    return names
