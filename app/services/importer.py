"""Importing customers from a CSV or Excel sheet: read (any common encoding), guess the
column mapping from English or Chinese headers, check every row, dry-run, then import all
or nothing, and undo a whole import later."""

import csv
import io
import json
import os
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import sqlalchemy as sa
from charset_normalizer import from_bytes
from email_validator import EmailNotValidError, validate_email
from openpyxl import Workbook
from python_calamine import CalamineWorkbook
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, matches_digits, reserve_ids
from app.models import (
    ConsentEvent,
    Customer,
    CustomField,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
    ImportBatch,
    ImportChange,
    Tag,
    TimelineEntry,
    customer_tag,
)
from app.models.customer import LEVELS
from app.models.tag import PALETTE
from app.services.customers import MEMBER_DIGITS, MEMBER_PREFIX, digits_of, format_member_number
from app.services.search import customer_document, index_new_customers, reindex_customers

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
PROFILE_TARGETS = (
    "member_number",
    "display_name",
    "nickname",
    "level",
    "birthday",
    "phone",
    "email",
    "postal_address",
    "occupation",
    "summary",
)
OTHER_TARGETS = (
    "tags",
    "guardian_name",
    "guardian_relation",
    "guardian_phone",
    "guardian_email",
    "consent_service",
    "consent_marketing",
    "first_note",
    "alert_allergy",
    "last_visit",
)
TARGETS = PROFILE_TARGETS + OTHER_TARGETS

# Header words (normalised: lower case, no spaces or punctuation) → target.
SYNONYMS = {
    "display_name": [
        "姓名",
        "名字",
        "客戶姓名",
        "學生姓名",
        "孩子姓名",
        "幼兒姓名",
        "name",
        "fullname",
        "customer",
        "customername",
        "student",
        "studentname",
    ],
    "nickname": ["暱稱", "小名", "稱呼", "nickname"],
    "member_number": [
        "會員編號",
        "會員號碼",
        "會員號",
        "編號",
        "membernumber",
        "memberno",
        "member",
        "no",
        "id",
    ],
    "level": ["等級", "分級", "客戶等級", "level"],
    "birthday": ["生日", "出生日期", "出生年月日", "birthday", "dateofbirth", "dob", "birthdate"],
    "last_visit": [
        "上次來訪",
        "最後來訪",
        "上次住宿",
        "最後住宿",
        "上次到訪",
        "最近來訪",
        "lastvisit",
        "laststay",
        "lastvisited",
    ],  # fmt: skip
    "phone": ["電話", "手機", "聯絡電話", "行動電話", "phone", "mobile", "tel", "telephone"],
    "email": ["email", "電子郵件", "信箱", "電郵", "mail", "emailaddress"],
    "postal_address": ["地址", "通訊地址", "住址", "address", "postaladdress"],
    "occupation": ["職業", "工作", "occupation", "job"],
    "summary": ["摘要", "簡介", "summary"],
    "tags": ["標籤", "分類", "tags", "tag", "labels"],
    "guardian_name": [
        "家長",
        "家長姓名",
        "監護人",
        "聯絡人",
        "guardian",
        "guardianname",
        "parent",
        "parentname",
    ],
    "guardian_relation": ["關係", "家長關係", "relation", "relationship"],
    "guardian_phone": ["家長電話", "家長手機", "guardianphone", "parentphone"],
    "guardian_email": ["家長email", "家長信箱", "家長電子郵件", "guardianemail", "parentemail"],
    "consent_service": ["同意服務紀錄", "服務同意", "consentservice", "serviceconsent"],
    "consent_marketing": [
        "同意行銷",
        "行銷同意",
        "同意接收行銷",
        "consentmarketing",
        "marketingconsent",
    ],
    "first_note": ["備註", "筆記", "紀錄", "說明", "note", "notes", "memo", "remarks", "comment"],
    "alert_allergy": [
        "過敏",
        "過敏原",
        "食物過敏",
        "過敏食物",
        "allergy",
        "allergies",
        "allergens",
    ],
}
DATE_WORDS = ("日", "紀念", "anniversary", "enrol", "enroll", "date", "day")
YES = {"y", "yes", "true", "1", "是", "有", "同意", "v", "✓", "ok"}
NO = {"n", "no", "false", "0", "否", "無", "不同意", "x", ""}
ROC_DATE = re.compile(r"^(\d{2,3})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?$")
# Plain ASCII dot-atom addresses (nearly all of them) are checked here; anything else goes
# through email-validator, which is thorough but slow for 10,000 rows.
SIMPLE_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
DATE = re.compile(r"^(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?(?:\s.*)?$")


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


def _normal(text: str) -> str:
    return re.sub(r"[\s_\-.:：/()（）#*]+", "", text.lower())


def guess_mapping(header: list[str], custom_fields: list[CustomField]) -> dict[str, str]:
    """Column index → target for the headers we recognise ("姓名 Name" too)."""
    lookup = {_normal(word): target for target, words in SYNONYMS.items() for word in words}
    for custom in custom_fields:
        lookup[_normal(custom.label)] = f"field:{custom.id}"
        lookup[_normal(custom.key)] = f"field:{custom.id}"
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, title in enumerate(header):
        candidates = [_normal(title)] + [
            _normal(part) for part in re.split(r"[\s/|]+", title) if part
        ]
        target = next((lookup[c] for c in candidates if c in lookup), None)
        if target is None and title.strip() and any(w in title.lower() for w in DATE_WORDS):
            target = f"date:{title.strip()[:80]}"
        if target and target not in taken:
            mapping[str(index)] = target
            taken.add(target)
    return mapping


# ---- checking rows ------------------------------------------------------------------------


def parse_date(text: str) -> date | None:
    """2016-03-02, 2016/3/2, 2016年3月2日, and ROC years (105/3/2 is 2016-03-02)."""
    text = text.strip()
    match = DATE.match(text)
    year_offset = 0
    if not match:
        match = ROC_DATE.match(text)
        year_offset = 1911
    if not match:
        raise ValueError(text)
    year, month, day = (int(part) for part in match.groups())
    return date(year + year_offset, month, day)


def check_email(text: str) -> str:
    if SIMPLE_EMAIL.match(text) and len(text) <= 254 and len(text.split("@")[0]) <= 64:
        return text.lower()
    return validate_email(text, check_deliverability=False).normalized.lower()


def parse_yes(text: str) -> bool:
    value = text.strip().lower()
    if value in YES:
        return True
    if value in NO:
        return False
    raise ValueError(text)


@dataclass
class Row:
    number: int  # 1-based line in the sheet, after the header (as the user sees it: +1)
    values: dict[str, object] = field(default_factory=dict)  # target → cleaned value
    raw: dict[str, str] = field(default_factory=dict)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (target, code)
    outcome: str = ""  # new, updated, unchanged, skipped, error
    customer_id: int | None = None
    changes: list[str] = field(default_factory=list)


def _last_visit(text: str) -> date:
    day = parse_date(text)
    if day > date.today() + timedelta(days=1):
        raise ValueError(text)  # a visit that has not happened yet
    return day


def _email(text: str) -> str:
    return validate_email(text, check_deliverability=False).normalized.lower()


def _level(text: str) -> str:
    if text.upper() not in LEVELS:
        raise ValueError(text)
    return text.upper()


def _tags(text: str) -> list[str]:
    names = [" ".join(n.split()) for n in re.split(r"[,，、;；]", text)]
    return [n[:60] for n in names if n]


def _at_most(limit: int) -> Callable[[str], str]:
    def bounded(text: str) -> str:
        if len(text) > limit:
            raise OverflowError(text)
        return text

    return bounded


# How each column's text becomes its value (ValueError / OverflowError: the row's error).
_CLEANERS: dict[str, Callable[[str], object]] = {
    "birthday": parse_date,
    "last_visit": _last_visit,
    "email": _email,
    "guardian_email": _email,
    "level": _level,
    "tags": _tags,
    "first_note": lambda text: text[:5000],
    "alert_allergy": _at_most(200),
}
_TEXT_LIMITS = {"member_number": 20, "display_name": 120, "nickname": 60, "phone": 40,
                "summary": 200, "occupation": 120, "guardian_name": 120,
                "guardian_relation": 60, "guardian_phone": 40}  # fmt: skip


def _cleaner(target: str) -> Callable[[str], object]:
    if target.startswith("date:"):
        return parse_date
    if target.startswith("consent_"):
        return parse_yes
    return _CLEANERS.get(target) or _at_most(_TEXT_LIMITS.get(target, 2000))


def choose_columns(
    batch: "ImportBatch",
    header: list[str],
    chosen: dict[int, str],
    allowed: set[str],
    *,
    mode: str,
    encoding: str | None,
    skip_errors: bool,
    match_phone: bool,
    folder: Path,
) -> None:
    """The staff's choices on the mapping page: each column's target (one column per target;
    a column may always be its own important date), the import mode and, for a CSV, the
    encoding (the file must read in it). ImportProblem("choice" / "twice", target) or one of
    read_sheet's; nothing changes on the batch unless all is well."""
    from app.models.importing import IMPORT_MODES

    allowed = set(allowed) | {t for t in (batch.mapping or {}).values() if t.startswith("date:")}
    mapping: dict[str, str] = {}
    for index, title in enumerate(header):
        target = chosen.get(index, "")
        if not target:
            continue
        if target not in allowed and target != f"date:{title[:80]}":
            raise ImportProblem("choice")
        if target in mapping.values():
            raise ImportProblem("twice", target)
        mapping[str(index)] = target
    if mode not in IMPORT_MODES:
        raise ImportProblem("choice")
    encoding = encoding or batch.encoding
    if batch.kind == "csv":
        if encoding not in ENCODINGS:
            raise ImportProblem("choice")
        if encoding != batch.encoding:
            read_sheet(file_path(folder, batch).read_bytes(), "csv", encoding)
    batch.mapping, batch.mode = mapping, mode
    batch.encoding = encoding if batch.kind == "csv" else None
    batch.skip_errors, batch.match_phone = skip_errors, match_phone


def clean_row(
    number: int, cells: list[str], mapping: dict[str, str], overrides: dict | None
) -> Row:
    row = Row(number)
    for index, target in mapping.items():
        position = int(index)
        row.raw[target] = cells[position] if position < len(cells) else ""
    for target, value in (overrides or {}).items():
        row.raw[target] = value
    for target, text in row.raw.items():
        text = (text or "").strip()
        if not text:
            continue
        try:
            row.values[target] = _cleaner(target)(text)
        except OverflowError:
            row.errors.append((target, "too-long"))
        except (ValueError, EmailNotValidError):
            code = {"level": "bad-level", "email": "bad-email", "guardian_email": "bad-email"}.get(
                target, "bad-yes-no" if target.startswith("consent_") else "bad-date"
            )
            row.errors.append((target, code))
    return row


@dataclass
class Existing:
    """What is already in the database that a row can match: number, else email, else phone."""

    by_number: dict[str, int]
    by_email: dict[str, int]
    by_phone: dict[str, int]

    @classmethod
    def load(cls, session: Session) -> "Existing":
        by_number, by_email, by_phone = {}, {}, {}
        for cid, number, email, phone in session.execute(
            sa.select(Customer.id, Customer.member_number, Customer.email, Customer.phone_digits)
            .where(Customer.erased_at.is_(None))
            .order_by(Customer.id)
        ):
            by_number[number.lower()] = cid
            if email:
                by_email.setdefault(email.lower(), cid)
            if phone:
                by_phone.setdefault(phone, cid)
        return cls(by_number, by_email, by_phone)

    def match(self, row: Row, *, by_phone: bool = False) -> int | None:
        number = row.values.get("member_number")
        if number:
            return self.by_number.get(str(number).lower())
        email = row.values.get("email")
        if email and email in self.by_email:
            return self.by_email[email]
        # Brothers and sisters share a parent's phone: matching on it would merge them, so
        # only when the owner chooses it.
        phone = digits_of(row.values.get("phone"))
        if by_phone and phone and phone in self.by_phone:
            return self.by_phone[phone]
        return None


def _keys(row: Row, *, by_phone: bool = False) -> list[tuple[str, str]]:
    keys = []
    if row.values.get("member_number"):
        keys.append(("member_number", str(row.values["member_number"]).lower()))
    elif row.values.get("email"):
        keys.append(("email", row.values["email"]))
    elif by_phone and digits_of(row.values.get("phone")):
        keys.append(("phone", digits_of(row.values["phone"])))
    return keys


@dataclass
class Plan:
    rows: list[Row]
    counts: dict[str, int]
    # What matched customers have now (profile columns; tags, family, dates, fields, consents).
    current: dict[int, dict] = field(default_factory=dict)
    related: dict[int, dict] = field(default_factory=dict)

    @property
    def error_rows(self) -> list[Row]:
        return [row for row in self.rows if row.errors]


def _profile_differs(current: dict, row: Row) -> list[str]:
    changed = []
    for target in PROFILE_TARGETS:
        if target in row.values and row.values[target] != current.get(target):
            if (
                target == "member_number"
                and str(current.get(target, "")).lower() == str(row.values[target]).lower()
            ):
                continue
            changed.append(target)
    visit = row.values.get("last_visit")
    if visit and (current.get("last_visit_at") is None or current["last_visit_at"].date() < visit):
        changed.append("last_visit")  # only a later visit than the one on record
    return changed


def visit_moment(day: date) -> datetime:
    """Noon (Taiwan) of an imported visit day, as stored (naive UTC)."""
    return datetime.combine(day, datetime.min.time()) + timedelta(hours=4)


def _visit_entry(row: Row, customer_id: int, actor_id) -> dict:
    return {
        "customer_id": customer_id, "author_id": actor_id, "kind": "visit",
        "body": f"⌂ {row.values['last_visit'].isoformat()} ({row.raw.get('last_visit', '')})",
        "created_at": visit_moment(row.values["last_visit"]), "pinned": False,
        "alert_category": None, "alert_keywords": None,
    }  # fmt: skip


def plan(session: Session, batch: ImportBatch, sheet: Sheet) -> Plan:
    """What importing would do to each row (the dry run): nothing is written."""
    mapping = batch.mapping or {}
    overrides = batch.overrides or {}
    existing = Existing.load(session)
    seen: dict[tuple[str, str], int] = {}
    rows: list[Row] = []
    matched_ids = set()
    for offset, cells in enumerate(sheet.rows):
        number = offset + 2  # the sheet's own line number (line 1 is the header)
        row = clean_row(number, cells, mapping, overrides.get(str(number)))
        for key in _keys(row, by_phone=bool(batch.match_phone)):
            if key in seen:
                row.errors.append((key[0], f"duplicate:{seen[key]}"))
            else:
                seen[key] = number
        customer_id = existing.match(row, by_phone=bool(batch.match_phone))
        if customer_id is None and not row.values.get("display_name"):
            row.errors.append(("display_name", "required"))
        row.customer_id = customer_id
        rows.append(row)
        if customer_id:
            matched_ids.add(customer_id)
    current = _current_profiles(session, matched_ids)
    related = _current_related(session, matched_ids)
    for customer_id, body in _notes_present(session, rows):
        related.setdefault(customer_id, {}).setdefault("notes", set()).add((customer_id, body))
    counts = {"new": 0, "updated": 0, "unchanged": 0, "skipped": 0, "errors": 0}
    for row in rows:
        if not any((text or "").strip() for text in row.raw.values()):
            row.outcome, row.errors = "skipped", []  # a blank line
        elif row.errors:
            row.outcome = "error"
        elif row.customer_id is None:
            row.outcome = "new" if batch.mode != "update" else "skipped"
        elif batch.mode == "create_only":
            row.outcome = "unchanged"
        else:
            row.changes = _profile_differs(current.get(row.customer_id, {}), row)
            row.changes += _related_differs(related.get(row.customer_id, {}), row)
            row.outcome = "updated" if row.changes else "unchanged"
        counts["errors" if row.outcome == "error" else row.outcome] += 1
    return Plan(rows, counts, current, related)


def _current_profiles(session: Session, ids: set[int]) -> dict[int, dict]:
    result = {}
    id_list = sorted(ids)
    names = (*PROFILE_TARGETS, "last_visit_at")
    columns = [getattr(Customer, name) for name in names]
    for start in range(0, len(id_list), CHUNK):
        for row in session.execute(
            sa.select(Customer.id, *columns).where(Customer.id.in_(id_list[start : start + CHUNK]))
        ):
            result[row[0]] = dict(zip(names, row[1:], strict=True))
    return result


def _current_related(session: Session, ids: set[int]) -> dict[int, dict]:
    """Per customer: tag names, family names, (label, date)s, custom values, note texts and
    consents, to tell an update from a re-import of the same data."""
    result: dict[int, dict] = {}

    def slot(customer_id):
        return result.setdefault(
            customer_id,
            {
                "tags": set(),
                "family": set(),
                "dates": set(),
                "fields": {},
                "notes": set(),
                "consents": set(),
                "alerts": set(),
            },
        )

    id_list = sorted(ids)
    for start in range(0, len(id_list), CHUNK):
        chunk = id_list[start : start + CHUNK]
        for customer_id, name in session.execute(
            sa.select(customer_tag.c.customer_id, Tag.name)
            .join(Tag, Tag.id == customer_tag.c.tag_id)
            .where(customer_tag.c.customer_id.in_(chunk))
        ):
            slot(customer_id)["tags"].add(name.lower())
        for customer_id, name in session.execute(
            sa.select(FamilyMember.customer_id, FamilyMember.name).where(
                FamilyMember.customer_id.in_(chunk)
            )
        ):
            slot(customer_id)["family"].add(name)
        for customer_id, label, when in session.execute(
            sa.select(ImportantDate.customer_id, ImportantDate.label, ImportantDate.date).where(
                ImportantDate.customer_id.in_(chunk)
            )
        ):
            slot(customer_id)["dates"].add((label, when))
        for customer_id, field_id, value in session.execute(
            sa.select(
                CustomFieldValue.customer_id, CustomFieldValue.field_id, CustomFieldValue.value
            ).where(CustomFieldValue.customer_id.in_(chunk))
        ):
            slot(customer_id)["fields"][field_id] = value
        for customer_id, consents in session.execute(
            sa.select(Customer.id, Customer.consent_purposes).where(Customer.id.in_(chunk))
        ):
            slot(customer_id)["consents"] = {p for p in (consents or "").split(",") if p}
        for customer_id, keywords in session.execute(
            sa.select(TimelineEntry.customer_id, TimelineEntry.alert_keywords).where(
                TimelineEntry.customer_id.in_(chunk),
                TimelineEntry.kind == "alert",
                TimelineEntry.alert_resolved_at.is_(None),
            )
        ):
            slot(customer_id)["alerts"].add(keywords or "")
    return result


def _notes_present(session: Session, rows: list[Row]) -> set[tuple[int, str]]:
    wanted = [
        (r.customer_id, r.values["first_note"])
        for r in rows
        if r.customer_id and r.values.get("first_note")
    ]
    found: set[tuple[int, str]] = set()
    for start in range(0, len(wanted), CHUNK):
        chunk = wanted[start : start + CHUNK]
        found.update(
            session.execute(
                sa.select(TimelineEntry.customer_id, TimelineEntry.body).where(
                    TimelineEntry.customer_id.in_({cid for cid, _ in chunk}),
                    TimelineEntry.body.in_({body for _, body in chunk}),
                )
            ).all()
        )
    return found


def _related_differs(state: dict, row: Row) -> list[str]:
    changed = []
    if {t.lower() for t in row.values.get("tags", [])} - state.get("tags", set()):
        changed.append("tags")
    if row.values.get("guardian_name") and row.values["guardian_name"] not in state.get(
        "family", set()
    ):
        changed.append("guardian_name")
    for target, value in row.values.items():
        if target.startswith("date:") and (target.split(":", 1)[1], value) not in state.get(
            "dates", set()
        ):
            changed.append(target)
        elif (
            target.startswith("field:")
            and state.get("fields", {}).get(int(target.split(":", 1)[1])) != value
        ):
            changed.append(target)
        elif (
            target.startswith("consent_")
            and value
            and target.split("_", 1)[1] not in state.get("consents", set())
        ):
            changed.append(target)
    if row.values.get("first_note") and (
        row.customer_id,
        row.values["first_note"],
    ) not in state.get("notes", set()):
        changed.append("first_note")
    if row.values.get("alert_allergy") and _alert_keywords(row) not in state.get("alerts", set()):
        changed.append("alert_allergy")
    return changed


def _alert_keywords(row: Row) -> str:
    from app.services.timeline import normalise_keywords

    return normalise_keywords(str(row.values.get("alert_allergy") or ""))


def _alert_entry(row: Row, customer_id: int, actor_id, now) -> dict:
    """An "allergy" / "過敏" cell becomes an allergy alert, pinned like one added by hand."""
    return {
        "customer_id": customer_id, "author_id": actor_id, "kind": "alert",
        "body": str(row.values["alert_allergy"]), "created_at": now, "pinned": True,
        "alert_category": "allergy", "alert_keywords": _alert_keywords(row),
    }  # fmt: skip


# ---- importing ----------------------------------------------------------------------------


def _serialise(value):
    return value.isoformat() if isinstance(value, date | datetime) else value


def run_import(
    session: Session,
    batch: ImportBatch,
    sheet: Sheet,
    *,
    actor_id: int | None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, int]:
    """Imports the sheet in one transaction: any failure rolls everything back."""
    begin_write(session)
    result = plan(session, batch, sheet)
    if result.counts["errors"] and not batch.skip_errors:
        raise ImportProblem("row-errors", str(result.counts["errors"]))
    now = utcnow()
    connection = session.connection()
    tags = {name.lower(): tag_id for tag_id, name in session.execute(sa.select(Tag.id, Tag.name))}
    highest = session.scalar(
        sa.select(sa.func.max(Customer.member_number)).where(
            matches_digits(Customer.member_number, MEMBER_PREFIX, MEMBER_DIGITS)
        )
    )
    next_number = int(highest[len(MEMBER_PREFIX) :]) + 1 if highest else 1
    used_numbers = {n.lower() for n in session.scalars(sa.select(Customer.member_number))}
    touched: set[int] = set()
    fresh = [row for row in result.rows if row.outcome == "new"]
    changed = [row for row in result.rows if row.outcome == "updated"]
    total = len(fresh) + len(changed)
    done = 0

    def next_free_number() -> str:
        nonlocal next_number
        while format_member_number(next_number).lower() in used_numbers:
            next_number += 1
        number = format_member_number(next_number)
        next_number += 1
        return number

    # New customers: a chunk at a time, one multi-row statement per table.
    for start in range(0, len(fresh), CHUNK):
        chunk = fresh[start : start + CHUNK]
        values = []
        for row in chunk:
            number = row.values.get("member_number") or next_free_number()
            used_numbers.add(str(number).lower())
            consents = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
            item = {name: row.values.get(name) for name in PROFILE_TARGETS}
            item.update(
                member_number=number,
                level=row.values.get("level") or "C",
                phone_digits=digits_of(row.values.get("phone")),
                consent_purposes=",".join(consents),
                consent_method="paper" if consents else None,
                consent_given_at=now if consents else None,
                consent_recorded_by_id=actor_id if consents else None,
                email_opt_out=False,
                created_at=now,
                updated_at=now,
                version=1,
                import_batch_id=batch.id,
                last_visit_at=visit_moment(row.values["last_visit"])
                if row.values.get("last_visit")
                else None,
            )
            values.append(item)
        # Ids reserved first (app.db), then a plain multi-row insert: much faster than
        # INSERT … RETURNING row by row.
        table = Customer.__table__
        ids = reserve_ids(connection, table, len(values))
        for customer_id, item in zip(ids, values, strict=True):
            item["id"] = customer_id
        connection.execute(sa.insert(table), values)
        _insert_related_of_new(connection, chunk, ids, tags, now, actor_id, batch.id)
        index_new_customers(connection, [
            (customer_id, _search_document(item, row)) for customer_id, item, row in zip(ids, values, chunk, strict=True)
        ])  # fmt: skip
        done += len(chunk)
        if progress:
            progress(done, total)
    # Existing customers: a chunk at a time too, against what plan() read of them.
    for start in range(0, len(changed), CHUNK):
        chunk = changed[start : start + CHUNK]
        _apply_updates(connection, chunk, result, tags, now, actor_id, batch.id)
        touched.update(row.customer_id for row in chunk)
        done += len(chunk)
        if progress:
            progress(done, total)
    touched_list = sorted(touched)
    for start in range(0, len(touched_list), CHUNK):
        reindex_customers(connection, set(touched_list[start : start + CHUNK]))
    return result.counts


def consent_rows(customer_id: int, purposes, now, actor_id, batch_id) -> list[dict]:
    """Consent history rows for consent a sheet records (on paper, as sheets are)."""
    return [
        {"customer_id": customer_id, "purpose": purpose, "action": "given", "method": "paper",
         "at": now, "recorded_by_id": actor_id, "source": f"import {batch_id}"}
        for purpose in purposes
    ]  # fmt: skip


def _search_document(profile: dict, row: Row) -> str:
    """What a new customer is found by (the same text search.customer_document builds)."""
    guardian = []
    if row.values.get("guardian_name"):
        guardian = [SimpleNamespace(name=row.values["guardian_name"], phone=row.values.get("guardian_phone"),
                                    email=row.values.get("guardian_email"))]  # fmt: skip
    return customer_document(SimpleNamespace(**profile), guardian)


def _tag_ids(connection, names: list[str], tags: dict, now) -> list[int]:
    """Ids for tag names (case-insensitive), creating the missing tags."""
    wanted = []
    for name in names:
        key = name.lower()
        if key not in tags:
            tags[key] = connection.execute(
                sa.insert(Tag.__table__).values(
                    name=name,
                    colour=PALETTE[len(tags) % len(PALETTE)],
                    created_at=now,
                    is_group=False,
                )
            ).inserted_primary_key[0]
        wanted.append(tags[key])
    return list(dict.fromkeys(wanted))


def _insert_related_of_new(
    connection, rows: list[Row], ids: list[int], tags, now, actor_id, batch_id
):
    """Everything besides the profile for freshly created customers, a table at a time."""
    tag_rows, family, dates, fields, entries, consents, changes = [], [], [], [], [], [], []
    for row, customer_id in zip(rows, ids, strict=True):
        row.customer_id = customer_id
        for tag_id in _tag_ids(connection, row.values.get("tags") or [], tags, now):
            tag_rows.append({"customer_id": customer_id, "tag_id": tag_id, "created_at": now})
        if row.values.get("guardian_name"):
            family.append({
                "customer_id": customer_id, "name": row.values["guardian_name"],
                "relation": row.values.get("guardian_relation"), "phone": row.values.get("guardian_phone"),
                "email": row.values.get("guardian_email"), "birthday": None, "is_guardian": True,
            })  # fmt: skip
        for target, value in row.values.items():
            if target.startswith("date:"):
                dates.append(
                    {"customer_id": customer_id, "label": target.split(":", 1)[1], "date": value}
                )
            elif target.startswith("field:"):
                fields.append(
                    {
                        "customer_id": customer_id,
                        "field_id": int(target.split(":", 1)[1]),
                        "value": value,
                    }
                )
        if row.values.get("first_note"):
            entries.append({
                "customer_id": customer_id, "author_id": actor_id, "kind": "note",
                "body": row.values["first_note"], "created_at": now, "pinned": False,
                "alert_category": None, "alert_keywords": None,
            })  # fmt: skip
        if row.values.get("alert_allergy") and _alert_keywords(row):
            entries.append(_alert_entry(row, customer_id, actor_id, now))
        if row.values.get("last_visit"):
            entries.append(_visit_entry(row, customer_id, actor_id))
        given = [p for p in ("service", "marketing") if row.values.get(f"consent_{p}")]
        consents.extend(consent_rows(customer_id, given, now, actor_id, batch_id))
        changes.append(
            {"batch_id": batch_id, "customer_id": customer_id, "action": "created", "before": None}
        )
    for table, data in (
        (customer_tag, tag_rows),
        (FamilyMember.__table__, family),
        (ImportantDate.__table__, dates),
        (CustomFieldValue.__table__, fields),
        (TimelineEntry.__table__, entries),
        (ConsentEvent.__table__, consents),
        (ImportChange.__table__, changes),
    ):
        if data:
            connection.execute(sa.insert(table), data)


def _next_ids(connection, table, count: int) -> list[int]:
    """Ids for rows about to be inserted (see app.db.reserve_ids)."""
    return reserve_ids(connection, table, count)


def _apply_updates(connection, rows: list[Row], result: Plan, tags: dict, now, actor_id, batch_id):
    """Updates existing customers from their rows; each row's `before` records what undo
    puts back or removes."""
    batch = _UpdateBatch(connection, result, tags, now, actor_id, batch_id)
    for row in rows:
        batch.add(row)
    batch.write()


class _UpdateBatch:
    """What a chunk of updated rows writes, gathered per table, then written in a few
    multi-row statements."""

    def __init__(self, connection, result: Plan, tags: dict, now, actor_id, batch_id):
        self.connection, self.result, self.tags = connection, result, tags
        self.now, self.actor_id, self.batch_id = now, actor_id, batch_id
        self.updates: dict[tuple[str, ...], list[dict]] = {}
        self.tag_rows, self.family, self.dates, self.entries = [], [], [], []
        self.field_inserts, self.field_updates, self.consents, self.changes = [], [], [], []

    def add(self, row: Row) -> None:
        customer_id = row.customer_id
        state = self.result.related.get(customer_id, {})
        before: dict = {}
        self._profile(row, state, before)
        if "tags" in row.changes:
            have = state.get("tags", set())
            wanted = [name for name in row.values["tags"] if name.lower() not in have]
            new_ids = _tag_ids(self.connection, wanted, self.tags, self.now)
            self.tag_rows.extend(
                {"customer_id": customer_id, "tag_id": t, "created_at": self.now} for t in new_ids
            )
            before["tag_ids"] = new_ids
        if "guardian_name" in row.changes:
            self.family.append({
                "customer_id": customer_id, "name": row.values["guardian_name"],
                "relation": row.values.get("guardian_relation"), "phone": row.values.get("guardian_phone"),
                "email": row.values.get("guardian_email"), "birthday": None, "is_guardian": True,
            })  # fmt: skip
            before["family_ids"] = [len(self.family) - 1]  # made into an id in write()
        for target in row.changes:
            if target.startswith("date:"):
                self.dates.append({"customer_id": customer_id, "label": target.split(":", 1)[1],
                                   "date": row.values[target]})  # fmt: skip
                before.setdefault("date_ids", []).append(len(self.dates) - 1)
            elif target.startswith("field:"):
                self._field(row, target, state, before)
        self._entries(row, before)
        self.changes.append({"batch_id": self.batch_id, "customer_id": customer_id,
                             "action": "updated", "before": before})  # fmt: skip

    def _profile(self, row: Row, state: dict, before: dict) -> None:
        """Profile columns, consent, phone digits and last visit, grouped by the columns set."""
        customer_id = row.customer_id
        old = self.result.current.get(customer_id, {})
        profile = [name for name in row.changes if name in PROFILE_TARGETS]
        values = {name: row.values[name] for name in profile}
        before["fields"] = {name: _serialise(old.get(name)) for name in profile}
        given = [t.split("_", 1)[1] for t in row.changes if t.startswith("consent_")]
        if given:
            had = state.get("consents", set())
            before["fields"]["consent_purposes"] = ",".join(sorted(had))
            values["consent_purposes"] = ",".join(sorted(had | set(given)))
            self.consents.extend(
                consent_rows(customer_id, given, self.now, self.actor_id, self.batch_id)
            )
        if "phone" in values:
            values["phone_digits"] = digits_of(values["phone"])
            before["fields"]["phone_digits"] = digits_of(old.get("phone"))
        if "last_visit" in row.changes:
            values["last_visit_at"] = visit_moment(row.values["last_visit"])
            before["fields"]["last_visit_at"] = _serialise(old.get("last_visit_at"))
        if values:
            values["updated_at"] = self.now
            self.updates.setdefault(tuple(sorted(values)), []).append(
                {"b_id": customer_id, **values}
            )

    def _field(self, row: Row, target: str, state: dict, before: dict) -> None:
        field_id = int(target.split(":", 1)[1])
        value = row.values[target]
        earlier = before.setdefault("fields_before", {})
        if field_id in state.get("fields", {}):
            self.field_updates.append(
                {"b_customer": row.customer_id, "b_field": field_id, "value": value}
            )
            earlier[str(field_id)] = state["fields"][field_id]
        else:
            self.field_inserts.append(
                {"customer_id": row.customer_id, "field_id": field_id, "value": value}
            )
            earlier[str(field_id)] = None

    def _entries(self, row: Row, before: dict) -> None:
        """The first note, an allergy alert and a dated visit, as timeline entries."""
        customer_id, made = row.customer_id, []
        if "first_note" in row.changes:
            made.append({
                "customer_id": customer_id, "author_id": self.actor_id, "kind": "note",
                "body": row.values["first_note"], "created_at": self.now, "pinned": False,
                "alert_category": None, "alert_keywords": None,
            })  # fmt: skip
        if "alert_allergy" in row.changes and _alert_keywords(row):
            made.append(_alert_entry(row, customer_id, self.actor_id, self.now))
        if "last_visit" in row.changes:
            made.append(_visit_entry(row, customer_id, self.actor_id))
        for entry in made:
            self.entries.append(entry)
            before.setdefault("entry_ids", []).append(len(self.entries) - 1)

    def write(self) -> None:
        connection, table = self.connection, Customer.__table__
        for columns, data in self.updates.items():
            statement = (
                sa.update(table)
                .where(table.c.id == sa.bindparam("b_id"))
                .values(
                    {
                        **{name: sa.bindparam(name) for name in columns},
                        "version": table.c.version + 1,
                    }
                )  # fmt: skip
            )
            connection.execute(statement, data)
        # Rows that undo must find again get their ids now (positions above become ids).
        for key, model, data in (
            ("family_ids", FamilyMember, self.family),
            ("date_ids", ImportantDate, self.dates),
            ("entry_ids", TimelineEntry, self.entries),
        ):
            if not data:
                continue
            ids = _next_ids(connection, model.__table__, len(data))
            for row_id, item in zip(ids, data, strict=True):
                item["id"] = row_id
            for change in self.changes:
                if key in change["before"]:
                    change["before"][key] = [ids[position] for position in change["before"][key]]
            connection.execute(sa.insert(model.__table__), data)
        values_table = CustomFieldValue.__table__
        if self.field_updates:
            connection.execute(
                sa.update(values_table)
                .where(
                    values_table.c.customer_id == sa.bindparam("b_customer"),
                    values_table.c.field_id == sa.bindparam("b_field"),
                )
                .values(value=sa.bindparam("value")),
                self.field_updates,
            )
        for table_, data in (
            (customer_tag, self.tag_rows),
            (values_table, self.field_inserts),
            (ConsentEvent.__table__, self.consents),
            (ImportChange.__table__, self.changes),
        ):
            if data:
                connection.execute(sa.insert(table_), data)


def undo(session: Session, batch: ImportBatch) -> dict[str, int]:
    """Takes a whole import back: customers it created go (with everything added to them
    since), customers it updated get their old values back."""
    begin_write(session)
    connection = session.connection()
    changes = session.execute(
        sa.select(ImportChange.customer_id, ImportChange.action, ImportChange.before).where(
            ImportChange.batch_id == batch.id
        )
    ).all()
    created = [cid for cid, action, _ in changes if action == "created" and cid]
    removed = updated = 0
    for customer_id, action, before in changes:
        if action != "updated" or not customer_id:
            continue
        before = before or {}
        fields = {}
        for name, value in (before.get("fields") or {}).items():
            if name == "birthday" and value:
                value = date.fromisoformat(value)
            elif name == "last_visit_at" and value:
                value = datetime.fromisoformat(value)
            fields[name] = value
        if fields:
            connection.execute(
                sa.update(Customer.__table__)
                .where(Customer.__table__.c.id == customer_id)
                .values(**fields)
            )
        if before.get("tag_ids"):
            connection.execute(
                sa.delete(customer_tag).where(
                    customer_tag.c.customer_id == customer_id,
                    customer_tag.c.tag_id.in_(before["tag_ids"]),
                )
            )
        for key, model in (
            ("family_ids", FamilyMember),
            ("date_ids", ImportantDate),
            ("entry_ids", TimelineEntry),
        ):
            if before.get(key):
                connection.execute(
                    sa.delete(model.__table__).where(model.__table__.c.id.in_(before[key]))
                )
        for field_id, old in (before.get("fields_before") or {}).items():
            table = CustomFieldValue.__table__
            where = sa.and_(table.c.customer_id == customer_id, table.c.field_id == int(field_id))
            if old is None:
                connection.execute(sa.delete(table).where(where))
            else:
                connection.execute(sa.update(table).where(where).values(value=old))
        updated += 1
    for start in range(0, len(created), CHUNK):
        chunk = created[start : start + CHUNK]
        removed += connection.execute(
            sa.delete(Customer.__table__).where(Customer.__table__.c.id.in_(chunk))
        ).rowcount
        reindex_customers(connection, set(chunk))  # drops their search documents
    touched = sorted({cid for cid, action, _ in changes if action == "updated" and cid})
    for start in range(0, len(touched), CHUNK):
        reindex_customers(connection, set(touched[start : start + CHUNK]))
    connection.execute(
        sa.delete(ConsentEvent.__table__).where(
            ConsentEvent.__table__.c.source == f"import {batch.id}"
        )
    )
    batch.undone_at = utcnow()
    batch.status = "undone"
    return {"removed": removed, "restored": updated}


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
