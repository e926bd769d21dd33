"""Which column is which: targets, header words in English and Chinese, the guess, and
the staff's choices on the mapping page."""

import re
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


def normal_header(text: str) -> str:
    """A header word as compared: lower case, without spaces and punctuation."""
    return re.sub(r"[\s_\-.:：/()（）#*]+", "", text.lower())


def guess_mapping(header: list[str], custom_fields: list[CustomField]) -> dict[str, str]:
    """Column index → target for the headers we recognise ("姓名 Name" too)."""
    lookup = {normal_header(word): target for target, words in SYNONYMS.items() for word in words}
    for custom in custom_fields:
        lookup[normal_header(custom.label)] = f"field:{custom.id}"
        lookup[normal_header(custom.key)] = f"field:{custom.id}"
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for index, title in enumerate(header):
        candidates = [normal_header(title)] + [
            normal_header(part) for part in re.split(r"[\s/|]+", title) if part
        ]
        target = next((lookup[c] for c in candidates if c in lookup), None)
        if target is None and title.strip() and any(w in title.lower() for w in DATE_WORDS):
            target = f"date:{title.strip()[:80]}"
        if target and target not in taken:
            mapping[str(index)] = target
            taken.add(target)
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
