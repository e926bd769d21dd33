"""Undoing a whole import: the customers it created go (with everything added to them
since), the customers it updated get their old values back, the stays it added to them go,
its consent records go."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import (
    ConsentEvent,
    Customer,
    CustomerConsent,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
    ImportBatch,
    ImportChange,
    TimelineEntry,
    customer_tag,
)
from app.services.importer.running import _chunks
from app.services.importer.stays import undo_stays
from app.services.search import reindex_customers


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
    created = [customer_id for customer_id, _ in _changes_of(changes, "created")]
    updated = _changes_of(changes, "updated")
    stay_changes = _changes_of(changes, "stays")
    stays_removed = undo_stays(connection, stay_changes)
    for customer_id, before in updated:
        _restore(connection, customer_id, before)
    removed = _remove_created(connection, created)
    for chunk in _chunks(sorted({customer_id for customer_id, _ in updated})):
        reindex_customers(connection, set(chunk))
    connection.execute(
        sa.delete(ConsentEvent.__table__).where(
            ConsentEvent.__table__.c.source == f"import {batch.id}"
        )
    )
    batch.undone_at = utcnow()
    batch.status = "undone"
    result = {"removed": removed, "restored": len(updated)}
    return {**result, "stays": stays_removed} if stay_changes else result


def _changes_of(changes, action: str) -> list[tuple[int, dict]]:
    """(customer id, before) of the recorded changes with that action, whose customer is
    still there."""
    return [(cid, before or {}) for cid, done, before in changes if done == action and cid]


def _remove_created(connection, created: list[int]) -> int:
    """Removes the customers an import created (with everything added to them since);
    returns how many there were."""
    removed = 0
    for chunk in _chunks(created):
        removed += connection.execute(
            sa.delete(Customer.__table__).where(Customer.__table__.c.id.in_(chunk))
        ).rowcount
        reindex_customers(connection, set(chunk))  # drops their search documents
    return removed


# What undo parses back from the JSON an updated customer's `before` was stored as.
_STORED_AS_TEXT = {"birthday": date.fromisoformat, "last_visit_at": datetime.fromisoformat}


def _restore(connection, customer_id: int, before: dict) -> None:
    """Puts back what an import changed of one customer (`before`, recorded by
    _UpdateBatch): profile columns, and removes the tags, family, dates and timeline
    entries it added."""
    old = dict(before.get("fields") or {})
    # Consent was a column of comma-separated purposes in imports made before it had rows.
    legacy = old.pop("consent_purposes", None)
    if "consents" in before or legacy is not None:
        had = before.get("consents") or (legacy or "").split(",")
        _restore_consents(connection, customer_id, {purpose for purpose in had if purpose})
    fields = {name: _stored_value(name, value) for name, value in old.items()}
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
    _restore_custom_fields(connection, customer_id, before.get("fields_before") or {})


def _restore_consents(connection, customer_id: int, had: set[str]) -> None:
    """Withdraws the consents an import gave that the customer did not have before."""
    table = CustomerConsent.__table__
    query = sa.delete(table).where(table.c.customer_id == customer_id)
    if had:
        query = query.where(table.c.purpose.not_in(sorted(had)))
    connection.execute(query)


def _stored_value(name: str, value):
    """A profile column's old value as the database takes it (dates were stored as text)."""
    parse = _STORED_AS_TEXT.get(name)
    return parse(value) if parse and value else value


def _restore_custom_fields(connection, customer_id: int, old_values: dict) -> None:
    """Custom values back as they were: removed where the import added them."""
    table = CustomFieldValue.__table__
    for field_id, old in old_values.items():
        where = sa.and_(table.c.customer_id == customer_id, table.c.field_id == int(field_id))
        if old is None:
            connection.execute(sa.delete(table).where(where))
        else:
            connection.execute(sa.update(table).where(where).values(value=old))
