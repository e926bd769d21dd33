"""What the sending loop reads: the next due deliveries of a channel, who opted out since the
snapshot, which channels have work and whether the campaign is still sending."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.models import Campaign, Customer, Delivery, LineLink

CHUNK = 200  # deliveries prepared at a time; opt-outs are re-read for every chunk


def campaign_status(session: Session, campaign_id: int) -> str:
    """The campaign's status now (a read of its own: an open read transaction would keep
    seeing the status as it was when it began)."""
    status = session.scalar(sa.select(Campaign.status).where(Campaign.id == campaign_id))
    session.rollback()
    return status


def next_chunk(session: Session, campaign_id: int, channel: str, group_size: int = 1) -> list:
    """The next queued, due deliveries of one channel with what their message needs.

    With multicast groups (group_size > 1), groups cut short by a crash come first and
    whole (their request is repeated with its key only if it has the same members), then
    ungrouped ones, enough to fill a group."""
    d, c, link = Delivery.__table__, Customer.__table__, LineLink.__table__
    line_active = (
        sa.exists()
        .where(link.c.user_id == d.c.address, link.c.unfollowed_at.is_(None))
        .label("line_active")
    )
    query = (
        sa.select(
            d.c.id,
            d.c.address,
            d.c.recipient_name,
            d.c.attempts,
            d.c.idempotency_key,
            c.c.id.label("customer_id"),
            c.c.display_name,
            c.c.nickname,
            c.c.member_number,
            c.c.email_opt_out,
            c.c.sms_opt_out,
            line_active if channel == "line" else sa.true().label("line_active"),
            d.c.batch_key,
        )  # fmt: skip
        .join(c, c.c.id == d.c.customer_id)
        .where(
            d.c.campaign_id == campaign_id,
            d.c.channel == channel,
            d.c.status == "queued",
            sa.or_(d.c.next_attempt_at.is_(None), d.c.next_attempt_at <= utcnow()),
        )
    )
    if group_size > 1:
        grouped = session.execute(
            query.where(d.c.batch_key.is_not(None)).order_by(d.c.batch_key, d.c.id)
        ).all()
        if grouped:
            return list(grouped)
        query = query.where(d.c.batch_key.is_(None))
    return list(session.execute(query.order_by(d.c.id).limit(max(CHUNK, group_size))))


def opted_out(channel: str, row, service: bool = False) -> str | None:
    """Why this delivery must not go any more (the person opted out after the snapshot).
    The email opt-out is from marketing mail: a service message still goes."""
    if channel == "email" and row.email_opt_out and not service:
        return "opted_out"
    if channel == "sms" and row.sms_opt_out:
        return "sms_opted_out"
    if channel == "line" and not row.line_active:
        return "line_unfollowed"
    return None


def queued_channels(session: Session, campaign_id: int) -> list[str]:
    found = set(
        session.scalars(
            sa.select(Delivery.channel)
            .where(Delivery.campaign_id == campaign_id, Delivery.status == "queued")
            .distinct()
        )
    )
    session.rollback()
    # Email last: a mail server that does not answer can take its whole timeout to say so,
    # and the texts should not wait behind it.
    return [channel for channel in ("sms", "line", "email") if channel in found]
