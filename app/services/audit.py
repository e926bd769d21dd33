"""The audit log: one helper that services, jobs and views all use (no request state here)."""

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import WriteLockBusy
from app.models import AuditEvent


def record(
    session: Session,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: str | None = None,
    *,
    user_id: int | None = None,
    ip: str | None = None,
) -> AuditEvent:
    """Adds one audit row to the session's transaction (the caller commits)."""
    event = AuditEvent(**_row(action, target_type, target_id, detail, user_id, ip))
    session.add(event)
    return event


# How long a page that only reads waits for the write lock to write its audit row at once;
# past it the row goes to the audit queue (services.audit_queue) and the page answers.
READ_PAGE_LOCK_WAIT_MS = 100


def record_now(
    engine: sa.Engine,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: str | None = None,
    *,
    user_id: int | None = None,
    ip: str | None = None,
    queue_folder: str | None = None,
) -> bool:
    """Writes one audit row in its own short write transaction, committed at once; True when
    written, False when it went to the audit queue in `queue_folder` instead.

    For pages that only read (a teacher opening a child with an alert, a data export): their
    read transaction never has to be upgraded to a write, which fails outright when anyone
    else wrote meanwhile. With a queue folder the lock is waited for only briefly: a page
    that reads never stands behind a long write.
    """
    row = {"at": utcnow(), **_row(action, target_type, target_id, detail, user_id, ip)}
    options: dict = {"hearth_immediate": True}
    if queue_folder is not None:
        options["hearth_lock_wait_ms"] = READ_PAGE_LOCK_WAIT_MS
    try:
        with engine.connect().execution_options(**options) as connection:
            connection.execute(sa.insert(AuditEvent).values(**row))
            connection.commit()
            return True
    except WriteLockBusy:
        if queue_folder is None:
            raise
    from app.services import audit_queue

    audit_queue.put(queue_folder, row)
    return False


def _row(action, target_type, target_id, detail, user_id, ip) -> dict:
    return {
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "detail": detail,
        "user_id": user_id,
        "ip": ip,
    }


# ---- reading the log --------------------------------------------------------------------------

PAGE_SIZE = 100


@dataclass
class AuditFilter:
    """What the owner filters the log by; days are in the shop's time zone, inclusive."""

    action: str = ""  # a prefix: "customer." finds every customer action
    user_id: int | None = None
    customer_id: int | None = None
    since: date | None = None
    until: date | None = None


def audit_page(session: Session, wanted: AuditFilter, context, page: int = 1):
    """(rows of (AuditEvent, user name), whether there are more) for one page, newest first."""
    from app.models import User

    query = sa.select(AuditEvent, User.name).outerjoin(User, User.id == AuditEvent.user_id)
    if wanted.action:
        query = query.where(AuditEvent.action.startswith(wanted.action, autoescape=True))
    if wanted.user_id:
        query = query.where(AuditEvent.user_id == wanted.user_id)
    if wanted.customer_id:
        query = query.where(
            AuditEvent.target_type == "customer", AuditEvent.target_id == wanted.customer_id
        )
    if wanted.since:
        query = query.where(AuditEvent.at >= context.start_of(wanted.since))
    if wanted.until:
        query = query.where(AuditEvent.at < context.start_of(wanted.until + timedelta(days=1)))
    rows = session.execute(
        query.order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
        .limit(PAGE_SIZE + 1)
        .offset((max(1, page) - 1) * PAGE_SIZE)
    ).all()
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def audit_actions(session: Session) -> list[str]:
    return list(
        session.scalars(sa.select(AuditEvent.action).distinct().order_by(AuditEvent.action))
    )
