"""The sending threads: one per connection to a provider, each taking its claimed jobs and
reporting how each went, and the rate limit they share."""

import queue
import smtplib
import threading
import time
from collections import deque
from dataclasses import dataclass, field

from app.services.campaigns.outbox.reasons import Unreachable
from app.services.channels.base import SendError


class RateLimiter:
    """At most `limit` sends in any `window` seconds, counted from the database at start so
    a restart does not reset it. A send holds its slot from hand-out; when it has been
    delivered the slot's time moves to then, so the window counts from the arrival."""

    def __init__(self, limit: int, window: float, recent: list[float]):
        self.limit = max(1, limit)
        self.window = window
        self.sent: deque = deque([moment] for moment in sorted(recent)[-self.limit :])

    held_until = 0.0

    def hold(self, seconds: float) -> None:
        """The provider said "too many" (a 429): nothing more for this long."""
        self.held_until = max(self.held_until, time.time() + seconds)

    def delay(self) -> float:
        """Seconds until one more send fits (0: now)."""
        now = time.time()
        if self.held_until > now:
            return self.held_until - now
        while self.sent and self.sent[0][0] <= now - self.window:
            self.sent.popleft()
        if len(self.sent) < self.limit:
            return 0.0
        return max(0.0, self.sent[0][0] + self.window - now) + 0.001

    def record(self) -> list:
        slot = [time.time()]
        self.sent.append(slot)
        return slot


@dataclass
class Job:
    delivery_id: int
    customer_id: int
    attempts: int
    subject: str  # what the timeline shows: the subject, or the start of a short message
    sender: str
    address: str
    data: bytes | str  # the mail as bytes; the text of an SMS or a LINE message
    key: str | None = None  # the delivery's idempotency key
    batch_key: str | None = None  # LINE multicast: the request's key, shared by its group
    slot: list = field(default_factory=list)  # its place in the rate limit
    provider_id: str | None = None  # the gateway's id for the message, once sent


def keeps_connection(error: Exception) -> bool:
    """After this failure the connection is still good (the server answered)."""
    return isinstance(
        error, SendError | smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
    )


class NotSent(Exception):
    """The connection stopped (pause, cancel, time up) before this job's turn: back to the
    queue."""


class Connection(threading.Thread):
    """One connection to a provider, on a thread of its own (called a "line" before: it is
    not LINE). Takes a list of jobs at a time (one, unless the provider de-duplicates) and
    reports how each went."""

    def __init__(self, number: int, transport, results: queue.SimpleQueue):
        super().__init__(name=f"{transport.channel}-{number}", daemon=True)
        self.transport = transport
        self.results = results
        self.jobs: queue.SimpleQueue = queue.SimpleQueue()
        self.client = None
        self.pending = (
            0  # jobs handed to this connection and not reported yet (coordinator's count)
        )
        self.halt = threading.Event()

    def _drop_client(self) -> None:
        if self.client is not None:
            try:
                self.client.close()
            except Exception:  # noqa: BLE001 - a broken connection cannot be closed politely
                pass
        self.client = None

    def _open(self) -> None:
        """A client for the provider; Unreachable when none can be had (nothing was sent)."""
        if self.client is not None:
            return
        try:
            self.client = self.transport.open()
        except Exception as problem:  # noqa: BLE001 - reported to the coordinator
            raise Unreachable(problem) from problem

    def run(self) -> None:
        while (batch := self.jobs.get()) is not None:
            if len(batch) > 1 and batch[0].batch_key is not None:
                error = self._send_many(batch)  # one multicast request for the group
                for job in batch:
                    self.results.put((self, job, error))
                continue
            for job in batch:
                self.results.put((self, job, self._send(job)))
        self._drop_client()

    def _send_many(self, jobs: list[Job]) -> Exception | None:
        if self.halt.is_set():
            return NotSent()
        try:
            self._open()
            provider_id = self.client.send_many(jobs)
        except Exception as problem:  # noqa: BLE001 - reported to the coordinator
            if not keeps_connection(problem):
                self._drop_client()
            return problem
        for job in jobs:
            job.provider_id = provider_id
        return None

    def _send(self, job: Job) -> Exception | None:
        if self.halt.is_set():
            return NotSent()
        try:
            self._open()
            job.provider_id = self.client.send(job)
        except Exception as problem:  # noqa: BLE001 - reported to the coordinator
            if not keeps_connection(problem):
                self._drop_client()  # the connection broke: a new one next time
            return problem
        return None
