"""Why a send failed or a channel paused, as a code and its details (never words): the pages
say it in the reader's language (blueprints/campaigns/words.py), the ledger stores the code.

kind says what the outbox does: "down" (the server cannot be reached, nothing was handed
over: the delivery waits and its channel pauses), "halt" (nothing will go until the owner
acts: the channel pauses), "later" (rate-limited), "temporary" (retried a few times, then
failed, and the owner can retry it), "permanent" (this one never will go)."""

import smtplib
import socket
from dataclasses import dataclass, field

from app.services.channels.base import SendError

# Failed deliveries with these codes may go if tried again (the owner's "Retry").
RETRYABLE = frozenset({"server-down", "server-busy", "provider-busy", "connection-lost"})


@dataclass
class Failure:
    kind: str
    code: str
    details: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        """What the server said, for the delivery's error column (the code says the rest)."""
        return str(self.details.get("answer") or self.details.get("problem") or self.code)[:500]


class Unreachable(Exception):
    """The connection to the provider could not be opened: nothing of this job was sent."""

    def __init__(self, error: Exception):
        super().__init__(str(error))
        self.error = error


def network_problem(error: BaseException) -> str:
    """refused, timeout, unknown-host, disconnected, or the error's own words."""
    if isinstance(error, ConnectionRefusedError):
        return "refused"
    if isinstance(error, socket.gaierror):
        return "unknown-host"
    if isinstance(error, TimeoutError | socket.timeout):
        return "timeout"
    if isinstance(error, smtplib.SMTPServerDisconnected | ConnectionResetError):
        return "disconnected"
    return str(error)[:200] or type(error).__name__


def _smtp_answer(error: Exception) -> tuple[int, str] | None:
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, message = error.smtp_code, error.smtp_error
    else:
        return None
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return int(code), f"{code} {message}"


def _send_error(error: SendError) -> Failure:
    details = {"answer": error.text[:500]}
    if error.code == "server-down":
        return Failure("down", "server-down", {"problem": error.text[:200]})
    code = {"halt": "provider-halt", "later": "rate-limited", "temporary": "provider-busy",
            "permanent": "provider-refused"}.get(error.kind, "provider-refused")  # fmt: skip
    if error.kind == "halt" and "monthly limit" in error.text.lower():
        code = "quota"
    return Failure(error.kind, code, details)


def classify(error: Exception, host: str = "") -> Failure:
    """The failure of one send on any channel (`host`: the mail server, for its words)."""
    if isinstance(error, Unreachable):
        inner = error.error
        if isinstance(inner, SendError):
            return _send_error(inner)
        if isinstance(inner, smtplib.SMTPAuthenticationError):
            answer = _smtp_answer(inner)
            return Failure("halt", "login-refused", {"host": host, "answer": answer[1]})
        answer = _smtp_answer(inner)
        if answer is not None:
            return Failure("down", "server-refused", {"host": host, "answer": answer[1]})
        return Failure("down", "server-down", {"host": host, "problem": network_problem(inner)})
    if isinstance(error, SendError):
        return _send_error(error)
    if isinstance(error, UnicodeError | ValueError):
        return Failure("permanent", "bad-address", {"answer": str(error)[:200]})
    answer = _smtp_answer(error)
    if answer is not None:
        code, text = answer
        if 400 <= code < 500:
            return Failure("temporary", "server-busy", {"host": host, "answer": text})
        refused = (
            "address-refused" if isinstance(error, smtplib.SMTPRecipientsRefused) else "refused"
        )
        return Failure("permanent", refused, {"host": host, "answer": text})
    return Failure(
        "temporary", "connection-lost", {"host": host, "problem": network_problem(error)}
    )
