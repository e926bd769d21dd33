"""The migration that forbids double bookings, on a shop that already has some: the first
booking made keeps the room, the later ones keep their details but lose the room ("needs a
room"), with a pinned line on the guest's timeline and an audit line saying why; then the
database refuses new overlaps (PostgreSQL's exclusion constraint)."""

import pytest
import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from app.extensions import db
from app.models import AuditEvent, Stay, TimelineEntry
from tests.conftest import login, postgres_wanted
from tests.factories import make_user

BEFORE = "c8e2f3a4b5d6"


def _insert_guest(name: str, number: int) -> int:
    db.session.execute(
        sa.text(
            "INSERT INTO customer (display_name, member_number, level, consent_purposes, "
            "email_opt_out, sms_opt_out, created_at, updated_at, version) VALUES (:n, :m, 'C', "
            "'', false, false, '2026-01-01 08:00:00', '2026-01-01 08:00:00', 1)"
        ),
        {"n": name, "m": f"M{number:06d}"},
    )
    return db.session.scalar(sa.text("SELECT max(id) FROM customer"))


def _insert_stay(customer_id, room_id, check_in, check_out, status, created_at):
    db.session.execute(
        sa.text(
            "INSERT INTO stay (customer_id, room_id, check_in, check_out, adults, children, "
            "amount, deposit, status, source, note, created_at) VALUES (:c, :r, :i, :o, 2, 0, "
            "0, 0, :s, '', '', :at)"
        ),
        {"c": customer_id, "r": room_id, "i": check_in, "o": check_out, "s": status,
         "at": created_at},
    )  # fmt: skip
    return db.session.scalar(sa.text("SELECT max(id) FROM stay"))


def test_existing_double_bookings_lose_their_room_and_the_database_refuses_new_ones(app):
    db.session.remove()
    downgrade(revision=BEFORE)
    # Rows written as the old schema has them (the model has columns added since).
    ids = [_insert_guest(name, number) for number, name in
           enumerate(("林美華", "陳先生", "王小姐", "張太太", "李先生"), start=1)]  # fmt: skip
    db.session.commit()
    for name in ("海景雙人房", "山景雙人房"):
        db.session.execute(sa.text("INSERT INTO room (name, active) VALUES (:n, :a)"),
                           {"n": name, "a": True})  # fmt: skip
    sea, hill = db.session.execute(sa.text("SELECT id FROM room ORDER BY id")).scalars().all()
    first = _insert_stay(ids[0], sea, "2027-03-01", "2027-03-03", "booked", "2026-01-01 10:00:00")
    second = _insert_stay(ids[1], sea, "2027-03-02", "2027-03-04", "booked", "2026-01-01 11:00:00")
    third = _insert_stay(ids[2], sea, "2027-03-01", "2027-03-02", "booked", "2026-01-01 12:00:00")
    cancelled = _insert_stay(ids[3], sea, "2027-03-01", "2027-03-03", "cancelled",
                             "2026-01-01 09:00:00")  # fmt: skip
    other_room = _insert_stay(ids[4], hill, "2027-03-01", "2027-03-03", "booked",
                              "2026-01-01 13:00:00")  # fmt: skip
    db.session.commit()
    db.session.remove()
    upgrade()
    rooms = dict(db.session.execute(sa.select(Stay.id, Stay.room_id)).all())
    assert rooms == {first: sea, second: None, third: None, cancelled: sea, other_room: hill}
    notes = db.session.scalars(
        sa.select(TimelineEntry).where(TimelineEntry.customer_id.in_([ids[1], ids[2]]))
    ).all()
    assert len(notes) == 2 and all(note.pinned for note in notes)
    assert all("需要安排房間" in note.body and "林美華" in note.body for note in notes)
    lost = db.session.scalars(
        sa.select(AuditEvent.detail).where(AuditEvent.action == "stay.lost_room")
    ).all()
    assert len(lost) == 2 and all(f"clashed with stay {first}" in line for line in lost)
    if postgres_wanted():
        with pytest.raises(sa.exc.IntegrityError, match="stay_no_double_booking"):
            _insert_stay(ids[1], sea, "2027-03-02", "2027-03-03", "booked", "2026-02-01 10:00")
        db.session.rollback()
    # The desk sees them on the booking page (each links to its stay, to give it a room).
    client = app.test_client()
    make_user("owner")
    login(client, make_user("frontdesk"))
    response = client.get("/bookings/new")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    needing = page[page.index("Bookings that need a room") : page.index("New guest")]
    assert "陳先生" in needing and "王小姐" in needing and "林美華" not in needing
    # Cancelled over a booking is fine in the database too.
    _insert_stay(ids[1], sea, "2027-03-02", "2027-03-03", "cancelled", "2026-02-01 10:00:00")
    db.session.commit()
