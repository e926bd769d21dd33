"""A homestay's rooms and its guests' stays: planned nights, the party, the occasion, what
really happened (checked in and out), and the link of a stay continued in another room."""

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, aliased, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JsonList

STAY_STATUSES = ("booked", "stayed", "cancelled", "no_show")
# The stays that hold their room's nights: booked (not yet come) and stayed (in house, or
# departed: the nights were used). Cancelled and no-show stays free the room. A stay
# without a room ("needs a room") holds nothing. The PostgreSQL exclusion constraint
# `stay_no_double_booking` (migration 5a7e1c3d9b20) uses the same set.
ACTIVE_STAY_STATUSES = ("booked", "stayed")
OCCASIONS = ("", "birthday", "anniversary", "other")


class Room(db.Model):
    """A homestay's room (Settings → Rooms)."""

    __tablename__ = "room"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # How many people sleep in it (children too young to take a bed not counted).
    capacity: Mapped[int] = mapped_column(Integer, default=2, server_default="2")


class Stay(db.Model):
    """A guest's stay: planned dates, what really happened, money in whole NT$."""

    __tablename__ = "stay"
    __table_args__ = (
        Index("ix_stay_customer_in", "customer_id", "check_in"),
        Index("ix_stay_check_in", "check_in", "status"),
        Index("ix_stay_check_out", "check_out", "status"),
        Index("ix_stay_room_nights", "room_id", "check_in", "check_out"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id", ondelete="CASCADE"))
    room_id: Mapped[int | None] = mapped_column(
        ForeignKey("room.id", ondelete="SET NULL"), index=True
    )
    check_in: Mapped[date] = mapped_column(Date)  # planned (moved by an early arrival)
    check_out: Mapped[date] = mapped_column(Date)  # the morning they leave (moved when they do)
    checked_in_at: Mapped[datetime | None] = mapped_column(DateTime)  # actual
    checked_out_at: Mapped[datetime | None] = mapped_column(DateTime)
    adults: Mapped[int] = mapped_column(Integer, default=1)
    children: Mapped[int] = mapped_column(Integer, default=0)
    # One whole number per child, as the desk typed them ("6, 9" → [6, 9]).
    children_ages: Mapped[list[int]] = mapped_column(JsonList(), default=list, nullable=True)
    amount: Mapped[int] = mapped_column(Integer, default=0)
    deposit: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="booked")
    source: Mapped[str] = mapped_column(String(60), default="")
    note: Mapped[str] = mapped_column(String(500), default="")
    preferences: Mapped[str] = mapped_column(String(500), default="", server_default="")
    # The occasion of the stay: "" (none), birthday, anniversary or other (its words in
    # occasion_label), whose (occasion_who), and its day (remembered for next year).
    occasion: Mapped[str] = mapped_column(String(20), default="", server_default="")
    occasion_label: Mapped[str] = mapped_column(String(60), default="", server_default="")
    occasion_who: Mapped[str] = mapped_column(String(60), default="", server_default="")
    occasion_on: Mapped[date | None] = mapped_column(Date)
    # A room change mid-stay: the rest of the stay is a new stay in the other room that
    # points back at the part before it (each room's nights stay right).
    # (A plain id, no foreign key: adding one would rebuild the table on SQLite; deleting a
    # part clears the links to it.)
    moved_from_id: Mapped[int | None] = mapped_column(Integer, index=True)
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("timeline_entry.id", ondelete="SET NULL"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    room: Mapped[Room | None] = relationship()
    customer = relationship("Customer")

    @property
    def nights(self) -> int:
        return max(0, (self.check_out - self.check_in).days)

    @property
    def ages(self) -> list[int]:
        return list(self.children_ages or [])


def begins_a_stay(stay=Stay):
    """SQL: this part is a stay of its own, not the rest of a stayed part in another room
    (a room change mid-stay makes a linked part, `moved_from_id`). Counting stays with this
    counts a room-changed stay once; its nights are still all in its parts."""
    before = aliased(Stay)
    return ~sa.exists().where(before.id == stay.moved_from_id, before.status == "stayed")
