"""The feed: timeline entries (notes, calls, visits, alerts, tag changes) and their revisions."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JsonList

ENTRY_KINDS = ("note", "call", "visit", "purchase", "email", "sms", "line", "alert", "tag")
WRITABLE_KINDS = ("note", "call", "visit", "purchase")
ALERT_CATEGORIES = ("allergy", "medical", "diet", "preference")
# The order alerts are shown in: what can hurt a child first.
ALERT_SEVERITY = {category: rank for rank, category in enumerate(ALERT_CATEGORIES)}
# Tag changes are bookkeeping, not contact with the person.
# What counts as human contact for "last contact": not an alert, not a tag change.
CONTACT_KINDS = ("note", "call", "visit", "purchase", "email")
MAX_BODY_LENGTH = 5000


class TimelineEntry(db.Model):
    __tablename__ = "timeline_entry"
    __table_args__ = (
        Index("ix_timeline_entry_customer_created", "customer_id", "created_at", "id"),
        # Covers the shop feed's order and the summary's counts by kind and author.
        Index("ix_timeline_entry_created", "created_at", "id", "kind", "author_id"),
        Index("ix_timeline_entry_alert_open", "kind", "alert_resolved_at", "customer_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20), default="note")
    body: Mapped[str] = mapped_column(Text, default="")
    # When it happened (for most entries, when it was written).
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # When it was written, for an entry dated earlier ("I called her yesterday"); else NULL.
    recorded_at: Mapped[datetime | None] = mapped_column(DateTime)
    edited_at: Mapped[datetime | None] = mapped_column(DateTime)
    edited_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    # For tag changes: "added" or "removed" (the body holds the tag's name).
    action: Mapped[str | None] = mapped_column(String(20))
    alert_category: Mapped[str | None] = mapped_column(String(20))
    alert_keywords: Mapped[list[str] | None] = mapped_column(JsonList())
    alert_resolved_at: Mapped[datetime | None] = mapped_column(DateTime)
    alert_resolved_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("user.id", ondelete="SET NULL")
    )

    customer = relationship("Customer")
    author = relationship("User", foreign_keys=[author_id])
    edited_by = relationship("User", foreign_keys=[edited_by_id])
    alert_resolved_by = relationship("User", foreign_keys=[alert_resolved_by_id])
    revisions: Mapped[list["TimelineRevision"]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="TimelineRevision.id.desc()"
    )

    @property
    def is_alert(self) -> bool:
        return self.kind == "alert"

    @property
    def alert_open(self) -> bool:
        return self.kind == "alert" and self.alert_resolved_at is None

    @property
    def keywords(self) -> list[str]:
        return list(self.alert_keywords or [])


class TimelineRevision(db.Model):
    """The text an entry had before an edit: entries are never silently lost."""

    __tablename__ = "timeline_revision"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("timeline_entry.id", ondelete="CASCADE"), index=True
    )
    body: Mapped[str] = mapped_column(Text)
    replaced_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    replaced_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    entry: Mapped[TimelineEntry] = relationship(back_populates="revisions")
    replaced_by = relationship("User")
