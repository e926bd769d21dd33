"""Delivery receipts from the SMS gateway: Mitake calls the `response` address given with
each message when the handset got it (or did not). The address carries a token made from
the app's secret, so nobody else can report receipts."""

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


def receipt_token(secret_key: str) -> str:
    return hmac.new(secret_key.encode("utf-8"), b"hearth-sms-receipt", hashlib.sha256).hexdigest()[
        :32
    ]


def token_ok(secret_key: str, token: str) -> bool:
    return hmac.compare_digest(receipt_token(secret_key), token or "")


def record_receipt(session: Session, msgid: str, statuscode: str) -> bool:
    """Notes the receipt on the delivery the gateway's id belongs to; False if none does."""
    if not msgid or len(msgid) > 80:
        return False
    begin_write(session)
    word = RECEIPT_WORDS.get(statuscode or "", f"status_{(statuscode or '?')[:10]}")
    result = session.execute(
        sa.update(Delivery)
        .where(Delivery.provider_id == msgid, Delivery.channel == "sms")
        .values(receipt=word)
    )
    session.commit()
    return bool(result.rowcount)
