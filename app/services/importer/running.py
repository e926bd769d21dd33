"""Importing all or nothing in one transaction (new customers and updates in
multi-row statements), and undoing a whole import."""

from collections.abc import Callable, Iterator
from datetime import date, datetime
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, matches_digits, reserve_ids
from app.models import (
    ConsentEvent,
    Customer,
    CustomerConsent,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
    ImportBatch,
    ImportChange,
    Tag,
    TimelineEntry,
    customer_tag,
)
from app.models.tag import PALETTE
from app.services.customers import MEMBER_DIGITS, MEMBER_PREFIX, format_member_number, normal_phone
from app.services.importer.columns import (
    PROFILE_TARGETS,
)
from app.services.importer.planning import (
    Plan,
    _alert_entry,
    _alert_keywords,
    _visit_entry,
    plan,
    visit_moment,
)
from app.services.importer.rows import (
    Row,
)
from app.services.importer.sheets import (
    CHUNK,
    ImportProblem,
    Sheet,
)
from app.services.importer.stays import stay_rows, write_stays
from app.services.search import customer_document, index_new_customers, reindex_customers
from app.services.shop import get_shop, shop_context

# ---- importing ----------------------------------------------------------------------------


def _serialise(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _chunks(items: list) -> Iterator[list]:
    """The items CHUNK at a time (one multi-row statement each)."""
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def run_import(
    session: Session,
    batch: ImportBatch,
    sheet: Sheet,
    *,
    actor_id: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Imports the sheet in one transaction: any failure rolls everything back."""
    begin_write(session)
    result = plan(session, batch, sheet)
    if result.counts["errors"] and not batch.skip_errors:
        raise ImportProblem("row-errors", str(result.counts["errors"]))
    now = utcnow()
    connection = session.connection()
    tags = _tags_by_name(session)
    numbers = _MemberNumbers(session)
    fresh, changed = _with_outcome(result, "new"), _with_outcome(result, "updated")
    done, total = 0, len(fresh) + len(changed)
    # New customers: a chunk at a time, one multi-row statement per table.
    for chunk in _chunks(fresh):
        _insert_new_customers(connection, chunk, numbers, tags, now, actor_id, batch.id)
        done = _reported(progress, done + len(chunk), total)
    # Existing customers: a chunk at a time too, against what plan() read of them.
    for chunk in _chunks(changed):
        _apply_updates(connection, chunk, result, tags, now, actor_id, batch.id)
        done = _reported(progress, done + len(chunk), total)
    for chunk in _chunks(sorted({row.customer_id for row in changed})):
        reindex_customers(connection, set(chunk))
    _write_stays(session, result, now, actor_id, batch.id)
    return result.counts


def _write_stays(session: Session, result: Plan, now, actor_id, batch_id: int) -> None:
    """The guest book's stays, once every guest has an id (a further stay of a guest takes
    the id of the guest's first row)."""
    rows = stay_rows(result.rows)
    if not rows:
        return
    context = shop_context(session)
    planned = [(row.customer_id or result.rows[row.lead - 2].customer_id, row.stay) for row in rows]
    before = {
        customer_id: {name: _serialise(profile.get(name))
                      for name in ("last_visit_at", "last_contact_at")}
        for customer_id, profile in result.current.items()
    }  # fmt: skip
    write_stays(
        session, planned, actor_id=actor_id, batch_id=batch_id, now=now, zone=context.zone,
        locale=get_shop(session).default_locale or "zh_Hant", before=before,
    )  # fmt: skip


def _tags_by_name(session: Session) -> dict[str, int]:
    """Every tag's id by its name in lower case (as a sheet's tags are matched)."""
    return {name.lower(): tag_id for tag_id, name in session.execute(sa.select(Tag.id, Tag.name))}


def _with_outcome(result: Plan, outcome: str) -> list[Row]:
    return [row for row in result.rows if row.outcome == outcome]


def _reported(progress: Callable[[int, int], None] | None, done: int, total: int) -> int:
    """Tells the progress callback (if any) how many rows are done; returns that number."""
    if progress:
        progress(done, total)
    return done


class _MemberNumbers:
    """Member numbers for new customers: the sheet's own, else the next one in the shop's
    format that no customer (nor an earlier row) has."""

    def __init__(self, session: Session):
        highest = session.scalar(
            sa.select(sa.func.max(Customer.member_number)).where(
                matches_digits(Customer.member_number, MEMBER_PREFIX, MEMBER_DIGITS)
            )
        )
        self.next_number = int(highest[len(MEMBER_PREFIX) :]) + 1 if highest else 1
        self.used = {n.lower() for n in session.scalars(sa.select(Customer.member_number))}

    def take(self, wanted: str | None) -> str:
        number = wanted or self._next_free()
        self.used.add(str(number).lower())
        return number

    def _next_free(self) -> str:
        while format_member_number(self.next_number).lower() in self.used:
            self.next_number += 1
        number = format_member_number(self.next_number)
        self.next_number += 1
        return number


def _insert_new_customers(
    connection, rows: list[Row], numbers: _MemberNumbers, tags: dict, now, actor_id, batch_id
) -> None:
    """One chunk of new customers: their profiles, what else their rows hold, and their
    search documents."""
    values = [
        _new_profile(row, numbers.take(row.values.get("member_number")), now, actor_id, batch_id)
        for row in rows
    ]
    # Ids reserved first (app.db), then a plain multi-row insert: much faster than
    # INSERT … RETURNING row by row.
    table = Customer.__table__
    ids = reserve_ids(connection, table, len(values))
    for customer_id, item in zip(ids, values, strict=True):
        item["id"] = customer_id
    connection.execute(sa.insert(table), values)
    _insert_related_of_new(connection, rows, ids, tags, now, actor_id, batch_id)
    index_new_customers(connection, [
        (customer_id, _search_document(item, row)) for customer_id, item, row in zip(ids, values, rows, strict=True)
    ])  # fmt: skip


def _new_profile(row: Row, number: str, now, actor_id, batch_id) -> dict:
    """The customers-table row of a new customer."""
    consents = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
    item = {name: row.values.get(name) for name in PROFILE_TARGETS}
    item.update(
        member_number=number,
        level=row.values.get("level") or "C",
        phone_digits=normal_phone(row.values.get("phone")),
        **_paper_consent(consents, now, actor_id),
        email_opt_out=False,
        created_at=now,
        updated_at=now,
        version=1,
        import_batch_id=batch_id,
        last_visit_at=visit_moment(row.values["last_visit"])
        if row.values.get("last_visit")
        else None,
    )
    return item


def _paper_consent(purposes: list[str], now, actor_id) -> dict:
    """A new customer's consent columns: what the sheet records was given on paper."""
    if not purposes:
        return {"consent_method": None, "consent_given_at": None, "consent_recorded_by_id": None}
    return {"consent_method": "paper", "consent_given_at": now, "consent_recorded_by_id": actor_id}


def consent_rows(customer_id: int, purposes, now, actor_id, batch_id) -> list[dict]:
    """Consent history rows for consent a sheet records (on paper, as sheets are)."""
    return [
        {"customer_id": customer_id, "purpose": purpose, "action": "given", "method": "paper",
         "at": now, "recorded_by_id": actor_id, "source": f"import {batch_id}"}
        for purpose in purposes
    ]  # fmt: skip


def _given_rows(customer_id: int, purposes, now) -> list[dict]:
    """The customer_consent rows of purposes a sheet records as given (on paper)."""
    return [{"customer_id": customer_id, "purpose": purpose, "method": "paper", "given_at": now}
            for purpose in purposes]  # fmt: skip


def _search_document(profile: dict, row: Row) -> str:
    """What a new customer is found by (the same text search.customer_document builds)."""
    guardian = []
    if row.values.get("guardian_name"):
        guardian = [SimpleNamespace(name=row.values["guardian_name"], phone=row.values.get("guardian_phone"),
                                    email=row.values.get("guardian_email"))]  # fmt: skip
    return customer_document(SimpleNamespace(**profile), guardian)


def _tag_ids(connection, names: list[str], tags: dict, now) -> list[int]:
    """Ids for tag names (case-insensitive), creating the missing tags."""
    wanted = []
    for name in names:
        key = name.lower()
        if key not in tags:
            tags[key] = connection.execute(
                sa.insert(Tag.__table__).values(
                    name=name,
                    colour=PALETTE[len(tags) % len(PALETTE)],
                    created_at=now,
                    is_group=False,
                )
            ).inserted_primary_key[0]
        wanted.append(tags[key])
    return list(dict.fromkeys(wanted))


def _insert_related_of_new(
    connection, rows: list[Row], ids: list[int], tags, now, actor_id, batch_id
):
    """Everything besides the profile for freshly created customers, a table at a time."""
    tag_rows, family, dates, fields, entries, consents, changes = [], [], [], [], [], [], []
    given_rows = []
    for row, customer_id in zip(rows, ids, strict=True):
        row.customer_id = customer_id
        for tag_id in _tag_ids(connection, row.values.get("tags") or [], tags, now):
            tag_rows.append({"customer_id": customer_id, "tag_id": tag_id, "created_at": now})
        if row.values.get("guardian_name"):
            family.append(_guardian_row(row, customer_id))
        dates.extend(_date_rows(row, customer_id))
        fields.extend(_field_rows(row, customer_id))
        entries.extend(_entries_of_new(row, customer_id, actor_id, now))
        given = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
        consents.extend(consent_rows(customer_id, given, now, actor_id, batch_id))
        given_rows.extend(_given_rows(customer_id, given, now))
        changes.append(
            {"batch_id": batch_id, "customer_id": customer_id, "action": "created", "before": None}
        )
    _insert_rows(
        connection,
        (
            (customer_tag, tag_rows),
            (FamilyMember.__table__, family),
            (ImportantDate.__table__, dates),
            (CustomFieldValue.__table__, fields),
            (TimelineEntry.__table__, entries),
            (ConsentEvent.__table__, consents),
            (CustomerConsent.__table__, given_rows),
            (ImportChange.__table__, changes),
        ),
    )


def _insert_rows(connection, tables_and_rows) -> None:
    """One multi-row insert per table that has rows to insert."""
    for table, data in tables_and_rows:
        if data:
            connection.execute(sa.insert(table), data)


def _guardian_row(row: Row, customer_id: int) -> dict:
    """The guardian a row names, as a family member."""
    return {
        "customer_id": customer_id, "name": row.values["guardian_name"],
        "relation": row.values.get("guardian_relation"), "phone": row.values.get("guardian_phone"),
        "email": row.values.get("guardian_email"), "birthday": None, "is_guardian": True,
    }  # fmt: skip


def _date_rows(row: Row, customer_id: int) -> list[dict]:
    """A new customer's important dates ("date:<label>" columns)."""
    return [
        {"customer_id": customer_id, "label": target.split(":", 1)[1], "date": value}
        for target, value in row.values.items()
        if target.startswith("date:")
    ]


def _field_rows(row: Row, customer_id: int) -> list[dict]:
    """A new customer's custom field values ("field:<id>" columns)."""
    return [
        {"customer_id": customer_id, "field_id": int(target.split(":", 1)[1]), "value": value}
        for target, value in row.values.items()
        if target.startswith("field:")
    ]


def _note_entry(row: Row, customer_id: int, actor_id, now) -> dict:
    """The row's first note, as a timeline note."""
    return {
        "customer_id": customer_id, "author_id": actor_id, "kind": "note",
        "body": row.values["first_note"], "created_at": now, "pinned": False,
        "alert_category": None, "alert_keywords": None,
    }  # fmt: skip


def _entries_of_new(row: Row, customer_id: int, actor_id, now) -> list[dict]:
    """A new customer's first note, allergy alert and dated visit, as timeline entries."""
    made = []
    if row.values.get("first_note"):
        made.append(_note_entry(row, customer_id, actor_id, now))
    if row.values.get("alert_allergy") and _alert_keywords(row):
        made.append(_alert_entry(row, customer_id, actor_id, now))
    if row.values.get("last_visit"):
        made.append(_visit_entry(row, customer_id, actor_id))
    return made


def _next_ids(connection, table, count: int) -> list[int]:
    """Ids for rows about to be inserted (see app.db.reserve_ids)."""
    return reserve_ids(connection, table, count)


def _apply_updates(connection, rows: list[Row], result: Plan, tags: dict, now, actor_id, batch_id):
    """Updates existing customers from their rows; each row's `before` records what undo
    puts back or removes."""
    batch = _UpdateBatch(connection, result, tags, now, actor_id, batch_id)
    for row in rows:
        batch.add(row)
    batch.write()


class _UpdateBatch:
    """What a chunk of updated rows writes, gathered per table, then written in a few
    multi-row statements."""

    def __init__(self, connection, result: Plan, tags: dict, now, actor_id, batch_id):
        self.connection, self.result, self.tags = connection, result, tags
        self.now, self.actor_id, self.batch_id = now, actor_id, batch_id
        self.updates: dict[tuple[str, ...], list[dict]] = {}
        self.tag_rows, self.family, self.dates, self.entries = [], [], [], []
        self.field_inserts, self.field_updates, self.consents, self.changes = [], [], [], []
        self.given = []

    def add(self, row: Row) -> None:
        customer_id = row.customer_id
        state = self.result.related.get(customer_id, {})
        before: dict = {}
        self._profile(row, state, before)
        if "tags" in row.changes:
            have = state.get("tags", set())
            wanted = [name for name in row.values["tags"] if name.lower() not in have]
            new_ids = _tag_ids(self.connection, wanted, self.tags, self.now)
            self.tag_rows.extend(
                {"customer_id": customer_id, "tag_id": t, "created_at": self.now} for t in new_ids
            )
            before["tag_ids"] = new_ids
        if "guardian_name" in row.changes:
            self.family.append(_guardian_row(row, customer_id))
            before["family_ids"] = [len(self.family) - 1]  # made into an id in write()
        for target in row.changes:
            if target.startswith("date:"):
                self.dates.append({"customer_id": customer_id, "label": target.split(":", 1)[1],
                                   "date": row.values[target]})  # fmt: skip
                before.setdefault("date_ids", []).append(len(self.dates) - 1)
            elif target.startswith("field:"):
                self._field(row, target, state, before)
        self._entries(row, before)
        self.changes.append({"batch_id": self.batch_id, "customer_id": customer_id,
                             "action": "updated", "before": before})  # fmt: skip

    def _profile(self, row: Row, state: dict, before: dict) -> None:
        """Profile columns, consent, phone digits and last visit, grouped by the columns set."""
        customer_id = row.customer_id
        old = self.result.current.get(customer_id, {})
        profile = [name for name in row.changes if name in PROFILE_TARGETS]
        values = {name: row.values[name] for name in profile}
        before["fields"] = {name: _serialise(old.get(name)) for name in profile}
        given = [t.split("_", 1)[1] for t in row.changes if t.startswith("consent_")]
        if given:
            had = state.get("consents", set())
            before["consents"] = sorted(had)
            new = [purpose for purpose in given if purpose not in had]
            self.given.extend(_given_rows(customer_id, new, self.now))
            self.consents.extend(
                consent_rows(customer_id, given, self.now, self.actor_id, self.batch_id)
            )
        if "phone" in values:
            values["phone_digits"] = normal_phone(values["phone"])
            before["fields"]["phone_digits"] = normal_phone(old.get("phone"))
        if "last_visit" in row.changes:
            values["last_visit_at"] = visit_moment(row.values["last_visit"])
            before["fields"]["last_visit_at"] = _serialise(old.get("last_visit_at"))
        if values:
            values["updated_at"] = self.now
            self.updates.setdefault(tuple(sorted(values)), []).append(
                {"b_id": customer_id, **values}
            )

    def _field(self, row: Row, target: str, state: dict, before: dict) -> None:
        field_id = int(target.split(":", 1)[1])
        value = row.values[target]
        earlier = before.setdefault("fields_before", {})
        if field_id in state.get("fields", {}):
            self.field_updates.append(
                {"b_customer": row.customer_id, "b_field": field_id, "value": value}
            )
            earlier[str(field_id)] = state["fields"][field_id]
        else:
            self.field_inserts.append(
                {"customer_id": row.customer_id, "field_id": field_id, "value": value}
            )
            earlier[str(field_id)] = None

    def _entries(self, row: Row, before: dict) -> None:
        """The first note, an allergy alert and a dated visit, as timeline entries."""
        customer_id, made = row.customer_id, []
        if "first_note" in row.changes:
            made.append(_note_entry(row, customer_id, self.actor_id, self.now))
        if "alert_allergy" in row.changes and _alert_keywords(row):
            made.append(_alert_entry(row, customer_id, self.actor_id, self.now))
        if "last_visit" in row.changes:
            made.append(_visit_entry(row, customer_id, self.actor_id))
        for entry in made:
            self.entries.append(entry)
            before.setdefault("entry_ids", []).append(len(self.entries) - 1)

    def write(self) -> None:
        connection, table = self.connection, Customer.__table__
        for columns, data in self.updates.items():
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"))
                .values(
                    {
                        **{name: sa.bindparam(name) for name in columns},
                        "version": table.c.version + 1,
                    }
                )  # fmt: skip
            )
            connection.execute(statement, data)
        # Rows that undo must find again get their ids now (positions above become ids).
        for key, model, data in (
            ("family_ids", FamilyMember, self.family),
            ("date_ids", ImportantDate, self.dates),
            ("entry_ids", TimelineEntry, self.entries),
        ):
            if not data:
                continue
            ids = _next_ids(connection, model.__table__, len(data))
            for row_id, item in zip(ids, data, strict=True):
                item["id"] = row_id
            for change in self.changes:
                if key in change["before"]:
                    change["before"][key] = [ids[position] for position in change["before"][key]]
            connection.execute(sa.insert(model.__table__), data)
        values_table = CustomFieldValue.__table__
        if self.field_updates:
            connection.execute(
                sa.update(values_table)
                .where(
                    values_table.c.customer_id == sa.bindparam("b_customer"),
                    values_table.c.field_id == sa.bindparam("b_field"),
                )
                .values(value=sa.bindparam("value")),
                self.field_updates,
            )
        _insert_rows(
            connection,
            (
                (customer_tag, self.tag_rows),
                (values_table, self.field_inserts),
                (ConsentEvent.__table__, self.consents),
                (CustomerConsent.__table__, self.given),
                (ImportChange.__table__, self.changes),
            ),
        )
