"""The duplicate finder: customers who share a phone (after normalising), an email, a name
(written full- or half-width, with spaces, in Traditional or Simplified characters) or a
birthday and a similar name. One query reads (id, name, phone, email, birthday) of everyone;
one pass groups them by each key, so 50,000 customers take a moment, not N² comparisons."""

import functools
import itertools
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date

import opencc
import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import Customer, NotDuplicate
from app.services.customers import normal_phone
from app.services.merging.errors import MergeError

# A key shared by more people than this (a shop's own number typed for everyone, a very
# common name) says nothing about any two of them: such groups are left out.
LARGEST_GROUP = 12
SHORTEST_PHONE = 8  # fewer digits: an extension or a typo, not a phone
# How much each shared thing says: a phone or an email is nearly proof, a name is a hint.
WEIGHTS = {"phone": 3, "email": 3, "birthday": 2, "name": 1}


@functools.cache
def _simplified() -> opencc.OpenCC:
    # OpenCC's Traditional → Simplified table: 陳怡君 and 陈怡君 give the same key.
    return opencc.OpenCC("t2s.json")


_NOT_LETTERS = re.compile(r"[\W_]+")


def _width_and_spaces(name: str | None) -> str:
    """Full-width letters as half-width (NFKC), no spaces or punctuation, case folded."""
    return _NOT_LETTERS.sub("", unicodedata.normalize("NFKC", name or "")).casefold()


def name_key(name: str | None) -> str:
    """A name as the finder compares it: full-width letters as half-width (NFKC), without
    spaces or punctuation, in Simplified characters, case folded."""
    return _simplified().convert(_width_and_spaces(name))


def name_keys(names: list[str]) -> list[str]:
    """name_key of many names with one call into OpenCC (one per name costs 20× more)."""
    plain = [_width_and_spaces(name) for name in names]
    converted = _simplified().convert("\n".join(plain)).split("\n")
    # OpenCC never joins or splits lines; should it ever, convert each on its own.
    return converted if len(converted) == len(plain) else [name_key(n) for n in names]


def _similar(first: str, second: str) -> bool:
    """Names one slip apart: the same, one character different, or one inside the other."""
    if not first or not second:
        return False
    if first == second:
        return True
    if len(first) == len(second) >= 2:
        return sum(a != b for a, b in zip(first, second, strict=True)) == 1
    shorter, longer = sorted((first, second), key=len)
    return len(shorter) >= 2 and shorter in longer


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    member_number: str
    phone: str | None
    email: str | None
    birthday: date | None
    archived: bool


@dataclass
class DuplicatePair:
    first: Person
    second: Person
    # (kind, what they share): ("phone", "0912345679"), ("name", "陳怡君/陈怡君")…
    reasons: list[tuple[str, str]] = field(default_factory=list)

    @property
    def strength(self) -> int:
        return sum(WEIGHTS[kind] for kind, _ in self.reasons)


class _Shop:
    """Everyone the finder looks at, read in one query as plain tuples (id, name, member
    number, phone, phone digits, email, birthday, archived at), and each name's key."""

    def __init__(self, session: Session):
        query = sa.select(
            Customer.id, Customer.display_name, Customer.member_number, Customer.phone,
            Customer.phone_digits, Customer.email, Customer.birthday, Customer.archived_at,
        ).where(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))  # fmt: skip
        self.rows = {row[0]: row for row in session.execute(query)}
        ids = list(self.rows)
        self.keys = dict(zip(ids, name_keys([self.rows[i][1] for i in ids]), strict=True))

    def name(self, customer_id: int) -> str:
        return self.rows[customer_id][1]

    def person(self, customer_id: int) -> Person:
        cid, name, number, phone, _digits, email, birthday, archived_at = self.rows[customer_id]
        return Person(cid, name, number, phone, email, birthday, archived_at is not None)


def _phone_key(digits: str | None) -> str | None:
    if not digits:
        return None
    # Most are stored as 09xxxxxxxx already: skip the normaliser for them.
    return digits if len(digits) == 10 and digits[0] == "0" else normal_phone(digits)


def _groups(shop: _Shop) -> dict[tuple[str, str], list[int]]:
    """(kind, key) → the ids sharing it, for phone, email and name."""
    groups: dict[tuple[str, str], list[int]] = {}
    keys = shop.keys
    for cid, _name, _number, _phone, digits, email, _birthday, _archived in shop.rows.values():
        phone = _phone_key(digits)
        if phone and len(phone) >= SHORTEST_PHONE:
            groups.setdefault(("phone", phone), []).append(cid)
        if email and "@" in email:
            groups.setdefault(("email", email.strip().casefold()), []).append(cid)
        if len(keys[cid]) >= 2:
            groups.setdefault(("name", keys[cid]), []).append(cid)
    return groups


def _birthday_pairs(shop: _Shop):
    """(first id, second id, birthday) of people born the same day with similar names."""
    by_day: dict[date, list[int]] = {}
    for row in shop.rows.values():
        if row[6]:
            by_day.setdefault(row[6], []).append(row[0])
    keys = shop.keys
    for day, born in by_day.items():
        if len(born) < 2 or len(born) > LARGEST_GROUP * 10:
            continue
        for first, second in itertools.combinations(born, 2):
            if _similar(keys[first], keys[second]):
                yield first, second, day


def _reason_text(kind: str, key: str, first: Person, second: Person) -> str:
    if kind == "name":
        return first.name if first.name == second.name else f"{first.name}/{second.name}"
    return key


def find_pairs(session: Session, *, limit: int = 100) -> tuple[list[DuplicatePair], int]:
    """The likeliest duplicate pairs first (at most `limit`) and how many there are in all;
    erased people, merged records and pairs marked "not the same person" are left out."""
    shop = _Shop(session)
    found: dict[tuple[int, int], list[tuple[str, str]]] = {}
    for (kind, key), ids in _groups(shop).items():
        if 1 < len(ids) <= LARGEST_GROUP:
            for pair in itertools.combinations(sorted(ids), 2):
                found.setdefault(pair, []).append((kind, key))
    for first_id, second_id, day in _birthday_pairs(shop):
        found.setdefault(tuple(sorted((first_id, second_id))), []).append(
            ("birthday", day.isoformat())
        )
    for marked in session.execute(sa.select(NotDuplicate.first_id, NotDuplicate.second_id)):
        found.pop(tuple(marked), None)

    def likeliest(item):
        (first_id, _second_id), reasons = item
        weight = sum(WEIGHTS[kind] for kind, _key in reasons)
        return -weight, shop.name(first_id), first_id

    shown = []
    for (first_id, second_id), reasons in sorted(found.items(), key=likeliest)[:limit]:
        first, second = shop.person(first_id), shop.person(second_id)
        texts = [(kind, _reason_text(kind, key, first, second)) for kind, key in reasons]
        shown.append(DuplicatePair(first, second, texts))
    return shown, len(found)


def mark_not_duplicate(session: Session, first_id: int, second_id: int, *,
                       actor_id: int | None) -> bool:  # fmt: skip
    """Remembers that two customers are different people; False when it was known."""
    if first_id == second_id:
        raise MergeError("same")
    if (
        session.scalar(sa.select(sa.func.count()).where(Customer.id.in_((first_id, second_id))))
        != 2
    ):
        raise MergeError("missing")
    begin_write(session)
    first_id, second_id = sorted((first_id, second_id))
    if session.get(NotDuplicate, (first_id, second_id)) is not None:
        return False
    session.add(NotDuplicate(first_id=first_id, second_id=second_id, marked_by_id=actor_id))
    session.flush()
    return True
