"""A guest book's stay columns (check-in; check-out or nights; room; amount): each row's stay
checked against the shop's rooms, the sheet's other stays and the stays already booked, then
written in the same transaction as the customers and taken back with the import."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import reserve_ids
from app.models import Customer, ImportChange, Room, Stay, TimelineEntry
from app.services import stays as stay_rules
from app.services.importer.columns import STAY_TARGETS
from app.services.importer.rows import Row

ACTIVE = ("booked", "stayed")  # stays that hold their room


@dataclass
class PlannedStay:
    """One row's stay as it will be written."""

    room: Room | None
    check_in: date
    check_out: date
    amount: int
    status: str


def _dates(row: Row, today: date) -> tuple[date, date] | None:
    """Check-in and check-out of a row (check-out, else nights, else one night), or None
    with the row's error added."""
    values = row.values
    check_in = values["stay_check_in"]
    check_out = values.get("stay_check_out")
    nights = values.get("stay_nights")
    if check_out is None:
        check_out = check_in + timedelta(days=nights or 1)
    elif nights and (check_out - check_in).days != nights:
        row.errors.append(("stay_nights", "nights-disagree"))
        return None
    try:
        stay_rules.check({"check_in": check_in, "check_out": check_out}, today)
    except stay_rules.StayError as error:
        target = "stay_check_in" if error.code == "date-range" else "stay_check_out"
        row.errors.append((target, f"stay-{error.code}"))
        return None
    return check_in, check_out


def _stay_of(row: Row, rooms: dict[str, Room], today: date) -> PlannedStay | None:
    """The row's stay, or None (no stay columns filled, or an error added to the row)."""
    stay_text = any((row.raw.get(t) or "").strip() for t in STAY_TARGETS)
    if not stay_text or any(target in STAY_TARGETS for target, _code in row.errors):
        return None
    if "stay_check_in" not in row.values:
        row.errors.append(("stay_check_in", "stay-no-check-in"))
        return None
    days = _dates(row, today)
    room = None
    name = " ".join(str(row.values.get("stay_room") or "").split())
    if name:
        room = rooms.get(name.lower())
        if room is None:
            row.errors.append(("stay_room", "stay-unknown-room"))
    if days is None or (name and room is None):
        return None
    status = "stayed" if days[0] < today else "booked"
    return PlannedStay(room, days[0], days[1], int(row.values.get("stay_amount") or 0), status)


def check_stays(session: Session, rows: list[Row], today: date) -> None:
    """Every row's stay (row.stay), with the rows' errors: bad dates, an unknown room, a room
    that two rows of the sheet book for the same night, a room already booked then. A stay
    its customer already has (a guest book imported again) is marked known, not a clash."""
    rooms = {" ".join(room.name.split()).lower(): room for room in session.scalars(sa.select(Room))}
    for row in rows:
        row.stay = _stay_of(row, rooms, today)
    _sheet_clashes([row for row in rows if row.stay and row.stay.room])
    _booked_clashes(session, [row for row in rows if row.stay and row.stay.room])


def _sheet_clashes(rows: list[Row]) -> None:
    """A row whose room an earlier row books for one of the same nights is in error."""
    taken: dict[int, list[tuple[date, date, int]]] = {}
    for row in rows:
        stay = row.stay
        earlier = taken.setdefault(stay.room.id, [])
        other = next((n for start, end, n in earlier if start < stay.check_out
                      and stay.check_in < end), None)  # fmt: skip
        if other is not None:
            row.errors.append(("stay_room", f"stay-clash-row:{other}"))
            row.stay = None
        else:
            earlier.append((stay.check_in, stay.check_out, row.number))


def _booked_clashes(session: Session, rows: list[Row]) -> None:
    """A row whose room is already booked for one of its nights is in error (naming that
    booking), unless it is that very stay of the same customer."""
    if not rows:
        return
    first = min(row.stay.check_in for row in rows)
    last = max(row.stay.check_out for row in rows)
    booked: dict[int, list] = {}
    for item in session.execute(
        sa.select(
            Stay.room_id, Stay.customer_id, Stay.check_in, Stay.check_out, Customer.display_name
        )  # fmt: skip
        .join(Customer, Customer.id == Stay.customer_id)
        .where(
            Stay.room_id.in_({row.stay.room.id for row in rows}),
            Stay.status.in_(ACTIVE),
            Stay.check_in < last,
            Stay.check_out > first,
        )
        .order_by(Stay.check_in)
    ):
        booked.setdefault(item.room_id, []).append(item)
    for row in rows:
        _against_booked(row, booked.get(row.stay.room.id, []))


def _against_booked(row: Row, booked: list) -> None:
    stay = row.stay
    for item in booked:
        if not (item.check_in < stay.check_out and stay.check_in < item.check_out):
            continue
        same = (item.customer_id, item.check_in, item.check_out) == (
            row.customer_id, stay.check_in, stay.check_out,
        )  # fmt: skip
        if same and row.customer_id is not None:
            row.stay_known = True
            continue
        name = f"{item.display_name} {item.check_in.isoformat()}→{item.check_out.isoformat()}"
        row.errors.append(("stay_room", f"stay-clash:{name}"))
        row.stay = None
        return


def stay_rows(rows: list[Row]) -> list[Row]:
    """The rows whose stay the import writes (new customers', updated customers', further
    stays of a guest above), not the stays their customer already has."""
    return [
        row
        for row in rows
        if row.stay and not row.stay_known and row.outcome in ("new", "updated", "stay")
    ]


def _noon(day: date, zone: str) -> datetime:
    local = datetime.combine(day, time(12), tzinfo=ZoneInfo(zone))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def _entry_text(stay: PlannedStay, locale: str) -> str:
    """The stay's line on the timeline, as a stay typed in by hand has."""
    shown = SimpleNamespace(
        room=stay.room, status=stay.status, check_in=stay.check_in, check_out=stay.check_out,
        nights=(stay.check_out - stay.check_in).days, amount=stay.amount, note="",
    )  # fmt: skip
    return stay_rules._entry_text(shown, locale)


def write_stays(
    session: Session, planned: list[tuple[int, PlannedStay]], *, actor_id, batch_id, now,
    zone: str, locale: str, before: dict[int, dict],
) -> int:  # fmt: skip
    """Writes the import's stays ((customer id, stay) pairs), each with its line on the
    guest's timeline, and moves the guests' last visit on; records what undo takes back
    (`before`: customer id → their last visit and last contact before the import).
    The one place an import creates stays."""
    if not planned:
        return 0
    from app.services.stays import ensure_free  # the one gate: no room booked twice

    for _customer_id, stay in planned:
        if stay.room is not None and stay.status in ("booked", "stayed"):
            # The dry run found the clashes then; a booking made since stops the import here
            # (all or nothing), as PostgreSQL's constraint would.
            ensure_free(session, stay.room.id, stay.check_in, stay.check_out)
    connection = session.connection()
    entries = []
    for customer_id, stay in planned:
        entries.append({
            "customer_id": customer_id, "author_id": actor_id,
            "kind": "visit" if stay.status == "stayed" else "note", "action": "stay",
            "body": _entry_text(stay, locale), "created_at": _noon(stay.check_in, zone),
            "pinned": False, "alert_category": None, "alert_keywords": None,
        })  # fmt: skip
    entry_ids = reserve_ids(connection, TimelineEntry.__table__, len(entries))
    stay_ids = reserve_ids(connection, Stay.__table__, len(planned))
    for entry_id, entry in zip(entry_ids, entries, strict=True):
        entry["id"] = entry_id
    connection.execute(sa.insert(TimelineEntry.__table__), entries)
    connection.execute(sa.insert(Stay.__table__), [
        {"id": stay_id, "customer_id": customer_id, "room_id": stay.room.id if stay.room else None,
         "check_in": stay.check_in, "check_out": stay.check_out, "adults": 1, "children": 0,
         "amount": stay.amount, "deposit": 0, "status": stay.status, "source": "", "note": "",
         "entry_id": entry_id, "created_at": now, "created_by_id": actor_id}
        for stay_id, entry_id, (customer_id, stay) in zip(stay_ids, entry_ids, planned, strict=True)
    ])  # fmt: skip
    _record_for_undo(connection, planned, stay_ids, entry_ids, batch_id, before)
    _move_last_visit(connection, planned, entries)
    return len(planned)


def _record_for_undo(connection, planned, stay_ids, entry_ids, batch_id, before) -> None:
    """One "stays" change per guest: their new stays and timeline lines, and what their last
    visit was."""
    per_customer: dict[int, dict] = {}
    for stay_id, entry_id, (customer_id, _stay) in zip(stay_ids, entry_ids, planned, strict=True):
        record = per_customer.setdefault(
            customer_id, {"stay_ids": [], "entry_ids": [], **before.get(customer_id, {})}
        )
        record["stay_ids"].append(stay_id)
        record["entry_ids"].append(entry_id)
    connection.execute(sa.insert(ImportChange.__table__), [
        {"batch_id": batch_id, "customer_id": cid, "action": "stays", "before": record}
        for cid, record in per_customer.items()
    ])  # fmt: skip


def _move_last_visit(connection, planned, entries) -> None:
    """Last visit (and last contact) = the latest stayed night, when later than the one on
    record."""
    latest: dict[int, datetime] = {}
    for (customer_id, stay), entry in zip(planned, entries, strict=True):
        if stay.status == "stayed":
            moment = entry["created_at"]
            latest[customer_id] = max(latest.get(customer_id, moment), moment)
    table = Customer.__table__
    for column in ("last_visit_at", "last_contact_at"):
        for customer_id, moment in latest.items():
            connection.execute(
                sa.update(table)
                .where(table.c.id == customer_id)
                .where(sa.or_(table.c[column].is_(None), table.c[column] < moment))
                .values({column: moment})
            )


def undo_stays(connection, changes: list[tuple[int, dict]]) -> int:
    """Takes back the stays an import wrote to guests who are still there (a created guest
    goes with hers): the stays, their timeline lines, the last visit as it was."""
    removed = 0
    table = Customer.__table__
    for customer_id, before in changes:
        removed += connection.execute(
            sa.delete(Stay.__table__).where(Stay.__table__.c.id.in_(before.get("stay_ids") or []))
        ).rowcount
        connection.execute(
            sa.delete(TimelineEntry.__table__).where(
                TimelineEntry.__table__.c.id.in_(before.get("entry_ids") or [])
            )
        )
        old = {
            column: datetime.fromisoformat(before[column]) if before.get(column) else None
            for column in ("last_visit_at", "last_contact_at")
            if column in before
        }
        if old:
            connection.execute(sa.update(table).where(table.c.id == customer_id).values(**old))
    return removed
