"""Booking money pages: Settings → Rates, the live quote, a stay's money panel, payments with
their 5 digits, cancelling with the refund shown first, no-show, late deposits on My day."""

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Holiday, RefundRule, RoomRate, StayPayment
from app.services import booking_money as money
from app.services import stays
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import make_customer, make_user


@pytest.fixture
def today(app):
    shop = ensure_shop(db.session)
    shop.kind = "homestay"
    db.session.commit()
    make_user("owner")
    return shop_context(db.session).today


@pytest.fixture
def room(today):
    room = stays.save_room(db.session, None, "101")
    money.save_rate(db.session, room, {"weekday": 2000, "weekend": 3000})
    db.session.commit()
    return room


def _book(room, check_in, booked_on, nights=2, name="陳美玲", **fields):
    customer = make_customer(name, **fields)
    stay = stays.save_stay(
        db.session, customer, None,
        {"room_id": room.id, "check_in": check_in, "check_out": check_in + timedelta(nights),
         "status": "booked", "adults": 2, "amount": 4000},
        actor=None, today=booked_on,
    )  # fmt: skip
    db.session.commit()
    return stay


def _client(app, role):
    client = app.test_client()
    login(client, make_user(role))
    return client


def test_the_owner_sets_rates_holidays_terms_and_policy(app, room):
    client = _client(app, "owner")
    page = client.get("/settings/rates").get_data(as_text=True)
    assert "Friday and Saturday nights" in page and "101" in page
    response = client.post(f"/settings/rates/rooms/{room.id}", data={
        f"room{room.id}-weekday": "2200", f"room{room.id}-weekend": "3300",
        f"room{room.id}-holiday": "4000", f"room{room.id}-extra_bed": "600",
        f"room{room.id}-child": "400"})  # fmt: skip
    assert response.status_code == 302
    assert db.session.get(RoomRate, room.id).holiday == 4000
    bad = client.post(f"/settings/rates/rooms/{room.id}", data={f"room{room.id}-weekday": "-5"})
    assert bad.status_code == 422 and "From 0 to 1,000,000." in bad.get_data(as_text=True)
    assert client.post("/settings/rates/holidays", data={
        "holiday-day": "2027-02-06", "holiday-name": "春節"}).status_code == 302  # fmt: skip
    again = client.post("/settings/rates/holidays", data={
        "holiday-day": "2027-02-06", "holiday-name": "春節"})  # fmt: skip
    assert again.status_code == 422 and "already on the list" in again.get_data(as_text=True)
    bad_day = client.post("/settings/rates/holidays", data={"holiday-day": "2027-02-30",
                                                           "holiday-name": "x"})  # fmt: skip
    assert bad_day.status_code == 422 and "Enter a real date" in bad_day.get_data(as_text=True)
    assert client.post("/settings/rates/terms", data={
        "terms-deposit_percent": "40", "terms-deposit_due_days": "2", "terms-bank_name": "台灣銀行 004",
        "terms-bank_account": "012345678901", "terms-account_name": "海風民宿"}).status_code == 302  # fmt: skip
    assert money.terms(db.session).deposit_percent == 40
    bad_terms = client.post("/settings/rates/terms", data={"terms-deposit_percent": "140"})
    assert bad_terms.status_code == 422 and "From 0 to 100." in bad_terms.get_data(as_text=True)
    policy = {"policy-rules-0-days": "7", "policy-rules-0-percent": "50",
              "policy-rules-1-days": "0", "policy-rules-1-percent": "0"}  # fmt: skip
    assert client.post("/settings/rates/refunds", data=policy).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count()).select_from(RefundRule)) == 2
    no_zero = client.post("/settings/rates/refunds", data={"policy-rules-0-days": "7",
                                                          "policy-rules-0-percent": "50"})  # fmt: skip
    assert no_zero.status_code == 422 and "0 days" in no_zero.get_data(as_text=True)
    holiday = db.session.scalar(sa.select(Holiday))
    assert client.post(f"/settings/rates/holidays/{holiday.id}/delete").status_code == 302


def test_the_quote_fragment_takes_a_booking_forms_fields(app, room, today):
    client = _client(app, "frontdesk")
    monday = today + timedelta(days=7 - today.weekday())
    response = client.get(f"/stays/quote?stay-room_id={room.id}&stay-check_in={monday}"
                          f"&stay-check_out={monday + timedelta(5)}&stay-adults=2")  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 200 and "NT$2,000" in page and "NT$3,000" in page
    assert "NT$11,000" in page  # Mon–Thu 4 × 2000, Fri 3000
    empty = client.get(f"/stays/quote?room_id={room.id}")
    assert empty.status_code == 200 and "both dates" in empty.get_data(as_text=True)
    backwards = client.get(f"/stays/quote?room_id={room.id}&check_in={monday}&check_out={monday}")
    assert backwards.status_code == 422 and "after check-in" in backwards.get_data(as_text=True)
    bad_day = client.get(f"/stays/quote?room_id={room.id}&check_in=2027-02-30&check_out={monday}")
    assert bad_day.status_code == 422 and "Enter a real date" in bad_day.get_data(as_text=True)
    bad_beds = client.get(f"/stays/quote?room_id={room.id}&check_in={monday}"
                          f"&check_out={monday + timedelta(1)}&extra_beds=abc")  # fmt: skip
    assert bad_beds.status_code == 422 and "whole number" in bad_beds.get_data(as_text=True)


def test_recording_a_deposit_and_the_balance(app, room, today):
    stay = _book(room, today + timedelta(20), today)
    client = _client(app, "frontdesk")
    page = client.get(f"/stays/{stay.id}/money").get_data(as_text=True)
    assert "NT$1,200" in page and "Deposit not paid yet" in page
    data = {"pay-kind": "deposit", "pay-method": "transfer", "pay-paid_on": today.isoformat(),
            "pay-amount": "1200", "pay-account_last5": "1234"}  # fmt: skip
    bad = client.post(f"/stays/{stay.id}/payments", data=data)
    assert bad.status_code == 422 and "Exactly 5 digits." in bad.get_data(as_text=True)
    missing = client.post(f"/stays/{stay.id}/payments", data={**data, "pay-account_last5": ""})
    assert missing.status_code == 422 and "last 5 digits" in missing.get_data(as_text=True)
    for field, value, words in (("pay-amount", "0", "From 1 to 100,000,000."),
                                ("pay-amount", "12x", "whole number"),
                                ("pay-paid_on", (today + timedelta(3)).isoformat(), "today or earlier"),
                                ("pay-paid_on", "2026-13-01", "Enter a real date")):  # fmt: skip
        response = client.post(f"/stays/{stay.id}/payments", data={**data, field: value,
                                                                    "pay-account_last5": "54321"})  # fmt: skip
        assert response.status_code == 422 and words in response.get_data(as_text=True), words
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StayPayment)) == 0
    ok = client.post(f"/stays/{stay.id}/payments", data={**data, "pay-account_last5": "54321"})
    assert ok.status_code == 302
    page = client.get(f"/stays/{stay.id}/money").get_data(as_text=True)
    assert "Deposit paid" in page and "54321" in page and "NT$2,800" in page
    client.post(f"/stays/{stay.id}/payments", data={
        "pay-kind": "balance", "pay-method": "cash", "pay-paid_on": today.isoformat(),
        "pay-amount": "2800"})  # fmt: skip
    assert money.money_state(db.session, stay).balance == 0
    timeline = client.get(f"/customers/{stay.customer_id}").get_data(as_text=True)
    assert "54321" in timeline


def test_cancel_shows_the_refund_before_it_cancels(app, room, today):
    stay = _book(room, today + timedelta(9), today)
    money.record_payment(db.session, stay, {"kind": "deposit", "method": "transfer",
                         "paid_on": today, "amount": 1200, "account_last5": "11111"},
                         actor=None, today=today)  # fmt: skip
    db.session.commit()
    client = _client(app, "frontdesk")
    first = client.post(f"/stays/{stay.id}/cancel")
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "NT$600" in page and "50 %" in page
    db.session.refresh(stay)
    assert stay.status == "booked"
    done = client.post(f"/stays/{stay.id}/cancel", data={"confirm": "yes", "method": "transfer"})
    assert done.status_code == 302
    db.session.refresh(stay)
    assert stay.status == "cancelled" and money.money_state(db.session, stay).refunded == 600
    again = client.post(f"/stays/{stay.id}/cancel", data={"confirm": "yes"})
    assert again.status_code == 302 and money.money_state(db.session, stay).refunded == 600
    bad_method = _book(room, today + timedelta(30), today, name="林")
    money.record_payment(db.session, bad_method, {"kind": "deposit", "method": "cash",
                         "paid_on": today, "amount": 100}, actor=None, today=today)  # fmt: skip
    db.session.commit()
    response = client.post(f"/stays/{bad_method.id}/cancel", data={"confirm": "yes",
                                                                  "method": "gold"})  # fmt: skip
    assert response.status_code == 422 and bad_method.status == "booked"


def test_no_show_after_the_arrival_day(app, room, today):
    stay = _book(room, today - timedelta(1), today - timedelta(10))
    client = _client(app, "owner")
    assert "no-show" in client.get(f"/stays/{stay.id}/money").get_data(as_text=True)
    assert client.post(f"/stays/{stay.id}/no-show").status_code == 302
    db.session.refresh(stay)
    assert stay.status == "no_show"
    later = _book(room, today + timedelta(3), today, name="林")
    client.post(f"/stays/{later.id}/no-show")
    db.session.refresh(later)
    assert later.status == "booked"


def test_my_day_lists_late_deposits_and_releases_a_room(app, room, today):
    late = _book(room, today + timedelta(10), today - timedelta(5), name="遲付款")
    _book(room, today + timedelta(20), today, name="剛訂房")
    client = _client(app, "frontdesk")
    page = client.get("/").get_data(as_text=True)
    assert "Deposits past due" in page and "遲付款" in page and "剛訂房" not in page
    assert client.post(f"/stays/{late.id}/release").status_code == 302
    db.session.refresh(late)
    assert late.status == "cancelled"
    assert "Deposits past due" not in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize("url", ["/settings/rates", "/stays/{stay}/money", "/stays/quote"])
def test_teachers_are_refused(app, room, today, url):
    stay = _book(room, today + timedelta(10), today)
    response = _client(app, "teacher").get(url.format(stay=stay.id))
    assert response.status_code == 403
