"""Which column is which: targets, header words in English and Chinese, the guess, and
the staff's choices on the mapping page."""

import re
from dataclasses import dataclass, field
from pathlib import Path

from app.models import (
    CustomField,
    ImportBatch,
)
from app.services.importer.sheets import (
    ENCODINGS,
    ImportProblem,
    file_path,
    read_sheet,
)

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

STAY_TARGETS = ("stay_check_in", "stay_check_out", "stay_nights", "stay_room", "stay_amount")
# Header words (normalised, see columns.normal_header) → stay target; offered to a homestay.
STAY_SYNONYMS = {
    "stay_check_in": [
        "入住日期", "入住日", "入住", "入住時間", "住宿日期", "住宿日", "抵達日期", "抵達日",
        "到達日期", "checkin", "checkindate", "arrival", "arrivaldate", "arrive",
    ],
    "stay_check_out": [
        "退房日期", "退房日", "退房", "退房時間", "離開日期", "離店日期", "checkout",
        "checkoutdate", "departure", "departuredate", "depart",
    ],
    "stay_nights": ["晚數", "住幾晚", "幾晚", "住宿晚數", "夜數", "nights", "night",
                    "numberofnights"],
    "stay_room": ["房間", "房號", "房名", "房間名稱", "入住房間", "room", "roomname", "roomno",
                  "roomnumber"],
    "stay_amount": ["金額", "房價", "房費", "住宿費", "住宿金額", "總價", "總金額", "amount",
                    "price", "total", "rate"],
}  # fmt: skip
# Parts of a header that make it a check-in or check-out column however it goes on
# ("入住日期（年/月/日）"): never an important date.
STAY_HINTS = {
    "stay_check_in": ("入住", "抵達", "checkin", "check-in", "check in", "arrival"),
    "stay_check_out": ("退房", "離開", "離店", "checkout", "check-out", "check out", "departure"),
}


def has_stay_columns(mapping: dict | None) -> bool:
    """Whether the batch's mapping makes stays (a check-in column is chosen)."""
    return "stay_check_in" in (mapping or {}).values()


def stay_hint(title: str) -> str | None:
    """The stay target a header is about when no header word matched it exactly."""
    lowered = title.lower()
    return next((t for t, words in STAY_HINTS.items() if any(w in lowered for w in words)), None)


def normal_header(text: str) -> str:
    """A header word as compared: lower case, without spaces and punctuation."""
    return re.sub(r"[\s_\-.:：/()（）#*]+", "", text.lower())


def _header_words(custom_fields: list[CustomField], stays: bool) -> dict[str, str]:
    """Every header word we know (normalised) → its target."""
    words = dict(SYNONYMS, **STAY_SYNONYMS) if stays else SYNONYMS
    lookup = {normal_header(word): target for target, names in words.items() for word in names}
    for custom in custom_fields:
        lookup[normal_header(custom.label)] = f"field:{custom.id}"
        lookup[normal_header(custom.key)] = f"field:{custom.id}"
    return lookup


def _target_of(title: str, lookup: dict[str, str], stays: bool) -> str | None:
    """One header's target: a known word (the whole title or one of its parts), else a
    dated column (a stay's check-in or check-out at a homestay, else an important date)."""
    candidates = [normal_header(title)] + [
        normal_header(part) for part in re.split(r"[\s/|]+", title) if part
    ]
    target = next((lookup[c] for c in candidates if c in lookup), None)
    if target is not None or not title.strip():
        return target
    if not any(word in title.lower() for word in DATE_WORDS):
        return None
    return (stays and stay_hint(title)) or f"date:{title.strip()[:80]}"


HEADER_SEARCH = 10  # the header is looked for (and may be chosen) among the first rows
_NUMBER_LIKE = re.compile(r"[\d\s.,/\-+:()年月日]+")


@dataclass
class HeaderGuess:
    """Which row holds the column names and why: "known" (it has the most column names we
    know, `words`), "widest" (no names known: the first row filled across, mostly text) or
    "first"."""

    index: int
    why: str
    words: list[str] = field(default_factory=list)


def _known_words(row: list[str], lookup: dict[str, str]) -> list[str]:
    """The cells that are column names we know, one per target."""
    found: dict[str, str] = {}
    for title in row:
        parts = [normal_header(title)] + [normal_header(p) for p in re.split(r"[\s/|]+", title)]
        target = next((lookup[p] for p in parts if p in lookup), None)
        if target and target not in found:
            found[target] = title
    return list(found.values())


def guess_header_row(
    table: list[list[str]], custom_fields: list[CustomField], *, stays: bool = False
) -> HeaderGuess:
    """The row (of the sheet's non-blank rows) that holds the column names: a title row or
    two above the header ("2026 春季班名單") is common in a sheet made by hand."""
    lookup = _header_words(custom_fields, stays)
    candidates = table[:HEADER_SEARCH]
    if not candidates:
        return HeaderGuess(0, "first")
    known = [_known_words(row, lookup) for row in candidates]
    best = max(range(len(candidates)), key=lambda index: (len(known[index]), -index))
    if known[best]:
        return HeaderGuess(best, "known", known[best])
    filled = [[cell for cell in row if cell.strip()] for row in candidates]
    widest = max(len(cells) for cells in filled)
    for index, cells in enumerate(filled):
        text = [cell for cell in cells if not _NUMBER_LIKE.fullmatch(cell)]
        if len(cells) >= max(2, widest * 0.8) and len(text) * 3 >= len(cells) * 2:
            return HeaderGuess(index, "widest")
    return HeaderGuess(0, "first")


def guess_mapping(
    header: list[str], custom_fields: list[CustomField], *, stays: bool = False
) -> dict[str, str]:
    """Column index → target for the headers we recognise ("姓名 Name" too). With `stays`
    (a homestay), a guest book's check-in column and the columns beside it make stays, never
    an important date."""
    lookup = _header_words(custom_fields, stays)
    mapping: dict[str, str] = {}
    for index, title in enumerate(header):
        target = _target_of(title, lookup, stays)
        if target and target not in mapping.values():
            mapping[str(index)] = target
    if stays and "stay_check_in" not in mapping.values():
        # Without a check-in column, "金額" or "房間" are not a stay's.
        mapping = {i: t for i, t in mapping.items() if t not in STAY_TARGETS}
    return mapping


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
