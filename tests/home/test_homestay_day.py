"""A homestay's day and month: who arrives, leaves, is in house (overstays too), which rooms
to prepare; occupancy in room-nights and income by month (month edges, stays across a month's
end, cancelled and no-show stays left out); the Today page and the lists behind its counts."""

from datetime import date, datetime, timedelta

import pytest

from app.extensions import db
from app.models import Product, Purchase, Room, Stay
from app.services.home import homestay_day as service
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import make_alert, make_customer, make_user

TODAY = date(2026, 3, 15)


def _homestay(*names: str) -> list[Room]:
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    rooms = [Room(name=name) for name in names or ("海景雙人房",)]
    db.session.add_all(rooms)
    db.session.commit()
    return rooms


def _stay(name, room, check_in, nights, status="booked", *, amount=0, checked_in=False,
          checked_out=False, **fields) -> Stay:  # fmt: skip
    customer = make_customer(name)
    stay = Stay(
        customer_id=customer.id, room_id=room.id if room else None, check_in=check_in,
        check_out=check_in + timedelta(days=nights), status=status, amount=amount,
        checked_in_at=datetime(2026, 1, 1, 7) if checked_in else None,
        checked_out_at=datetime(2026, 1, 1, 3) if checked_out else None, **fields,
    )  # fmt: skip
    db.session.add(stay)
    db.session.commit()
    return stay


def _names(stays) -> list[str]:
    return [stay.customer.display_name for stay in stays]


def test_arrivals_departures_and_in_house(app):
    sea, hill, tatami = _homestay("海景", "山景", "和室")
    _stay("林美華", sea, TODAY, 2)
    _stay("已取消", hill, TODAY, 2, "cancelled")
    _stay("明天來", hill, TODAY + timedelta(days=1), 1)
    _stay("陳先生", hill, TODAY - timedelta(days=2), 2, "stayed", checked_in=True)
    _stay("已退房", tatami, TODAY - timedelta(days=1), 1, "stayed", checked_in=True,
          checked_out=True)  # fmt: skip
    _stay("延住", tatami, TODAY - timedelta(days=4), 2, "stayed", checked_in=True)
    _stay("提早到", sea, TODAY + timedelta(days=5), 2, "stayed", checked_in=True)
    _stay("紙本舊帳", None, date(2024, 5, 1), 2, "stayed")  # typed in from paper: not in house
    assert _names(service.arrivals(db.session, TODAY)) == ["林美華"]
    assert _names(service.departures(db.session, TODAY)) == ["陳先生"]
    in_house = service.in_house(db.session, TODAY)
    assert sorted(_names(in_house)) == sorted(["陳先生", "延住", "提早到"])
    overstays = [stay for stay in in_house if stay.check_out < TODAY]
    assert _names(overstays) == ["延住"]


def test_rooms_to_prepare_in_order_of_arrival_with_who_was_there(app):
    sea, hill, tatami, attic = _homestay("海景", "山景", "和室", "閣樓")
    _stay("明天的", sea, TODAY + timedelta(days=1), 2)
    _stay("前一位", sea, TODAY - timedelta(days=1), 2, "stayed", checked_in=True)
    _stay("今天的", hill, TODAY, 1)
    _stay("走了", hill, TODAY - timedelta(days=2), 2, "stayed", checked_in=True, checked_out=True)
    _stay("空房的", tatami, TODAY, 3)
    _stay("後天的", attic, TODAY + timedelta(days=2), 1)
    _stay("取消的", attic, TODAY, 1, "cancelled")
    rooms = service.rooms_to_prepare(db.session, TODAY)
    states = [(r.arrival.customer.display_name, r.state) for r in rooms]
    # Today's arrivals (by room) before tomorrow's.
    assert set(states[:2]) == {("今天的", "left"), ("空房的", "empty")}
    assert states[2:] == [("明天的", "in")]
    assert rooms[2].previous.customer.display_name == "前一位"


def test_occupancy_counts_room_nights_across_month_edges(app):
    sea, hill = _homestay("海景", "山景")
    _stay("跨月", sea, date(2026, 2, 27), 4, "stayed", amount=8000)  # 2 nights Feb, 2 Mar
    _stay("整月底", hill, date(2026, 3, 31), 1, amount=3000)  # the month's last night
    _stay("下月", hill, date(2026, 4, 1), 2, amount=6000)  # April only
    _stay("取消", hill, date(2026, 3, 10), 3, "cancelled", amount=9000)
    _stay("未到", hill, date(2026, 3, 20), 2, "no_show", amount=5000)
    _stay("去年", sea, date(2025, 3, 5), 3, "stayed", amount=7500)
    march = service.occupancy(db.session, date(2026, 3, 1))
    assert (march.booked, march.available) == (3, 2 * 31)
    assert march.percent == round(100 * 3 / 62)
    february = service.occupancy(db.session, date(2026, 2, 1))
    assert (february.booked, february.available) == (2, 2 * 28)
    assert service.occupancy(db.session, date(2025, 3, 1)).booked == 3
    income = service.income(db.session, date(2026, 3, 1))
    assert income.stays == 8000 * 2 // 4 + 3000 and income.purchases == 0
    figures = service.owner_figures(db.session, TODAY)
    (this_month, last_year), (next_month, next_last_year) = figures.occupancy
    assert (this_month.month, last_year.month) == (date(2026, 3, 1), date(2025, 3, 1))
    assert (next_month.booked, next_last_year.month) == (2, date(2025, 4, 1))
    assert last_year.booked == 3


def test_income_adds_the_months_purchases(app):
    _homestay()
    guest = make_customer("林美華")
    product = Product(name="早餐加購", price=250)
    db.session.add(product)
    db.session.flush()
    for day, quantity in ((date(2026, 3, 1), 2), (date(2026, 3, 31), 1), (date(2026, 4, 1), 5)):
        db.session.add(Purchase(customer_id=guest.id, product_id=product.id, purchased_on=day,
                                quantity=quantity, unit_price=250))  # fmt: skip
    db.session.commit()
    income = service.income(db.session, date(2026, 3, 1))
    assert (income.stays, income.purchases, income.total) == (0, 750, 750)


def test_month_start_moves_across_years():
    assert service.month_start(date(2026, 12, 31), 1) == date(2027, 1, 1)
    assert service.month_start(date(2026, 1, 31), -12) == date(2025, 1, 1)
    assert service.month_start(date(2026, 1, 5), -13) == date(2024, 12, 1)


@pytest.mark.parametrize("locale", ["en", "zh_Hant"])
def test_the_homestay_today_page_and_its_lists(app, client, owner, locale):
    (sea,) = _homestay("海景雙人房")
    today = shop_context(db.session).today
    arriving = _stay("林美華", sea, today, 2)
    make_alert(arriving.customer, category="preference", keywords="窗", body="喜歡靠窗")
    _stay("延住的客人", None, today - timedelta(days=3), 1, "stayed", checked_in=True)
    desk = make_user("frontdesk")
    desk.locale = locale
    db.session.commit()
    login(client, desk)
    page = client.get("/today").get_data(as_text=True)
    assert "林美華" in page and "喜歡靠窗" in page and "延住的客人" in page
    assert 'id="arrivals-count">1<' in page and 'id="in_house-count">1<' in page
    assert f"/stays/{arriving.id}/check-in" in page
    assert "/today/stays?list=arrivals" in page
    listed = client.get(f"/today/stays?list=arrivals&day={today.isoformat()}")
    assert listed.status_code == 200 and "林美華" in listed.get_data(as_text=True)
    in_house = client.get("/today/stays?list=in_house").get_data(as_text=True)
    assert "延住的客人" in in_house and "林美華" not in in_house
    assert client.get("/today/stays?list=nope").status_code == 404
    assert client.get("/today/stays?list=month&day=not-a-day").status_code == 200
    client.post(f"/stays/{arriving.id}/check-in")
    after = client.get("/today").get_data(as_text=True)
    assert 'id="arrivals-count">0<' in after and 'id="in_house-count">2<' in after
    my_day = client.get("/").get_data(as_text=True)
    assert 'id="in_house-count">2<' in my_day


def test_a_teacher_sees_the_homestay_day_without_check_in_buttons(app, client, owner):
    (sea,) = _homestay()
    today = shop_context(db.session).today
    stay = _stay("林美華", sea, today, 1)
    login(client, make_user("teacher"))
    page = client.get("/").get_data(as_text=True)
    assert "林美華" in page and f"/stays/{stay.id}/check-in" not in page


def test_the_homestay_owner_sees_guests_occupancy_and_income_each_a_link(app, client, owner):
    (sea,) = _homestay()
    today = shop_context(db.session).today
    _stay("林美華", sea, today, 2, amount=6000)
    login(client, owner)
    page = client.get("/").get_data(as_text=True)
    assert 'id="stat-arrivals"' in page and "/today/stays?list=arrivals" in page
    this_month = today.replace(day=1).strftime("%Y-%m")
    assert f'id="stat-occupancy-{this_month}"' in page
    assert 'id="stat-income-stays"' in page and 'id="stat-income-purchases"' in page
    assert 'id="stat-deposits-due">0<' in page  # a stay saved around the booking desk owes none
    month_list = client.get(f"/today/stays?list=month&day={today.isoformat()}")
    assert "林美華" in month_list.get_data(as_text=True)


def test_the_after_school_owner_home_has_no_rooms(app, client, owner):
    shop = ensure_shop(db.session)
    shop.kind = "afterschool"
    db.session.commit()
    login(client, owner)
    page = client.get("/").get_data(as_text=True)
    assert 'id="homestay-occupancy"' not in page and 'id="stat-customers"' in page


def test_the_deposits_due_card_counts_unpaid_deposits(app, client, owner):
    """A booking made at the desk owes its deposit: the owner's home counts it. (With a
    timeline line written this week, the homestay's figures once vanished: the week's loop
    over entry kinds reused the name of the shop's kind.)"""
    from app.services import stays as stay_service

    (sea,) = _homestay()
    today = shop_context(db.session).today
    stay_service.save_stay(
        db.session, make_customer("陳先生"), None,
        {"room_id": sea.id, "check_in": today + timedelta(days=20),
         "check_out": today + timedelta(days=22), "status": "booked", "adults": 2,
         "amount": 8000},
        actor=None, today=today,
    )  # fmt: skip
    db.session.commit()
    login(client, owner)
    page = client.get("/").get_data(as_text=True)
    assert 'id="stat-occupancy-' in page
    assert 'id="homestay-deposits-due"' in page and 'id="stat-deposits-due">1<' in page
