"""Campaigns: personal email, SMS and LINE blasts to a segment, each person reached once.

templates (merge fields in Jinja's sandbox) → audience (who, by which channel) → deliveries
(the snapshot, the campaign's status, each channel's state, resume and retry) → messages
(each person's letter or text) → sending (through the outbox, exactly once); unsubscribe holds
the signed one-click link; health says whether a channel can send now; one sends one person a
service message (a deposit reminder) the same way. The names callers use are re-exported here.
"""

from app.services.campaigns.audience import (
    Audience,
    Recipient,
    audience_for,
    channel_order,
    consents_to,
    custom_values_for,
    recipient_for,
)
from app.services.campaigns.deliveries import (
    TRANSITIONS,
    ChannelState,
    change_status,
    channel_states,
    counts,
    counts_by_channel,
    decide_uncertain,
    queue,
    recover_interrupted,
    resume_channel,
    retry_failed,
)
from app.services.campaigns.messages import (
    RETRY_BACKOFF_SECONDS,
    SendSettings,
    build_message,
    build_short_message,
    letter_words,
    merge_values,
    unsubscribe_footer,
)
from app.services.campaigns.one import NoWayToReach, send_one
from app.services.campaigns.outbox import classify_failure, mail_server_answers
from app.services.campaigns.outbox.channel_loop import RETRY_LIMIT
from app.services.campaigns.outbox.reasons import RETRYABLE
from app.services.campaigns.sending import next_retry_in, send_campaign, settle
from app.services.campaigns.templates import (
    MAX_TEMPLATE_LENGTH,
    MERGE_FIELDS,
    MERGE_FILTERS,
    TemplateProblem,
    check_template,
    render_text,
    template_is_constant,
    text_to_html,
)
from app.services.campaigns.unsubscribe import (
    read_unsubscribe_token,
    record_unsubscribe,
    unsubscribe_token,
)

__all__ = [
    "RETRYABLE",
    "ChannelState",
    "NoWayToReach",
    "channel_states",
    "consents_to",
    "resume_channel",
    "retry_failed",
    "send_one",
    "settle",
    "MAX_TEMPLATE_LENGTH",
    "MERGE_FIELDS",
    "MERGE_FILTERS",
    "RETRY_BACKOFF_SECONDS",
    "RETRY_LIMIT",
    "TRANSITIONS",
    "Audience",
    "Recipient",
    "SendSettings",
    "TemplateProblem",
    "audience_for",
    "build_message",
    "build_short_message",
    "change_status",
    "channel_order",
    "check_template",
    "classify_failure",
    "counts",
    "counts_by_channel",
    "custom_values_for",
    "decide_uncertain",
    "letter_words",
    "mail_server_answers",
    "merge_values",
    "next_retry_in",
    "queue",
    "read_unsubscribe_token",
    "recipient_for",
    "record_unsubscribe",
    "recover_interrupted",
    "render_text",
    "send_campaign",
    "template_is_constant",
    "text_to_html",
    "unsubscribe_footer",
    "unsubscribe_token",
]
