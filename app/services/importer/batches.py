"""Import batches as the staff see them: the recent ones (any whose worker died marked
interrupted first), one batch again after such a check, and a new batch from an upload."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import CustomField, ImportBatch
from app.services.importer.columns import (
    HEADER_SEARCH,
    HeaderGuess,
    guess_header_row,
    guess_mapping,
)
from app.services.importer.files import file_path
from app.services.importer.interruptions import recover_interrupted
from app.services.importer.sheets import ImportProblem, Sheet, save_parsed
from app.services.shop import get_shop

RECENT = 50


def recent_batches(session: Session, folder: Path) -> list[ImportBatch]:
    """The newest batches; a "running" one whose worker is gone is marked interrupted."""
    query = sa.select(ImportBatch).order_by(ImportBatch.created_at.desc()).limit(RECENT)
    batches = list(session.scalars(query))
    if any(batch.status == "running" for batch in batches) and recover_interrupted(session, folder):
        batches = list(session.scalars(query))
    return batches


def current_batch(session: Session, folder: Path, batch: ImportBatch) -> ImportBatch:
    """The batch, marked interrupted first when it says "running" but its worker is gone."""
    if batch.status == "running" and recover_interrupted(session, folder, batch.id):
        return session.get(ImportBatch, batch.id)
    return batch


def new_batch(
    session: Session, folder: Path, *, name: str, kind: str, data: bytes, sheet: Sheet,
    user_id: int | None,
) -> ImportBatch:  # fmt: skip
    """A batch for an uploaded sheet, its header row and columns guessed (a homestay's guest
    book makes stays), the file and its parsed copy kept."""
    fields = list(session.scalars(sa.select(CustomField)))
    stays = get_shop(session).kind == "homestay"
    guess = guess_header_row([sheet.header, *sheet.rows], fields, stays=stays)
    sheet = sheet.with_header(guess.index)
    batch = ImportBatch(
        filename=name,
        kind=kind,
        encoding=sheet.encoding,
        header_row=guess.index,
        mapping=guess_mapping(sheet.header, fields, stays=stays),
        mode="create_and_update",
        total_rows=len(sheet.rows),
        created_by_id=user_id,
    )
    session.add(batch)
    session.flush()
    file_path(folder, batch).write_bytes(data)
    save_parsed(folder, batch, sheet)
    return batch


def header_guess(session: Session, sheet: Sheet) -> HeaderGuess:
    """Which row we would take as the header of this sheet, and why (for the mapping page)."""
    return guess_header_row(
        [*sheet.above, sheet.header, *sheet.rows],
        list(session.scalars(sa.select(CustomField))),
        stays=get_shop(session).kind == "homestay",
    )


def choose_header_row(session: Session, batch: ImportBatch, sheet: Sheet, index: int) -> Sheet:
    """The staff's header row (one of the first HEADER_SEARCH non-blank rows): the rows above
    it are left out, the columns guessed again from its names, and fixes and merge choices
    (made for rows that have moved) forgotten. ImportProblem("choice") for another row."""
    table = [*sheet.above, sheet.header, *sheet.rows]
    if not 0 <= index < min(HEADER_SEARCH, len(table)):
        raise ImportProblem("choice")
    chosen = sheet.with_header(index)
    if index != len(sheet.above):
        batch.header_row = index
        batch.mapping = guess_mapping(
            chosen.header,
            list(session.scalars(sa.select(CustomField))),
            stays=get_shop(session).kind == "homestay",
        )
        batch.total_rows = len(chosen.rows)
        batch.overrides = batch.row_choices = None
    return chosen
