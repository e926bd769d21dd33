"""The outbox: queued deliveries go out by each person's channel, each exactly once.

The guarantee, per connection: a delivery is claimed (status "sending", committed) before
its message is handed to that connection and confirmed ("sent", committed) after; a
connection gets its next delivery only in the commit that confirms its previous one. A
worker killed at any moment therefore leaves at most one "sending" delivery per connection;
recovery marks those "uncertain" for the owner to decide (never resent silently). Nothing
confirmed is ever sent again and nothing queued is dropped. Where the provider recognises a
repeated idempotency key (LINE, Mitake) a connection takes several per claim and a send cut
short is repeated with its key instead.

letter (the mail as bytes) · smtp (the mail server) · connections (the sending threads and
the rate limit) · ledger (claims and confirmations in SQL) · rows (what the loop reads) ·
channel_loop (one channel's coordinator) · send (the Composer interface and
`send_deliveries`, the way in). SMS and LINE transports are in app/services/channels/.
"""

from app.services.campaigns.outbox.channel_loop import NotComposed, Route, SendReport
from app.services.campaigns.outbox.letter import Letter
from app.services.campaigns.outbox.send import Composer, send_deliveries
from app.services.campaigns.outbox.smtp import (
    SmtpTarget,
    SmtpTransport,
    classify_failure,
    mail_server_answers,
    send_one,
)

__all__ = [
    "Composer",
    "Letter",
    "NotComposed",
    "Route",
    "SendReport",
    "SmtpTarget",
    "SmtpTransport",
    "classify_failure",
    "mail_server_answers",
    "send_deliveries",
    "send_one",
]
