"""The stay's life at the desk: check-in and check-out on any day (an early arrival or a
late departure moves the stay's dates, through the same gate as any booking), one more
night, and a room change mid-stay (the rest of the stay becomes a linked stay in the other
room, so both rooms' nights are right). Each writes a line on the guest's timeline."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from flask_babel import gettext as _
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import ACTIVE_STAY_STATUSES, Customer, Room, Stay, TimelineEntry, User
from app.services.stays import (
    MAX_NIGHTS,
    StayError,
    _sync_entry,
    ensure_free,
    flush_guarded,
    refresh_last_visit,
)


def _log(session: Session, stay: Stay, actor: User | None, render: Callable[[], str]) -> None:
    """A line on the guest's timeline, written once in the shop's language."""
    from flask_babel import force_locale

    from app.services.shop import get_shop

    with force_locale(get_shop(session).default_locale or "zh_Hant"):
        body = str(render())
    session.add(
        TimelineEntry(
            customer_id=stay.customer_id, author_id=actor.id if actor else None, kind="note",
            action="stay", body=body, created_at=utcnow(), pinned=False,
        )
    )  # fmt: skip


def _room_name(stay: Stay) -> str:
    return stay.room.name if stay.room is not None else "-"


def continuation(session: Session, stay: Stay) -> Stay | None:
    """The part of the stay that went on in another room (room change), if any."""
    return session.scalar(sa.select(Stay).where(Stay.moved_from_id == stay.id))


def earlier_parts(session: Session, stay: Stay) -> list[Stay]:
    """The parts before this one (a stay moved room, maybe more than once), latest first."""
    parts, seen = [], {stay.id}
    while stay.moved_from_id and stay.moved_from_id not in seen:
        stay = session.get(Stay, stay.moved_from_id)
        if stay is None:
            break
        seen.add(stay.id)
        parts.append(stay)
    return parts


def _save(session: Session, stay: Stay, customer: Customer, actor: User | None, zone: str):
    flush_guarded(session, stay)
    session.refresh(stay, ["room"])
    _sync_entry(session, stay, actor, zone)
    refresh_last_visit(session, customer)


def check_in(
    session: Session, stay: Stay, customer: Customer, *, actor: User | None, today: date, zone: str
) -> None:
    """In house from now (the actual time kept). Before the planned day: an early arrival,
    the stay starts today (refused when the room is taken those nights)."""
    begin_write(session)
    if stay.status not in ACTIVE_STAY_STATUSES:
        raise StayError("not-active")
    if stay.checked_in_at is not None:
        return
    if today >= stay.check_out:
        raise StayError("check-in-late")
    if today < stay.check_in:
        ensure_free(session, stay.room_id, today, stay.check_in, stay.id)
        planned, stay.check_in = stay.check_in, today
        _log(session, stay, actor, lambda: _(
            "Arrived early: booked from %(planned)s, came %(day)s (%(room)s).",
            planned=planned.isoformat(), day=today.isoformat(), room=_room_name(stay),
        ))  # fmt: skip
    stay.status = "stayed"
    stay.checked_in_at = utcnow()
    _save(session, stay, customer, actor, zone)


def check_out(
    session: Session, stay: Stay, customer: Customer, *, actor: User | None, today: date, zone: str
) -> None:
    """Departed now (the actual time kept). Before the planned day: the nights not used go
    back to the room. After it: the stay is longer (refused when the room is taken)."""
    begin_write(session)
    if stay.status != "stayed" or stay.checked_out_at is not None:
        raise StayError("not-in-house")
    if continuation(session, stay) is not None:
        raise StayError("moved-on")
    planned = stay.check_out
    if today > planned:
        ensure_free(session, stay.room_id, planned, today, stay.id)
        stay.check_out = today
    elif today < planned:
        stay.check_out = max(today, stay.check_in + timedelta(days=1))
    if stay.check_out != planned:
        _log(session, stay, actor, lambda: _(
            "Checked out %(day)s (booked until %(planned)s), %(room)s.",
            day=today.isoformat(), planned=planned.isoformat(), room=_room_name(stay),
        ))  # fmt: skip
    moment = utcnow()
    stay.checked_out_at = moment
    for part in earlier_parts(session, stay):
        part.checked_out_at = part.checked_out_at or moment
    _save(session, stay, customer, actor, zone)


def extend(
    session: Session, stay: Stay, customer: Customer, *, actor: User | None, zone: str
) -> None:
    """One more night in the same room (refused when the room is taken that night)."""
    begin_write(session)
    if stay.status not in ACTIVE_STAY_STATUSES or stay.checked_out_at is not None:
        raise StayError("not-active")
    if continuation(session, stay) is not None:
        raise StayError("moved-on")
    if stay.nights + 1 > MAX_NIGHTS:
        raise StayError("too-long")
    later = stay.check_out + timedelta(days=1)
    ensure_free(session, stay.room_id, stay.check_out, later, stay.id)
    stay.check_out = later
    _log(session, stay, actor, lambda: _(
        "One more night: now until %(day)s (%(room)s).", day=later.isoformat(),
        room=_room_name(stay),
    ))  # fmt: skip
    _save(session, stay, customer, actor, zone)


def _copy_for_move(stay: Stay, room: Room, from_day: date, actor: User | None) -> Stay:
    names = ("customer_id", "status", "adults", "children", "children_ages", "source",
             "preferences", "occasion", "occasion_label", "occasion_who", "occasion_on",
             "checked_in_at")  # fmt: skip
    rest = Stay(**{name: getattr(stay, name) for name in names})
    rest.room_id, rest.check_in, rest.check_out = room.id, from_day, stay.check_out
    rest.amount = rest.deposit = 0  # the money stays on the booking's first part
    rest.note, rest.moved_from_id = "", stay.id
    rest.created_by_id = actor.id if actor else None
    return rest


def move(
    session: Session,
    stay: Stay,
    customer: Customer,
    *,
    room_id: int | None,
    from_day: date | None,
    actor: User | None,
    today: date,
    zone: str,
) -> Stay:
    """From `from_day` on, the rest of the stay is in another room: the stay ends that
    morning and a linked stay (moved_from_id) holds the other room's nights. From the first
    night: the whole stay moves. Returns the stay now holding the later nights."""
    begin_write(session)
    room = session.get(Room, room_id) if room_id else None
    if room is None or room.id == stay.room_id:
        raise StayError("room")
    if stay.status not in ACTIVE_STAY_STATUSES or stay.checked_out_at is not None:
        raise StayError("not-active")
    if continuation(session, stay) is not None:
        raise StayError("moved-on")
    if from_day is None or not stay.check_in <= from_day < stay.check_out:
        raise StayError("move-day")
    ensure_free(session, room.id, from_day, stay.check_out, stay.id)
    before = _room_name(stay)
    if from_day == stay.check_in:
        stay.room_id, rest = room.id, stay
    else:
        rest = _copy_for_move(stay, room, from_day, actor)
        stay.check_out = from_day
        if stay.checked_in_at is not None and from_day <= today:
            stay.checked_out_at = utcnow()  # they have left the first room
        session.add(rest)
        _save(session, stay, customer, actor, zone)
    _log(session, stay, actor, lambda: _(
        "Room change: from %(day)s in %(room)s instead of %(before)s.",
        day=from_day.isoformat(), room=room.name, before=before,
    ))  # fmt: skip
    _save(session, rest, customer, actor, zone)
    return rest


@dataclass
class StayPage:
    """What the stay's page shows and which actions it offers today."""

    stay: Stay
    customer: Customer
    state: str
    alerts: list
    before: Stay | None  # the part in the room before a room change
    after: Stay | None  # the part in the room after it
    can_check_in: bool
    early_arrival: bool
    can_check_out: bool
    early_departure: bool
    can_extend: bool
    can_move: bool
    move_from: date


def stay_page(session: Session, stay: Stay, today: date) -> StayPage:
    from app.services.stays import stay_state
    from app.services.timeline import open_alerts_by_customer

    after = continuation(session, stay)
    before = session.get(Stay, stay.moved_from_id) if stay.moved_from_id else None
    active = stay.status in ACTIVE_STAY_STATUSES and stay.checked_out_at is None
    in_house = stay.status == "stayed" and stay.checked_out_at is None
    open_part = active and after is None
    from app.services.booking_money import money_state  # the deposit's part of the state

    paid = money_state(session, stay).deposit_paid
    return StayPage(
        stay=stay, customer=stay.customer, state=stay_state(stay, today, deposit_paid=paid),
        alerts=open_alerts_by_customer(session, [stay.customer_id]).get(stay.customer_id, []),
        before=before, after=after,
        can_check_in=active and stay.checked_in_at is None and today < stay.check_out,
        early_arrival=today < stay.check_in,
        can_check_out=in_house and after is None, early_departure=today < stay.check_out,
        can_extend=open_part, can_move=open_part and stay.nights > 0,
        move_from=min(max(today, stay.check_in), stay.check_out - timedelta(days=1)),
    )  # fmt: skip
