"""Import batches as the staff see them: the recent ones (any whose worker died marked
interrupted first), one batch again after such a check, and a new batch from an upload."""

from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import CustomField, ImportBatch
from app.services.importer.columns import guess_mapping
from app.services.importer.files import file_path
from app.services.importer.interruptions import recover_interrupted
from app.services.importer.sheets import Sheet, save_parsed
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
    """A batch for an uploaded sheet, its columns guessed (a homestay's guest book makes
    stays), the file and its parsed copy kept."""
    batch = ImportBatch(
        filename=name,
        kind=kind,
        encoding=sheet.encoding,
        mapping=guess_mapping(
            sheet.header,
            list(session.scalars(sa.select(CustomField))),
            stays=get_shop(session).kind == "homestay",
        ),
        mode="create_and_update",
        total_rows=len(sheet.rows),
        created_by_id=user_id,
    )
    session.add(batch)
    session.flush()
    file_path(folder, batch).write_bytes(data)
    save_parsed(folder, batch, sheet)
    return batch
