"""Real Chromium, in Chinese, on a 768×1024 tablet: the front desk takes a phone booking from
the calendar's link, cannot book the same room and night again, gives the guest one more
night and checks them out early."""

from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import expect

from app.extensions import db


@pytest.fixture
def homestay(live_app, demo_staff):
    from app.services import stays
    from app.services.shop import ensure_shop, shop_context

    with live_app.app_context():
        ensure_shop(db.session).kind = "homestay"
        sea = stays.save_room(db.session, None, "海景雙人房", capacity=2)
        stays.save_room(db.session, None, "家庭四人房", capacity=4)
        db.session.commit()
        found = {"room": sea.id, "today": shop_context(db.session).today}
        db.session.remove()
    return found


def test_a_phone_booking_a_refused_double_booking_one_more_night_and_an_early_check_out(
    browser, live_server, homestay, output_path
):
    context = browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024},
    )  # fmt: skip
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", "desk@example.com")
        page.fill("input[name=password]", "hearth-demo-1")
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/")
        today = homestay["today"]
        check_in, check_out = today + timedelta(days=3), today + timedelta(days=5)
        booking = (f"{live_server.url}/bookings/new?room_id={homestay['room']}"
                   f"&check_in={check_in}&check_out={check_out}")  # fmt: skip
        page.goto(booking)
        expect(page.get_by_role("heading", level=1)).to_have_text("新增訂房")
        expect(page.get_by_label("房間", exact=True)).to_have_value(str(homestay["room"]))
        expect(page.get_by_label("入住日")).to_have_value(check_in.isoformat())
        page.get_by_label("新房客姓名").fill("林美華")
        page.get_by_label("電話", exact=True).fill("0912345678")
        page.get_by_label("小孩年齡").fill("6, 9")
        page.get_by_label("特別的日子", exact=True).select_option("birthday")
        page.screenshot(path=str(Path(output_path) / "booking-768x1024.png"), full_page=True)
        page.get_by_role("button", name="確認訂房").click()
        expect(page.locator("#stay-state")).to_have_text("已訂房")
        expect(page.locator("h1")).to_contain_text("林美華")
        stay_url = page.url

        # The same room, the same nights, another caller: refused, the booking named.
        page.goto(booking)
        page.get_by_label("找房客（姓名或電話）").fill("林美")
        expect(page.locator("#guest-results")).to_contain_text("林美華")
        page.get_by_label("新房客", exact=True).check()
        page.get_by_label("新房客姓名").fill("陳先生")
        page.get_by_label("電話", exact=True).fill("0922000111")
        page.get_by_label("電話", exact=True).press("Enter")  # the keyboard sends the form
        expect(page.locator(".field.has-error")).to_contain_text(
            f"這間房這幾晚已有訂房：林美華 {check_in.isoformat()} → {check_out.isoformat()} 海景雙人房"
        )

        # The guest arrives early (today), stays one more night, then leaves early.
        page.goto(stay_url)
        page.get_by_role("button", name="提早入住（今天）").click()
        expect(page.locator("#stay-state")).to_have_text("住宿中")
        page.get_by_role("button", name="續住一晚").click()
        expect(page.locator("#stay-dates")).to_contain_text("(6 晚)")
        page.get_by_role("button", name="提早退房（今天）").click()
        expect(page.locator("#stay-state")).to_have_text("已退房")
        expect(page.locator("#stay-dates")).to_contain_text("(1 晚)")
        page.screenshot(path=str(Path(output_path) / "stay-768x1024.png"), full_page=True)
    finally:
        context.close()
