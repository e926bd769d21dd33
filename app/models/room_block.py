"""A room's closed nights (maintenance, or a booking site's bookings) and its iCal addresses:
the secret export address and the booking sites' calendars it subscribes to."""

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.clock import utcnow
from app.extensions import db

BLOCK_KINDS = ("closed", "ota")


class RoomBlock(db.Model):
    """Nights a room cannot be sold: [starts_on, ends_on), like a stay's check-in/out."""

    __tablename__ = "room_block"
    __table_args__ = (Index("ix_room_block_room_days", "room_id", "starts_on", "ends_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)  # the first night open again
    kind: Mapped[str] = mapped_column(String(10), default="closed")  # closed | ota
    note: Mapped[str] = mapped_column(String(200), default="")
    # An OTA block: the subscription it came from and the event's UID in that calendar.
    feed_id: Mapped[int | None] = mapped_column(
        ForeignKey("room_feed.id", ondelete="CASCADE"), index=True
    )
    uid: Mapped[str] = mapped_column(String(255), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    @property
    def nights(self) -> int:
        return max(0, (self.ends_on - self.starts_on).days)


class RoomFeed(db.Model):
    """A booking site's .ics address a room subscribes to (fetched by the worker)."""

    __tablename__ = "room_feed"

    id: Mapped[int] = mapped_column(primary_key=True)
    room_id: Mapped[int] = mapped_column(ForeignKey("room.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60))  # "Booking.com", shown on its blocks
    url: Mapped[str] = mapped_column(String(2000))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_fetched_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_ok_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_status: Mapped[str] = mapped_column(String(20), default="")  # "" = not yet fetched
    last_error: Mapped[str] = mapped_column(Text, default="")
    last_events: Mapped[int] = mapped_column(Integer, default=0)


class RoomExport(db.Model):
    """A room's secret export address (/ical/<token>.ics): the token is the only key."""

    __tablename__ = "room_export"

    room_id: Mapped[int] = mapped_column(
        ForeignKey("room.id", ondelete="CASCADE"), primary_key=True
    )
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
