"""What the campaign pages list: recent campaigns, one campaign's deliveries (filtered by
status, a page at a time) and those whose fate is uncertain, the custom field keys merge
templates may use."""

import sqlalchemy as sa
from flask_sqlalchemy.pagination import SelectPagination
from sqlalchemy.orm import Session, joinedload

from app.models import Campaign, CustomField, Delivery

DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "skipped", "uncertain")


def recent_campaigns(session: Session, limit: int = 100) -> list[Campaign]:
    """The shop's blasts, newest first (one person's booking messages are shown with the
    booking instead)."""
    return list(
        session.scalars(
            sa.select(Campaign)
            .where(Campaign.kind == "blast")
            .order_by(Campaign.created_at.desc())
            .limit(limit)
        )
    )


def custom_keys(session: Session) -> set[str]:
    return set(session.scalars(sa.select(CustomField.key)))


def custom_fields(session: Session) -> list[CustomField]:
    return list(session.scalars(sa.select(CustomField)))


def deliveries_page(
    session: Session, campaign_id: int, status: str | None, page: int, per_page: int = 100
) -> SelectPagination:
    """A page of the campaign's deliveries with their customers; `status` one of
    DELIVERY_STATUSES, or "unsubscribed" (the owner's summary links there), or None (all)."""
    query = sa.select(Delivery).where(Delivery.campaign_id == campaign_id).order_by(Delivery.id)
    if status in DELIVERY_STATUSES:
        query = query.where(Delivery.status == status)
    elif status == "unsubscribed":
        query = query.where(Delivery.unsubscribed_at.is_not(None))
    return SelectPagination(
        select=query.options(joinedload(Delivery.customer)), session=session, page=page,
        per_page=per_page, error_out=False, count=True,
    )  # fmt: skip


def uncertain_deliveries(session: Session, campaign_id: int) -> list[Delivery]:
    return list(
        session.scalars(
            sa.select(Delivery)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == "uncertain")
            .options(joinedload(Delivery.customer))
        )
    )
