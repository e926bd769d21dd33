"""Real Chromium and a real worker: download the Excel template, edit it, upload, check the
guessed mapping, see the one bad row in the preview, fix it in place, import with the
progress bar, and find the imported customer."""

from pathlib import Path

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from tests.conftest import Workers, browser_login, write_worker_config


@pytest.fixture
def worker(live_app):
    instance = Path(live_app.instance_path)
    write_worker_config(instance, {"SECRET_KEY": live_app.secret_key, "HUEY_IMMEDIATE": False})
    pool = Workers(instance)
    pool.start()
    yield pool
    pool.stop_all()


def test_import_the_edited_template(page, live_server, demo_staff, worker, tmp_path):
    browser_login(page, live_server, "desk@example.com")
    page.goto(f"{live_server.url}/customers/")
    page.get_by_role("link", name="Import from Excel / CSV").click()
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel template").click()
    template = tmp_path / "template.xlsx"
    download.value.save_as(template)

    workbook = load_workbook(template)
    sheet = workbook.active
    sheet.append(["", "蔡依林", "依林", "A", "2016-02-30", "0933-111-222", "tsai@example.com",
                  "", "VIP", "蔡媽媽", "", "", "是", "新生，喜歡唱歌"])  # fmt: skip
    sheet.append(["", "Brian Lee", "Brian", "B", "2014-07-01", "", "brian@example.com",
                  "", "", "", "", "", "no", ""])  # fmt: skip
    edited = tmp_path / "our-customers.xlsx"
    workbook.save(edited)

    page.get_by_label("Spreadsheet (.xlsx or .csv)").set_input_files(str(edited))
    page.get_by_role("button", name="Upload and preview").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("our-customers.xlsx")
    # The bilingual headers were recognised.
    expect(page.get_by_label("姓名 Name")).to_have_value("display_name")
    expect(page.get_by_label("生日 Birthday")).to_have_value("birthday")
    expect(page.locator("#dry-run")).to_contain_text(
        "3 new, 0 updated, 0 unchanged, 0 skipped, 1 with errors"
    )
    bad_row = page.locator("tr.row-errors")
    expect(bad_row).to_have_count(1)
    expect(bad_row).to_contain_text("not a date")
    expect(page.get_by_role("button", name="Import", exact=True)).to_be_disabled()

    # Fix the typo in place (htmx swaps the preview).
    page.get_by_label("Row 4, Birthday").fill("2016-02-29")
    page.get_by_role("button", name="Fix this row").click()
    expect(page.locator("#dry-run")).to_contain_text(
        "4 new, 0 updated, 0 unchanged, 0 skipped, 0 with errors"
    )
    page.get_by_role("button", name="Import 4 children").click()
    expect(page.locator("#import-result")).to_contain_text("4 new", timeout=30_000)

    page.get_by_role("searchbox").first.fill("蔡依林")
    page.get_by_role("searchbox").first.press("Enter")
    page.get_by_role("link", name="蔡依林").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("蔡依林")
    expect(page.locator("main")).to_contain_text("新生，喜歡唱歌")
    expect(page.locator("main")).to_contain_text("VIP")


def test_a_sheet_with_a_title_row_in_chinese_on_a_tablet(page, live_server, demo_staff, tmp_path):
    """The desk uploads a class list as it comes (a title row above the header): the header is
    found and the reason said; choosing the title row instead says why every row is skipped;
    going back guesses the columns again; the same child twice is merged with one tap."""
    from tests.imports.test_real_sheet import TITLE, real_sheet

    sheet = tmp_path / "學生名單.xlsx"
    sheet.write_bytes(real_sheet())
    page.set_viewport_size({"width": 768, "height": 1024})
    browser_login(page, live_server, "desk@example.com")
    page.set_extra_http_headers({"Accept-Language": "zh-TW"})
    page.goto(f"{live_server.url}/imports/")
    page.get_by_label("試算表（.xlsx 或 .csv）").set_input_files(str(sheet))
    page.locator("form[enctype] button[type=submit]").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("學生名單.xlsx")
    expect(page.locator("#header-why")).to_contain_text("我們把第 2 列當作欄位名稱")
    expect(page.locator("#rows-above")).to_contain_text(TITLE)
    expect(page.locator("#dry-run")).to_contain_text("有錯誤 1")
    expect(page.locator("tr.row-errors")).to_contain_text("和第 2 列同名、同電話")

    # The title row as the header: nothing maps, and every row says why it is skipped.
    page.get_by_label("欄位名稱在", exact=True).select_option("0")
    page.get_by_role("button", name="用這一列").click()
    expect(page.locator("#header-why")).to_contain_text("你選了第 1 列當作欄位名稱。")
    expect(page.locator("#dry-run")).to_contain_text("略過 12")
    expect(page.locator(".skip-reason")).to_have_count(12)
    expect(page.locator(".skip-reason").first).to_contain_text("沒有任何欄位設定要匯入")

    # Back to the real header (htmx: no reload): the columns are guessed again.
    page.get_by_label("欄位名稱在", exact=True).select_option("1")
    page.get_by_role("button", name="用這一列").click()
    expect(page.locator("#header-why")).to_contain_text("裡面有我們認得的欄位名稱")
    expect(page.get_by_label("姓名", exact=True)).to_have_value("display_name")
    expect(page.get_by_label("電話", exact=True)).to_have_value("phone")

    page.get_by_role("button", name="合併這兩列").click()
    expect(page.locator("#dry-run")).to_contain_text("新增 10")
    expect(page.locator("#dry-run")).to_contain_text("有錯誤 0")
    expect(page.locator("#row-7")).to_contain_text("已合併到第 2 列。")
    expect(page.locator("#row-2")).to_contain_text("第 7 列已合併到這一列。")
