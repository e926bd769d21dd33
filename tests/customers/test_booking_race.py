"""20 simultaneous phone bookings of one room and night, through HTTP, against the real web
server (app/web_server.py, 2 processes) on the suite's database (SQLite, or PostgreSQL with
HEARTH_TEST_DATABASE=postgresql): exactly one wins, the 19 others are told which booking
took the room."""

from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import Customer, Stay
from bench import bookings
from devtools.demo import seed_demo


def test_twenty_simultaneous_bookings_of_one_room_and_night_one_wins(app):
    from app.services import stays

    seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0, kind="homestay")
    room = stays.save_room(db.session, None, "海景雙人房")
    db.session.commit()
    room_id = room.id
    url = app.config["SQLALCHEMY_DATABASE_URI"]
    db.session.remove()
    outcome = bookings.race_on(Path(app.instance_path), url, room_id)
    assert outcome == {"winners": 1, "refused": 19, "other": {}, "answers": 20}, outcome
    winners = db.session.scalars(sa.select(Stay).where(Stay.room_id == room_id)).all()
    assert len(winners) == 1
    # The refused did not leave a guest behind either.
    guests = db.session.scalar(
        sa.select(sa.func.count()).select_from(Customer).where(Customer.display_name.like("Race%"))
    )
    assert guests == 1
