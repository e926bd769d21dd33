"""A homestay's booking money: room rates, listed holidays, deposit terms, the refund policy,
each booking's deposit due and the payments (deposit, balance, refund) taken for it."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

PAYMENT_KINDS = ("deposit", "balance", "refund")
PAYMENT_METHODS = ("transfer", "cash", "card")


class RoomRate(db.Model):
    """One room's prices per night in whole NT$ (0: not set)."""

    __tablename__ = "room_rate"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), primary_key=True
    )
    weekday: Mapped[int] = mapped_column(Integer, default=0)
    weekend: Mapped[int] = mapped_column(Integer, default=0)  # Friday and Saturday nights
    holiday: Mapped[int] = mapped_column(Integer, default=0)  # nights on the shop's list
    extra_bed: Mapped[int] = mapped_column(Integer, default=0)
    child: Mapped[int] = mapped_column(Integer, default=0)


class Holiday(db.Model):
    """A night the shop charges its holiday price for (春節, 連假…)."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(60), default="")


class RefundRule(db.Model):
    """Cancelled this many days or more before arrival: this percentage of the money back."""

    __tablename__ = "refund_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    days_before: Mapped[int] = mapped_column(Integer, unique=True)
    percent: Mapped[int] = mapped_column(Integer, default=0)


class BookingTerms(db.Model):
    """One row: the deposit asked and where guests transfer it."""

    __tablename__ = "booking_terms"

    id: Mapped[int] = mapped_column(primary_key=True)
    deposit_percent: Mapped[int] = mapped_column(Integer, default=30)
    deposit_due_days: Mapped[int] = mapped_column(Integer, default=3)
    bank_name: Mapped[str] = mapped_column(String(80), default="")
    bank_account: Mapped[str] = mapped_column(String(40), default="")
    account_name: Mapped[str] = mapped_column(String(80), default="")


class StayMoney(db.Model):
    """A booking's deposit: how much, by when, and the one reminder sent about it."""

    __tablename__ = "stay_money"
    __table_args__ = (Index("ix_stay_money_due", "deposit_due_on", "deposit_due"),)

    stay_id: Mapped[int] = mapped_column(
        ForeignKey("stay.id", ondelete="CASCADE"), primary_key=True
    )
    quote: Mapped[int] = mapped_column(Integer, default=0)
    deposit_due: Mapped[int] = mapped_column(Integer, default=0)
    deposit_due_on: Mapped[date] = mapped_column(Date)
    reminder_campaign_id: Mapped[int | None] = mapped_column(
        ForeignKey("campaign.id", ondelete="SET NULL"), index=True
    )
    reminded_at: Mapped[datetime | None] = mapped_column(DateTime)

    stay = relationship("Stay")


class StayPayment(db.Model):
    """Money in (deposit, balance) or out (refund) for one stay, each on the timeline."""

    __tablename__ = "stay_payment"
    __table_args__ = (Index("ix_stay_payment_day", "paid_on", "kind", "amount"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    stay_id: Mapped[int] = mapped_column(ForeignKey("stay.id", ondelete="CASCADE"), index=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(10), default="deposit")
    method: Mapped[str] = mapped_column(String(10), default="transfer")
    paid_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer, default=0)  # NT$, always positive
    account_last5: Mapped[str | None] = mapped_column(String(5))
    note: Mapped[str] = mapped_column(String(200), default="")
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entry.id", ondelete="SET NULL"), index=True
    )
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    recorded_by = relationship("User")

    @property
    def signed_amount(self) -> int:
        return -self.amount if self.kind == "refund" else self.amount
