"""The outbox's one way in: a Composer says what each person gets, `send_deliveries` sends it
by each person's channel, exactly once, through the ledger."""

import time
from typing import Protocol

from sqlalchemy.orm import Session

from app.services.campaigns.outbox.channel_loop import ChannelSend, Route, SendReport
from app.services.campaigns.outbox.channel_state import pause_channel, paused_channels
from app.services.campaigns.outbox.letter import Letter
from app.services.campaigns.outbox.rows import campaign_status, queued_channels


class Composer(Protocol):
    """What each person gets, for the outbox to send once by their own channel.

    Campaigns come in this way (`campaigns.sending.CampaignComposer`), and so should the
    next messages that go to many people (an arrival notice, a contact-book page, the step
    of a sequence): their recipients are snapshotted as `delivery` rows under one campaign
    row (each with the channel chosen for that person), then `send_deliveries` claims,
    sends, confirms and retries them with the same guarantee. A sketch, not built:

        class ArrivalNotice:
            def __init__(self, stay_by_customer): self.stays = stay_by_customer
            def load(self, session, customer_ids): pass  # all it needs is in self.stays
            def same_for_everyone(self, channel): return False
            def message(self, channel, row):
                text = f"{row.nickname}，明天 {self.stays[row.customer_id].room} 見！"
                if channel != "email":
                    return text
                return Letter(subject="明天見", recipients=[(row.recipient_name, row.address)],
                              body=text, html=f"<p>{text}</p>", sender=(shop_name, sender))

        report = SendReport()
        send_deliveries(session, campaign_id, ArrivalNotice(stays), routes, settings, report)
    """

    def load(self, session: Session, customer_ids: list[int]) -> None:
        """Called before the messages of a chunk of rows are made: look up what they need
        in one query (custom fields, say), not one per person."""

    def same_for_everyone(self, channel: str) -> bool:
        """True when everyone's message on this channel is the same text (LINE then sends
        one request to many)."""

    def message(self, channel: str, row) -> Letter | str:
        """The letter (email) or the text (SMS, LINE) for one delivery row: its id,
        customer_id, address, recipient_name and the customer's display_name, nickname and
        member_number. Raises NotComposed when this person's message cannot be made (that
        delivery fails, the others go) or UnicodeError/ValueError for an address mail
        cannot carry."""


def send_deliveries(session: Session, campaign_id: int, composer: Composer, routes: dict,
                    settings, report: SendReport, stop_after: float | None = None) -> None:  # fmt: skip
    """Sends the queued, due deliveries of a campaign row one channel after another, each by
    its `routes[channel]`. A channel that is not set up, or whose server does not answer,
    pauses on its own (campaign_channel) and the others go on; stops when the campaign is
    no longer "sending" or after `stop_after` seconds. `settings` gives retry_backoff and
    max_consecutive_failures."""
    started = time.monotonic()
    paused = paused_channels(session, campaign_id)
    session.rollback()
    for channel in queued_channels(session, campaign_id):
        if channel in paused:
            continue  # it waits for the owner's Resume; the others go on
        route: Route | None = routes.get(channel)
        if route is None or route.transport is None:
            report.pause(channel, "not-set-up", {}, f"{channel} is not set up")
            pause_channel(session, campaign_id, channel, "not-set-up", {})
            continue
        left = None if stop_after is None else stop_after - (time.monotonic() - started)
        if left is not None and left <= 0:
            break
        ChannelSend(session, campaign_id, composer, channel, route, settings, report, left).run()
        if channel in report.channel_pauses:
            pause_channel(session, campaign_id, channel, *report.channel_pauses[channel])
        if campaign_status(session, campaign_id) != "sending":
            break
