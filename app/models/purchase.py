"""The shop's catalogue and what each customer bought (dated by the user, past dates allowed)."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db


class Product(db.Model):
    __tablename__ = "product"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    price: Mapped[int] = mapped_column(Integer, default=0)  # NT$, whole dollars
    points: Mapped[int] = mapped_column(Integer, default=0)  # bonus points (PV) per unit
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Purchase(db.Model):
    __tablename__ = "purchase"
    __table_args__ = (
        Index("ix_purchase_customer_day", "customer_id", "purchased_on"),
        Index("ix_purchase_product_day", "product_id", "purchased_on", "customer_id"),
        # The repurchase report: each customer's last day per product, read in order.
        Index(
            "ix_purchase_product_customer_day",
            "product_id",
            "customer_id",
            "purchased_on",
            "quantity",
        ),  # fmt: skip
        # Covers the half-year report: a date range with what it sums.
        Index(
            "ix_purchase_day", "purchased_on", "customer_id", "product_id", "quantity", "unit_price"
        ),  # fmt: skip
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    product_id: Mapped[int] = mapped_column(ForeignKey("product.id", ondelete="RESTRICT"))
    purchased_on: Mapped[date] = mapped_column(Date)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    # What one unit cost and earned on that day: later price changes do not rewrite history.
    unit_price: Mapped[int] = mapped_column(Integer, default=0)
    unit_points: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(500), default="")
    # Its line on the customer's timeline (kept in step when the purchase is edited).
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entry.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    product: Mapped[Product] = relationship()
    customer = relationship("Customer")

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price


class Enrolment(db.Model):
    """An after-school child's enrolment: which group, from when, on which weekdays."""

    __tablename__ = "enrolment"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    group_name: Mapped[str] = mapped_column(String(60), default="")
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date)
    weekdays: Mapped[str] = mapped_column(String(7), default="12345")  # ISO: 1 = Monday


class Attendance(db.Model):
    """One row per child per day: arrived, picked up (by whom), or absent (why)."""

    __tablename__ = "attendance"
    __table_args__ = (
        db.UniqueConstraint("customer_id", "day", name="uq_attendance_child_day"),
        Index("ix_attendance_day", "day", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    day: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(10), default="present")  # present | absent
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    absence_reason: Mapped[str] = mapped_column(String(200), default="")
    picked_up_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("family_member.id", ondelete="SET NULL"), index=True
    )
    picked_up_by_other: Mapped[str] = mapped_column(String(80), default="")
    unexpected_pickup: Mapped[bool] = mapped_column(Boolean, default=False)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entry.id", ondelete="SET NULL"), index=True
    )
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    picked_up_by = relationship("FamilyMember")
