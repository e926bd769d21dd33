"""Importing all or nothing in one transaction (new customers and updates in
multi-row statements), and undoing a whole import."""

import fcntl
import os
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, matches_digits, reserve_ids
from app.models import (
    ConsentEvent,
    Customer,
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
from app.services.customers import MEMBER_DIGITS, MEMBER_PREFIX, digits_of, format_member_number
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
from app.services.search import customer_document, index_new_customers, reindex_customers

# ---- who is importing -----------------------------------------------------------------------

# The worker holds this lock (imports/running.lock) from before it marks a batch "running"
# until after it commits the outcome; the kernel lets go of it when the process dies, even
# by kill -9. A "running" batch whose lock is free was left by a dead worker. (A lease in
# the database could not be renewed: the import holds the write lock for its whole
# transaction, and a lease too long to need renewing could let a second run start while
# the first still works.)
INTERRUPTED = "interrupted"


class ImportLock:
    """The importing worker's lock; `wait=False` raises BlockingIOError if it is held."""

    def __init__(self, folder: Path, *, wait: bool = True):
        self.path = Path(folder) / "running.lock"
        self.wait = wait
        self.descriptor: int | None = None

    def __enter__(self) -> "ImportLock":
        self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BaseException:
            os.close(self.descriptor)
            raise
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.descriptor)  # closing lets go of the lock


def recover_interrupted(session: Session, folder: Path, batch_id: int | None = None) -> list[int]:
    """Marks "running" batches (or the one asked about) whose worker died as failed and
    interrupted: the import is one transaction, so nothing of it was saved and it can run
    again. Nothing changes while an import runs (its worker holds the lock). Commits."""
    query = sa.select(ImportBatch.id).where(ImportBatch.status == "running")
    if batch_id is not None:
        query = query.where(ImportBatch.id == batch_id)
    if not session.scalars(query).first():
        return []
    try:
        with ImportLock(folder, wait=False):
            begin_write(session)
            stale = session.scalars(query).all()  # again, under both locks
            if stale:
                session.execute(
                    sa.update(ImportBatch)
                    .where(ImportBatch.id.in_(stale))
                    .values(status="failed", error=INTERRUPTED)
                )
            session.commit()
    except BlockingIOError:
        return []  # a worker is importing now
    return list(stale)


# ---- importing ----------------------------------------------------------------------------


def _serialise(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


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
    tags = {name.lower(): tag_id for tag_id, name in session.execute(sa.select(Tag.id, Tag.name))}
    highest = session.scalar(
        sa.select(sa.func.max(Customer.member_number)).where(
            matches_digits(Customer.member_number, MEMBER_PREFIX, MEMBER_DIGITS)
        )
    )
    next_number = int(highest[len(MEMBER_PREFIX) :]) + 1 if highest else 1
    used_numbers = {n.lower() for n in session.scalars(sa.select(Customer.member_number))}
    touched: set[int] = set()
    fresh = [row for row in result.rows if row.outcome == "new"]
    changed = [row for row in result.rows if row.outcome == "updated"]
    total = len(fresh) + len(changed)
    done = 0

    def next_free_number() -> str:
        nonlocal next_number
        while format_member_number(next_number).lower() in used_numbers:
            next_number += 1
        number = format_member_number(next_number)
        next_number += 1
        return number

    # New customers: a chunk at a time, one multi-row statement per table.
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start : start + CHUNK]
        values = []
        for row in chunk:
            number = row.values.get("member_number") or next_free_number()
            used_numbers.add(str(number).lower())
            consents = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
            item = {name: row.values.get(name) for name in PROFILE_TARGETS}
            item.update(
                member_number=number,
                level=row.values.get("level") or "C",
                phone_digits=digits_of(row.values.get("phone")),
                consent_purposes=",".join(consents),
                consent_method="paper" if consents else None,
                consent_given_at=now if consents else None,
                consent_recorded_by_id=actor_id if consents else None,
                email_opt_out=False,
                created_at=now,
                updated_at=now,
                version=1,
                import_batch_id=batch.id,
                last_visit_at=visit_moment(row.values["last_visit"])
                if row.values.get("last_visit")
                else None,
            )
            values.append(item)
        # Ids reserved first (app.db), then a plain multi-row insert: much faster than
        # INSERT … RETURNING row by row.
        table = Customer.__table__
        ids = reserve_ids(connection, table, len(values))
        for customer_id, item in zip(ids, values, strict=True):
            item["id"] = customer_id
        connection.execute(sa.insert(table), values)
        _insert_related_of_new(connection, chunk, ids, tags, now, actor_id, batch.id)
        index_new_customers(connection, [
            (customer_id, _search_document(item, row)) for customer_id, item, row in zip(ids, values, chunk, strict=True)
        ])  # fmt: skip
        done += len(chunk)
        if progress:
            progress(done, total)
    # Existing customers: a chunk at a time too, against what plan() read of them.
    for start in range(0, len(changed), CHUNK):
        chunk = changed[start : start + CHUNK]
        _apply_updates(connection, chunk, result, tags, now, actor_id, batch.id)
        touched.update(row.customer_id for row in chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    touched_list = sorted(touched)
    for start in range(0, len(touched_list), CHUNK):
        reindex_customers(connection, set(touched_list[start : start + CHUNK]))
    return result.counts


def consent_rows(customer_id: int, purposes, now, actor_id, batch_id) -> list[dict]:
    """Consent history rows for consent a sheet records (on paper, as sheets are)."""
    return [
        {"customer_id": customer_id, "purpose": purpose, "action": "given", "method": "paper",
         "at": now, "recorded_by_id": actor_id, "source": f"import {batch_id}"}
        for purpose in purposes
    ]  # fmt: skip


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
    for row, customer_id in zip(rows, ids, strict=True):
        row.customer_id = customer_id
        for tag_id in _tag_ids(connection, row.values.get("tags") or [], tags, now):
            tag_rows.append({"customer_id": customer_id, "tag_id": tag_id, "created_at": now})
        if row.values.get("guardian_name"):
            family.append({
                "customer_id": customer_id, "name": row.values["guardian_name"],
                "relation": row.values.get("guardian_relation"), "phone": row.values.get("guardian_phone"),
                "email": row.values.get("guardian_email"), "birthday": None, "is_guardian": True,
            })  # fmt: skip
        for target, value in row.values.items():
            if target.startswith("date:"):
                dates.append(
                    {"customer_id": customer_id, "label": target.split(":", 1)[1], "date": value}
                )
            elif target.startswith("field:"):
                fields.append(
                    {
                        "customer_id": customer_id,
                        "field_id": int(target.split(":", 1)[1]),
                        "value": value,
                    }
                )
        if row.values.get("first_note"):
            entries.append({
                "customer_id": customer_id, "author_id": actor_id, "kind": "note",
                "body": row.values["first_note"], "created_at": now, "pinned": False,
                "alert_category": None, "alert_keywords": None,
            })  # fmt: skip
        if row.values.get("alert_allergy") and _alert_keywords(row):
            entries.append(_alert_entry(row, customer_id, actor_id, now))
        if row.values.get("last_visit"):
            entries.append(_visit_entry(row, customer_id, actor_id))
        given = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
        consents.extend(consent_rows(customer_id, given, now, actor_id, batch_id))
        changes.append(
            {"batch_id": batch_id, "customer_id": customer_id, "action": "created", "before": None}
        )
    for table, data in (
        (customer_tag, tag_rows),
        (FamilyMember.__table__, family),
        (ImportantDate.__table__, dates),
        (CustomFieldValue.__table__, fields),
        (TimelineEntry.__table__, entries),
        (ConsentEvent.__table__, consents),
        (ImportChange.__table__, changes),
    ):
        if data:
            connection.execute(sa.insert(table), data)


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
            self.family.append({
                "customer_id": customer_id, "name": row.values["guardian_name"],
                "relation": row.values.get("guardian_relation"), "phone": row.values.get("guardian_phone"),
                "email": row.values.get("guardian_email"), "birthday": None, "is_guardian": True,
            })  # fmt: skip
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
            before["fields"]["consent_purposes"] = ",".join(sorted(had))
            values["consent_purposes"] = ",".join(sorted(had | set(given)))
            self.consents.extend(
                consent_rows(customer_id, given, self.now, self.actor_id, self.batch_id)
            )
        if "phone" in values:
            values["phone_digits"] = digits_of(values["phone"])
            before["fields"]["phone_digits"] = digits_of(old.get("phone"))
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
            made.append({
                "customer_id": customer_id, "author_id": self.actor_id, "kind": "note",
                "body": row.values["first_note"], "created_at": self.now, "pinned": False,
                "alert_category": None, "alert_keywords": None,
            })  # fmt: skip
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
        for table_, data in (
            (customer_tag, self.tag_rows),
            (values_table, self.field_inserts),
            (ConsentEvent.__table__, self.consents),
            (ImportChange.__table__, self.changes),
        ):
            if data:
                connection.execute(sa.insert(table_), data)


def undo(session: Session, batch: ImportBatch) -> dict[str, int]:
    """Takes a whole import back: customers it created go (with everything added to them
    since), customers it updated get their old values back."""
    begin_write(session)
    connection = session.connection()
    changes = session.execute(
        sa.select(ImportChange.customer_id, ImportChange.action, ImportChange.before).where(
            ImportChange.batch_id == batch.id
        )
    ).all()
    created = [cid for cid, action, _ in changes if action == "created" and cid]
    removed = updated = 0
    for customer_id, action, before in changes:
        if action != "updated" or not customer_id:
            continue
        before = before or {}
        fields = {}
        for name, value in (before.get("fields") or {}).items():
            if name == "birthday" and value:
                value = date.fromisoformat(value)
            elif name == "last_visit_at" and value:
                value = datetime.fromisoformat(value)
            fields[name] = value
        if fields:
            connection.execute(
                sa.update(Customer.__table__)
                .where(Customer.__table__.c.id == customer_id)
                .values(**fields)
            )
        if before.get("tag_ids"):
            connection.execute(
                sa.delete(customer_tag).where(
                    customer_tag.c.customer_id == customer_id,
                    customer_tag.c.tag_id.in_(before["tag_ids"]),
                )
            )
        for key, model in (
            ("family_ids", FamilyMember),
            ("date_ids", ImportantDate),
            ("entry_ids", TimelineEntry),
        ):
            if before.get(key):
                connection.execute(
                    sa.delete(model.__table__).where(model.__table__.c.id.in_(before[key]))
                )
        for field_id, old in (before.get("fields_before") or {}).items():
            table = CustomFieldValue.__table__
            where = sa.and_(table.c.customer_id == customer_id, table.c.field_id == int(field_id))
            if old is None:
                connection.execute(sa.delete(table).where(where))
            else:
                connection.execute(sa.update(table).where(where).values(value=old))
        updated += 1
    for start in range(0, len(created), CHUNK):
        chunk = created[start : start + CHUNK]
        removed += connection.execute(
            sa.delete(Customer.__table__).where(Customer.__table__.c.id.in_(chunk))
        ).rowcount
        reindex_customers(connection, set(chunk))  # drops their search documents
    touched = sorted({cid for cid, action, _ in changes if action == "updated" and cid})
    for start in range(0, len(touched), CHUNK):
        reindex_customers(connection, set(touched[start : start + CHUNK]))
    connection.execute(
        sa.delete(ConsentEvent.__table__).where(
            ConsentEvent.__table__.c.source == f"import {batch.id}"
        )
    )
    batch.undone_at = utcnow()
    batch.status = "undone"
    return {"removed": removed, "restored": updated}
