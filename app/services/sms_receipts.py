"""Delivery receipts from the SMS gateway: Mitake calls the `response` address given with
each message when the handset got it (or did not).

Mitake can only call back an address, so whatever proves the call is Mitake's sits in a URL
that access logs (nginx, the app server) write down. Each message therefore gets its own
address (its delivery's key and an HMAC of it with the app's secret), good only for that
message's receipt and only until a final one is noted: an address read in a log after Mitake
called it can change nothing, and can never report on another message.
"""

import hashlib
import hmac

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import Delivery

# Mitake's statuscode in a receipt: 4 delivered to the handset; 5-9 not delivered.
RECEIPT_WORDS = {
    "4": "delivered",
    "5": "content_error",
    "6": "number_error",
    "7": "disabled",
    "8": "expired",
    "9": "cancelled",
}


FINAL_WORDS = frozenset(RECEIPT_WORDS.values())


def receipt_token(secret_key: str, key: str) -> str:
    message = b"hearth-sms-receipt:" + key.encode("utf-8")
    return hmac.new(secret_key.encode("utf-8"), message, hashlib.sha256).hexdigest()[:32]


def receipt_address(base_url: str, secret_key: str, key: str) -> str:
    """Where Mitake reports the receipt of the message sent under this delivery key."""
    return f"{base_url.rstrip('/')}/hooks/sms/receipt/{key}/{receipt_token(secret_key, key)}"


def token_ok(secret_key: str, key: str, token: str) -> bool:
    expected = receipt_token(secret_key, key or "").encode("ascii")
    return hmac.compare_digest(expected, (token or "").encode("utf-8", "replace"))


def record_receipt(session: Session, key: str, msgid: str, statuscode: str) -> bool:
    """Notes the receipt on the delivery sent under `key`, if the gateway's id is that
    message's and no final receipt is noted yet; False if nothing changed."""
    if not msgid or len(msgid) > 80 or not key or len(key) > 36:
        return False
    begin_write(session)
    word = RECEIPT_WORDS.get(statuscode or "", f"status_{(statuscode or '?')[:10]}")
    result = session.execute(
        sa.update(Delivery)
        .where(
            Delivery.idempotency_key == key,
            Delivery.channel == "sms",
            # The receipt may come before the send's answer is written down.
            sa.or_(Delivery.provider_id == msgid, Delivery.provider_id.is_(None)),
            sa.or_(Delivery.receipt.is_(None), Delivery.receipt.not_in(FINAL_WORDS)),
        )
        .values(receipt=word)
    )
    session.commit()
    return bool(result.rowcount)
