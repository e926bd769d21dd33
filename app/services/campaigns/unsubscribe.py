"""One-click unsubscribe: the signed token in every campaign's link, and the opt-out it records."""

import sqlalchemy as sa
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import Campaign, Customer, Delivery, TimelineEntry


def unsubscribe_token(secret_key: str, campaign_id: int, customer_id: int) -> str:
    return URLSafeSerializer(secret_key, salt="hearth-unsubscribe").dumps(
        [campaign_id, customer_id]
    )


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, int] | None:
    try:
        campaign_id, customer_id = URLSafeSerializer(secret_key, salt="hearth-unsubscribe").loads(
            token
        )
        return int(campaign_id), int(customer_id)
    except (BadSignature, ValueError, TypeError):
        return None


def record_unsubscribe(session: Session, campaign_id: int, customer_id: int) -> bool:
    """Opts the customer out of email (once), noting where it came from."""
    begin_write(session)
    customer = session.get(Customer, customer_id)
    if customer is None:
        return False
    campaign = session.get(Campaign, campaign_id)
    now = utcnow()
    if not customer.email_opt_out:
        customer.email_opt_out = True
        customer.email_opt_out_at = now
        customer.email_opt_out_source = f"unsubscribe link, campaign {campaign_id}"
        subject = campaign.subject if campaign else ""
        session.add(
            TimelineEntry(
                customer_id=customer_id,
                kind="email",
                body=subject,
                created_at=now,
                action="unsubscribed",
            )
        )
    session.execute(
        sa.update(Delivery)
        .where(
            Delivery.campaign_id == campaign_id,
            Delivery.customer_id == customer_id,
            Delivery.unsubscribed_at.is_(None),
        )
        .values(unsubscribed_at=now)
    )
    return True
