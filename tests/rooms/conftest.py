"""A homestay with rooms and stays for the calendar, closure and iCal tests."""

from datetime import date

import pytest

from app.extensions import db
from app.services import stays as stay_service
from app.services.shop import ensure_shop


@pytest.fixture
def homestay(app):
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    rooms = [
        stay_service.save_room(db.session, None, name) for name in ("2號房", "10號房", "1號房")
    ]
    db.session.commit()
    return {room.name: room for room in rooms}


def book(customer, room, check_in: date, check_out: date, status: str = "booked"):
    from app.services import stays as service

    stay = service.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": check_in, "check_out": check_out, "status": status,
         "adults": 2, "children": 0},
        actor=None, today=date(2026, 1, 1) if status == "booked" else check_in,
    )  # fmt: skip
    db.session.commit()
    return stay
