"""The duplicate finder: customers who share a phone (after normalising), an email, a name
(written full- or half-width, with spaces, in Traditional or Simplified characters) or a
birthday and a similar name. One query reads (id, name, phone, email, birthday) of everyone;
one pass groups them by each key, so 50,000 customers take a moment, not N² comparisons."""

import functools
import itertools
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


@functools.cache
def _simplified() -> opencc.OpenCC:
    # OpenCC's Traditional → Simplified table: 陳怡君 and 陈怡君 give the same key.
    return opencc.OpenCC("t2s.json")


def name_key(name: str | None) -> str:
    """A name as the finder compares it: full-width letters as half-width (NFKC), without
    spaces or punctuation, in Simplified characters, case folded."""
    text = unicodedata.normalize("NFKC", name or "")
    text = "".join(character for character in text if character.isalnum())
    return _simplified().convert(text).casefold()


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
        weights = {"phone": 3, "email": 3, "birthday": 2, "name": 1}
        return sum(weights[kind] for kind, _ in self.reasons)


def _people(session: Session) -> dict[int, Person]:
    rows = session.execute(
        sa.select(
            Customer.id, Customer.display_name, Customer.member_number, Customer.phone,
            Customer.email, Customer.birthday, Customer.archived_at,
        ).where(Customer.erased_at.is_(None), Customer.merged_into_id.is_(None))
    )  # fmt: skip
    return {
        row.id: Person(
            row.id,
            row.display_name,
            row.member_number,
            row.phone,
            row.email,
            row.birthday,
            row.archived_at is not None,
        )  # fmt: skip
        for row in rows
    }


def _groups(people: dict[int, Person]) -> dict[tuple[str, str], list[int]]:
    """(kind, key) → the ids sharing it, for phone, email and name."""
    groups: dict[tuple[str, str], list[int]] = {}
    for person in people.values():
        phone = normal_phone(person.phone)
        if phone and len(phone) >= SHORTEST_PHONE:
            groups.setdefault(("phone", phone), []).append(person.id)
        email = (person.email or "").strip().casefold()
        if "@" in email:
            groups.setdefault(("email", email), []).append(person.id)
        name = name_key(person.name)
        if len(name) >= 2:
            groups.setdefault(("name", name), []).append(person.id)
    return groups


def _birthday_pairs(people: dict[int, Person]):
    """(first id, second id, birthday) of people born the same day with similar names."""
    by_day: dict[date, list[Person]] = {}
    for person in people.values():
        if person.birthday:
            by_day.setdefault(person.birthday, []).append(person)
    for day, born in by_day.items():
        if len(born) > LARGEST_GROUP * 10:
            continue
        keys = {person.id: name_key(person.name) for person in born}
        for first, second in itertools.combinations(born, 2):
            if _similar(keys[first.id], keys[second.id]):
                yield first.id, second.id, day


def _reason_text(kind: str, key: str, first: Person, second: Person) -> str:
    if kind == "name":
        return first.name if first.name == second.name else f"{first.name}/{second.name}"
    return key


def find_pairs(session: Session, *, limit: int = 100) -> tuple[list[DuplicatePair], int]:
    """The likeliest duplicate pairs first (at most `limit`) and how many there are in all;
    erased people, merged records and pairs marked "not the same person" are left out."""
    people = _people(session)
    pairs: dict[tuple[int, int], DuplicatePair] = {}

    def add(first_id: int, second_id: int, kind: str, key: str) -> None:
        first_id, second_id = sorted((first_id, second_id))
        first, second = people[first_id], people[second_id]
        pair = pairs.setdefault((first_id, second_id), DuplicatePair(first, second))
        pair.reasons.append((kind, _reason_text(kind, key, first, second)))

    for (kind, key), ids in _groups(people).items():
        if 1 < len(ids) <= LARGEST_GROUP:
            for first_id, second_id in itertools.combinations(ids, 2):
                add(first_id, second_id, kind, key)
    for first_id, second_id, day in _birthday_pairs(people):
        add(first_id, second_id, "birthday", day.isoformat())
    for first_id, second_id in session.execute(
        sa.select(NotDuplicate.first_id, NotDuplicate.second_id)
    ):
        pairs.pop((first_id, second_id), None)
    ordered = sorted(
        pairs.values(), key=lambda pair: (-pair.strength, pair.first.name, pair.first.id)
    )
    return ordered[:limit], len(ordered)


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
