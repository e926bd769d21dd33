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
    "UPDATE delivery SET status = 'sent', sent_at = ?, error = NULL, error_code = NULL, "
    "provider_id = ? WHERE id = ?"
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
    "UPDATE delivery SET status = ?, error = ?, error_code = ?, skip_reason = ?, "
    "next_attempt_at = ?, "
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
        now = db.stamp(utcnow())
        db.begin()
        try:
            self._confirm(writes.sent, now)
            self._record(writes.outcomes)
            won = self._claim(writes.claims, now)
            db.commit()
        except BaseException:
            db.rollback()
            raise
        return won

    def _confirm(self, sent: list[Job], now) -> None:
        """Sent: the delivery, an entry on the person's timeline, their last contact."""
        if not sent:
            return
        db = self.db
        db.executemany(_CONFIRM, [(now, j.provider_id, j.delivery_id) for j in sent])
        db.executemany(_ENTRY, [(j.customer_id, self.channel, j.subject, now) for j in sent])
        db.executemany(_CONTACT, [(now, j.customer_id, now) for j in sent])

    def _record(self, outcomes: list[dict]) -> None:
        """Failures, retries, skips and jobs handed back to the queue."""
        if not outcomes:
            return
        stamp = self.db.stamp
        self.db.executemany(
            _OUTCOME,
            [(o["status"], o["error"], o["error_code"], o["skip_reason"],
              stamp(o["next_attempt_at"]) if o["next_attempt_at"] else None,
              o["uncount"], o["id"])
             for o in outcomes],
        )  # fmt: skip

    def _claim(self, claims: list[tuple[Connection, Job]], now) -> list[tuple[Connection, Job]]:
        """The claims that won: still queued, now "sending" (a LINE group's key kept first)."""
        if not claims:
            return []
        grouped = [(job.batch_key, job.delivery_id) for _c, job in claims if job.batch_key]
        if grouped:
            self.db.executemany(_GROUP, grouped)
        ids = [job.delivery_id for _connection, job in claims]
        sql = _CLAIM.format(", ".join("?" * len(ids)))
        claimed = {row[0] for row in self.db.fetch(sql, (now, *ids))}
        return [(connection, job) for connection, job in claims if job.delivery_id in claimed]

    def close(self) -> None:
        self._pooled.close()  # back to the pool


def outcome(delivery_id: int, status: str, error: str | None = None, **extra) -> dict:
    return {"id": delivery_id, "status": status, "error": error, "error_code": None,
            "skip_reason": None, "next_attempt_at": None, "uncount": 0, **extra}  # fmt: skip
