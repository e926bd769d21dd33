"""Enquiries: someone asked (by phone, LINE, at the door, on the web, through a friend) and
what they want, in the shop's own terms; how likely it is, when, who looks after it, and
every time the shop got back to them."""

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db

ENQUIRY_SOURCES = ("phone", "line", "walk_in", "web", "referral", "other")
# From the first word to the end: won and lost are closed, the others open.
ENQUIRY_STAGES = ("new", "contacted", "trial", "won", "lost")
OPEN_STAGES = ("new", "contacted", "trial")


class LostReason(db.Model):
    """A reason an enquiry was lost, from the list the owner keeps (Settings)."""

    __tablename__ = "enquiry_lost_reason"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Enquiry(db.Model):
    """One person asking for one thing. The contact words are kept here until the enquiry
    is linked to a customer (an existing one, or the one made when it is won)."""

    __tablename__ = "enquiry"
    __table_args__ = (
        Index("ix_enquiry_stage", "stage", "hot", "next_follow_up"),
        Index("ix_enquiry_owner", "owner_id", "stage"),
        Index("ix_enquiry_expected", "expected_month", "stage"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int | None] = mapped_column(
        ForeignKey("customer.id", ondelete="SET NULL"), index=True
    )
    name: Mapped[str] = mapped_column(String(120))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(254), default="")
    source: Mapped[str] = mapped_column(String(20), default="phone")
    wants: Mapped[str] = mapped_column(Text, default="")  # in their words
    # A homestay's wish: the nights, the party, the kind of room.
    wanted_from: Mapped[date | None] = mapped_column(Date)
    wanted_to: Mapped[date | None] = mapped_column(Date)
    adults: Mapped[int | None] = mapped_column(Integer)
    children: Mapped[int | None] = mapped_column(Integer)
    room_wanted: Mapped[str] = mapped_column(String(60), default="")
    # An after-school centre's: the child's grade, the month they would start, a trial class.
    child_grade: Mapped[str] = mapped_column(String(30), default="")
    start_month: Mapped[date | None] = mapped_column(Date)  # the first of the month
    trial_on: Mapped[date | None] = mapped_column(Date)

    budget: Mapped[int] = mapped_column(Integer, default=0)  # whole NT$
    confidence: Mapped[int] = mapped_column(Integer, default=50)  # 把握, per cent
    expected_month: Mapped[date | None] = mapped_column(Date)  # the first of the month
    stage: Mapped[str] = mapped_column(String(12), default="new")
    hot: Mapped[bool] = mapped_column(Boolean, default=False)
    hot_since: Mapped[datetime | None] = mapped_column(DateTime)
    next_follow_up: Mapped[date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    lost_reason_id: Mapped[int | None] = mapped_column(
        ForeignKey("enquiry_lost_reason.id", ondelete="SET NULL")
    )
    lost_note: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    last_contact_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)  # won or lost
    version: Mapped[int] = mapped_column(Integer, default=1)

    customer = relationship("Customer")
    owner = relationship("User", foreign_keys=[owner_id])
    lost_reason = relationship(LostReason)
    contacts: Mapped[list["EnquiryContact"]] = relationship(
        back_populates="enquiry", cascade="all, delete-orphan", order_by="EnquiryContact.at.desc()"
    )

    @property
    def is_open(self) -> bool:
        return self.stage in OPEN_STAGES

    @property
    def expected_value(self) -> int:
        """Budget × confidence: what the shop can count on, in whole NT$."""
        return self.budget * self.confidence // 100


class EnquiryContact(db.Model):
    """One time the shop got back to the enquirer (a call, a LINE message, a visit)."""

    __tablename__ = "enquiry_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    enquiry_id: Mapped[int] = mapped_column(
        ForeignKey("enquiry.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    channel: Mapped[str] = mapped_column(String(20), default="phone")
    note: Mapped[str] = mapped_column(String(500), default="")

    enquiry = relationship(Enquiry, back_populates="contacts")
    user = relationship("User")
