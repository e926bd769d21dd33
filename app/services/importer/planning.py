"""The dry run: which rows are new, updated, unchanged, skipped or in error, and what
changes for each customer."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import (
    Customer,
    CustomerConsent,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
    ImportBatch,
    Tag,
    TimelineEntry,
    customer_tag,
)
from app.services.customers import normal_phone
from app.services.importer.columns import (
    PROFILE_TARGETS,
    has_stay_columns,
)
from app.services.importer.rows import (
    Row,
    clean_row,
)
from app.services.importer.same_person import apply_choices, note_same_person
from app.services.importer.sheets import (
    CHUNK,
    Sheet,
)
from app.services.importer.stays import check_stays, stay_rows
from app.services.shop import shop_context


@dataclass
class Existing:
    """What is already in the database that a row can match: number, else email, else phone."""

    by_number: dict[str, int]
    by_email: dict[str, int]
    by_phone: dict[str, int]

    @classmethod
    def load(cls, session: Session) -> "Existing":
        by_number, by_email, by_phone = {}, {}, {}
        for cid, number, email, phone in session.execute(
            sa.select(Customer.id, Customer.member_number, Customer.email, Customer.phone_digits)
            .where(Customer.erased_at.is_(None))
            .order_by(Customer.id)
        ):
            by_number[number.lower()] = cid
            if email:
                by_email.setdefault(email.lower(), cid)
            if phone:
                by_phone.setdefault(phone, cid)
        return cls(by_number, by_email, by_phone)

    def match(self, row: Row, *, by_phone: bool = False) -> int | None:
        number = row.values.get("member_number")
        if number:
            return self.by_number.get(str(number).lower())
        email = row.values.get("email")
        if email and email in self.by_email:
            return self.by_email[email]
        # Brothers and sisters share a parent's phone: matching on it would merge them, so
        # only when the owner chooses it.
        phone = normal_phone(row.values.get("phone"))
        if by_phone and phone and phone in self.by_phone:
            return self.by_phone[phone]
        return None


def _keys(row: Row) -> list[tuple[str, str]]:
    """A member number given twice in a sheet is an error (it names one customer); the same
    person otherwise (email, name with phone or birthday) is for the staff to merge or keep
    (importer.same_person)."""
    if row.values.get("member_number"):
        return [("member_number", str(row.values["member_number"]).lower())]
    return []


@dataclass
class Plan:
    rows: list[Row]
    counts: dict[str, int]
    # What matched customers have now (profile columns; tags, family, dates, fields, consents).
    current: dict[int, dict] = field(default_factory=dict)
    related: dict[int, dict] = field(default_factory=dict)

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]


def _profile_differs(current: dict, row: Row) -> list[str]:
    changed = []
    for target in PROFILE_TARGETS:
        if target in row.values and row.values[target] != current.get(target):
            if (
                target == "member_number"
                and str(current.get(target, "")).lower() == str(row.values[target]).lower()
            ):
                continue
            changed.append(target)
    visit = row.values.get("last_visit")
    if visit and (current.get("last_visit_at") is None or current["last_visit_at"].date() < visit):
        changed.append("last_visit")  # only a later visit than the one on record
    return changed


def visit_moment(day: date) -> datetime:
    """Noon (Taiwan) of an imported visit day, as stored (naive UTC)."""
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=4)


def _visit_entry(row: Row, customer_id: int, actor_id) -> dict:
    return {
        "customer_id": customer_id, "author_id": actor_id, "kind": "visit",
        "body": f"⌂ {row.values['last_visit'].isoformat()} ({row.raw.get('last_visit', '')})",
        "created_at": visit_moment(row.values["last_visit"]), "pinned": False,
        "alert_category": None, "alert_keywords": None,
    }  # fmt: skip


def plan(session: Session, batch: ImportBatch, sheet: Sheet) -> Plan:
    """What importing would do to each row (the dry run): nothing is written."""
    rows = _checked_rows(session, batch, sheet)
    with_stays = has_stay_columns(batch.mapping)
    if with_stays:
        check_stays(session, rows, shop_context(session).today)
    matched_ids = {row.customer_id for row in rows if row.customer_id}
    current = _current_profiles(session, matched_ids)
    related = _current_related(session, matched_ids)
    for customer_id, body in _notes_present(session, rows):
        related.setdefault(customer_id, {}).setdefault("notes", set()).add((customer_id, body))
    counts = {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    if with_stays:
        counts.update(stay_rows=0, stays=0)
    for row in rows:
        row.outcome = (
            _outcome(row, batch, current, related)
            if row.lead is None
            else _further_stay_outcome(row, rows[row.lead - 2], batch.mode)
        )
        counts[
            "errors" if row.outcome == "error" else row.outcome.replace("stay", "stay_rows")
        ] += 1
    if with_stays:
        counts["stays"] = len(stay_rows(rows))
    return Plan(rows, counts, current, related)


def _further_stay_outcome(row: Row, lead: Row, mode: str) -> str:
    """A guest's further stay (a later row with the same member number, email or phone):
    written with its guest's row ("stay"), or not at all."""
    if not any((text or "").strip() for text in row.raw.values()):
        row.reason = "blank"
        return "skipped"
    if row.errors:
        return "error"
    if lead.outcome == "error":
        row.errors.append(("stay_check_in", f"stay-lead-error:{lead.number}"))
        return "error"
    writes = lead.outcome in ("new", "updated") or (
        lead.outcome == "unchanged" and mode != "create_only"
    )
    if not writes:
        row.reason = f"guest-skipped:{lead.number}" if lead.outcome == "skipped" else ""
        return lead.outcome
    return "stay" if row.stay and not row.stay_known else "unchanged"


def _checked_rows(session: Session, batch: ImportBatch, sheet: Sheet) -> list[Row]:
    """Every row of the sheet cleaned and checked, with the customer it matches (if any):
    a row repeating an earlier row's member number, naming an earlier row's person (until
    the staff merge or keep them), or matching no one and without a name, is in error."""
    mapping = batch.mapping or {}
    overrides = batch.overrides or {}
    by_phone = bool(batch.match_phone)
    with_stays = has_stay_columns(mapping)
    seen: dict[tuple[str, str], int] = {}
    people: dict[tuple[str, str], int] = {}
    rows: list[Row] = []
    for offset, cells in enumerate(sheet.rows):
        number = offset + 2  # the sheet's own line number (line 1 is the header)
        row = clean_row(number, cells, mapping, overrides.get(str(number)))
        if with_stays and (row.raw.get("stay_check_in") or "").strip():
            _same_guest(row, seen)
        elif not _repeats_member_number(row, seen):
            note_same_person(row, people, by_phone=by_phone)
        rows.append(row)
    apply_choices(rows, batch.row_choices or {})
    _match_existing(rows, Existing.load(session), by_phone=by_phone)
    return rows


def _repeats_member_number(row: Row, seen: dict[tuple[str, str], int]) -> bool:
    """An error on a row giving an earlier row's member number; remembers this row's."""
    repeated = [key for key in _keys(row) if key in seen]
    for key in repeated:
        row.errors.append((key[0], f"duplicate:{seen[key]}"))
    for key in _keys(row):
        seen.setdefault(key, row.number)
    return bool(repeated)


def _match_existing(rows: list[Row], existing: Existing, *, by_phone: bool) -> None:
    """The customer each row updates (a further stay: its guest's); a new one needs a name."""
    for row in rows:
        if row.merged_into is not None:
            continue
        if row.lead is not None:
            row.customer_id = rows[row.lead - 2].customer_id
        else:
            row.customer_id = existing.match(row, by_phone=by_phone)
        if row.customer_id is None and row.lead is None and not row.values.get("display_name"):
            row.errors.append(("display_name", "required"))


def _same_guest(row: Row, seen: dict[tuple[str, str], int]) -> None:
    """A guest book lists a guest once per stay: a row with the member number, email or phone
    of an earlier row is another stay of that guest (row.lead)."""
    keys = [
        (name, value)
        for name, value in (
            ("member_number", str(row.values.get("member_number") or "").lower()),
            ("email", row.values.get("email") or ""),
            ("phone", normal_phone(row.values.get("phone")) or ""),
        )
        if value
    ]
    row.lead = next((seen[key] for key in keys if key in seen), None)
    for key in keys:
        seen.setdefault(key, row.lead or row.number)


def _outcome(row: Row, batch: ImportBatch, current: dict, related: dict) -> str:
    """New, updated, unchanged, skipped or error; an update's changes go to row.changes."""
    if row.merged_into is not None:
        row.reason = f"merged:{row.merged_into}"
        return "skipped"
    if not any((text or "").strip() for text in row.raw.values()):
        row.errors = []  # a blank line
        row.reason = "blank" if batch.mapping else "no-columns"
        return "skipped"
    if row.errors:
        return "error"
    if row.customer_id is None:
        row.reason = "update-only" if batch.mode == "update" else ""
        return "new" if batch.mode != "update" else "skipped"
    if batch.mode == "create_only":
        return "unchanged"
    row.changes = _profile_differs(current.get(row.customer_id, {}), row)
    row.changes += _related_differs(related.get(row.customer_id, {}), row)
    if row.stay and not row.stay_known:
        row.changes.append("stay")
    return "updated" if row.changes else "unchanged"


def _current_profiles(session: Session, ids: set[int]) -> dict[int, dict]:
    result = {}
    id_list = sorted(ids)
    names = (*PROFILE_TARGETS, "last_visit_at", "last_contact_at")
    columns = [getattr(Customer, name) for name in names]
    for start in range(0, len(id_list), CHUNK):
        for row in session.execute(
            sa.select(Customer.id, *columns).where(Customer.id.in_(id_list[start : start + CHUNK]))
        ):
            result[row[0]] = dict(zip(names, row[1:], strict=True))
    return result


def _current_related(session: Session, ids: set[int]) -> dict[int, dict]:
    """Per customer: tag names, family names, (label, date)s, custom values, note texts and
    consents, to tell an update from a re-import of the same data."""
    result: dict[int, dict] = {}

    def slot(customer_id):
        return result.setdefault(
            customer_id,
            {
                "tags": set(),
                "family": set(),
                "dates": set(),
                "fields": {},
                "notes": set(),
                "consents": set(),
                "alerts": set(),
            },
        )

    id_list = sorted(ids)
    for start in range(0, len(id_list), CHUNK):
        chunk = id_list[start : start + CHUNK]
        for customer_id, name in session.execute(
            sa.select(customer_tag.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tag.c.tag_id)
            .where(customer_tag.c.customer_id.in_(chunk))
        ):
            slot(customer_id)["tags"].add(name.lower())
        for customer_id, name in session.execute(
            sa.select(FamilyMember.customer_id, FamilyMember.name).where(
                FamilyMember.customer_id.in_(chunk)
            )
        ):
            slot(customer_id)["family"].add(name)
        for customer_id, label, when in session.execute(
            sa.select(ImportantDate.customer_id, ImportantDate.label, ImportantDate.date).where(
                ImportantDate.customer_id.in_(chunk)
            )
        ):
            slot(customer_id)["dates"].add((label, when))
        for customer_id, field_id, value in session.execute(
            sa.select(
                CustomFieldValue.customer_id, CustomFieldValue.field_id, CustomFieldValue.value
            ).where(CustomFieldValue.customer_id.in_(chunk))
        ):
            slot(customer_id)["fields"][field_id] = value
        for customer_id, purpose in session.execute(
            sa.select(CustomerConsent.customer_id, CustomerConsent.purpose).where(
                CustomerConsent.customer_id.in_(chunk)
            )
        ):
            slot(customer_id)["consents"].add(purpose)
        for customer_id, keywords in session.execute(
            sa.select(TimelineEntry.customer_id, TimelineEntry.alert_keywords).where(
                TimelineEntry.customer_id.in_(chunk),
                TimelineEntry.kind == "alert",
                TimelineEntry.alert_resolved_at.is_(None),
            )
        ):
            slot(customer_id)["alerts"].add(tuple(keywords or ()))
    return result


def _notes_present(session: Session, rows: list[Row]) -> set[tuple[int, str]]:
    wanted = [
        (r.customer_id, r.values["first_note"])
        for r in rows
        if r.customer_id and r.values.get("first_note")
    ]
    found: set[tuple[int, str]] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found.update(
            session.execute(
                sa.select(TimelineEntry.customer_id, TimelineEntry.body).where(
                    TimelineEntry.customer_id.in_({cid for cid, _ in chunk}),
                    TimelineEntry.body.in_({body for _, body in chunk}),
                )
            ).all()
        )
    return found


def _related_differs(state: dict, row: Row) -> list[str]:
    """The row's targets beyond the profile that would add to what the customer has:
    tags, guardian, dates, custom values, consents, the first note, an allergy alert."""
    changed = []
    if _tags_differ(state, row):
        changed.append("tags")
    if _guardian_differs(state, row):
        changed.append("guardian_name")
    changed += [
        target for target, value in row.values.items() if _target_differs(state, target, value)
    ]
    if _note_differs(state, row):
        changed.append("first_note")
    if _alert_differs(state, row):
        changed.append("alert_allergy")
    return changed


def _tags_differ(state: dict, row: Row) -> bool:
    return bool({t.lower() for t in row.values.get("tags", [])} - state.get("tags", set()))


def _guardian_differs(state: dict, row: Row) -> bool:
    name = row.values.get("guardian_name")
    return bool(name) and name not in state.get("family", set())


def _note_differs(state: dict, row: Row) -> bool:
    note = row.values.get("first_note")
    return bool(note) and (row.customer_id, note) not in state.get("notes", set())


def _alert_differs(state: dict, row: Row) -> bool:
    return bool(row.values.get("alert_allergy")) and tuple(_alert_keywords(row)) not in state.get(
        "alerts", set()
    )


def _date_differs(state: dict, target: str, value) -> bool:
    return (target.split(":", 1)[1], value) not in state.get("dates", set())


def _field_differs(state: dict, target: str, value) -> bool:
    return state.get("fields", {}).get(int(target.split(":", 1)[1])) != value


def _consent_differs(state: dict, target: str, value) -> bool:
    return bool(value) and target.split("_", 1)[1] not in state.get("consents", set())


# Columns named with a prefix: "date:<label>", "field:<id>", "consent_<purpose>".
_TARGET_CHECKS = (
    ("date:", _date_differs),
    ("field:", _field_differs),
    ("consent_", _consent_differs),
)


def _target_differs(state: dict, target: str, value) -> bool:
    """Whether a date, custom value or consent column would add to what the customer has."""
    for prefix, differs in _TARGET_CHECKS:
        if target.startswith(prefix):
            return differs(state, target, value)
    return False


def _alert_keywords(row: Row) -> list[str]:
    from app.services.timeline import normalise_keywords

    return normalise_keywords(str(row.values.get("alert_allergy") or ""))


def _alert_entry(row: Row, customer_id: int, actor_id, now) -> dict:
    """An "allergy" / "過敏" cell becomes an allergy alert, pinned like one added by hand."""
    return {
        "customer_id": customer_id, "author_id": actor_id, "kind": "alert",
        "body": str(row.values["alert_allergy"]), "created_at": now, "pinned": True,
        "alert_category": "allergy", "alert_keywords": _alert_keywords(row),
    }  # fmt: skip
