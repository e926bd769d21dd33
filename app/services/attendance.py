"""An after-school centre's day: who is expected (enrolment), who arrived, who was picked up
by whom (a listed guardian, or flagged), who is absent and why. One row per child per day,
with one line on the child's timeline kept in step; every change is audited by the view."""

from dataclasses import dataclass, field
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import to_zone, utcnow
from app.models import (
    Attendance,
    Customer,
    Enrolment,
    FamilyMember,
    Role,
    Shop,
    TimelineEntry,
    User,
)
from app.services import groups as group_service


class AttendanceError(ValueError):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


@dataclass
class TodayBoard:
    """One group's day on Today: the children (alerts first), their alerts, today's notes,
    the roll, who is expected, here and missing."""

    ids: list[int]
    children: list[Customer]
    alerts: dict
    notes: dict
    roll: dict[int, Attendance]
    expected: set[int]
    present: list[Customer]
    missing: list[Customer]
    with_alerts: int
    alerts_only: bool
    absent: list[Customer] = field(default_factory=list)


def today_board(
    session: Session, children: list[Customer], day: date, *, since: datetime, alerts_only: bool
) -> TodayBoard:
    from app.models.timeline import ALERT_SEVERITY
    from app.services import timeline as timeline_service

    ids = [child.id for child in children]
    alerts = timeline_service.open_alerts_by_customer(session, ids)
    roll = day_rows(session, ids, day)
    expected = expected_today(session, ids, day)

    def order(child: Customer):
        # Children with an allergy or medical alert first, so nobody scrolls past them.
        child_alerts = alerts.get(child.id, [])
        top = min((ALERT_SEVERITY.get(a.alert_category, 9) for a in child_alerts), default=10)
        return (top, child.display_name)

    shown = [child for child in children if alerts.get(child.id)] if alerts_only else children
    return TodayBoard(
        ids=ids,
        children=sorted(shown, key=order),
        alerts=alerts,
        notes=group_service.entries_since(session, ids, since),
        roll=roll,
        expected=expected,
        present=_with_status(children, roll, "present"),
        missing=[c for c in children if c.id in expected and c.id not in roll],
        absent=_with_status(children, roll, "absent"),
        with_alerts=sum(1 for child in children if alerts.get(child.id)),
        alerts_only=alerts_only,
    )


def _with_status(children: list[Customer], roll: dict[int, Attendance], status: str):
    return [child for child in children if child.id in roll and roll[child.id].status == status]


def markable(session: Session, shop: Shop, user: User, customer_ids: list[int]) -> set[int]:
    """The children (of these) whose attendance this staff member may mark: owners and the
    front desk any child; a teacher only the children of their own classes."""
    if user.role != Role.TEACHER:
        return set(customer_ids)
    mine = {child.id for child in group_service.members(session, shop, user.groups)}
    return mine.intersection(customer_ids)


def enrol(
    session: Session, customer: Customer, *, group: str, starts_on: date,
    ends_on: date | None = None, weekdays: str = "12345",
) -> Enrolment:  # fmt: skip
    group = " ".join((group or "").split())[:60]
    days = "".join(sorted({d for d in weekdays or "" if d in "1234567"}))
    if not days:
        raise AttendanceError("weekdays")
    if ends_on is not None and ends_on < starts_on:
        raise AttendanceError("ends-before")
    enrolment = Enrolment(customer_id=customer.id, group_name=group, starts_on=starts_on,
                          ends_on=ends_on, weekdays=days)  # fmt: skip
    session.add(enrolment)
    session.flush()
    return enrolment


def expected_today(session: Session, customer_ids: list[int], day: date) -> set[int]:
    """Children expected on the day: an enrolment covering it (and its weekday); children with
    no enrolment at all are expected on school days (Monday to Friday)."""
    if not customer_ids:
        return set()
    weekday = str(day.isoweekday())
    enrolled = session.execute(
        sa.select(Enrolment.customer_id, Enrolment.starts_on, Enrolment.ends_on,
                  Enrolment.weekdays).where(Enrolment.customer_id.in_(customer_ids))
    ).all()  # fmt: skip
    with_enrolment = {row.customer_id for row in enrolled}
    expected = {
        row.customer_id
        for row in enrolled
        if row.starts_on <= day
        and (row.ends_on is None or day <= row.ends_on)
        and weekday in row.weekdays
    }
    if day.isoweekday() <= 5:
        expected |= set(customer_ids) - with_enrolment
    return expected


def day_rows(session: Session, customer_ids: list[int], day: date) -> dict[int, Attendance]:
    if not customer_ids:
        return {}
    return {
        row.customer_id: row
        for row in session.scalars(
            sa.select(Attendance).where(
                Attendance.customer_id.in_(customer_ids), Attendance.day == day
            )
        )
    }


def _row(session: Session, customer: Customer, day: date) -> Attendance:
    row = session.scalar(
        sa.select(Attendance).where(Attendance.customer_id == customer.id, Attendance.day == day)
    )
    if row is None:
        row = Attendance(customer_id=customer.id, day=day, status="present")
        session.add(row)
    return row


def _clock(moment: datetime | None, zone: str) -> str:
    return to_zone(moment, zone).strftime("%H:%M") if moment else ""


def _sync_entry(session: Session, row: Attendance, actor: User | None, zone: str, words) -> None:
    """The day's line on the child's timeline: a visit when present, a note when absent."""
    entry = session.get(TimelineEntry, row.entry_id) if row.entry_id else None
    if entry is None:
        entry = TimelineEntry(customer_id=row.customer_id, author_id=actor.id if actor else None,
                              created_at=row.checked_in_at or utcnow())  # fmt: skip
        session.add(entry)
    entry.action = "attendance"
    if row.status == "absent":
        entry.kind = "note"
        entry.body = words["absent"] + (f": {row.absence_reason}" if row.absence_reason else "")
    else:
        entry.kind = "visit"
        text = words["arrived"].replace("%(time)s", _clock(row.checked_in_at, zone))
        if row.checked_out_at:
            who = _pickup_name(session, row)
            text += " · " + words["picked_up"].replace(
                "%(time)s", _clock(row.checked_out_at, zone)
            ).replace("%(who)s", who)
            if row.unexpected_pickup:
                text += " " + words["not_listed"]
        entry.body = text
        entry.created_at = row.checked_in_at or entry.created_at
    session.flush()
    row.entry_id = entry.id


def _pickup_name(session: Session, row: Attendance) -> str:
    if row.picked_up_by_id:
        member = session.get(FamilyMember, row.picked_up_by_id)
        if member is not None:
            return f"{member.name}（{member.relation}）" if member.relation else member.name
    return row.picked_up_by_other or "?"


def check_in(session, customer, day, *, actor, zone, words) -> Attendance:
    row = _row(session, customer, day)
    row.status, row.absence_reason = "present", ""
    row.checked_in_at = row.checked_in_at or utcnow()
    row.updated_at, row.updated_by_id = utcnow(), actor.id if actor else None
    session.flush()
    _sync_entry(session, row, actor, zone, words)
    if customer.last_visit_at is None or customer.last_visit_at < row.checked_in_at:
        customer.last_visit_at = row.checked_in_at
    return row


def check_out(session, customer, day, *, member_id, other_name, actor, zone, words) -> Attendance:
    """Picked up by one of the child's family (a listed guardian: fine; anyone else is
    flagged) or by someone typed in (always flagged)."""
    row = _row(session, customer, day)
    if row.status != "present" or row.checked_in_at is None:
        raise AttendanceError("not-here")
    other_name = " ".join((other_name or "").split())[:80]
    member = None
    if member_id:
        member = session.get(FamilyMember, member_id)
        if member is None or member.customer_id != customer.id:
            raise AttendanceError("who")
    elif not other_name:
        raise AttendanceError("who")
    row.picked_up_by_id = member.id if member else None
    row.picked_up_by_other = "" if member else other_name
    row.unexpected_pickup = not (member and member.picks_up)
    row.checked_out_at = utcnow()
    row.updated_at, row.updated_by_id = utcnow(), actor.id if actor else None
    _sync_entry(session, row, actor, zone, words)
    return row


def mark_absent(session, customer, day, *, reason, actor, zone, words) -> Attendance:
    row = _row(session, customer, day)
    row.status = "absent"
    row.absence_reason = " ".join((reason or "").split())[:200]
    row.checked_in_at = row.checked_out_at = None
    row.picked_up_by_id, row.picked_up_by_other, row.unexpected_pickup = None, "", False
    row.updated_at, row.updated_by_id = utcnow(), actor.id if actor else None
    session.flush()
    _sync_entry(session, row, actor, zone, words)
    return row


def undo_mark(session, customer, day, *, actor, zone, words) -> Attendance | None:
    """Takes back today's last tap: a pick-up goes back to "here"; an arrival or an absence
    is removed with its timeline line (the child is "not here yet" again)."""
    row = session.scalar(
        sa.select(Attendance).where(Attendance.customer_id == customer.id, Attendance.day == day)
    )
    if row is None:
        raise AttendanceError("nothing")
    if row.checked_out_at:
        row.checked_out_at, row.picked_up_by_id = None, None
        row.picked_up_by_other, row.unexpected_pickup = "", False
        row.updated_at, row.updated_by_id = utcnow(), actor.id if actor else None
        _sync_entry(session, row, actor, zone, words)
        return row
    if row.checked_in_at and customer.last_visit_at == row.checked_in_at:
        customer.last_visit_at = session.scalar(
            sa.select(sa.func.max(Attendance.checked_in_at)).where(
                Attendance.customer_id == customer.id, Attendance.id != row.id
            )
        )
    entry = session.get(TimelineEntry, row.entry_id) if row.entry_id else None
    session.delete(row)
    session.flush()
    if entry is not None:
        session.delete(entry)
        session.flush()
    return None


def enrolments_of(session: Session, customer_id: int) -> list[Enrolment]:
    return list(
        session.scalars(
            sa.select(Enrolment)
            .where(Enrolment.customer_id == customer_id)
            .order_by(Enrolment.starts_on.desc())
        )
    )


def families(session: Session, customer_ids: list[int]) -> dict[int, list[FamilyMember]]:
    """Each child's family, guardians first: who may pick the child up."""
    people: dict[int, list[FamilyMember]] = {}
    for member in session.scalars(
        sa.select(FamilyMember)
        .where(FamilyMember.customer_id.in_(customer_ids))
        .order_by(FamilyMember.is_guardian.desc(), FamilyMember.id)
    ):
        people.setdefault(member.customer_id, []).append(member)
    return people
