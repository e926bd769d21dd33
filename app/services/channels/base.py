"""What every transport shares: the error it raises and the shape the outbox relies on."""

from datetime import timedelta
from typing import Protocol


class SendError(Exception):
    """A send that did not go through.

    kind: "later" (a 429 rate limit: wait, and it does not count as a failed attempt),
    "temporary" (try again later, a few times: a 5xx, a timeout), "permanent"
    (this message can never go: a wrong number, a user who blocked the account) or "halt"
    (nothing will go until the owner acts: wrong password, no credit, monthly quota used
    up; the channel pauses and the delivery stays queued) or "down" (the provider could not
    be reached at all, nothing was sent: the same as "halt").

    code: the provider's own code for the refusal when it gave one (Mitake's statuscode,
    Every8d's negative number, the HTTP status), for words in the reader's language
    (channels/refusals.py); "server-down" when the provider could not be reached; None when
    no provider answered otherwise (timed out)."""

    def __init__(
        self, kind: str, text: str, retry_after: float | None = None, code: str | None = None
    ):
        super().__init__(text)
        self.kind = kind
        self.text = text
        self.retry_after = retry_after
        self.code = code


class Client(Protocol):
    def send(self, job) -> str | None: ...

    def close(self) -> None: ...


class Transport(Protocol):
    channel: str
    dedupe_window: timedelta | None

    def open(self) -> Client: ...


def http_error(status: int, text: str, retry_after: str | None = None) -> SendError:
    """The usual reading of an HTTP status for one message."""
    if status == 429:
        try:
            wait = float(retry_after) if retry_after else None
        except ValueError:
            wait = None
        return SendError("later", f"429 {text}".strip(), wait, code="429")
    code = str(status)
    if status in (401, 403):
        return SendError("halt", f"{status} {text}".strip(), code=code)
    if status >= 500 or status == 408:
        return SendError("temporary", f"{status} {text}".strip(), code=code)
    return SendError("permanent", f"{status} {text}".strip(), code=code)
