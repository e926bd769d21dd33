"""Real Chromium, zh-TW on a 768×1024 tablet: the front desk finds 陳怡君 and 陈怡君 (one
phone written two ways), merges them keeping the other's email, sees one person with both
timelines, and undoes the merge."""

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from tests.factories import make_customer, make_entry


@pytest.fixture
def twins(live_app, demo_staff):
    with live_app.app_context():
        first = make_customer("陳怡君", phone="0912-345-679", email="old@example.com")
        second = make_customer("陈怡君", phone="+886 912 345 679", email="new@example.com")
        make_entry(first, body="第一份資料的筆記")
        make_entry(second, body="第二份資料的筆記")
        ids = {"first": first.id, "second": second.id}
        db.session.remove()
    return ids


def test_desk_finds_merges_and_undoes_on_a_tablet(browser, live_server, twins):
    context = browser.new_context(
        locale="zh-TW",
        extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024},
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", "desk@example.com")
        page.fill("input[name=password]", "hearth-demo-1")
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/")

        page.goto(f"{live_server.url}/customers/")
        page.get_by_role("link", name="找重複資料").click()
        pair = page.locator(".duplicate-pair").first
        expect(pair).to_contain_text("電話相同 0912345679")
        expect(pair).to_contain_text("姓名相近 陳怡君/陈怡君")
        pair.get_by_role("link", name=re.compile("比對並合併")).click()

        expect(page.get_by_role("heading", name="合併兩筆資料")).to_be_visible()
        email = page.get_by_role("group", name="電子郵件")
        email.get_by_role("radio", name=re.compile("new@example.com")).check()
        page.get_by_role("button", name="合併到 陳怡君").click()

        page.wait_for_url(f"{live_server.url}/customers/{twins['first']}")
        expect(page.get_by_text("陈怡君 已合併到這筆資料")).to_be_visible()
        expect(page.get_by_text("第一份資料的筆記")).to_be_visible()
        expect(page.get_by_text("第二份資料的筆記")).to_be_visible()
        expect(page.get_by_text("new@example.com")).to_be_visible()
        expect(page.get_by_text("old@example.com")).to_have_count(0)

        page.goto(f"{live_server.url}/customers/duplicates")
        expect(page.get_by_text("沒有找到可能重複的資料")).to_be_visible()

        page.goto(f"{live_server.url}/customers/{twins['first']}")
        page.get_by_role("button", name="復原合併").click()
        expect(page.get_by_text("已復原合併")).to_be_visible()
        expect(page.get_by_text("第二份資料的筆記")).to_have_count(0)
        expect(page.get_by_text("old@example.com")).to_be_visible()
        page.goto(f"{live_server.url}/customers/{twins['second']}")
        expect(page.get_by_text("第二份資料的筆記")).to_be_visible()
    finally:
        context.close()
