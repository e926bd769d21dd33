"""Each recipient's message: merge values, the personal letter and the short SMS/LINE text."""

import functools
from dataclasses import dataclass

from flask import current_app
from flask_babel import force_locale, gettext
from markupsafe import Markup, escape

from app.models import Campaign, Customer, Shop
from app.services.campaigns.outbox.letter import Letter, header_text
from app.services.campaigns.templates import TemplateProblem, render_text, text_to_html
from app.services.campaigns.unsubscribe import unsubscribe_token

RETRY_BACKOFF_SECONDS = (30, 120, 600)


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
    timezone: str = "Asia/Taipei"  # the shop's (the Date header's offset)


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
    token = unsubscribe_token(secret_key, campaign.id, customer_id or customer.id)
    unsubscribe_url = f"{settings.base_url.rstrip('/')}/u/{token}"
    values = merge_values(customer, shop, settings.locale, unsubscribe_url, custom)
    subject = " ".join(render_text(campaign.subject, values).split())
    text = render_text(campaign.body, values)
    service = getattr(campaign, "purpose", "marketing") == "service"
    if service or "unsubscribe_url" in campaign.body:
        # The text has its own link (one is enough), or it is a service message (about the
        # person's own class or booking): nothing to unsubscribe from.
        footer_text, footer_html = "", Markup("")
    else:
        footer_text, footer_html = unsubscribe_footer(settings.locale, unsubscribe_url)
    domain = (settings.sender.rsplit("@", 1)[-1] or "localhost").strip(">")
    headers = {
        # A list's whole set of headers: List-Unsubscribe without List-Id is what spam
        # filters call incomplete mailing-list headers (SpamAssassin LIST_PARTIAL_*).
        "List-Id": list_id(shop.name, domain),
        "List-Unsubscribe": f"<{unsubscribe_url}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
    if service:
        headers = {}  # one person's own message, not a list's
    return Letter(
        subject=subject,
        recipients=[(delivery.recipient_name or "", delivery.address)],
        body=f"{text.rstrip()}\n\n-- \n{footer_text}\n" if footer_text else f"{text.rstrip()}\n",
        html=_mail_html(text_to_html(text), footer_html, settings.locale),
        sender=(settings.sender_name, settings.sender),
        reply_to=settings.reply_to,
        headers=headers,
        msg_id=f"<campaign-{campaign.id}.delivery-{delivery.id}@{domain}>",
        timezone=settings.timezone,
    )


def list_id(shop_name: str, domain: str) -> str:
    """RFC 2919's List-Id: the shop's name as the phrase, a fixed id under its mail domain."""
    name = " ".join((shop_name or "").replace('"', "").replace("\\", "").split())
    label = f"customers.{domain}" if "." in domain else "customers.localhost"
    if not name:
        return f"<{label}>"
    phrase = f'"{name}"' if name.isascii() else header_text("List-Id", name)
    return f"{phrase} <{label}>"


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
    # The catalog's HTML is ours; the address is escaped. A space before the link: "？" then
    # "取消訂閱" with only a tag between reads to spam filters as a word split by a tag.
    html = html.replace("%(url)s", str(escape(url)))
    html = html.replace("<a ", " <a ", 1) if "<a " in html and " <a " not in html else html
    return text.replace("%(url)s", url), Markup(html)


def _mail_html(body_html: Markup, footer_html: Markup, locale: str) -> str:
    template = current_app.jinja_env.get_template("email/campaign.html")
    return template.render(
        body_html=body_html, footer_html=footer_html, lang=str(locale).replace("_", "-")
    )
