"""Sending a campaign through the outbox: its templates checked, each person's message composed,
the campaign paused or finished after."""

import dataclasses
from types import SimpleNamespace

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import Campaign, CustomField, Delivery
from app.services.campaigns.audience import custom_values_for
from app.services.campaigns.messages import SendSettings, build_message, build_short_message
from app.services.campaigns.outbox import (
    Letter,
    NotComposed,
    Route,
    SendReport,
    SmtpTarget,
    SmtpTransport,
    send_deliveries,
)
from app.services.campaigns.outbox.channel_state import paused_channels
from app.services.campaigns.outbox.reasons import RETRYABLE
from app.services.campaigns.templates import TemplateProblem, check_template, template_is_constant
from app.services.shop import get_shop


class CampaignComposer:
    """The outbox's Composer for a campaign: its merge templates filled in per person."""

    def __init__(self, campaign, shop, settings: SendSettings, secret_key: str):
        self.campaign, self.shop, self.settings, self.secret_key = (
            campaign, shop, settings, secret_key,
        )  # fmt: skip
        self.values_by_customer: dict[int, dict[str, str]] = {}
        self.service = getattr(campaign, "purpose", "marketing") == "service"

    def load(self, session: Session, customer_ids: list[int]) -> None:
        self.values_by_customer = custom_values_for(session, customer_ids)

    def same_for_everyone(self, channel: str) -> bool:
        # A letter carries each person's own unsubscribe link.
        return channel != "email" and template_is_constant(self.campaign.short_text)

    def message(self, channel: str, row) -> Letter | str:
        values = self.values_by_customer[row.customer_id]
        campaign, shop, settings, key = self.campaign, self.shop, self.settings, self.secret_key
        try:
            if channel != "email":
                return build_short_message(campaign, row, shop, settings, values, key,
                                           customer_id=row.customer_id)  # fmt: skip
            return build_message(campaign, row, row, shop, settings, values, key,
                                 customer_id=row.customer_id)  # fmt: skip
        except TemplateProblem as problem:
            raise NotComposed(f"template: {problem}") from None


def send_campaign(
    session: Session,
    campaign_id: int,
    settings: SendSettings,
    target: SmtpTarget,
    secret_key: str,
    *,
    stop_after: float | None = None,
    connections: int = 1,
    routes: dict | None = None,
) -> SendReport:
    """Sends the campaign's queued, due deliveries, one channel after another: email over
    `connections` SMTP connections to `target`, SMS and LINE by their `routes`.

    Returns when nothing is left to send now, when the campaign is paused or cancelled, or
    after `stop_after` seconds (deliveries waiting for a retry are picked up by a later run).
    """
    report = SendReport()
    shop = get_shop(session)
    campaign = session.get(Campaign, campaign_id)
    if campaign is None or campaign.status not in ("queued", "sending"):
        return report
    begin_write(session)
    campaign.status = "sending"
    session.commit()
    problem = _template_problem(session, campaign)
    if problem:
        # Checked at compose time too; a custom field deleted since, say. Nothing is sent.
        _pause(session, campaign_id, "template", problem)
        report.paused = problem
        return report
    if not settings.base_url:
        settings = dataclasses.replace(settings, base_url=campaign.base_url or "http://localhost")
    routes = dict(routes or {})
    routes.setdefault(
        "email",
        Route(SmtpTransport(target), connections, settings.rate_per_window,
              settings.window_seconds),
    )  # fmt: skip
    # Plain copies: ORM objects are expired at every commit and would reload per message.
    plain = SimpleNamespace(
        id=campaign.id,
        subject=campaign.subject,
        body=campaign.body,
        short_text=campaign.short_text or campaign.body,
        purpose=campaign.purpose,
    )
    composer = CampaignComposer(plain, SimpleNamespace(kind=shop.kind, name=shop.name),
                                settings, secret_key)  # fmt: skip
    send_deliveries(session, campaign_id, composer, routes, settings, report, stop_after)
    settle(session, campaign_id)
    return report


def _template_problem(session: Session, campaign: Campaign) -> str | None:
    """Why the campaign's templates cannot be used now (None: they can)."""
    try:
        check_template(
            campaign.subject + "\n" + campaign.body + "\n" + (campaign.short_text or ""),
            set(session.scalars(sa.select(CustomField.key))),
        )
    except TemplateProblem as problem:
        return f"the template cannot be used: {problem}"
    return None


def _pause(session: Session, campaign_id: int, code: str, reason: str | None) -> None:
    begin_write(session)
    paused = session.get(Campaign, campaign_id)
    if paused.status == "sending":
        paused.status, paused.pause_code, paused.pause_reason = "paused", code, reason
    session.commit()


def _active(campaign_id: int, paused: list[str]):
    """The campaign's deliveries on channels that are not paused."""
    where = [Delivery.campaign_id == campaign_id]
    if paused:
        where.append(Delivery.channel.not_in(paused))
    return where


def settle(session: Session, campaign_id: int) -> str:
    """After a run: still "sending" while a channel that is not paused has work; "paused"
    (code "channels") when what is left waits on a paused channel or failed deliveries
    that may be retried; else "done". Returns the status."""
    begin_write(session)
    campaign = session.get(Campaign, campaign_id)
    if campaign.status == "sending":
        paused = list(paused_channels(session, campaign_id))
        left = session.scalar(
            sa.select(sa.func.count()).where(
                *_active(campaign_id, paused), Delivery.status.in_(("queued", "sending"))
            )
        )
        if not left:
            waiting = session.scalar(
                sa.select(sa.func.count()).where(
                    Delivery.campaign_id == campaign_id,
                    sa.or_(Delivery.status.in_(("queued", "sending")),
                           sa.and_(Delivery.status == "failed",
                                   Delivery.error_code.in_(RETRYABLE))),
                )
            )  # fmt: skip
            if waiting:
                campaign.status, campaign.pause_code, campaign.pause_reason = (
                    "paused", "channels", None,
                )  # fmt: skip
            else:
                campaign.status, campaign.finished_at = "done", utcnow()
    status = campaign.status
    session.commit()
    return status


def next_retry_in(session: Session, campaign_id: int) -> float | None:
    """Seconds until the earliest waiting retry on a channel that is not paused, if the
    campaign still has some."""
    where = _active(campaign_id, list(paused_channels(session, campaign_id)))
    moment = session.scalar(
        sa.select(sa.func.min(Delivery.next_attempt_at)).where(*where, Delivery.status == "queued")
    )
    if moment is None:
        queued = session.scalar(
            sa.select(sa.func.count()).where(*where, Delivery.status == "queued")
        )
        return 0.0 if queued else None
    return max(0.0, (moment - utcnow()).total_seconds())
