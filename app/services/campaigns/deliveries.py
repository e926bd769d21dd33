"""A campaign's deliveries: the audience snapshot, the campaign's status changes, the
counts its progress shows, and recovery after a worker stopped mid-send."""

import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write, insert_ignore
from app.models import Campaign, Delivery
from app.services.audit import record
from app.services.campaigns.audience import Audience
from app.services.campaigns.outbox.channel_state import paused_channels, unpause_channel
from app.services.campaigns.outbox.reasons import RETRYABLE


def queue(session: Session, campaign: Campaign, audience: Audience) -> int:
    """Snapshots the audience into deliveries (skipped ones recorded with their reason)."""
    begin_write(session)
    rows = [
        {
            "campaign_id": campaign.id,
            "customer_id": r.customer.id,
            "channel": r.channel,
            "idempotency_key": str(uuid.uuid4()),
            "address": r.address,
            "recipient_name": r.name,
            "status": "skipped" if r.skip_reason else "queued",
            "skip_reason": r.skip_reason,
            "attempts": 0,
        }
        for r in audience.recipients
    ]
    if rows:
        # ON CONFLICT DO NOTHING: queueing twice never makes a second delivery.
        statement = insert_ignore(Delivery.__table__, session).values(rows)
        session.execute(statement)
    campaign.status = "queued"
    campaign.queued_at = utcnow()
    campaign.pause_reason = None
    return len(rows)


# ---- the campaign's life: draft → queued → sending → done, with pause, resume and cancel

# action -> (the statuses it may start from, the status it leads to)
TRANSITIONS = {
    "pause": (("queued", "sending"), "paused"),
    "resume": (("paused",), "queued"),
    "cancel": (("queued", "sending", "paused"), "cancelled"),
}


def change_status(
    session: Session, campaign: Campaign, action: str, *, actor_id: int | None, ip: str | None
) -> bool:
    """Pauses, resumes or cancels, when the campaign's status allows it (False if not);
    cancelling skips what was still queued. Audited; the caller commits (and, on resume,
    wakes the worker)."""
    allowed, new_status = TRANSITIONS[action]
    if campaign.status not in allowed:
        return False
    begin_write(session)
    campaign.status = new_status
    if new_status == "queued":
        campaign.pause_code = campaign.pause_reason = None
    if new_status == "paused":
        campaign.pause_code, campaign.pause_reason = "owner", None
    if new_status == "cancelled":
        session.execute(
            sa.update(Delivery)
            .where(Delivery.campaign_id == campaign.id, Delivery.status == "queued")
            .values(status="skipped", skip_reason="cancelled")
        )
        campaign.finished_at = utcnow()
    record(session, f"campaign.{new_status}", "campaign", campaign.id, user_id=actor_id, ip=ip)
    return True


def _send_again(campaign: Campaign) -> bool:
    """The campaign goes back to the worker when it had paused or finished."""
    if campaign.status in ("paused", "done", "sending"):
        campaign.status, campaign.pause_code, campaign.pause_reason = "queued", None, None
        campaign.finished_at = None
    return campaign.status == "queued"


def resume_channel(
    session: Session, campaign: Campaign, channel: str, *, actor_id: int | None, ip: str | None
) -> bool:
    """One paused channel sends again (and the campaign, if it had paused). Returns whether
    the worker should be woken. Audited; the caller commits (the caller has checked that the
    channel's server answers: see blueprints)."""
    begin_write(session)
    if campaign.status == "cancelled" or not unpause_channel(session, campaign.id, channel):
        return False
    session.execute(
        sa.update(Delivery)
        .where(Delivery.campaign_id == campaign.id, Delivery.channel == channel,
               Delivery.status == "queued")
        .values(next_attempt_at=None)
    )  # fmt: skip
    record(session, "campaign.channel_resumed", "campaign", campaign.id, channel,
           user_id=actor_id, ip=ip)  # fmt: skip
    return _send_again(campaign)


def retry_failed(
    session: Session, campaign: Campaign, channel: str, *, actor_id: int | None, ip: str | None
) -> int:
    """The channel's deliveries that failed for a reason that may pass (the server was down
    or busy) are queued once more; returns how many. Two clicks, or two browsers, queue them
    once: the second finds none failed (and the ledger still sends each at most once).
    Audited; the caller commits and wakes the worker."""
    begin_write(session)
    if campaign.status == "cancelled":
        return 0
    result = session.execute(
        sa.update(Delivery)
        .where(Delivery.campaign_id == campaign.id, Delivery.channel == channel,
               Delivery.status == "failed", Delivery.error_code.in_(RETRYABLE))
        .values(status="queued", error=None, error_code=None, next_attempt_at=None, attempts=0)
    )  # fmt: skip
    if result.rowcount:
        unpause_channel(session, campaign.id, channel)
        _send_again(campaign)
        record(session, "campaign.retried", "campaign", campaign.id,
               f"{channel}: {result.rowcount}", user_id=actor_id, ip=ip)  # fmt: skip
    return result.rowcount


def decide_uncertain(
    session: Session, delivery: Delivery, decision: str, *, actor_id: int | None, ip: str | None
) -> bool:
    """The owner's decision on an uncertain delivery: "resend" queues it again (and the
    campaign, if it had finished), "sent" counts it as sent. Returns whether the worker
    should be woken to send now. Audited; the caller commits."""
    if decision not in ("resend", "sent") or delivery.status != "uncertain":
        raise ValueError(decision)
    begin_write(session)
    campaign, resend_now = delivery.campaign, False
    if decision == "resend":
        delivery.status, delivery.error = "queued", None
        if campaign.status in ("done", "sending"):
            campaign.status = "queued"
        resend_now = campaign.status == "queued"
    else:
        delivery.status, delivery.sent_at = "sent", delivery.claimed_at
    record(session, f"delivery.{decision}", "delivery", delivery.id, user_id=actor_id, ip=ip)
    return resend_now


def counts(session: Session, campaign_id: int) -> dict[str, int]:
    rows = session.execute(
        sa.select(Delivery.status, sa.func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.status)
    )
    result = {
        status: 0 for status in ("queued", "sending", "sent", "failed", "skipped", "uncertain")
    }
    result.update({status: number for status, number in rows})
    result["total"] = sum(
        result[s] for s in ("queued", "sending", "sent", "failed", "skipped", "uncertain")
    )
    result["unsubscribed"] = session.scalar(
        sa.select(sa.func.count()).where(
            Delivery.campaign_id == campaign_id, Delivery.unsubscribed_at.is_not(None)
        )
    )
    return result


def counts_by_channel(session: Session, campaign_id: int) -> dict[str, dict[str, int]]:
    """channel → status → count, for the progress of a campaign on several channels."""
    result: dict[str, dict[str, int]] = {}
    for channel, status, number in session.execute(
        sa.select(Delivery.channel, Delivery.status, sa.func.count())
        .where(Delivery.campaign_id == campaign_id)
        .group_by(Delivery.channel, Delivery.status)
    ):
        result.setdefault(channel, {})[status] = number
    return result


@dataclass
class ChannelState:
    """One channel of a sent campaign as its page shows it."""

    channel: str
    state: str  # "sending", "paused", "failed" (some may be retried), "done"
    counts: dict = field(default_factory=dict)  # sent, failed, waiting, paused, uncertain…
    retryable: int = 0  # failed deliveries that may go if tried again
    reason_code: str | None = None
    reason_details: dict = field(default_factory=dict)


def channel_states(session: Session, campaign: Campaign) -> list[ChannelState]:
    """Each channel the campaign uses: its state, counts and, when paused, why."""
    by_channel = counts_by_channel(session, campaign.id)
    paused = paused_channels(session, campaign.id)
    retryable = dict(
        session.execute(
            sa.select(Delivery.channel, sa.func.count())
            .where(Delivery.campaign_id == campaign.id, Delivery.status == "failed",
                   Delivery.error_code.in_(RETRYABLE))
            .group_by(Delivery.channel)
        ).all()
    )  # fmt: skip
    states = []
    for channel in ("email", "sms", "line"):
        if channel not in by_channel:
            continue
        found = by_channel[channel]
        left = found.get("queued", 0) + found.get("sending", 0)
        row = paused.get(channel)
        counts = {"sent": found.get("sent", 0), "failed": found.get("failed", 0),
                  "waiting": 0 if row else left, "paused": left if row else 0,
                  "uncertain": found.get("uncertain", 0), "skipped": found.get("skipped", 0)}  # fmt: skip
        state = "done"
        if row is not None and left:
            state = "paused"
        elif left:
            state = "sending"
        elif retryable.get(channel):
            state = "failed"
        reason = (row.reason_code, dict(row.reason_details or {})) if row is not None else None
        if state == "failed":
            reason = _last_failure(session, campaign.id, channel)
        states.append(ChannelState(channel, state, counts, retryable.get(channel, 0),
                                   *(reason or (None, {}))))  # fmt: skip
    return states


def _last_failure(session: Session, campaign_id: int, channel: str) -> tuple[str, dict] | None:
    """(code, details) of the channel's last failure that may pass on a retry."""
    last = session.execute(
        sa.select(Delivery.error_code, Delivery.error)
        .where(Delivery.campaign_id == campaign_id, Delivery.channel == channel,
               Delivery.status == "failed", Delivery.error_code.in_(RETRYABLE))
        .order_by(Delivery.id.desc())
        .limit(1)
    ).first()  # fmt: skip
    if last is None:
        return None
    return last.error_code, {"answer": last.error or "", "problem": last.error or ""}


def recover_interrupted(session: Session, dedupe_windows: dict | None = None) -> int:
    """After a worker died: whatever was being sent may or may not have left.

    On a channel whose provider recognises a repeated idempotency key (`dedupe_windows`:
    channel → how long it remembers one) a delivery claimed within that window goes back
    to the queue and is sent again with the same key: the provider sends it at most once.
    Anything else is marked uncertain for the owner (never resent silently). Returns how
    many were marked uncertain."""
    begin_write(session)
    now = utcnow()
    for channel, window in (dedupe_windows or {}).items():
        if window is None:
            continue
        session.execute(
            sa.update(Delivery)
            .where(
                Delivery.status == "sending",
                Delivery.channel == channel,
                Delivery.claimed_at >= now - window,
            )
            .values(status="queued", error="repeated with the same key after the worker stopped")
        )
    result = session.execute(
        sa.update(Delivery)
        .where(Delivery.status == "sending")
        .values(status="uncertain", error="worker stopped while sending")
    )
    session.commit()
    return result.rowcount
