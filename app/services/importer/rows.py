"""Checking one row: each column's text becomes its value or the row's error."""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email

from app.models.customer import LEVELS
from app.services.customers import normal_phone

YES = {"y", "yes", "true", "1", "是", "有", "同意", "v", "✓", "ok"}
NO = {"n", "no", "false", "0", "否", "無", "不同意", "x", ""}
ROC_DATE = re.compile(r"^(\d{2,3})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?$")
# Plain ASCII dot-atom addresses (nearly all of them) are checked here; anything else goes
# through email-validator, which is thorough but slow for 10,000 rows.
SIMPLE_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)
# A stay's bounds, as app.services.stays checks a stay typed in by hand.
MAX_NIGHTS = 366
MAX_MONEY = 100_000_000
DATE = re.compile(r"^(\d{4})[/.\-年](\d{1,2})[/.\-月](\d{1,2})日?(?:\s.*)?$")


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
    # A guest book: the row's stay (importer.stays.PlannedStay), whether the guest already
    # has it, and the earlier row of the same guest (this row is another stay of theirs).
    stay: object | None = None
    stay_known: bool = False
    lead: int | None = None
    # The same person as an earlier row (importer.same_person): that row, how they match
    # (email, birthday, phone), the row merged into (this one imports nothing) or merged here.
    same_as: int | None = None
    same_key: str = ""
    merged_into: int | None = None
    merged: list[int] = field(default_factory=list)
    reason: str = ""  # why a skipped row is skipped: blank, no-columns, update-only, merged…

    @property
    def fixable(self) -> list[str]:
        """The columns whose text the staff can correct (a same-person question is chosen)."""
        codes = [(t, code) for t, code in self.errors if not code.startswith("same-person:")]
        return list(dict.fromkeys(target for target, _code in codes))

    @property
    def asks_same_person(self) -> bool:
        return any(code.startswith("same-person:") for _target, code in self.errors)


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


def nights_of(text: str) -> int:
    """ "3", "3晚", "3 nights" → 3 (1 to 366, as a stay typed in by hand)."""
    digits = text.strip().lower().removesuffix("nights").removesuffix("night").rstrip("晚夜")
    number = int(digits.strip())
    if not 1 <= number <= MAX_NIGHTS:
        raise ValueError(text)
    return number


def money_of(text: str) -> int:
    """ "NT$3,200", "3200元", "3,200.00" → 3200 (whole NT$)."""
    cleaned = text.strip().upper().replace(",", "").replace("，", "")
    for mark in ("NT$", "NTD", "$", "元"):
        cleaned = cleaned.replace(mark, "")
    number = float(cleaned.strip())
    if not 0 <= number <= MAX_MONEY or number != int(number):
        raise ValueError(text)
    return int(number)


def phone_of(text: str) -> str:
    """A phone as Taiwan dials it (customers.normal_phone): 912345679 and 912345679.0 (Excel's
    numbers), +886 912-345-679 and (02) 2345-6789 become 0912345679 and 0223456789; a phone
    written with words ("0912-345-678 ext. 12") is kept as written."""
    if len(text) > 40:
        raise OverflowError(text)
    if re.fullmatch(r"[\d\s()+\-.]+", text):
        return normal_phone(text) or text
    return text


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
    "stay_check_in": parse_date,
    "stay_check_out": parse_date,
    "stay_nights": nights_of,
    "stay_amount": money_of,
    "stay_room": _at_most(60),
    "phone": phone_of,
    "guardian_phone": phone_of,
}
_ERROR_CODES = {"level": "bad-level", "email": "bad-email", "guardian_email": "bad-email",
                "stay_nights": "bad-nights", "stay_amount": "bad-money"}  # fmt: skip

_TEXT_LIMITS = {"member_number": 20, "display_name": 120, "nickname": 60, "phone": 40,
                "summary": 200, "occupation": 120, "guardian_name": 120,
                "guardian_relation": 60, "guardian_phone": 40}  # fmt: skip


def _cleaner(target: str) -> Callable[[str], object]:
    if target.startswith("date:"):
        return parse_date
    if target.startswith("consent_"):
        return parse_yes
    return _CLEANERS.get(target) or _at_most(_TEXT_LIMITS.get(target, 2000))


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
            code = _ERROR_CODES.get(
                target, "bad-yes-no" if target.startswith("consent_") else "bad-date"
            )
            row.errors.append((target, code))
    return row
