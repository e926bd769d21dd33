"""One import at a time: the lock the importing worker holds, and "running" batches whose
worker died, found and marked interrupted (nothing of them was saved; they can run again)."""

import fcntl
import os
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import ImportBatch

# The worker holds this lock (imports/running.lock) from before it marks a batch "running"
# until after it commits the outcome; the kernel lets go of it when the process dies, even
# by kill -9. A "running" batch whose lock is free was left by a dead worker. (A lease in
# the database could not be renewed: the import holds the write lock for its whole
# transaction, and a lease too long to need renewing could let a second run start while
# the first still works.)
INTERRUPTED = "interrupted"


class ImportLock:
    """The importing worker's lock; `wait=False` raises BlockingIOError if it is held."""

    def __init__(self, folder: Path, *, wait: bool = True):
        self.path = Path(folder) / "running.lock"
        self.wait = wait
        self.descriptor: int | None = None

    def __enter__(self) -> "ImportLock":
        self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX | (0 if self.wait else fcntl.LOCK_NB))
        except BaseException:
            os.close(self.descriptor)
            raise
        return self

    def __exit__(self, *exc) -> None:
        os.close(self.descriptor)  # closing lets go of the lock


def recover_interrupted(session: Session, folder: Path, batch_id: int | None = None) -> list[int]:
    """Marks "running" batches (or the one asked about) whose worker died as failed and
    interrupted: the import is one transaction, so nothing of it was saved and it can run
    again. Nothing changes while an import runs (its worker holds the lock). Commits."""
    query = sa.select(ImportBatch.id).where(ImportBatch.status == "running")
    if batch_id is not None:
        query = query.where(ImportBatch.id == batch_id)
    if not session.scalars(query).first():
        return []
    try:
        with ImportLock(folder, wait=False):
            begin_write(session)
            stale = session.scalars(query).all()  # again, under both locks
            if stale:
                session.execute(
                    sa.update(ImportBatch)
                    .where(ImportBatch.id.in_(stale))
                    .values(status="failed", error=INTERRUPTED)
                )
            session.commit()
    except BlockingIOError:
        return []  # a worker is importing now
    return list(stale)
