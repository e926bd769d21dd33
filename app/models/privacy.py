"""Consent: the purposes a customer has consented to now (one row each), and the history of
every time a purpose's consent was given or withdrawn, and by whom."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

CONSENT_ACTIONS = ("given", "withdrawn")


class CustomerConsent(db.Model):
    """A purpose (service messages, marketing) the customer has consented to, as it stands."""

    __tablename__ = "customer_consent"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    purpose: Mapped[str] = mapped_column(String(20), primary_key=True)  # service, marketing
    method: Mapped[str | None] = mapped_column(String(20))  # paper, in_person, online
    given_at: Mapped[datetime | None] = mapped_column(DateTime, default=utcnow)


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
