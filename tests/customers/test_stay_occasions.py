"""Next year's occasion: a stay that carried a birthday or an anniversary makes a reminder
six weeks before the day comes round, offering last year's room, or a bigger one when the
children, a year older, no longer fit it. Made by the worker's hourly rules run."""

from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Reminder
from app.services import stays as service
from app.services.shop import ensure_shop, shop_context
from app.services.stays import occasions
from app.tasks import run_reminder_rules_now
from tests.conftest import login
from tests.factories import make_customer, make_user


def _last_year(day: date) -> date:
    return day.replace(year=day.year - 1) if not (day.month == 2 and day.day == 29) else day


def _stay(customer, room, occasion_on, *, ages="", occasion="birthday", who="小安", adults=2):
    check_in = occasion_on - timedelta(days=1)
    stay = service.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": check_in, "check_out": check_in + timedelta(days=2),
         "status": "stayed", "adults": adults, "children_ages": ages, "occasion": occasion,
         "occasion_who": who, "occasion_on": occasion_on},
        actor=None, today=shop_context(db.session).today,
    )  # fmt: skip
    db.session.commit()
    return stay


def test_a_birthday_stay_brings_a_reminder_six_weeks_before_with_a_bigger_room(app, client):
    ensure_shop(db.session).kind = "homestay"
    db.session.commit()
    make_user("owner")
    today = shop_context(db.session).today
    triple = service.save_room(db.session, None, "三人房", capacity=3)
    service.save_room(db.session, None, "家庭四人房", capacity=4)
    service.save_room(db.session, None, "海景雙人房", capacity=2)
    db.session.commit()
    grown = make_customer("林美華")
    same = make_customer("陳先生")
    far = make_customer("王小姐")
    # Last year: two adults, children of 3 and 5 in the three-person room. A year older, the
    # three-year-old takes a place (4 people): the family room is offered.
    _stay(grown, triple, _last_year(today + timedelta(days=30)), ages="3, 5")
    # Two adults and a baby: still fit last year's room, which is offered again.
    _stay(same, triple, _last_year(today + timedelta(days=40)), ages="0", occasion="anniversary",
          who="")  # fmt: skip
    # Seven weeks away: not yet.
    _stay(far, triple, _last_year(today + timedelta(days=49)), ages="")
    assert run_reminder_rules_now()["created"] == 2
    assert run_reminder_rules_now()["created"] == 0  # once per stay and year
    made = {r.customer_id: r for r in db.session.scalars(sa.select(Reminder))}
    assert set(made) == {grown.id, same.id}
    assert made[grown.id].reason["room"] == "家庭四人房" and made[grown.id].reason["bigger"]
    assert made[grown.id].reason["people"] == 4
    assert made[same.id].reason["room"] == "三人房" and not made[same.id].reason["bigger"]
    assert made[grown.id].due_date == today
    login(client, make_user("frontdesk"))
    page = client.get("/reminders/?view=all").get_data(as_text=True)
    assert "Birthday (小安)" in page and "offer 家庭四人房, a bigger room (4 people now" in page
    assert "offer 三人房 again" in page
    chinese = client.get("/reminders/?view=all", headers={"Accept-Language": "zh-TW"})
    assert "推薦家庭四人房，比較大的房間" in chinese.get_data(as_text=True)


def test_the_party_next_year_and_the_occasions_day(app):
    room = service.save_room(db.session, None, "三人房", capacity=3)
    db.session.commit()
    stay = _stay(make_customer("林美華"), room, date(2024, 2, 29), ages="1, 3, 8")
    assert occasions.places_needed(stay, 0) == 3  # the one-year-old and three-year-old share
    assert occasions.places_needed(stay, 1) == 4
    assert occasions.next_occasion(stay, date(2025, 1, 20)) == date(2025, 2, 28)
    assert occasions.next_occasion(stay, date(2025, 3, 1)) == date(2026, 2, 28)
