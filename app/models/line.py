"""LINE users linked to customers (a parent who added the shop's official account and sent
the one-time code the front desk showed), those codes, wrong codes sent (for the lockout),
and the webhook events already applied."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class LineLink(db.Model):
    """One LINE user following the shop for one customer (a parent may follow for two
    children: two links)."""

    __tablename__ = "line_link"
    __table_args__ = (UniqueConstraint("customer_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[str] = mapped_column(String(64), index=True)
    display_name: Mapped[str | None] = mapped_column(String(120))
    linked_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unfollowed_at: Mapped[datetime | None] = mapped_column(DateTime)  # = opted out of LINE

    customer = relationship("Customer", overlaps="line_links")


class LineCode(db.Model):
    """A one-time code; only its keyed hash is kept (the desk sees the code once)."""

    __tablename__ = "line_code"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class LineCodeFailure(db.Model):
    """A wrong code sent by a LINE user: counted per user and for the whole shop."""

    __tablename__ = "line_code_failure"
    __table_args__ = (Index("ix_line_code_failure_user_id_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class LineEvent(db.Model):
    """A webhook event already applied (LINE's `webhookEventId`): a replay or a redelivery
    of it is not applied again."""

    __tablename__ = "line_event"

    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    handled_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
