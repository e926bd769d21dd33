"""Closed nights of a room: closures the desk enters (maintenance) and booking sites' blocks,
what overlaps a booking, and the clashes the desk must sort out (listed on My day)."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session, joinedload

from app.models import Room, RoomBlock, RoomFeed, Stay, User

ACTIVE_STAY_STATUSES = ("booked", "stayed")
MAX_CLOSED_NIGHTS = 366
MAX_NOTE = 200


class BlockError(ValueError):
    def __init__(self, code: str, detail: str = ""):
        super().__init__(code)
        self.code = code
        self.detail = detail


def blocks_overlapping(
    session: Session, room_id: int, check_in: date, check_out: date
) -> list[RoomBlock]:
    """The room's closures and booking-site blocks sharing a night with [check_in, check_out):
    the gate a booking must pass (empty = the room is open on every night asked for)."""
    return list(
        session.scalars(
            sa.select(RoomBlock)
            .where(
                RoomBlock.room_id == room_id,
                RoomBlock.starts_on < check_out,
                RoomBlock.ends_on > check_in,
            )
            .order_by(RoomBlock.starts_on, RoomBlock.id)
        )
    )


def active_stays_overlapping(
    session: Session, room_id: int, starts_on: date, ends_on: date
) -> list[Stay]:
    """Our booked or in-house stays in the room sharing a night with [starts_on, ends_on)."""
    return list(
        session.scalars(
            sa.select(Stay)
            .where(
                Stay.room_id == room_id,
                Stay.status.in_(ACTIVE_STAY_STATUSES),
                Stay.check_in < ends_on,
                Stay.check_out > starts_on,
            )
            .options(joinedload(Stay.customer))
            .order_by(Stay.check_in, Stay.id)
        )
    )


def _check(starts_on, ends_on, note: str, today: date) -> tuple[date, date, str]:
    if not isinstance(starts_on, date) or not isinstance(ends_on, date):
        raise BlockError("dates")
    if starts_on.year < today.year - 5 or ends_on.year > today.year + 5:
        raise BlockError("date-range")
    if ends_on <= starts_on:
        raise BlockError("ends-first")
    if (ends_on - starts_on).days > MAX_CLOSED_NIGHTS:
        raise BlockError("too-long")
    note = " ".join((note or "").split())
    if len(note) > MAX_NOTE:
        raise BlockError("note-long")
    return starts_on, ends_on, note


def close_room(
    session: Session,
    room: Room,
    starts_on,
    ends_on,
    note: str,
    *,
    actor: User | None,
    today: date,
) -> RoomBlock:
    """Closes the room for the nights [starts_on, ends_on); refused over a booking (the
    desk moves or cancels that booking first), named in the error's detail."""
    starts_on, ends_on, note = _check(starts_on, ends_on, note, today)
    booked = active_stays_overlapping(session, room.id, starts_on, ends_on)
    if booked:
        stay = booked[0]
        raise BlockError(
            "booked", f"{stay.customer.display_name} {stay.check_in} → {stay.check_out}"
        )
    block = RoomBlock(
        room_id=room.id, starts_on=starts_on, ends_on=ends_on, kind="closed", note=note,
        created_by_id=actor.id if actor else None,
    )  # fmt: skip
    session.add(block)
    session.flush()
    return block


def reopen(session: Session, block: RoomBlock) -> None:
    """Removes a closure (a booking site's block goes only when its calendar drops it)."""
    if block.kind != "closed":
        raise BlockError("not-closure")
    session.delete(block)
    session.flush()


def closures(session: Session, room_id: int, since: date) -> list[RoomBlock]:
    """The room's closures and blocks that end after `since`, soonest first."""
    return list(
        session.scalars(
            sa.select(RoomBlock)
            .where(RoomBlock.room_id == room_id, RoomBlock.ends_on > since)
            .order_by(RoomBlock.starts_on, RoomBlock.id)
        )
    )


@dataclass
class Clash:
    """A block (a booking site's booking, or a closure) over one of our active stays."""

    block: RoomBlock
    stay: Stay
    room: Room
    source: str  # the subscription's name, or "" for a closure

    @property
    def first_night(self) -> date:
        return max(self.block.starts_on, self.stay.check_in)


def clashes(session: Session, today: date, limit: int = 50) -> list[Clash]:
    """Blocks overlapping our booked or in-house stays that have not ended yet, soonest
    first: the desk must move a guest or tell the booking site (one query)."""
    rows = session.execute(
        sa.select(RoomBlock, Stay, Room, RoomFeed.name)
        .join(
            Stay,
            sa.and_(
                Stay.room_id == RoomBlock.room_id,
                Stay.status.in_(ACTIVE_STAY_STATUSES),
                Stay.check_in < RoomBlock.ends_on,
                Stay.check_out > RoomBlock.starts_on,
            ),
        )
        .join(Room, Room.id == RoomBlock.room_id)
        .outerjoin(RoomFeed, RoomFeed.id == RoomBlock.feed_id)
        .where(RoomBlock.ends_on > today, Stay.check_out > today)
        .options(joinedload(Stay.customer))
        .order_by(RoomBlock.starts_on, Stay.check_in, RoomBlock.id)
        .limit(limit)
    ).all()
    return [Clash(block, stay, room, source or "") for block, stay, room, source in rows]


def describe_block(block) -> str:
    """ "closed (repainting) 2026-12-20 → 2026-12-22" / "Booking.com 2026-12-20 → …"; in the
    reader's words inside a request (in English for a worker or a command)."""
    from flask import has_request_context
    from flask_babel import gettext as translated

    def gettext(text: str) -> str:
        return translated(text) if has_request_context() else text

    if block.kind == "closed":
        what = gettext("closed") + (f" ({block.note})" if block.note else "")
    else:
        feed = sa.inspect(block).session.get(RoomFeed, block.feed_id) if block.feed_id else None
        what = feed.name if feed is not None else gettext("booking site")
    return f"{what} {block.starts_on.isoformat()} → {block.ends_on.isoformat()}"
