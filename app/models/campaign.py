"""Email campaigns and their outbox: one delivery row per recipient, sent exactly once."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.clock import utcnow
from app.extensions import db
from app.models.types import JsonList

CAMPAIGN_STATUSES = ("draft", "queued", "sending", "paused", "done", "cancelled")
DELIVERY_STATUSES = ("queued", "sending", "sent", "failed", "skipped", "uncertain")
SKIP_REASONS = (
    "opted_out",
    "no_consent",
    "no_service_consent",
    "no_email",
    "guardian_no_email",
    "no_mobile",
    "sms_opted_out",
    "line_not_linked",
    "line_unfollowed",
    "erased",
)
SEND_CHANNELS = ("email", "sms", "line")
# blast: written by staff to a segment, listed on the campaigns page; booking: one person's
# message about their own booking (a deposit reminder), shown with the stay, not listed.
CAMPAIGN_KINDS = ("blast", "booking")
# marketing: needs marketing consent and carries an unsubscribe link; service: about the
# person's own class or booking (a class party notice, a booking update), no link.
CAMPAIGN_PURPOSES = ("marketing", "service")
CHANNEL_STATUSES = ("sending", "paused")


class Campaign(db.Model):
    __tablename__ = "campaign"

    id: Mapped[int] = mapped_column(primary_key=True)
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    audience: Mapped[str] = mapped_column(Text, default="")  # the segment expression
    segment_id: Mapped[int | None] = mapped_column(ForeignKey("segment.id", ondelete="SET NULL"))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    kind: Mapped[str] = mapped_column(String(20), default="blast", server_default="blast")
    purpose: Mapped[str] = mapped_column(
        String(20), default="marketing", server_default="marketing"
    )
    # Why the whole campaign paused: a code ("template", "owner", "channels") and the details
    # (the template's problem); each channel's own pause is in campaign_channel.
    pause_code: Mapped[str | None] = mapped_column(String(30))
    pause_reason: Mapped[str | None] = mapped_column(Text)
    # The address staff used when sending: unsubscribe links point there when the shop has
    # no public address set.
    base_url: Mapped[str | None] = mapped_column(String(200))
    # The channels in fallback order (["email"]; ["line", "sms", "email"]), and whether each
    # person's preferred channel goes first.
    channels: Mapped[list[str]] = mapped_column(
        JsonList(), default=lambda: ["email"], nullable=True
    )
    use_preferred: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa.false())
    # What SMS and LINE carry (plain text, merge fields allowed); the body when empty.
    short_text: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    queued_at: Mapped[datetime | None] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)

    created_by = relationship("User")
    segment = relationship("Segment")

    __table_args__ = (Index("ix_campaign_kind_created", "kind", "created_at"),)

    @property
    def channel_list(self) -> list[str]:
        return [c for c in (self.channels or ["email"]) if c in SEND_CHANNELS]

    @property
    def is_service(self) -> bool:
        return self.purpose == "service"


class CampaignChannel(db.Model):
    """One channel of one campaign that paused on its own (the mail server does not answer,
    the SMS password is wrong): the other channels carry on. No row: the channel sends."""

    __tablename__ = "campaign_channel"
    __table_args__ = (UniqueConstraint("campaign_id", "channel"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20), default="paused")
    # What went wrong, as a code ("server-down", "not-set-up", "failures-in-a-row", …) and
    # its details ({"host": "localhost:25", "problem": "refused"}): pages say it in the
    # reader's language.
    reason_code: Mapped[str | None] = mapped_column(String(30))
    reason_details: Mapped[dict | None] = mapped_column(sa.JSON(none_as_null=True))
    changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Delivery(db.Model):
    """One recipient of one campaign. (campaign, customer) is unique: nobody gets it twice."""

    __tablename__ = "delivery"
    __table_args__ = (
        UniqueConstraint("campaign_id", "customer_id"),
        Index("ix_delivery_campaign_status", "campaign_id", "status", "id"),
        Index("ix_delivery_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id", ondelete="CASCADE"))
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), index=True
    )
    channel: Mapped[str] = mapped_column(String(10), default="email", server_default="email")
    address: Mapped[str | None] = mapped_column(String(254))
    # Made when the audience is snapshotted; a provider that de-duplicates (LINE's
    # X-Line-Retry-Key, Mitake's ClientID) gets the same key when a send is repeated.
    idempotency_key: Mapped[str | None] = mapped_column(String(36), unique=True, index=True)
    provider_id: Mapped[str | None] = mapped_column(String(80), index=True)  # the gateway's id
    receipt: Mapped[str | None] = mapped_column(String(40))  # delivery receipt, when reported
    batch_key: Mapped[str | None] = mapped_column(String(36))  # one LINE multicast request
    recipient_name: Mapped[str | None] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(20), default="queued")
    skip_reason: Mapped[str | None] = mapped_column(String(30))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)  # what the server or provider said
    # What kind of failure (reasons.py: "server-down", "server-busy", "address-refused", …):
    # pages word it in the reader's language; some can be retried.
    error_code: Mapped[str | None] = mapped_column(String(30))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(DateTime)

    campaign: Mapped[Campaign] = relationship()
    customer = relationship("Customer")
