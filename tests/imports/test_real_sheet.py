"""A sheet as a shop really has it: a title row and a blank row above the header, phones
that Excel keeps as numbers or written +886, and one family listed twice; the header row is
found (or chosen), every skipped row says why, and the same person's rows can be merged."""

import io
from datetime import datetime

import sqlalchemy as sa
from openpyxl import Workbook

from app.extensions import db
from app.models import Customer, ImportBatch, TimelineEntry
from app.services import importer
from app.tasks import run_import_now
from tests.conftest import login

# Eleven rows: phones as Excel numbers (int and float), +886 and 886 forms, a landline;
# 陳怡君 twice (0912345679 as a number, then as +886 912-345-679).
PEOPLE = [
    ["陳怡君", 912345679, datetime(2016, 3, 2), "喜歡畫畫"],
    ["林柏翰", 912000002.0, datetime(2015, 5, 6), ""],
    ["王小明", "+886 912-000-003", None, ""],
    ["張雅婷", "886912000004", None, ""],
    ["李大同", "(02) 2345-6789", None, ""],
    ["陳怡君", "+886 912-345-679", None, "對花生過敏"],
    ["黃子軒", 912000007, None, ""],
    ["吳欣怡", "0912-000-008", None, ""],
    ["劉家豪", 912000009, None, ""],
    ["蔡佩珊", "+886912000010", None, ""],
    ["鄭宇翔", 912000011, None, ""],
]
TITLE = "快樂安親班 2026 春季 學生名單"


def real_sheet() -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append([TITLE])
    sheet.append([])
    sheet.append(["姓名", "電話", "生日", "備註"])
    for row in PEOPLE:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def upload(client, data: bytes, name: str):
    response = client.post(
        "/imports/",
        data={"sheet": (io.BytesIO(data), name), "encoding": ""},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-3000:]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def chinese_desk(frontdesk):
    frontdesk.locale = "zh_Hant"
    db.session.commit()
    return frontdesk


def test_the_header_below_a_title_row_is_found_and_the_same_child_merged(client, owner, frontdesk):
    login(client, chinese_desk(frontdesk))
    batch_id = upload(client, real_sheet(), "學生名單.xlsx")
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    # The title row is not the header, and the page says why and what is left out.
    assert "我們把第 2 列當作欄位名稱：裡面有我們認得的欄位名稱（姓名、電話、生日、備註）。" in page
    assert TITLE in page and "上面的 1 列不會匯入" in page
    # The same child twice: asked, not imported twice.
    assert "和第 2 列同名、同電話：是同一個人重複了嗎？" in page
    assert "合併這兩列" in page and "兩筆都保留" in page
    client.post(f"/imports/{batch_id}/rows/7/same", data={"choice": "merge"})
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "已合併到第 2 列。" in page
    assert "如果現在匯入：新增 10、" in page
    client.post(f"/imports/{batch_id}/run")
    assert run_import_now(batch_id)["new"] == 10
    phones = dict(db.session.execute(sa.select(Customer.display_name, Customer.phone)).all())
    assert phones == {
        "陳怡君": "0912345679", "林柏翰": "0912000002", "王小明": "0912000003",
        "張雅婷": "0912000004", "李大同": "0223456789", "黃子軒": "0912000007",
        "吳欣怡": "0912000008", "劉家豪": "0912000009", "蔡佩珊": "0912000010",
        "鄭宇翔": "0912000011",
    }  # fmt: skip
    child = db.session.scalar(sa.select(Customer).where(Customer.display_name == "陳怡君"))
    notes = db.session.scalars(
        sa.select(TimelineEntry.body).where(TimelineEntry.customer_id == child.id)
    ).all()
    assert "喜歡畫畫\n對花生過敏" in notes
    # Search finds her however the number is written.
    found = client.get("/search?q=%2B886+912-345-679").get_data(as_text=True)
    assert "陳怡君" in found


def test_keeping_both_rows_imports_two(client, owner, frontdesk):
    login(client, frontdesk)
    batch_id = upload(client, real_sheet(), "list.xlsx")
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "Same name and phone as row 2: the same person twice?" in page
    assert "10 new, 0 updated, 0 unchanged, 0 skipped, 1 with errors" in page
    client.post(f"/imports/{batch_id}/rows/7/same", data={"choice": "keep"})
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "11 new, 0 updated, 0 unchanged, 0 skipped, 0 with errors" in page
    assert client.post(f"/imports/{batch_id}/rows/7/same", data={"choice": "x"}).status_code == 400
    assert (
        client.post(f"/imports/{batch_id}/rows/99/same", data={"choice": "keep"}).status_code == 404
    )


def test_choosing_the_title_row_as_header_says_why_every_row_is_skipped(client, owner, frontdesk):
    login(client, chinese_desk(frontdesk))
    batch_id = upload(client, real_sheet(), "學生名單.xlsx")
    response = client.post(f"/imports/{batch_id}/header", data={"header_row": "0"})
    assert response.status_code == 302
    page = client.get(f"/imports/{batch_id}").get_data(as_text=True)
    assert "你選了第 1 列當作欄位名稱。" in page
    assert "略過 12、" in page
    assert page.count("略過：沒有任何欄位設定要匯入。") == 12
    batch = db.session.get(ImportBatch, batch_id)
    assert batch.mapping == {} and batch.total_rows == 12
    # Back to the header row: the columns are guessed again from its names.
    client.post(f"/imports/{batch_id}/header", data={"header_row": "1"})
    db.session.refresh(batch)
    assert batch.mapping == {"0": "display_name", "1": "phone", "2": "birthday", "3": "first_note"}
    assert batch.total_rows == 11
    # Only one of the first rows can be the header.
    bad = client.post(f"/imports/{batch_id}/header", data={"header_row": "40"})
    assert bad.status_code == 422 and "請從選項中選擇一個" in bad.get_data(as_text=True)


def test_a_sheet_without_known_names_takes_the_first_wide_row_of_words():
    table = [["Spring list"], ["", ""], ["Kid", "Grade", "Bus stop"], ["Amy", "3", "North gate"]]
    table = [row for row in table if any(row)]
    guess = importer.guess_header_row(table, [])
    assert (guess.index, guess.why) == (1, "widest")
    assert importer.guess_header_row([["姓名", "電話"], ["王小明", "0912"]], []).index == 0
