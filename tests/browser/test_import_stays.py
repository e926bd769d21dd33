"""Real Chromium and a real worker, in Chinese on a tablet: a homestay's front desk uploads its
guest book (.xlsx), sees the stay columns guessed and "will create 3 stays", fixes a row whose
room is double-booked, imports, finds the guest with both stays, and undoes the import."""

from pathlib import Path

import pytest
from openpyxl import Workbook
from playwright.sync_api import expect

from app.extensions import db
from app.models import Room
from tests.browser.test_accessibility import audit_page
from tests.conftest import Workers, write_worker_config


@pytest.fixture
def homestay(live_app):
    from devtools.demo import seed_demo

    with live_app.app_context():
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0, kind="homestay")
        db.session.add_all([Room(name="山景雙人房"), Room(name="海景四人房")])
        db.session.commit()
        db.session.remove()


@pytest.fixture
def worker(live_app):
    instance = Path(live_app.instance_path)
    write_worker_config(instance, {"SECRET_KEY": live_app.secret_key, "HUEY_IMMEDIATE": False})
    pool = Workers(instance)
    pool.start()
    yield pool
    pool.stop_all()


def guest_book(path: Path) -> Path:
    workbook = Workbook()
    for row in (
        ["姓名", "手機", "入住日期", "退房日期", "房號", "房價"],
        ["陳怡君", "0912-345-678", "2025/12/24", "2025/12/26", "山景雙人房", "6,400"],
        ["林柏瑄", "0922-000-111", "2025/12/25", "2025/12/26", "山景雙人房", "3200"],
        ["陳怡君", "0912345678", "2026/2/14", "2026/2/15", "海景四人房", "3800"],
    ):
        workbook.active.append(row)
    workbook.save(path)
    return path


def test_a_guest_book_imports_with_its_stays_in_chinese(
    browser, live_server, homestay, worker, tmp_path
):
    context = browser.new_context(
        locale="zh-TW",
        extra_http_headers={"Accept-Language": "zh-TW"},
        viewport={"width": 768, "height": 1024},
        bypass_csp=True,  # only so the test can inject axe
    )
    page = context.new_page()
    try:
        page.goto(f"{live_server.url}/login")
        page.fill("input[name=email]", "desk@example.com")
        page.fill("input[name=password]", "hearth-demo-1")
        page.press("input[name=password]", "Enter")
        page.wait_for_url(f"{live_server.url}/")
        page.goto(f"{live_server.url}/imports/")
        page.locator("input[type=file]").set_input_files(str(guest_book(tmp_path / "房客.xlsx")))
        page.locator("form[enctype] button[type=submit]").click()
        expect(page.get_by_role("heading", level=1)).to_contain_text("房客.xlsx")
        expect(page.get_by_label("入住日期")).to_have_value("stay_check_in")
        expect(page.get_by_label("房號")).to_have_value("stay_room")
        dry_run = page.locator("#dry-run")
        expect(dry_run).to_contain_text("會建立 2 筆住宿紀錄")
        bad_row = page.locator("tr.row-errors")
        expect(bad_row).to_contain_text("房間：第 2 列在同一晚訂了同一間房")
        assert audit_page(page) == []

        # The desk moves the second guest to the other room, in place.
        page.locator("input[name=fix-stay_room]").fill("海景四人房")
        page.locator("form.fix-row button[type=submit]").click()
        expect(dry_run).to_contain_text("會建立 3 筆住宿紀錄")
        expect(dry_run).to_contain_text("其中 1 列是前面已有房客的另一次住宿")
        expect(page.locator("#row-4")).to_contain_text("另一次住宿（同第 2 列）")
        page.locator("form[action$='/run'] button[type=submit]").click()
        expect(page.locator("#import-result")).to_contain_text(
            "已建立 3 筆住宿紀錄", timeout=30_000
        )

        page.goto(f"{live_server.url}/customers/?q=陳怡君")
        page.get_by_role("link", name="陳怡君").first.click()
        main = page.locator("main")
        expect(main).to_contain_text("山景雙人房")
        expect(main).to_contain_text("海景四人房")
        expect(main).to_contain_text("2026-02-14")

        page.goto(f"{live_server.url}/imports/")
        page.locator("table a").first.click()
        page.locator("form[action$='/undo'] button[type=submit]").click()
        expect(page.locator("#messages")).to_contain_text("也刪除了這次匯入建立的 3 筆住宿紀錄")
    finally:
        context.close()
