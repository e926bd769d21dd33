"""Import batches: one uploaded sheet, its column mapping, what it created or changed (so it
can be undone as a whole)."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

IMPORT_MODES = ("create_only", "update", "create_and_update")
IMPORT_STATUSES = ("uploaded", "queued", "running", "done", "failed", "undone")


class ImportBatch(db.Model):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(10))  # csv, xlsx
    encoding: Mapped[str | None] = mapped_column(String(20))  # for CSV: the one used
    mapping: Mapped[dict | None] = mapped_column(JSON)  # column index (str) → target
    overrides: Mapped[dict | None] = mapped_column(JSON)  # row number (str) → {target: value}
    # Which of the sheet's non-blank rows (0: the first) holds the column names; None: our guess.
    header_row: Mapped[int | None] = mapped_column(Integer)
    # The same person twice in the sheet: first row number (str) → "merge" or "keep".
    row_choices: Mapped[dict | None] = mapped_column(JSON)
    mode: Mapped[str] = mapped_column(String(20), default="create_and_update")
    skip_errors: Mapped[bool] = mapped_column(default=False)
    # Match rows to customers by phone too (off: siblings share a parent's phone).
    match_phone: Mapped[bool] = mapped_column(default=False, server_default="0")
    status: Mapped[str] = mapped_column(String(20), default="uploaded", index=True)
    total_rows: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict | None] = mapped_column(JSON)  # new, updated, unchanged, skipped, errors
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by = relationship("User")


class ImportChange(db.Model):
    """What one row did to one customer; `before` holds what undo puts back."""

    __tablename__ = "import_change"

    id: Mapped[int] = mapped_column(primary_key=True)
    batch_id: Mapped[int] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), index=True
    )
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    action: Mapped[str] = mapped_column(String(10))  # created, updated
    before: Mapped[dict | None] = mapped_column(JSON)
