"""The exactly-once ledger: claims, confirmations and outcomes of deliveries, one transaction
per round, in plain SQL on the coordinator's own connection."""

from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import RawWriter
from app.services.campaigns.outbox.connections import Connection, Job


class Writes:
    """What the next commit writes: confirmations, failures, retries, skips and claims."""

    def __init__(self):
        self.sent: list[Job] = []
        self.outcomes: list[dict] = []  # {"id", "status", "error", "next_attempt_at", ...}
        self.claims: list[tuple[Connection, Job]] = []

    def __bool__(self) -> bool:
        return bool(self.sent or self.outcomes or self.claims)


# Plain SQL through the driver: these run thousands of times per campaign.
_CONFIRM = (
    "UPDATE delivery SET status = 'sent', sent_at = ?, error = NULL, provider_id = ? WHERE id = ?"
)
_ENTRY = (
    "INSERT INTO timeline_entry (customer_id, kind, body, created_at, action, pinned) "
    "VALUES (?, ?, ?, ?, 'campaign', FALSE)"
)
_CONTACT = (
    "UPDATE customer SET last_contact_at = ? WHERE id = ? "
    "AND (last_contact_at IS NULL OR last_contact_at < ?)"
)
_CLAIM = (
    "UPDATE delivery SET status = 'sending', claimed_at = ?, attempts = attempts + 1 "
    "WHERE status = 'queued' AND id IN ({}) RETURNING id"
)
_GROUP = "UPDATE delivery SET batch_key = ? WHERE id = ? AND status = 'queued'"
_OUTCOME = (
    "UPDATE delivery SET status = ?, error = ?, skip_reason = ?, next_attempt_at = ?, "
    "attempts = attempts - ? WHERE id = ? AND status IN ('queued', 'sending')"
)


class Ledger:
    """The coordinator's own database connection for what it writes per message.

    Plain driver calls on a pooled connection of the app's engine (configured like every
    other: WAL, busy timeout, foreign keys): at hundreds of commits a second the ORM
    session's per-statement bookkeeping was a good part of the sending loop's time. The
    session still does everything else (status checks, reading the next chunk)."""

    def __init__(self, session: Session, channel: str):
        self._pooled = session.get_bind().raw_connection()
        self.db = RawWriter(self._pooled.driver_connection, session.get_bind().dialect.name)
        self.channel = channel

    def commit(self, writes: Writes) -> list[tuple[Connection, Job]]:
        """One transaction for everything decided since the last; returns the claims that won."""
        db = self.db
        _stamp = db.stamp
        now = _stamp(utcnow())
        db.begin()
        try:
            if writes.sent:
                db.executemany(_CONFIRM, [(now, j.provider_id, j.delivery_id) for j in writes.sent])
                db.executemany(
                    _ENTRY, [(j.customer_id, self.channel, j.subject, now) for j in writes.sent]
                )
                db.executemany(_CONTACT, [(now, j.customer_id, now) for j in writes.sent])
            if writes.outcomes:
                db.executemany(
                    _OUTCOME,
                    [(o["status"], o["error"], o["skip_reason"],
                      _stamp(o["next_attempt_at"]) if o["next_attempt_at"] else None,
                      o["uncount"], o["id"])
                     for o in writes.outcomes],
                )  # fmt: skip
            won = []
            grouped = [
                (job.batch_key, job.delivery_id) for _l, job in writes.claims if job.batch_key
            ]
            if grouped:
                db.executemany(_GROUP, grouped)
            if writes.claims:
                ids = [job.delivery_id for _connection, job in writes.claims]
                sql = _CLAIM.format(", ".join("?" * len(ids)))
                claimed = {row[0] for row in db.fetch(sql, (now, *ids))}
                won = [
                    (connection, job)
                    for connection, job in writes.claims
                    if job.delivery_id in claimed
                ]
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return won

    def close(self) -> None:
        self._pooled.close()  # back to the pool


def outcome(delivery_id: int, status: str, error: str | None = None, **extra) -> dict:
    return {"id": delivery_id, "status": status, "error": error, "skip_reason": None,
            "next_attempt_at": None, "uncount": 0, **extra}  # fmt: skip
