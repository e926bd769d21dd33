"""Campaigns: merge-field templates in Jinja's sandbox, the audience snapshot, each
recipient's letter. Sending (and its exactly-once guarantee) is in campaigns/outbox.py."""

import functools
import re
import smtplib
import time
import uuid
from dataclasses import dataclass, field

import sqlalchemy as sa
from jinja2 import StrictUndefined, TemplateSyntaxError, UndefinedError, meta
from jinja2.sandbox import SecurityError
from markupsafe import Markup, escape
from sqlalchemy.orm import Session, selectinload

from app.clock import utcnow
from app.db import begin_write, insert_ignore
from app.models import Campaign, Customer, CustomField, Delivery, Shop, TimelineEntry
from app.services.merge_sandbox import (
    ALLOWED_FILTERS,
    BoundedEnvironment,
    LimitExceeded,
    bound_loops,
    forbidden_statement,
    render_bounded,
)

MERGE_FIELDS = ("greeting", "nickname", "name", "child_name", "member_number", "unsubscribe_url")
# The filters a merge template may use, as staff are told (without the one-letter aliases).
MERGE_FILTERS = tuple(name for name in ALLOWED_FILTERS if len(name) > 1)
RETRY_LIMIT = 3
RETRY_BACKOFF_SECONDS = (30, 120, 600)

_environment = BoundedEnvironment(
    undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True
)
MAX_TEMPLATE_LENGTH = 20_000  # characters of subject or body as typed


class TemplateProblem(ValueError):
    """A template that cannot be rendered; `line` is 1-based when known."""

    def __init__(self, code: str, line: int | None = None, detail: str = ""):
        super().__init__(f"{code} line {line}: {detail}")
        self.code = code
        self.line = line
        self.detail = detail


# ---- templates ------------------------------------------------------------------------------


_UNKNOWN_NAME = re.compile(r"No (filter|test) named '([^']{0,80})'")


def _syntax_problem(error: TemplateSyntaxError) -> TemplateProblem:
    """A syntax error as a problem staff can act on: a filter or test merge templates do not
    have (Jinja's TemplateAssertionError, raised when the template is compiled) is named."""
    unknown = _UNKNOWN_NAME.search(error.message or "")
    if unknown:
        return TemplateProblem(f"unknown-{unknown.group(1)}", error.lineno, unknown.group(2))
    return TemplateProblem("syntax", error.lineno, error.message or "")


def _line_of(text: str, name: str) -> int | None:
    for number, line in enumerate(text.splitlines(), start=1):
        if re.search(r"\{\{[^}]*\b" + re.escape(name) + r"\b", line):
            return number
    return None


def check_template(text: str, custom_keys: set[str]) -> None:
    """Raises TemplateProblem for syntax errors, unknown merge fields or custom fields,
    statements merge templates may not use, and templates that go past the render bounds
    (tried on sample values)."""
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise TemplateProblem("too-long", None, str(MAX_TEMPLATE_LENGTH))
    try:
        parsed = _environment.parse(text)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    except RecursionError:
        raise TemplateProblem("syntax", None, "nested too deeply") from None
    forbidden = forbidden_statement(parsed)
    if forbidden:
        raise TemplateProblem("statement", forbidden[1], forbidden[0])
    try:  # compiles the template: unknown filters and tests are found here, not by parse()
        undeclared = meta.find_undeclared_variables(parsed)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    for name in sorted(undeclared):
        if name not in MERGE_FIELDS and name != "custom":
            raise TemplateProblem("unknown-field", _line_of(text, name), name)
    for match in re.finditer(r"custom\.([A-Za-z_][A-Za-z0-9_]*)", text):
        if match.group(1) not in custom_keys:
            line = text[: match.start()].count("\n") + 1
            raise TemplateProblem("unknown-custom", line, match.group(1))
    render_text(text, _sample_values(custom_keys))


def _sample_values(custom_keys: set[str]) -> dict:
    """Values of a typical length, for trying a template out at compose time."""
    name = "王小明 Wang Xiaoming"
    return {
        "greeting": f"Dear parent of {name}",
        "nickname": name,
        "name": name,
        "child_name": name,
        "member_number": "M000001",
        "unsubscribe_url": "https://shop.example/u/" + "x" * 60,
        "custom": {key: "sample value 12" for key in custom_keys},
    }


@functools.lru_cache(maxsize=64)
def template_is_constant(text: str) -> bool:
    """True when the template has no merge fields: everyone gets the same text."""
    try:
        return not meta.find_undeclared_variables(_environment.parse(text or ""))
    except TemplateSyntaxError:
        return False


@functools.lru_cache(maxsize=64)
def _compiled(text: str):
    return _environment.from_string(bound_loops(_environment.parse(text)))


def render_text(text: str, values: dict) -> str:
    """Renders a merge template within the sandbox's bounds; every failure is a
    TemplateProblem (never a hung worker or a 500)."""
    try:
        return render_bounded(_compiled(text), values)
    except TemplateSyntaxError as error:
        raise _syntax_problem(error) from None
    except LimitExceeded as error:
        raise TemplateProblem(f"limit-{error.what}", None, error.detail) from None
    except (UndefinedError, SecurityError) as error:
        unsafe = re.match(r"access to attribute '([^']+)'.*unsafe", str(error))
        if unsafe:
            raise TemplateProblem("statement", None, unsafe.group(1)) from None
        raise TemplateProblem("unknown-field", None, str(error)) from None
    except RecursionError:
        raise TemplateProblem("limit-loop", None, "recursion") from None
    except Exception as error:  # noqa: BLE001 - e.g. 1/0, 'a' + 1: the template's own mistake
        raise TemplateProblem("error", None, f"{type(error).__name__}: {error}"[:200]) from None


def text_to_html(text: str) -> Markup:
    """Plain text with blank-line paragraphs → HTML; everything escaped, links clickable."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    html = []
    for paragraph in paragraphs:
        escaped = str(escape(paragraph))
        escaped = re.sub(r"(https?://[^\s<]+)", r'<a href="\1">\1</a>', escaped)
        html.append("<p>" + escaped.replace("\n", "<br>\n") + "</p>")
    return Markup("\n".join(html))


# ---- recipients -----------------------------------------------------------------------------


@dataclass
class Recipient:
    customer: Customer
    address: str | None
    name: str | None
    skip_reason: str | None = None
    channel: str = "email"


def _email_recipient(customer: Customer, shop_kind: str) -> Recipient:
    if customer.email_opt_out:
        return Recipient(customer, None, None, "opted_out")
    if shop_kind == "afterschool":
        guardians = [m for m in customer.family_members if m.is_guardian]
        for guardian in guardians:
            if guardian.email:
                return Recipient(customer, guardian.email, guardian.name)
        if customer.email:
            return Recipient(customer, customer.email, customer.display_name)
        return Recipient(customer, None, None, "guardian_no_email" if guardians else "no_email")
    if customer.email:
        return Recipient(customer, customer.email, customer.display_name)
    return Recipient(customer, None, None, "no_email")


def _sms_recipient(customer: Customer, shop_kind: str) -> Recipient:
    from app.services.channels import normalise_mobile

    if customer.sms_opt_out:
        return Recipient(customer, None, None, "sms_opted_out", "sms")
    people = []
    if shop_kind == "afterschool":
        people = [(m.phone, m.name) for m in customer.family_members if m.is_guardian]
    people.append((customer.phone, customer.display_name))
    for phone, name in people:
        mobile = normalise_mobile(phone)
        if mobile:
            return Recipient(customer, mobile, name, None, "sms")
    return Recipient(customer, None, None, "no_mobile", "sms")


def _line_recipient(customer: Customer, _shop_kind: str) -> Recipient:
    links = sorted(customer.line_links, key=lambda link: link.linked_at, reverse=True)
    active = [link for link in links if link.unfollowed_at is None]
    if active:
        return Recipient(customer, active[0].user_id, active[0].display_name, None, "line")
    return Recipient(customer, None, None, "line_unfollowed" if links else "line_not_linked",
                     "line")  # fmt: skip


_BY_CHANNEL = {"email": _email_recipient, "sms": _sms_recipient, "line": _line_recipient}


def channel_order(customer: Customer, channels: list[str], use_preferred: bool) -> list[str]:
    """The channels to try for this person: their preferred one first (when the campaign
    says so and it is one we can send by), then the campaign's order."""
    order = list(channels or ["email"])
    preferred = customer.preferred_channel
    if use_preferred and preferred in _BY_CHANNEL:
        order = [preferred] + [c for c in order if c != preferred]
    return order


def recipient_for(
    customer: Customer, shop_kind: str, channels: list[str] | None = None,
    use_preferred: bool = False,
) -> Recipient:  # fmt: skip
    """Who gets the message for this customer and by which channel, or why nobody does
    (the reason from the first channel tried: the one the person prefers)."""
    if customer.erased_at is not None:
        return Recipient(customer, None, None, "erased")
    if "marketing" not in customer.consents:
        return Recipient(customer, None, None, "no_consent")
    first = None
    for channel in channel_order(customer, channels or ["email"], use_preferred):
        recipient = _BY_CHANNEL[channel](customer, shop_kind)
        recipient.channel = channel
        if recipient.skip_reason is None:
            return recipient
        first = first or recipient
    return first


def merge_values(
    customer: Customer, shop: Shop, locale: str, unsubscribe_url: str, custom: dict[str, str]
) -> dict:
    nickname = customer.nickname or customer.display_name
    greeting, _text, _html = letter_words(shop.kind, str(locale))
    return {
        "greeting": greeting.replace("%(name)s", nickname),
        "nickname": nickname,
        "name": customer.display_name,
        "child_name": nickname,
        "member_number": customer.member_number,
        "unsubscribe_url": unsubscribe_url,
        "custom": custom,
    }


def custom_values_for(session: Session, customer_ids: list[int]) -> dict[int, dict[str, str]]:
    from app.models import CustomFieldValue

    keys = {
        field_id: key
        for field_id, key in session.execute(sa.select(CustomField.id, CustomField.key))
    }
    values: dict[int, dict[str, str]] = {
        cid: {key: "" for key in keys.values()} for cid in customer_ids
    }
    if customer_ids:
        for row in session.execute(
            sa.select(
                CustomFieldValue.customer_id, CustomFieldValue.field_id, CustomFieldValue.value
            ).where(CustomFieldValue.customer_id.in_(customer_ids))
        ):
            values[row.customer_id][keys[row.field_id]] = row.value
    return values


@dataclass
class Audience:
    recipients: list[Recipient] = field(default_factory=list)

    def by_channel(self) -> dict[str, int]:
        """How many will get it by each channel."""
        counts = {"email": 0, "sms": 0, "line": 0}
        for recipient in self.sendable:
            counts[recipient.channel] = counts.get(recipient.channel, 0) + 1
        return counts

    @property
    def sendable(self) -> list[Recipient]:
        return [r for r in self.recipients if r.skip_reason is None]

    def skipped(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for recipient in self.recipients:
            if recipient.skip_reason:
                counts[recipient.skip_reason] = counts.get(recipient.skip_reason, 0) + 1
        return counts


def audience_for(
    session: Session, customers_query, shop: Shop, channels: list[str] | None = None,
    use_preferred: bool = False,
) -> Audience:  # fmt: skip
    query = customers_query.options(
        selectinload(Customer.family_members), selectinload(Customer.line_links)
    ).order_by(Customer.display_name, Customer.id)
    return Audience(
        [
            recipient_for(customer, shop.kind, channels, use_preferred)
            for customer in session.scalars(query)
        ]
    )


# ---- queueing -------------------------------------------------------------------------------


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
    from app.services.audit import record

    allowed, new_status = TRANSITIONS[action]
    if campaign.status not in allowed:
        return False
    begin_write(session)
    campaign.status = new_status
    if new_status == "queued":
        campaign.pause_reason = None
    if new_status == "cancelled":
        session.execute(
            sa.update(Delivery)
            .where(Delivery.campaign_id == campaign.id, Delivery.status == "queued")
            .values(status="skipped", skip_reason="cancelled")
        )
        campaign.finished_at = utcnow()
    record(session, f"campaign.{new_status}", "campaign", campaign.id, user_id=actor_id, ip=ip)
    return True


def decide_uncertain(
    session: Session, delivery: Delivery, decision: str, *, actor_id: int | None, ip: str | None
) -> bool:
    """The owner's decision on an uncertain delivery: "resend" queues it again (and the
    campaign, if it had finished), "sent" counts it as sent. Returns whether the worker
    should be woken to send now. Audited; the caller commits."""
    from app.services.audit import record

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


# ---- sending --------------------------------------------------------------------------------


@dataclass
class SendSettings:
    base_url: str
    sender: str  # the address
    sender_name: str
    reply_to: str | None
    rate_per_window: int
    window_seconds: float
    max_consecutive_failures: int
    locale: str
    retry_backoff: tuple = RETRY_BACKOFF_SECONDS


_SERVER_CHECKS: dict[tuple, tuple[float, dict]] = {}


def mail_server_answers(host: str, port: int, use_ssl: bool = False, timeout: float = 3.0) -> dict:
    """{"ok": bool, "host": "smtp:25", "error": "..."}: does an SMTP server answer there?
    Remembered for 30 s so pages that show it stay fast."""
    key = (host, port, use_ssl)
    now = time.monotonic()
    cached = _SERVER_CHECKS.get(key)
    if cached and now - cached[0] < 30:
        return cached[1]
    result = {"ok": True, "host": f"{host}:{port}", "error": ""}
    try:
        client = (smtplib.SMTP_SSL if use_ssl else smtplib.SMTP)(host, port, timeout=timeout)
        try:
            client.noop()
        finally:
            client.close()
    except (smtplib.SMTPException, OSError) as error:
        result = {
            "ok": False,
            "host": f"{host}:{port}",
            "error": str(error) or type(error).__name__,
        }
    _SERVER_CHECKS[key] = (now, result)
    return result


def classify_failure(error: Exception) -> tuple[str, str]:
    """("temporary" | "permanent", what the server said) for a failed send."""
    return _classify(error)


def _classify(error: Exception) -> tuple[str, str]:
    """("temporary" | "permanent", message) for an SMTP failure of one message."""
    if isinstance(error, UnicodeError | ValueError):
        return "permanent", f"cannot send to this address: {error}"
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(error.recipients.values()))
    elif isinstance(error, smtplib.SMTPResponseException):
        code, message = error.smtp_code, error.smtp_error
    else:
        return "temporary", str(error) or error.__class__.__name__
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    kind = "temporary" if 400 <= int(code) < 500 else "permanent"
    return kind, f"{code} {message}"


def unsubscribe_token(secret_key: str, campaign_id: int, customer_id: int) -> str:
    from itsdangerous import URLSafeSerializer

    return URLSafeSerializer(secret_key, salt="hearth-unsubscribe").dumps(
        [campaign_id, customer_id]
    )


def read_unsubscribe_token(secret_key: str, token: str) -> tuple[int, int] | None:
    from itsdangerous import BadSignature, URLSafeSerializer

    try:
        campaign_id, customer_id = URLSafeSerializer(secret_key, salt="hearth-unsubscribe").loads(
            token
        )
        return int(campaign_id), int(customer_id)
    except (BadSignature, ValueError, TypeError):
        return None


def build_message(
    campaign: Campaign,
    delivery,
    customer,
    shop: Shop,
    settings: SendSettings,
    custom: dict[str, str],
    secret_key: str,
    *,
    customer_id: int | None = None,
):
    """The personalised letter for one delivery (ORM objects or rows)."""
    from app.services.campaigns.outbox import Letter

    token = unsubscribe_token(secret_key, campaign.id, customer_id or customer.id)
    unsubscribe_url = f"{settings.base_url.rstrip('/')}/u/{token}"
    values = merge_values(customer, shop, settings.locale, unsubscribe_url, custom)
    subject = " ".join(render_text(campaign.subject, values).split())
    text = render_text(campaign.body, values)
    if "unsubscribe_url" in campaign.body:
        footer_text, footer_html = "", Markup("")  # the text has its own: one is enough
    else:
        footer_text, footer_html = unsubscribe_footer(settings.locale, unsubscribe_url)
    domain = (settings.sender.rsplit("@", 1)[-1] or "localhost").strip(">")
    return Letter(
        subject=subject,
        recipients=[(delivery.recipient_name or "", delivery.address)],
        body=f"{text.rstrip()}\n\n-- \n{footer_text}\n" if footer_text else f"{text.rstrip()}\n",
        html=_mail_html(text_to_html(text), footer_html, settings.locale),
        sender=(settings.sender_name, settings.sender),
        reply_to=settings.reply_to,
        headers={
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
        msg_id=f"<campaign-{campaign.id}.delivery-{delivery.id}@{domain}>",
    )


def build_short_message(
    campaign, delivery, shop, settings: SendSettings, custom: dict[str, str], secret_key: str,
    *, customer_id: int,
) -> str:  # fmt: skip
    """The plain text an SMS or LINE message carries for one delivery: the campaign's short
    text (its body when it has none) with the merge fields filled in."""
    template = campaign.short_text or campaign.body
    unsubscribe_url = ""
    if "unsubscribe_url" in template:  # a signed token costs; most short texts have none
        token = unsubscribe_token(secret_key, campaign.id, customer_id)
        unsubscribe_url = f"{settings.base_url.rstrip('/')}/u/{token}"
    values = merge_values(delivery, shop, settings.locale, unsubscribe_url, custom)
    text = render_text(template, values).strip()
    if not text:
        raise TemplateProblem("empty", None, "the message is empty")
    return text


@functools.lru_cache(maxsize=16)
def letter_words(kind: str, locale: str) -> tuple[str, str, str]:
    """(greeting, footer text, footer HTML) in the mail's language, from the catalogs; with
    %(name)s / %(url)s still in them. Looked up once per kind and language, not per mail."""
    from flask_babel import force_locale, gettext

    with force_locale(locale):
        greeting = (
            gettext("Dear parent of %(name)s")
            if kind == "afterschool"
            else gettext("Dear %(name)s")
        )
        text = gettext("Don't want these emails? Unsubscribe: %(url)s")
        html = gettext('Don\'t want these emails? <a href="%(url)s">Unsubscribe</a>')
    return greeting, text, html


def unsubscribe_footer(locale: str, url: str, kind: str = "homestay") -> tuple[str, Markup]:
    _greeting, text, html = letter_words(kind, str(locale))
    # The catalog's HTML is ours; the address is escaped.
    return text.replace("%(url)s", url), Markup(html.replace("%(url)s", str(escape(url))))


def _mail_html(body_html: Markup, footer_html: Markup, locale: str) -> str:
    from flask import current_app

    template = current_app.jinja_env.get_template("email/campaign.html")
    return template.render(
        body_html=body_html, footer_html=footer_html, lang=str(locale).replace("_", "-")
    )


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
