"""Colour tags, stuck on customers like sticky notes."""

from datetime import datetime

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Index, String, Table
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JsonList

# Colours chosen so the chip's text stays readable (contrast ≥ 4.5:1); see app.css.
PALETTE = (
    "red",
    "orange",
    "amber",
    "green",
    "teal",
    "blue",
    "indigo",
    "purple",
    "pink",
    "brown",
    "grey",
)

customer_tag = Table(
    "customer_tag",
    db.metadata,
    Column("customer_id", ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("tag.id", ondelete="CASCADE"), primary_key=True),
    Column("created_at", DateTime, default=utcnow),
    Index("ix_customer_tag_tag_id", "tag_id", "customer_id"),
)


class Tag(db.Model):
    __tablename__ = "tag"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    colour: Mapped[str] = mapped_column(String(20), default="blue")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A class or group of the teacher's "Today" view (when the shop groups by tags).
    is_group: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

    customers = relationship("Customer", secondary=customer_tag, back_populates="tags")


class TagMerge(db.Model):
    """A merge of one tag into another, kept so that it can be undone."""

    __tablename__ = "tag_merge"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_name: Mapped[str] = mapped_column(String(60))
    source_colour: Mapped[str] = mapped_column(String(20))
    source_is_group: Mapped[bool] = mapped_column(Boolean, default=False)
    target_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"))
    # Customer ids: everyone who had the source tag, and those of them who got the target
    # tag only through the merge.
    had_source: Mapped[list[int]] = mapped_column(JsonList(), default=list, nullable=True)
    gained_target: Mapped[list[int]] = mapped_column(JsonList(), default=list, nullable=True)
    # Staff ids, the same way: teachers whose class was the source tag, and those of them
    # who got the target class only through the merge.
    teachers_had_source: Mapped[list[int]] = mapped_column(JsonList(), default=list, nullable=True)
    teachers_gained_target: Mapped[list[int]] = mapped_column(
        JsonList(), default=list, nullable=True
    )
    merged_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    merged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    undone_at: Mapped[datetime | None] = mapped_column(DateTime)
