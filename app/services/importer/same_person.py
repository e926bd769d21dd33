"""The same person twice in one sheet (same email, same name and phone, same name and
birthday): each later row waits for the staff's choice, "merge these rows" (one customer:
each field from the first row that has it, notes joined) or "keep both"."""

from app.services.customers import normal_phone
from app.services.importer.rows import Row

CHOICES = ("merge", "keep")


def person_keys(row: Row, *, by_phone: bool = False) -> list[tuple[str, str]]:
    """What tells a row's person apart from another row's: email; name and birthday; phone
    with the same name (or alone when the owner matches by phone: brothers and sisters share
    a parent's phone otherwise)."""
    keys = []
    name = " ".join(str(row.values.get("display_name") or "").split()).lower()
    email = row.values.get("email")
    phone = normal_phone(row.values.get("phone"))
    birthday = row.values.get("birthday")
    if email:
        keys.append(("email", str(email)))
    if name and birthday:
        keys.append(("birthday", f"{name}|{birthday.isoformat()}"))
    if phone and by_phone:
        keys.append(("phone", phone))
    elif phone and name:
        keys.append(("phone", f"{name}|{phone}"))
    return keys


def note_same_person(row: Row, seen: dict[tuple[str, str], int], *, by_phone: bool) -> None:
    """Marks a row whose person an earlier row already names (row.same_as: the first such
    row, row.same_key: how they match); remembers this row's keys for the rows after."""
    keys = person_keys(row, by_phone=by_phone)
    first = next(((seen[key], key[0]) for key in keys if key in seen), None)
    if first is not None:
        row.same_as, row.same_key = first
    for key in keys:
        seen.setdefault(key, row.same_as or row.number)


def apply_choices(rows: list[Row], choices: dict[str, str]) -> None:
    """Each row naming an earlier row's person: merged into it, kept, or (no choice yet) in
    error until the staff choose. `rows` is the sheet's rows in order (row.number - 2)."""
    for row in rows:
        if row.same_as is None:
            continue
        choice = choices.get(str(row.number))
        if choice == "keep":
            continue
        if choice == "merge" and not row.errors:
            merge_into(rows[row.same_as - 2], row)
        else:
            row.errors.append((row.same_key, f"same-person:{row.same_as}"))


def merge_into(first: Row, later: Row) -> None:
    """The later row's values fill what the first row lacks; notes are joined and tags
    added; the later row imports nothing itself."""
    for target, value in later.values.items():
        if target not in first.values:
            first.values[target] = value
            first.raw[target] = later.raw.get(target, "")
        elif target == "first_note" and value != first.values[target]:
            first.values[target] = f"{first.values[target]}\n{value}"[:5000]
        elif target == "tags":
            first.values[target] = list(dict.fromkeys([*first.values[target], *value]))
    first.merged.append(later.number)
    later.merged_into = first.number
