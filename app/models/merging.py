"""Customer merges (two records of one person made one, kept so that they can be undone) and
pairs the staff said are not the same person (the duplicate finder shows them no more)."""

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class CustomerMerge(db.Model):
    """One merge: `other_id` became a tombstone pointing at `survivor_id`. `moved` says which
    rows of which table moved (and what else changed), `survivor_before` the survivor's
    fields as they were, so undo puts back exactly what the merge changed."""

    __tablename__ = "customer_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Plain ids, no foreign keys: the record outlives either person's row.
    survivor_id: Mapped[int] = mapped_column(Integer, index=True)
    other_id: Mapped[int] = mapped_column(Integer, index=True)
    other_name: Mapped[str] = mapped_column(String(120), default="")
    moved: Mapped[dict | None] = mapped_column(JSON)
    survivor_before: Mapped[dict | None] = mapped_column(JSON)
    survivor_after: Mapped[dict | None] = mapped_column(JSON)
    other_before: Mapped[dict | None] = mapped_column(JSON)
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
    undone_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    merged_by = relationship("User", foreign_keys=[merged_by_id])


class NotDuplicate(db.Model):
    """Two customers the staff said are different people (lower id first)."""

    __tablename__ = "not_duplicate"

    first_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    second_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    marked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    marked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
