"""Reminders (by hand or from rules) and the rules the owner sets for them."""

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JsonList

RULE_KINDS = ("birthday", "important_date", "no_contact", "lapsed", "return")
RETURN_KINDS = ("visit", "purchase")
# A return reminder is for customers whose last visit/purchase was N to N + this many days
# ago: a once-a-year guest gets one nudge, not one for every year he has been away.
RETURN_WINDOW_DAYS = 30
SNOOZE_DAYS = (1, 7)


class ReminderRule(db.Model):
    __tablename__ = "reminder_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(20))
    days: Mapped[int] = mapped_column(Integer, default=7)
    # Whom the rule looks at: a saved segment, or a tag and/or levels (empty: everyone).
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    tag_id: Mapped[int | None] = mapped_column(ForeignKey("tag.id", ondelete="SET NULL"))
    levels: Mapped[list[str]] = mapped_column(JsonList(), default=list, nullable=True)
    include_family: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_kind: Mapped[str | None] = mapped_column(String(20))
    keyword: Mapped[str | None] = mapped_column(String(60))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    action: Mapped[str | None] = mapped_column(String(200))  # "Send a birthday card"
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    segment = relationship("Segment")
    tag = relationship("Tag")
    assignee = relationship("User")

    @property
    def level_list(self) -> list[str]:
        return list(self.levels or [])


class Reminder(db.Model):
    """One thing to do for one customer. A rule makes at most one per customer and occasion."""

    __tablename__ = "reminder"
    __table_args__ = (
        UniqueConstraint("rule_id", "customer_id", "occasion"),
        Index("ix_reminder_open_due", "done_at", "due_date"),
        Index("ix_reminder_assignee_open", "assignee_id", "done_at", "due_date"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    rule_id: Mapped[int | None] = mapped_column(
        ForeignKey("reminder_rule.id", ondelete="CASCADE"), index=True
    )
    occasion: Mapped[str | None] = mapped_column(String(80))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due_date: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(300), default="")
    # Why a rule made it, shown in the reader's language: {"code": ..., ...}.
    reason: Mapped[dict | None] = mapped_column(JSON)
    snooze_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    done_at: Mapped[datetime | None] = mapped_column(DateTime)
    done_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    # "done", "note" (a note was logged), "resolved" (the rule no longer applies).
    done_how: Mapped[str | None] = mapped_column(String(20))

    customer = relationship("Customer")
    rule = relationship("ReminderRule")
    assignee = relationship("User", foreign_keys=[assignee_id])
    done_by = relationship("User", foreign_keys=[done_by_id])

    @property
    def is_open(self) -> bool:
        return self.done_at is None
