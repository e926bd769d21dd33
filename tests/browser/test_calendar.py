"""The room calendar in a real Chromium, in zh-TW, on a tablet (two weeks, by touch and
keyboard) and on a desktop (a month), and on paper (no navigation)."""

import re
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db


@pytest.fixture
def guest_shop(live_app, demo_staff):
    """A homestay: three rooms, 王小明 (peanut allergy) in 2號房 from the day after tomorrow
    for two nights, 1號房 closed for painting."""
    from app.models import RoomBlock
    from app.services import stays
    from app.services.shop import ensure_shop, shop_context
    from tests.factories import make_alert, make_customer
    from tests.rooms.conftest import book

    with live_app.app_context():
        shop = ensure_shop(db.session)
        shop.kind = "homestay"
        db.session.commit()
        rooms = {
            name: stays.save_room(db.session, None, name) for name in ("1號房", "2號房", "3號房")
        }
        db.session.commit()
        today = shop_context(db.session).today
        guest = make_customer("王小明")
        make_alert(guest)
        book(guest, rooms["2號房"], today + timedelta(days=2), today + timedelta(days=4))
        db.session.add(RoomBlock(room_id=rooms["1號房"].id, starts_on=today + timedelta(days=1),
                                 ends_on=today + timedelta(days=3), kind="closed", note="油漆"))  # fmt: skip
        db.session.commit()
        facts = {"today": today, "room2": rooms["2號房"].id}
        db.session.remove()
    return facts


def _sign_in(page, server, email="desk@example.com"):
    page.goto(f"{server.url}/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "hearth-demo-1")
    page.press("input[name=password]", "Enter")
    page.wait_for_url(f"{server.url}/")


def _chinese(browser, width, height, **extra):
    return browser.new_context(
        locale="zh-TW", extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": width, "height": height}, **extra,
    )  # fmt: skip


def test_on_a_tablet_the_desk_sees_two_weeks_and_books_a_free_night_by_keyboard(
    browser, live_server, guest_shop
):
    context = _chinese(browser, 768, 1024, has_touch=True)
    page = context.new_page()
    try:
        _sign_in(page, live_server)
        page.get_by_role("navigation", name="主選單").get_by_role("link", name="房況").tap()
        table = page.locator("table.room-calendar")
        expect(table.locator("thead th.day")).to_have_count(14)
        bar = page.get_by_role("link", name="王小明 · 2 晚", exact=False)
        expect(bar).to_be_visible()
        expect(bar).to_contain_text("王小明")
        expect(page.locator("td.bar-closed")).to_contain_text("油漆")
        height = page.locator("td.free a").first.evaluate("a => a.getBoundingClientRect().height")
        width = page.locator("td.free a").first.evaluate("a => a.getBoundingClientRect().width")
        assert height >= 44 and width >= 44, (width, height)
        # From the booking, Tab goes to the next night: the morning they leave is free.
        leave = guest_shop["today"] + timedelta(days=4)
        bar.focus()
        page.keyboard.press("Tab")
        focused = page.evaluate("document.activeElement.textContent.trim()")
        assert focused == f"2號房 {leave.month}月{leave.day}日 空房"
        page.keyboard.press("Enter")
        page.wait_for_url(
            f"**/bookings/new?room_id={guest_shop['room2']}&check_in={leave.isoformat()}"
            f"&check_out={(leave + timedelta(days=1)).isoformat()}"
        )
    finally:
        context.close()


def test_on_a_desktop_a_month_and_on_paper_no_navigation(browser, live_server, guest_shop):
    context = _chinese(browser, 1280, 800)
    page = context.new_page()
    try:
        _sign_in(page, live_server)
        page.goto(f"{live_server.url}/calendar")
        page.wait_for_url("**/calendar?start=*&days=31")
        expect(page.locator("table.room-calendar thead th.day")).to_have_count(31)
        expect(page.locator("table.room-calendar caption")).to_contain_text("每一欄是一晚")
        page.get_by_role("link", name="往後").click()
        start = guest_shop["today"] + timedelta(days=31)
        page.wait_for_url(f"**/calendar?start={start.isoformat()}&days=31")
        page.get_by_role("navigation", name="顯示的日期").get_by_role("link", name="今天").click()
        expect(page.get_by_role("link", name="王小明 · 2 晚", exact=False)).to_be_visible()
        page.get_by_role("link", name="兩週").click()
        expect(page.locator("table.room-calendar thead th.day")).to_have_count(14)
        page.emulate_media(media="print")
        expect(page.locator(".main-nav")).to_be_hidden()
        expect(page.locator(".calendar-nav")).to_be_hidden()
        expect(page.locator("table.room-calendar")).to_be_visible()
        # On paper: one landscape A4 page (Chromium writes one /MediaBox per page).
        pdf = page.pdf(prefer_css_page_size=True)
        boxes = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", pdf)
        assert len(boxes) == 1, boxes
        assert float(boxes[0][0]) > float(boxes[0][1]), boxes
    finally:
        context.close()


def test_the_desk_closes_a_room_from_the_calendar(browser, live_server, guest_shop, live_app):
    from app.models import RoomBlock

    context = _chinese(browser, 768, 1024)
    page = context.new_page()
    try:
        _sign_in(page, live_server)
        page.goto(f"{live_server.url}/calendar")
        page.get_by_text("關房（指定日期）").click()
        first = guest_shop["today"] + timedelta(days=6)
        page.get_by_label("房間").select_option(label="3號房")
        page.get_by_label("從哪一晚開始關房").fill(first.isoformat())
        page.get_by_label("哪一天恢復開放").fill((first + timedelta(days=2)).isoformat())
        page.get_by_label("原因（例如：油漆、修繕）").fill("換床墊")
        page.get_by_role("button", name="關房", exact=True).click()
        expect(page.locator(".flash-success")).to_contain_text("3號房")
        expect(page.locator("td.bar-closed", has_text="換床墊")).to_be_visible()
        with live_app.app_context():
            notes = db.session.scalars(sa.select(RoomBlock.note).order_by(RoomBlock.id)).all()
            db.session.remove()
        assert notes == ["油漆", "換床墊"]
    finally:
        context.close()
