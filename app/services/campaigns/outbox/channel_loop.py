"""One channel's sending loop: the coordinator that prepares each delivery's job, claims it in
the ledger, hands it to a connection and writes what the connection reports."""

import queue
import time
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Delivery
from app.services.campaigns.outbox.connections import Connection, Job, NotSent, RateLimiter
from app.services.campaigns.outbox.ledger import Ledger, Writes, outcome
from app.services.campaigns.outbox.letter import mail_date
from app.services.campaigns.outbox.reasons import Failure, classify
from app.services.campaigns.outbox.rows import campaign_status, next_chunk, opted_out

if TYPE_CHECKING:
    from app.services.campaigns.outbox.send import Composer

RETRY_LIMIT = 3  # tries of a delivery that fails temporarily
BATCH_PER_CONNECTION = 20  # deliveries per claim on a connection whose provider de-duplicates


class NotComposed(Exception):
    """The composer cannot make this person's message (its text says why): this delivery
    fails, the others go."""


@dataclass
class Route:
    """How one channel's deliveries leave: its transport, connections and rate limit."""

    transport: object  # SmtpTransport, channels.MitakeTransport, channels.LineTransport, …
    connections: int = 1
    limit: int = 600  # sends …
    window: float = 60.0  # … per this many seconds


@dataclass
class SendReport:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    skipped: int = 0
    paused: str | None = None  # the first pause, in plain English (logs, the task's result)
    by_channel: dict = field(default_factory=dict)  # channel → sent
    # channel → (code, details) of each channel that paused in this run
    channel_pauses: dict = field(default_factory=dict)

    def pause(self, channel: str, code: str, details: dict, text: str) -> None:
        self.channel_pauses.setdefault(channel, (code, details))
        if not self.paused:
            self.paused = text[:500]


def classify_any(error: Exception, host: str = "") -> Failure:
    """The failure of one send on any channel, as a code and its details."""
    return classify(error, host)


class ChannelSend:
    """One channel's sending loop: rows are prepared into jobs, claimed in the commit that
    confirms the connection's last ones, sent by the connections, and what they report is
    written by the next commit. `settings` gives retry_backoff and max_consecutive_failures."""

    def __init__(self, session: Session, campaign_id: int, composer: "Composer", channel: str,
                 route: Route, settings, report: SendReport, stop_after: float | None):  # fmt: skip
        self.session, self.composer, self.channel = session, composer, channel
        self.settings, self.report = settings, report
        self.stop_after = stop_after
        self.campaign_id = campaign_id
        target = getattr(route.transport, "target", None)
        self.host = f"{target.host}:{target.port}" if target is not None else ""
        self.last_failure: Failure | None = None
        window_start = utcnow() - timedelta(seconds=route.window)
        recent = [
            (moment - datetime(1970, 1, 1)).total_seconds()
            for moment in session.scalars(
                sa.select(Delivery.sent_at).where(
                    Delivery.sent_at >= window_start, Delivery.channel == channel
                )
            )
        ]
        session.rollback()
        self.limiter = RateLimiter(route.limit, route.window, recent)
        # Where the provider recognises a repeated key, a crash costs nothing but a repeat it
        # refuses: each connection takes several deliveries per claim and confirmations are gathered
        # (fewer commits). Elsewhere one at a time: at most one uncertain per connection.
        self.per_connection = 1 if route.transport.dedupe_window is None else BATCH_PER_CONNECTION
        # LINE multicast: when the text is the same for everyone (no merge fields), a connection
        # sends a group of up to multicast_size users in one request under one key.
        group_size = getattr(route.transport, "multicast_size", 1)
        self.multicast = group_size > 1 and composer.same_for_everyone(channel)
        if self.multicast:
            self.per_connection = group_size
        self.ledger = Ledger(session, channel)
        self.results: queue.SimpleQueue = queue.SimpleQueue()
        self.connections = [
            Connection(number, route.transport, self.results)
            for number in range(max(1, route.connections))
        ]
        for connection in self.connections:
            connection.start()
        self.idle: list[Connection] = list(self.connections)
        self.in_flight = 0
        self.rows: deque = deque()
        self.writes = Writes()
        self.consecutive_failures = 0
        self.started = self.last_check = self.last_flush = time.monotonic()
        self.handed_since_check = 0
        self.stop = False
        self.date = (0, "", "")  # (second, zone, RFC 2822 date): one a second

    # ---- what the connections report ----

    def take(self, connection, job, error) -> None:
        """A connection's report: sent (confirm), or failed (retry later or give up)."""
        self.in_flight -= 1
        connection.pending -= 1
        if connection.pending == 0:
            self.idle.append(connection)
        if job.slot:
            job.slot[0] = time.time()  # the window counts from when it was delivered
        if isinstance(error, NotSent):
            self.writes.outcomes.append(outcome(job.delivery_id, "queued", None, uncount=1))
            return
        if error is None:
            self.writes.sent.append(job)
            self.consecutive_failures = 0
            self.report.sent += 1
            by_channel = self.report.by_channel
            by_channel[self.channel] = by_channel.get(self.channel, 0) + 1
            return
        self._failed(job, classify_any(error, self.host), getattr(error, "retry_after", None))

    def _failed(self, job, failure: Failure, wait: float | None) -> None:
        outcomes, report, text, code = self.writes.outcomes, self.report, failure.text, failure.code
        attempts = job.attempts + 1
        if failure.kind == "later":
            # Rate-limited: this one waits (not a failed attempt) and so does the channel.
            wait = 1.0 if wait is None else min(max(wait, 0.0), 60.0)
            self.limiter.hold(wait)
            outcomes.append(outcome(job.delivery_id, "queued", text, uncount=1, error_code=code,
                                     next_attempt_at=utcnow() + timedelta(seconds=wait)))  # fmt: skip
            report.retried += 1
            return
        if failure.kind in ("halt", "down"):
            # Nothing will go on this channel until the server answers or the owner acts:
            # this one waits (not an attempt), the channel pauses, the others carry on.
            outcomes.append(outcome(job.delivery_id, "queued", text, uncount=1, error_code=code))
            self.pause(code, failure.details, f"{self.channel}: {text}")
            return
        if failure.kind == "temporary" and attempts < RETRY_LIMIT:
            if wait is None:
                backoff = self.settings.retry_backoff or (0,)
                wait = backoff[min(attempts - 1, len(backoff) - 1)]
            outcomes.append(outcome(job.delivery_id, "queued", text, error_code=code,
                                     next_attempt_at=utcnow() + timedelta(seconds=wait)))  # fmt: skip
            report.retried += 1
        else:
            outcomes.append(outcome(job.delivery_id, "failed", text, error_code=code))
            report.failed += 1
        self.fail_once(failure)

    def pause(self, code: str, details: dict, text: str) -> None:
        """This channel stops here (its queued deliveries wait); the others go on."""
        self.report.pause(self.channel, code, details, text)
        self.stop = True

    def fail_once(self, failure: Failure) -> None:
        self.consecutive_failures += 1
        self.last_failure = failure
        if (
            self.consecutive_failures >= self.settings.max_consecutive_failures
            and self.channel not in self.report.channel_pauses
        ):
            count = self.consecutive_failures
            details = {**failure.details, "count": count, "last_code": failure.code}
            self.pause("failures-in-a-row", details,
                       f"{count} failures in a row; last: {failure.text}")  # fmt: skip

    def drain(self, block: bool, timeout: float = 1.0) -> None:
        """Takes what the connections reported (waiting up to `timeout` for one if `block`)."""
        try:
            while True:
                self.take(*self.results.get(block=block, timeout=timeout if block else None))
                block = False
        except queue.Empty:
            pass

    # ---- preparing jobs ----

    def build(self, row) -> Job:
        if self.channel != "email":
            text = self.composer.message(self.channel, row)
            return Job(row.id, row.customer_id, row.attempts, text[:300], "", row.address, text,
                       row.idempotency_key)  # fmt: skip
        letter = self.composer.message(self.channel, row)
        second = int(time.time())
        if self.date[:2] != (second, letter.timezone):
            self.date = (second, letter.timezone, mail_date(second, letter.timezone))
        sender, address = letter.envelope()
        data = letter.as_bytes(self.date[2])
        return Job(row.id, row.customer_id, row.attempts, letter.subject, sender, address, data,
                   row.idempotency_key)  # fmt: skip

    def prepare(self, row) -> Job | None:
        """The job for one row, or None (skipped or failed here, written with the next commit)."""
        reason = opted_out(self.channel, row, getattr(self.composer, "service", False))
        if reason:  # opted out after the snapshot
            self.writes.outcomes.append(outcome(row.id, "skipped", None) | {"skip_reason": reason})
            self.report.skipped += 1
            return None
        try:
            return self.build(row)
        except NotComposed as problem:
            # This recipient's message cannot be made (their values push the template past
            # its bounds, say): this one fails, the others carry on; many in a row pause.
            failure = Failure("permanent", "template", {"answer": str(problem)[:500]})
        except (UnicodeError, ValueError) as error:
            failure = classify_any(error)
        self.writes.outcomes.append(
            outcome(row.id, "failed", failure.text, error_code=failure.code)
        )
        self.report.failed += 1
        self.fail_once(failure)
        return None

    # ---- the loop ----

    def check(self) -> bool:
        """Stops (returns True) when the campaign was paused or cancelled, or time is up."""
        now = time.monotonic()
        if not self.stop and (now - self.last_check > 0.5 or self.handed_since_check >= 1000):
            self.last_check, self.handed_since_check = now, 0
            if campaign_status(self.session, self.campaign_id) != "sending":
                self.stop = True
        if self.stop_after is not None and now - self.started > self.stop_after:
            self.stop = True
        if self.stop:
            for connection in self.connections:
                connection.halt.set()  # what a connection still holds goes back to the queue
        return self.stop

    def flush(self, force: bool = True) -> None:
        """Commits what was decided; hands the claims that won to their connections. In
        batches (per_connection > 1) confirmations wait for claims, 100 of them, or 50 ms."""
        writes = self.writes
        if not writes:
            return
        if not (force or writes.claims or len(writes.sent) + len(writes.outcomes) >= 100
                or time.monotonic() - self.last_flush > 0.05):  # fmt: skip
            return
        asked = writes.claims
        won = self.ledger.commit(writes)
        self.last_flush = time.monotonic()
        self.writes = Writes()
        batches: dict[int, tuple[Connection, list]] = {}
        for connection, job in won:
            batches.setdefault(id(connection), (connection, []))[1].append(job)
        for connection, jobs in batches.values():
            connection.pending += len(jobs)
            connection.jobs.put(jobs)
            self.in_flight += len(jobs)
            self.handed_since_check += len(jobs)
        unused = {
            id(connection): connection
            for connection, _job in asked
            if id(connection) not in batches
        }
        self.idle.extend(unused.values())

    def fill(self, connection) -> int:
        """Claims up to per_connection rows for this connection; how many it took."""
        rows, limiter = self.rows, self.limiter
        taken, group, regroup = 0, None, False
        while rows and taken < self.per_connection and (taken == 0 or limiter.delay() == 0):
            if self.multicast:
                # A group cut short by a crash goes again whole, under its key; a new group
                # takes its first delivery's key.
                if group is None:
                    group = rows[0].batch_key or rows[0].idempotency_key
                    regroup = rows[0].batch_key is not None
                elif rows[0].batch_key != (group if regroup else None):
                    break
            job = self.prepare(rows.popleft())
            if job is not None:
                job.batch_key = group
                job.slot = limiter.record()
                self.writes.claims.append((connection, job))
                taken += 1
        return taken

    def hand_out(self) -> None:
        """New work for idle connections, claimed in the commit that confirms their last."""
        while not self.stop and self.idle and self.rows and not self.check():
            delay = self.limiter.delay()
            if delay > 0:  # the rate limit: confirm what is done, then wait a little
                self.flush()
                time.sleep(min(delay, 0.2))
                self.drain(block=False)
                continue
            connection = self.idle.pop()
            if self.fill(connection) == 0:
                self.idle.append(connection)

    def refill(self) -> None:
        """More rows when these are used up (after the commit: claimed ones are gone)."""
        if self.rows or self.stop:
            return
        batch = self.per_connection if self.multicast else 1
        chunk = next_chunk(self.session, self.campaign_id, self.channel, batch)
        if chunk:
            self.composer.load(self.session, [row.customer_id for row in chunk])
            self.rows.extend(chunk)
        # No read transaction stays open: its snapshot would hide the ledger's writes.
        self.session.commit()

    def run(self) -> None:
        try:
            while True:
                # 1. What the connections report (wait for them when there is nothing else).
                waiting = self.in_flight > 0 and (self.stop or not self.idle or not self.rows)
                if waiting and not self.writes:
                    self.drain(block=True)
                elif waiting and self.per_connection > 1:
                    self.drain(block=True, timeout=0.05)  # gathered confirmations within 50 ms
                else:
                    self.drain(block=False)
                # 2. Pause, cancel and the time slice take effect within half a second.
                self.check()
                # 3. New work for idle connections.
                self.hand_out()
                self.flush(force=self.per_connection == 1 or self.stop or self.in_flight == 0)
                # 4. More rows.
                self.refill()
                if self.in_flight == 0 and not self.writes and (self.stop or not self.rows):
                    break
        finally:
            self.finish()

    def finish(self) -> None:
        """Whatever the connections finished is confirmed; the rest stays "sending" and is
        marked uncertain (or, where the provider de-duplicates, re-sent) at the next start."""
        for connection in self.connections:
            connection.jobs.put(None)
        deadline = time.monotonic() + 30
        while self.in_flight and time.monotonic() < deadline:
            try:
                self.take(*self.results.get(timeout=1.0))
            except queue.Empty:
                continue
        self.writes.claims = []
        try:
            if self.writes:
                self.ledger.commit(self.writes)
        finally:
            self.ledger.close()
        for connection in self.connections:
            connection.join(5)
