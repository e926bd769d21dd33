"""Merging two records of one person: the survivor takes each field from either side (blanks
filled from the other), every row of the other (timeline, tags, family, dates, stays and their
money, purchases, enrolments, attendance, deliveries, LINE links, consents, reminders…) moves
to it, and the other stays as a tombstone pointing at the survivor. The merge record keeps
what moved and what the survivor's fields were, so undo puts everything back."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, insert_ignore_rows
from app.models import (
    Attendance,
    ConsentEvent,
    Customer,
    CustomerMerge,
    CustomFieldValue,
    Delivery,
    Enquiry,
    Enrolment,
    FamilyMember,
    ImportantDate,
    LineCode,
    LineLink,
    Purchase,
    Reminder,
    Stay,
    StayPayment,
    TimelineEntry,
    User,
    customer_tag,
)
from app.services import audit, privacy
from app.services.customers import digits_of
from app.services.merging.errors import MergeError
from app.services.search import reindex_customers

# The fields the merge page lets the user take from either side, in its order.
MERGE_FIELDS = (
    "display_name", "nickname", "level", "birthday", "phone", "email", "postal_address",
    "preferred_channel", "occupation", "summary", "assigned_user_id",
)  # fmt: skip
# What the merge may change on the survivor (and undo puts back).
_SNAPSHOT = (*MERGE_FIELDS, "phone_digits", "email_opt_out", "email_opt_out_at",
             "email_opt_out_source", "sms_opt_out", "last_contact_at", "last_visit_at")  # fmt: skip

# Every table whose rows belong to one customer moves to the survivor. The columns name what
# makes a row of the other's the same as one the survivor has (a unique key, or a plain
# repeat such as the same date): that row stays with the tombstone, the survivor's is kept.
MOVED = {
    TimelineEntry: (),
    FamilyMember: ("name", "relation"),
    ImportantDate: ("label", "date"),
    CustomFieldValue: ("field_id",),
    LineLink: ("user_id",),
    LineCode: (),
    ConsentEvent: (),
    Enrolment: (),
    Attendance: ("day",),
    Delivery: ("campaign_id",),
    Purchase: (),
    Reminder: ("rule_id", "occasion"),
    Stay: (),
    StayPayment: (),
    Enquiry: (),
}
# Tables with a customer key that a merge leaves as they are, and why.
LEFT_IN_PLACE = {
    "import_change": "what an import did to that record: undoing the import reads it",
    "customer_consent": "the survivor is given every consent the other held by "
    "privacy.merge_consents (with its history row); the other's own rows stay for undo",
}
HANDLED_TABLES = frozenset(
    {model.__tablename__ for model in MOVED} | {customer_tag.name} | set(LEFT_IN_PLACE)
)
CHUNK = 500


def _json(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def _unjson(name: str, value):
    """A snapshot value as the column takes it (dates were stored as text)."""
    if value is None:
        return None
    column_type = Customer.__table__.c[name].type
    if isinstance(column_type, sa.DateTime):
        return datetime.fromisoformat(value)
    if isinstance(column_type, sa.Date):
        return date.fromisoformat(value)
    return value


def _snapshot(customer: Customer) -> dict:
    return {name: _json(getattr(customer, name)) for name in _SNAPSHOT}


def _pair(session: Session, keep_id: int, other_id: int) -> tuple[Customer, Customer]:
    """The two records, or MergeError: the same person, one missing, erased or merged."""
    if keep_id == other_id:
        raise MergeError("same")
    survivor, other = session.get(Customer, keep_id), session.get(Customer, other_id)
    if survivor is None or other is None:
        raise MergeError("missing")
    if survivor.erased_at is not None or other.erased_at is not None:
        raise MergeError("erased")
    if survivor.merged_into_id is not None or other.merged_into_id is not None:
        raise MergeError("merged")
    return survivor, other


def _key(table: sa.Table) -> sa.Column:
    """The row's own key (LINE codes are keyed by their hash, the rest by id)."""
    return list(table.primary_key.columns)[0]


def _split(session: Session, model, keys: tuple, keep_id: int, other_id: int):
    """The other's row ids that move, and those that stay (the survivor has the same)."""
    table = model.__table__
    if not keys:
        ids = session.scalars(sa.select(_key(table)).where(table.c.customer_id == other_id))
        return list(ids), []
    columns = [table.c[key] for key in keys]
    survivors = {
        tuple(row) for row in session.execute(sa.select(*columns).where(
            table.c.customer_id == keep_id))
    }  # fmt: skip
    move, stay = [], []
    for row in session.execute(
        sa.select(_key(table), *columns).where(table.c.customer_id == other_id)
    ):
        key = tuple(row[1:])
        # Reminders by hand (no rule) never clash: each is its own thing to do.
        clash = key in survivors and not (model is Reminder and key[0] is None)
        (stay if clash else move).append(row[0])
    return move, stay


def _set_owner(session: Session, model, ids: list[int], owner_id: int, where_owner: int):
    table = model.__table__
    for start in range(0, len(ids), CHUNK):
        session.execute(
            sa.update(table)
            .where(_key(table).in_(ids[start : start + CHUNK]), table.c.customer_id == where_owner)
            .values(customer_id=owner_id)
        )


def _move_tags(session: Session, keep_id: int, other_id: int) -> dict:
    table = customer_tag
    theirs = session.execute(
        sa.select(table.c.tag_id, table.c.created_at).where(table.c.customer_id == other_id)
    ).all()
    mine = set(session.scalars(sa.select(table.c.tag_id).where(table.c.customer_id == keep_id)))
    gained = [tag_id for tag_id, _ in theirs if tag_id not in mine]
    session.execute(sa.delete(table).where(table.c.customer_id == other_id))
    insert_ignore_rows(session, table, [
        {"customer_id": keep_id, "tag_id": tag_id, "created_at": created}
        for tag_id, created in theirs if tag_id in gained
    ])  # fmt: skip
    return {"tags": [[tag_id, _json(created)] for tag_id, created in theirs], "tags_gained": gained}


def _move_rows(session: Session, keep_id: int, other_id: int, now: datetime) -> dict:
    """Moves everything of the other's to the survivor; returns what moved (for undo)."""
    moved: dict = {}
    for model, keys in MOVED.items():
        move, stay = _split(session, model, keys, keep_id, other_id)
        _set_owner(session, model, move, keep_id, other_id)
        moved[model.__tablename__] = move
        if stay:
            moved.setdefault("kept_on_other", {})[model.__tablename__] = stay
    # A rule's reminder the survivor also has would be a second thing to do for one person.
    twins = moved.get("kept_on_other", {}).get(Reminder.__tablename__, [])
    resolved = list(session.scalars(
        sa.select(Reminder.id).where(Reminder.id.in_(twins), Reminder.done_at.is_(None))
    )) if twins else []  # fmt: skip
    if resolved:
        session.execute(
            sa.update(Reminder.__table__)
            .where(Reminder.__table__.c.id.in_(resolved))
            .values(done_at=now, done_how="resolved")
        )
    moved["resolved_reminders"] = resolved
    moved.update(_move_tags(session, keep_id, other_id))
    return moved


def _choose_fields(survivor: Customer, other: Customer, choices: dict[str, str]) -> None:
    for name in MERGE_FIELDS:
        mine, theirs = getattr(survivor, name), getattr(other, name)
        first, second = (theirs, mine) if choices.get(name) == "other" else (mine, theirs)
        setattr(survivor, name, first if first not in (None, "") else second)
    survivor.phone_digits = digits_of(survivor.phone)
    # Asked not to be written to on either record: not written to.
    if other.email_opt_out and not survivor.email_opt_out:
        survivor.email_opt_out = True
        survivor.email_opt_out_at = other.email_opt_out_at
        survivor.email_opt_out_source = other.email_opt_out_source
    survivor.sms_opt_out = bool(survivor.sms_opt_out or other.sms_opt_out)
    for name in ("last_contact_at", "last_visit_at"):
        moments = [m for m in (getattr(survivor, name), getattr(other, name)) if m is not None]
        setattr(survivor, name, max(moments) if moments else None)


def _check_choices(choices: dict[str, str]) -> None:
    for name, side in choices.items():
        if name not in MERGE_FIELDS or side not in ("keep", "other"):
            raise MergeError("choice")


def merge(
    session: Session, keep_id: int, other_id: int, *, choices: dict[str, str] | None = None,
    versions: tuple[int, int] | None = None, actor: User | None = None, ip: str | None = None,
) -> CustomerMerge:  # fmt: skip
    """Merges `other_id` into `keep_id`. `choices` maps a field to "keep" or "other";
    `versions` are the two records' versions when the page was shown (MergeError "changed"
    when either was saved since). The caller commits."""
    choices = choices or {}
    _check_choices(choices)
    begin_write(session)
    survivor, other = _pair(session, keep_id, other_id)
    if versions is not None and tuple(versions) != (survivor.version, other.version):
        raise MergeError("changed")
    now = utcnow()
    record = CustomerMerge(survivor_id=keep_id, other_id=other_id, other_name=other.display_name,
                           merged_by_id=actor.id if actor else None, merged_at=now)  # fmt: skip
    session.add(record)
    session.flush()
    before = _snapshot(survivor)
    other_before = {"archived_at": _json(other.archived_at)}
    record.moved = _move_rows(session, keep_id, other_id, now)
    session.flush()
    session.expire_all()  # the moved rows' collections are read again
    survivor, other = session.get(Customer, keep_id), session.get(Customer, other_id)
    _choose_fields(survivor, other, choices)
    before["consent"] = privacy.merge_consents(
        session, survivor, other, actor=actor, source=f"merge {record.id}"
    )
    other.archived_at = other.archived_at or now
    other.merged_into_id = keep_id
    for customer in (survivor, other):
        customer.version += 1
        customer.updated_at = now
    record.survivor_before, record.other_before = before, other_before
    record.survivor_after = _snapshot(survivor)
    session.flush()
    reindex_customers(session.connection(), {keep_id, other_id})
    audit.record(session, "customer.merge", "customer", keep_id,
                 detail=f"#{other.member_number} {other.display_name} → #{survivor.member_number}",
                 user_id=actor.id if actor else None, ip=ip)  # fmt: skip
    return record


def _move_back(session: Session, record: CustomerMerge) -> None:
    moved = record.moved or {}
    for model in MOVED:
        _set_owner(session, model, moved.get(model.__tablename__, []), record.other_id,
                   record.survivor_id)  # fmt: skip
    if moved.get("resolved_reminders"):
        session.execute(
            sa.update(Reminder.__table__)
            .where(Reminder.__table__.c.id.in_(moved["resolved_reminders"]),
                   Reminder.__table__.c.done_how == "resolved")
            .values(done_at=None, done_how=None, done_by_id=None)
        )  # fmt: skip
    if moved.get("tags_gained"):
        session.execute(
            sa.delete(customer_tag).where(
                customer_tag.c.customer_id == record.survivor_id,
                customer_tag.c.tag_id.in_(moved["tags_gained"]),
            )
        )
    insert_ignore_rows(session, customer_tag, [
        {"customer_id": record.other_id, "tag_id": tag_id,
         "created_at": datetime.fromisoformat(created) if created else None}
        for tag_id, created in moved.get("tags", [])
    ])  # fmt: skip


def _undoable(session: Session, merge_id: int) -> CustomerMerge:
    """The merge, or MergeError: unknown, undone, a record erased or merged again since."""
    record = session.get(CustomerMerge, merge_id)
    if record is None:
        raise MergeError("missing")
    if record.undone_at is not None:
        raise MergeError("undone")
    survivor = session.get(Customer, record.survivor_id)
    other = session.get(Customer, record.other_id)
    if survivor is None or other is None:
        raise MergeError("missing")
    if survivor.erased_at is not None or other.erased_at is not None:
        raise MergeError("erased")
    if survivor.merged_into_id is not None or other.merged_into_id != survivor.id:
        raise MergeError("merged_again")
    return record


def undo(session: Session, merge_id: int, *, actor: User | None = None,
         ip: str | None = None) -> CustomerMerge:  # fmt: skip
    """Takes a merge back: the other's rows return to it, the survivor's fields are as they
    were (those edited since the merge keep their new values), both records are listed again."""
    begin_write(session)
    record = _undoable(session, merge_id)
    session.flush()
    _move_back(session, record)
    session.expire_all()
    survivor, other = (
        session.get(Customer, record.survivor_id),
        session.get(Customer, record.other_id),
    )
    before, after = dict(record.survivor_before or {}), record.survivor_after or {}
    privacy.unmerge_consents(session, survivor, before.pop("consent", {}),
                             source=f"merge {record.id}")  # fmt: skip
    for name, value in before.items():
        if _json(getattr(survivor, name)) == after.get(name):
            setattr(survivor, name, _unjson(name, value))
    other.archived_at = _unjson("archived_at", (record.other_before or {}).get("archived_at"))
    other.merged_into_id = None
    now = utcnow()
    for customer in (survivor, other):
        customer.version += 1
        customer.updated_at = now
    record.undone_at = now
    record.undone_by_id = actor.id if actor else None
    session.flush()
    reindex_customers(session.connection(), {survivor.id, other.id})
    audit.record(session, "customer.unmerge", "customer", survivor.id,
                 detail=f"#{other.member_number} {other.display_name}",
                 user_id=actor.id if actor else None, ip=ip)  # fmt: skip
    return record


def merge_preview(session: Session, keep_id: int, other_id: int) -> dict:
    """What the merge page shows: both records, each field side by side, and how many rows
    of each kind would move (MergeError when the two cannot be merged)."""
    survivor, other = _pair(session, keep_id, other_id)
    counts = {}
    for model in (*MOVED, customer_tag):
        table = model if isinstance(model, sa.Table) else model.__table__
        counts[table.name] = session.scalar(
            sa.select(sa.func.count()).select_from(table).where(table.c.customer_id == other_id)
        )
    fields = [(name, getattr(survivor, name), getattr(other, name)) for name in MERGE_FIELDS]
    return {"survivor": survivor, "other": other, "fields": fields, "counts": counts}


def merges_into(session: Session, customer_id: int) -> list[CustomerMerge]:
    """The merges into this customer that can still be undone, newest first."""
    return list(session.scalars(
        sa.select(CustomerMerge)
        .where(CustomerMerge.survivor_id == customer_id, CustomerMerge.undone_at.is_(None))
        .order_by(CustomerMerge.id.desc())
    ))  # fmt: skip
