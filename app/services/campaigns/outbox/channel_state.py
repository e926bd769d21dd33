"""Each channel of a campaign pauses on its own: which are paused, and why (a code and its
details). A channel without a row sends."""

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.clock import utcnow
from app.db import begin_write
from app.models import CampaignChannel


def paused_channels(session: Session, campaign_id: int) -> dict[str, CampaignChannel]:
    """channel → its paused row."""
    rows = session.scalars(
        sa.select(CampaignChannel).where(
            CampaignChannel.campaign_id == campaign_id, CampaignChannel.status == "paused"
        )
    )
    return {row.channel: row for row in rows}


def pause_channel(
    session: Session, campaign_id: int, channel: str, code: str, details: dict | None
) -> None:
    """Marks the channel paused with its reason (committed: the page shows it at once)."""
    begin_write(session)
    row = session.scalar(
        sa.select(CampaignChannel).where(
            CampaignChannel.campaign_id == campaign_id, CampaignChannel.channel == channel
        )
    )
    if row is None:
        row = CampaignChannel(campaign_id=campaign_id, channel=channel)
        session.add(row)
    row.status, row.reason_code, row.reason_details = "paused", code, dict(details or {})
    row.changed_at = utcnow()
    session.commit()


def unpause_channel(session: Session, campaign_id: int, channel: str) -> bool:
    """The channel sends again (True if it was paused). The caller holds the write lock
    and commits."""
    result = session.execute(
        sa.update(CampaignChannel)
        .where(
            CampaignChannel.campaign_id == campaign_id,
            CampaignChannel.channel == channel,
            CampaignChannel.status == "paused",
        )
        .values(status="sending", changed_at=utcnow())
    )
    return bool(result.rowcount)


def last_channel_pause(session: Session, channel: str) -> CampaignChannel | None:
    """The latest pause of this channel in any campaign that still waits on it: what the
    review page warns about for SMS and LINE (for email it asks the mail server itself)."""
    return session.scalar(
        sa.select(CampaignChannel)
        .where(CampaignChannel.channel == channel, CampaignChannel.status == "paused")
        .order_by(CampaignChannel.changed_at.desc())
        .limit(1)
    )
