"""The audit log: one helper that services, jobs and views all use (no request state here)."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
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


def record_now(
    engine: sa.Engine,
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: str | None = None,
    *,
    user_id: int | None = None,
    ip: str | None = None,
) -> None:
    """Writes one audit row in its own short write transaction, committed at once.

    For pages that only read (a teacher opening a child with an alert, a data export): their
    read transaction never has to be upgraded to a write, which fails outright when anyone
    else wrote meanwhile; the write lock is taken first and waited for like any other.
    """
    with engine.connect().execution_options(hearth_immediate=True) as connection:
        connection.execute(
            sa.insert(AuditEvent).values(
                at=utcnow(), **_row(action, target_type, target_id, detail, user_id, ip)
            )
        )
        connection.commit()


def _row(action, target_type, target_id, detail, user_id, ip) -> dict:
    return {
        "action": action,
        "target_type": target_type,
        "target_id": target_id,
        "detail": detail,
        "user_id": user_id,
        "ip": ip,
    }
