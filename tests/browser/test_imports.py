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
