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
        ForeignKey("timeline_entry.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    product: Mapped[Product] = relationship()
    customer = relationship("Customer")

    @property
    def amount(self) -> int:
        return self.quantity * self.unit_price
