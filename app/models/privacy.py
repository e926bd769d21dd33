"""Consent history: every time a purpose's consent is given or withdrawn, and by whom."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

CONSENT_ACTIONS = ("given", "withdrawn")


class ConsentEvent(db.Model):
    __tablename__ = "consent_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(20))  # service, marketing
    action: Mapped[str] = mapped_column(String(20))  # given, withdrawn
    method: Mapped[str | None] = mapped_column(String(20))  # paper, in_person, online
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    source: Mapped[str | None] = mapped_column(String(80))  # "unsubscribe link", "import"…

    recorded_by = relationship("User")
