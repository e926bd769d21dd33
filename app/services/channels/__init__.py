"""The ways a campaign reaches people: email (SMTP, in services/campaigns/outbox/smtp.py), SMS through a
Taiwanese gateway (Mitake, Every8d) and LINE's Messaging API.

Every transport has the same shape for the outbox: `open()` gives a client for one
connection whose `send(job)` returns the provider's id for the message or raises
`SendError`; `dedupe_window` says for how long the provider recognises a repeated
idempotency key (None: it does not, and a send cut short by a crash is "uncertain").
"""

from app.services.channels.base import SendError, Transport
from app.services.channels.line import LineApi, LineTransport, verify_signature
from app.services.channels.sms import (
    Every8dTransport,
    MitakeTransport,
    normalise_mobile,
    sms_parts,
)

__all__ = [
    "Every8dTransport",
    "LineApi",
    "LineTransport",
    "MitakeTransport",
    "SendError",
    "Transport",
    "normalise_mobile",
    "sms_parts",
    "verify_signature",
]
