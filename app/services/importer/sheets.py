"""Reading an uploaded sheet (any common encoding, bounded before parsing), the
bilingual template, and the batch's files and progress."""

import csv
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from charset_normalizer import from_bytes
from openpyxl import Workbook
from python_calamine import CalamineWorkbook

from app.models import (
    ImportBatch,
)

MAX_ROWS = 50_000
MAX_BYTES = 20 * 1024 * 1024
# What a sheet may expand to, checked before it is parsed: a small file can declare or
# compress a huge grid (one cell at row 20,000, column 1,000 is 20 million empty cells).
MAX_COLUMNS = 200
MAX_CELLS = 2_000_000  # rows × columns of the grid as read
MAX_UNPACKED = 100 * 1024 * 1024  # bytes of XML inside an .xlsx
ENCODINGS = ("utf-8-sig", "cp950", "gb18030")  # UTF-8 (with or without BOM), Big5, GB18030
PREVIEW_ROWS = 20
CHUNK = 500


# Targets a column can map to, besides "field:<id>" (custom fields) and "date:<label>".
class ImportProblem(ValueError):
    """A problem with the file as a whole (unreadable, empty, too big)."""

    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


# ---- reading ------------------------------------------------------------------------------


@dataclass
class Sheet:
    header: list[str]
    rows: list[list[str]]
    encoding: str | None = None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return (
            value.date().isoformat()
            if value.time() == datetime.min.time()
            else value.isoformat(" ")
        )
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The text and the encoding that read it: the one asked for; else UTF-8 if it fits;
    else Big5 or GB18030, whichever reads as sensible text (both accept most byte strings,
    so charset-normalizer judges which decoding is not gibberish)."""
    if encoding:
        try:
            return data.decode(encoding), encoding
        except (UnicodeDecodeError, LookupError):
            raise ImportProblem("encoding") from None
    try:
        return data.decode("utf-8-sig"), "utf-8-sig"
    except UnicodeDecodeError:
        pass
    best = from_bytes(data, cp_isolation=["cp950", "gb18030"]).best()
    if best is None:
        raise ImportProblem("encoding")
    chosen = "gb18030" if best.encoding == "gb18030" else "cp950"
    try:
        return data.decode(chosen), chosen
    except UnicodeDecodeError:
        raise ImportProblem("encoding") from None


_CELL_REF = re.compile(rb"<(?:\w+:)?c\b[^>]*?\br=\"([A-Z]{1,3})([0-9]{1,7})\"")
_ROW_REF = re.compile(rb"<(?:\w+:)?row\b[^>]*?\br=\"([0-9]{1,7})\"")
_CELL_TAG = re.compile(rb"<(?:\w+:)?c[\s>/]")


def _column_number(letters: bytes) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + (letter - 64)
    return number


def check_xlsx_extent(data: bytes) -> None:
    """Refuses an .xlsx whose contents would expand past the limits, without parsing it:
    the zip's real (not declared) unpacked size, and every worksheet's furthest cell and
    number of cells, read by streaming its XML."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportProblem("unreadable", str(error)[:200]) from None
    if sum(member.file_size for member in members) > MAX_UNPACKED:
        raise ImportProblem("too-big-unpacked")
    unpacked = 0
    for member in members:
        name = member.filename
        if not (name.startswith("xl/worksheets/") and name.endswith(".xml")):
            continue
        rows = columns = cells = 0
        tail = b""
        try:
            with archive.open(member) as stream:
                while chunk := stream.read(1 << 20):
                    unpacked += len(chunk)
                    if unpacked > MAX_UNPACKED:
                        raise ImportProblem("too-big-unpacked")
                    window = tail + chunk
                    for letters, number in _CELL_REF.findall(window):
                        columns = max(columns, _column_number(letters))
                        rows = max(rows, int(number))
                    for number in _ROW_REF.findall(window):
                        rows = max(rows, int(number))
                    cells += len(_CELL_TAG.findall(chunk))
                    tail = window[-200:]
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as error:  # zlib.error too
            raise ImportProblem("unreadable", str(error)[:200]) from None
        except Exception as error:  # noqa: BLE001 - zlib.error and friends
            if isinstance(error, ImportProblem):
                raise
            raise ImportProblem("unreadable", str(error)[:200]) from None
        _check_extent(rows, columns, cells)


def _check_extent(rows: int, columns: int, cells: int = 0) -> None:
    if rows > MAX_ROWS + 1:
        raise ImportProblem("too-many", str(MAX_ROWS))
    if columns > MAX_COLUMNS:
        raise ImportProblem("too-wide", str(MAX_COLUMNS))
    if rows * columns > MAX_CELLS or cells > MAX_CELLS:
        raise ImportProblem("too-many-cells", f"{MAX_CELLS:,}")


def _check_csv_extent(text: str, delimiter: str) -> None:
    """Lines and delimiters counted before the csv module builds any row."""
    rows = widest = 0
    for line in io.StringIO(text):
        rows += 1
        widest = max(widest, line.count(delimiter))
        if rows > MAX_ROWS * 2 or widest > MAX_COLUMNS * 5:
            break  # quoted delimiters and line breaks are allowed some slack; the parsed
            # rows are checked exactly below
    if rows > MAX_ROWS * 2:
        raise ImportProblem("too-many", str(MAX_ROWS))
    if widest > MAX_COLUMNS * 5:
        raise ImportProblem("too-wide", str(MAX_COLUMNS))


def read_sheet(data: bytes, kind: str, encoding: str | None = None) -> Sheet:
    if len(data) > MAX_BYTES:
        raise ImportProblem("too-big")
    if kind == "xlsx":
        check_xlsx_extent(data)
        # python-calamine (Rust) reads 10,000 rows in 0.2 s where openpyxl takes 3 s;
        # openpyxl still writes our templates and exports.
        try:
            workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
            sheet = workbook.get_sheet_by_index(0)
            _check_extent(sheet.height, sheet.width)
            values = sheet.to_python()
        except ImportProblem:
            raise
        except Exception as error:  # a broken file raises many kinds
            raise ImportProblem("unreadable", str(error)[:200]) from None
        table = [[_cell(value) for value in row] for row in values]
        del values
        used = None
    else:
        text, used = decode(data, encoding)
        try:
            dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        _check_csv_extent(text, dialect.delimiter)
        table = []
        for row in csv.reader(io.StringIO(text), dialect):
            while row and not row[-1].strip():
                row.pop()  # trailing empty cells do not count towards the width
            if len(row) > MAX_COLUMNS:
                raise ImportProblem("too-wide", str(MAX_COLUMNS))
            table.append([cell.strip() for cell in row])
            if len(table) > MAX_ROWS + 1:
                raise ImportProblem("too-many", str(MAX_ROWS))
    table = [row for row in table if any(cell for cell in row)]
    if not table:
        raise ImportProblem("empty")
    header, rows = table[0], table[1:]
    if len(rows) > MAX_ROWS:
        raise ImportProblem("too-many", str(MAX_ROWS))
    width = max(len(header), *(len(row) for row in rows)) if rows else len(header)
    _check_extent(len(rows) + 1, width)
    header = header + [""] * (width - len(header))
    rows = [row + [""] * (width - len(row)) for row in rows]
    return Sheet(header, rows, used)


def load_sheet(folder: Path, batch: ImportBatch) -> Sheet:
    """The uploaded sheet, parsed once: later views and the import read the parsed copy."""
    parsed = parsed_path(folder, batch)
    try:
        stored = json.loads(parsed.read_text())
        return Sheet(stored["header"], stored["rows"], stored.get("encoding"))
    except (OSError, ValueError, KeyError):
        pass
    sheet = read_sheet(file_path(folder, batch).read_bytes(), batch.kind, batch.encoding)
    save_parsed(folder, batch, sheet)
    return sheet


def save_parsed(folder: Path, batch: ImportBatch, sheet: Sheet) -> None:
    parsed = parsed_path(folder, batch)
    partial = parsed.with_name(parsed.name + ".partial")
    partial.write_text(
        json.dumps({"header": sheet.header, "rows": sheet.rows, "encoding": sheet.encoding})
    )
    os.replace(partial, parsed)


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
