"""A homestay's front desk in zh-TW on a 768×1024 tablet: the live quote, a deposit recorded
with its 5 digits (a wrong count refused in place), a booking cancelled with the policy's
refund shown first; the money pages and My day's late deposits pass axe-core."""

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.browser.test_accessibility import audit_page
from tests.conftest import browser_login


@pytest.fixture
def browser_context_args(browser_context_args):
    # Only so the test can inject axe; the app's CSP stays as it is.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def homestay(live_app, demo_staff):
    from app.services import booking_money as money
    from app.services import stays
    from app.services.shop import ensure_shop, shop_context
    from tests.factories import make_customer

    with live_app.app_context():
        shop = ensure_shop(db.session)
        shop.kind, shop.default_locale = "homestay", "zh_Hant"
        room = stays.save_room(db.session, None, "海景雙人房")
        money.save_rate(db.session, room, {"weekday": 2000, "weekend": 2000, "extra_bed": 500})
        today = shop_context(db.session).today
        booking = stays.save_stay(
            db.session, make_customer("陳美玲", email="mei@example.com"), None,
            {"room_id": room.id, "check_in": today + timedelta(9),
             "check_out": today + timedelta(11), "status": "booked", "adults": 2},
            actor=None, today=today,
        )  # fmt: skip
        late = stays.save_stay(
            db.session, make_customer("林志明", phone="0912345678"), None,
            {"room_id": room.id, "check_in": today + timedelta(20),
             "check_out": today + timedelta(21), "status": "booked", "adults": 2},
            actor=None, today=today - timedelta(6),
        )  # fmt: skip
        db.session.commit()
        ids = {"stay": booking.id, "late": late.id}
        db.session.remove()
    return ids


def test_deposit_with_its_five_digits_then_cancel_with_the_right_refund(page, live_server,
                                                                         homestay):  # fmt: skip
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.set_extra_http_headers({"Accept-Language": "zh-TW"})
    problems = []
    page.goto(f"{live_server.url}/stays/{homestay['stay']}/money")
    expect(page.locator("html")).to_have_attribute("lang", "zh-Hant")
    expect(page.locator(".money-state")).to_contain_text("訂金未付")
    problems += audit_page(page)
    # The live quote: one extra bed for two nights adds NT$1,000 without a reload.
    quote = page.locator("#money-quote")
    expect(quote).to_contain_text("NT$4,000")
    page.get_by_label("加床數").fill("1")
    expect(quote).to_contain_text("NT$5,000")
    expect(quote).to_contain_text("加床")
    # Four digits are refused beside the field; five are recorded.
    expect(page.locator("#pay-amount")).to_have_value("1200")
    page.get_by_label("匯款帳號末五碼").fill("1234")
    page.get_by_role("button", name="記錄收款").click()
    expect(page.locator("#pay-account_last5-error")).to_contain_text("剛好 5 位數字")
    page.get_by_label("匯款帳號末五碼").fill("54321")
    page.get_by_role("button", name="記錄收款").click()
    expect(page.locator(".money-state")).to_contain_text("已付訂金")
    expect(page.locator("table").last).to_contain_text("54321")
    # Nine days before arrival the policy gives back 50 % of the NT$1,200 paid.
    page.get_by_role("button", name="取消訂房").click()
    expect(page.locator("#refund-amount")).to_have_text("NT$600")
    problems += audit_page(page)
    page.get_by_role("button", name="取消訂房並退款 NT$600").click()
    expect(page.locator(".lead .badge")).to_contain_text("取消")
    expect(page.locator(".money-state")).to_contain_text("已退 NT$600")
    # My day: the late deposit with its two one-click actions.
    page.goto(f"{live_server.url}/")
    section = page.locator("section[aria-labelledby=deposits-heading]")
    expect(section).to_contain_text("林志明")
    expect(section.get_by_role("button", name="用客人慣用的方式提醒 林志明")).to_be_visible()
    problems += audit_page(page)
    section.get_by_role("button", name="釋出房間 林志明").click()
    expect(page.locator("section[aria-labelledby=deposits-heading]")).to_have_count(0)
    assert problems == [], "\n".join(problems)


@pytest.mark.parametrize("locale", ["en", "zh-TW"])
def test_the_rates_page_is_accessible(page, live_server, homestay, locale):
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "owner@example.com")
    page.set_extra_http_headers({"Accept-Language": locale})
    page.goto(f"{live_server.url}/settings/rates")
    expect(page.locator("#rates-heading")).to_be_visible()
    assert audit_page(page) == []


def test_the_add_a_stay_form_shows_the_price_as_it_is_filled_in(page, live_server, homestay):
    from app.models import Stay

    with live_server.app.app_context():
        customer_id = db.session.get(Stay, homestay["stay"]).customer_id
        db.session.remove()
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.set_extra_http_headers({"Accept-Language": "zh-TW"})
    page.goto(f"{live_server.url}/customers/{customer_id}/forms/stay")
    live = page.locator(".money-live-quote")
    expect(live).to_contain_text("選好房間")
    page.locator("#stay-room_id").select_option(label="海景雙人房")
    page.locator("#stay-check_in").fill("2030-03-04")
    page.locator("#stay-check_out").fill("2030-03-07")
    page.locator("#stay-check_out").dispatch_event("change")
    expect(live).to_contain_text("NT$6,000")
