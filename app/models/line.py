"""LINE users linked to customers (a parent who added the shop's official account and sent
the one-time code the front desk showed), and those codes."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, UniqueConstraint
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
    __tablename__ = "line_code"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    created_by_id: Mapped[int | None] = mapped_column(
        Integer, ForeignKey("user.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
