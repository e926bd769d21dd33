"""The bilingual import template, and an import batch's files (the upload as sent, its
parsed copy) and progress."""

import csv
import io
import json
import os
from pathlib import Path

from openpyxl import Workbook

from app.models import ImportBatch

# ---- the template ------------------------------------------------------------------------

TEMPLATE_HEADERS = [
    ("member_number", "會員編號 Member number"),
    ("display_name", "姓名 Name"),
    ("nickname", "暱稱 Nickname"),
    ("level", "等級 Level"),
    ("birthday", "生日 Birthday"),
    ("phone", "電話 Phone"),
    ("email", "Email"),
    ("postal_address", "地址 Address"),
    ("tags", "標籤 Tags"),
    ("guardian_name", "家長 Guardian"),
    ("guardian_phone", "家長電話 Guardian phone"),
    ("guardian_email", "家長Email Guardian email"),
    ("consent_marketing", "同意行銷 Marketing consent"),
    ("first_note", "備註 Notes"),
    ("alert_allergy", "過敏 Allergy"),
    ("last_visit", "上次來訪 Last visit"),
]
TEMPLATE_ROWS = [
    ["", "王小明", "小明", "B", "2016-03-02", "0912-345-678", "wang.family@example.com",
     "台北市大安區和平東路1號", "三年級, 才藝班", "王媽媽", "0912-345-678", "wang.family@example.com",
     "是", "喜歡畫畫", "花生", "2024-06-01"],
    ["", "Amy Chen", "Amy", "A", "2015/11/20", "0987-000-111", "amy.chen@example.com", "",
     "VIP", "Mrs Chen", "0987-000-111", "", "yes", "Loves drawing", "", ""],
]  # fmt: skip


def template(kind: str) -> bytes:
    header = [title for _target, title in TEMPLATE_HEADERS]
    if kind == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows(TEMPLATE_ROWS)
        return ("\ufeff" + buffer.getvalue()).encode("utf-8")
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Customers"
    sheet.append(header)
    for row in TEMPLATE_ROWS:
        sheet.append(row)
    for column in sheet.columns:
        sheet.column_dimensions[column[0].column_letter].width = 18
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# ---- files and progress -------------------------------------------------------------------


def file_path(folder: Path, batch: ImportBatch) -> Path:
    return folder / f"batch-{batch.id}.{batch.kind}"


def parsed_path(folder: Path, batch: ImportBatch) -> Path:
    # One parsed copy per encoding: choosing another encoding for a CSV reads it anew.
    return folder / f"batch-{batch.id}.{batch.encoding or 'xlsx'}.json"


def remove_files(folder: Path, batch: ImportBatch) -> None:
    """The sheet holds personal data: after the import only what was imported stays."""
    for path in folder.glob(f"batch-{batch.id}.*"):
        if not path.name.endswith(".progress"):
            path.unlink(missing_ok=True)


def write_progress(folder: Path, batch_id: int, done: int, total: int) -> None:
    # Written whole then renamed: the page polling it never reads half a file.
    path = folder / f"batch-{batch_id}.progress"
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps({"done": done, "total": total}))
    os.replace(partial, path)


def read_progress(folder: Path, batch_id: int) -> dict:
    try:
        return json.loads((folder / f"batch-{batch_id}.progress").read_text())
    except (OSError, ValueError):
        return {"done": 0, "total": 0}
