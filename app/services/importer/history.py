"""Past records typed from paper into a sheet (purchases, stays): a HistorySpec says one kind's
columns, what it needs, how to check a line and how to save it; check() and save() do the rest,
all lines or none."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import Customer, User
from app.services.customers import CustomerFinder
from app.services.importer.columns import normal_header
from app.services.importer.rows import parse_date


class TooManyLines(ValueError):
    """More lines than one request takes; the sheet goes in as several files."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


@dataclass
class HistoryLine:
    number: int  # the sheet's row number (2 = the first under the header)
    values: dict  # column -> its text; the spec puts checked values in (a date, a number…)
    customer: Customer | None = None
    errors: list[tuple[str, str]] = field(default_factory=list)  # (code, the value refused)


def _no_lookup(_session: Session) -> None:
    return None


@dataclass(frozen=True)
class HistorySpec:
    """One kind of history sheet. Every kind names its person by member number or name."""

    kind: str  # "purchases", "stays": names the kept file and the audit's count
    columns: dict[str, list[str]]  # column -> the header words that name it
    required: tuple[str, ...]  # the columns a sheet must have besides member number or name
    max_rows: int  # per file (one request); larger histories go in several files
    # (line, lookup, today): turns the line's texts into values, adds (code, value) errors.
    check_line: Callable[[HistoryLine, Any, date], None]
    # (session, line, lookup, actor=, today=, zone=): saves one checked line.
    save_line: Callable[..., None]
    # What the lines of one file share, read once per check and once per save (products by
    # name, rooms by name).
    lookup: Callable[[Session], Any] = _no_lookup


def day_or_none(text: str) -> date | None:
    """The date a cell means, or None when it is empty or not a date."""
    try:
        return parse_date(text) if text else None
    except ValueError:
        return None


def column_mapping(columns: dict[str, list[str]], header: list[str]) -> dict[str, int]:
    """Column -> its index in the header ("姓名 Name" too); the first title that fits wins."""
    lookup = {normal_header(word): key for key, words in columns.items() for word in words}
    mapping: dict[str, int] = {}
    for index, title in enumerate(header):
        parts = [normal_header(title)] + [normal_header(p) for p in title.split() if p]
        key = next((lookup[p] for p in parts if p in lookup), None)
        if key and key not in mapping:
            mapping[key] = index
    return mapping


def _missing(spec: HistorySpec, mapping: dict[str, int]) -> list[str]:
    missing = [key for key in spec.required if key not in mapping]
    if "member_number" not in mapping and "name" not in mapping:
        missing.append("member_number")
    return missing


def _cells(spec: HistorySpec, mapping: dict[str, int], cells: list[str]) -> dict[str, str]:
    return {
        key: (cells[mapping[key]] if key in mapping and mapping[key] < len(cells) else "").strip()
        for key in spec.columns
    }


def check(
    spec: HistorySpec, session: Session, header: list[str], rows: list[list[str]], today: date
) -> tuple[list[HistoryLine], list[str]]:
    """Every line checked (the person by member number, else by a name only one person has;
    the rest by the spec); empty lines skipped. Returns (lines, missing columns); raises
    TooManyLines past the spec's max_rows."""
    mapping = column_mapping(spec.columns, header)
    missing = _missing(spec, mapping)
    if missing:
        return [], missing
    if len(rows) > spec.max_rows:
        raise TooManyLines(spec.max_rows)
    finder = CustomerFinder(session)
    lookup = spec.lookup(session)
    lines = []
    for offset, cells in enumerate(rows):
        values = _cells(spec, mapping, cells)
        if not any(values.values()):
            continue
        line = HistoryLine(offset + 2, values)
        line.customer, problem = finder.find(values["member_number"], values["name"])
        if problem:
            line.errors.append(problem)
        spec.check_line(line, lookup, today)
        lines.append(line)
    return lines, []


def save(
    spec: HistorySpec,
    session: Session,
    lines: list[HistoryLine],
    *,
    actor: User | None,
    today: date,
    zone: str,
) -> int:
    """Saves checked lines (without errors), all or none: the caller commits once."""
    begin_write(session)
    lookup = spec.lookup(session)
    for line in lines:
        spec.save_line(session, line, lookup, actor=actor, today=today, zone=zone)
    return len(lines)
