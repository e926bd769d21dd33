"""One message to one person through the outbox (a deposit reminder, a booking update, an
arrival notice): a campaign row of its own kind that the campaigns page does not list, sent
exactly once by the ledger like any other."""

import uuid

from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Campaign, Customer, Delivery
from app.services.campaigns.audience import recipient_for


class NoWayToReach(Exception):
    """The person has no address on that channel (or was erased)."""


def send_one(
    session: Session, customer: Customer, channel: str, subject: str, text: str,
    purpose: str = "service", *, kind: str = "booking", shop_kind: str = "homestay",
    address: str | None = None, name: str | None = None, created_by_id: int | None = None,
) -> Campaign:  # fmt: skip
    """Queues `text` (the mail's body and the SMS/LINE text; a merge template, so
    {{ nickname }} works) for `customer` by `channel`. A service message carries no
    unsubscribe link and needs no marketing consent. `address`/`name` when the caller chose
    them, else the person's own on that channel. The caller commits, then starts the outbox
    (`app.tasks.send_campaign(campaign.id)`)."""
    if address is None:
        recipient = recipient_for(customer, shop_kind, [channel], False, purpose)
        if recipient.skip_reason or recipient.channel != channel:
            raise NoWayToReach(recipient.skip_reason or channel)
        address, name = recipient.address, recipient.name
    campaign = Campaign(subject=subject[:200], body=text, short_text=text, audience="",
                        status="queued", channels=[channel], use_preferred=False, kind=kind,
                        purpose=purpose, created_by_id=created_by_id, queued_at=utcnow())  # fmt: skip
    session.add(campaign)
    session.flush()
    session.add(Delivery(campaign_id=campaign.id, customer_id=customer.id, channel=channel,
                         address=address, recipient_name=name, status="queued", attempts=0,
                         idempotency_key=str(uuid.uuid4())))  # fmt: skip
    session.flush()
    return campaign
