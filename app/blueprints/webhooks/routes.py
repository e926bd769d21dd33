"""The LINE webhook and the SMS receipt address."""

import json
import logging

from flask import abort, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app.blueprints.webhooks import bp
from app.extensions import csrf, db
from app.security import public
from app.services import line_links, sms_receipts
from app.services.channels import SendError, verify_signature
from app.services.channels.setup import line_api
from app.services.shop import get_shop

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 256 * 1024


def _reply_text(reply: line_links.Reply, locale: str, shop_name: str) -> str:
    # Never the child's name: whoever sent the code learns only which shop they reached;
    # the desk sees the new link on the customer's page.
    with force_locale(locale):
        if reply.kind == "linked":
            return _("Linked to %(shop)s. The shop's news will reach you here.", shop=shop_name)
        if reply.kind == "bad-code":
            return _("That code is not valid any more. Please ask the shop for a new one.")
        if reply.kind == "wait":
            return _("Too many codes that did not work. Please try again later, or ask the "
                     "shop for help.")  # fmt: skip
        return _("Welcome! Please send the 12-digit code the shop gave you to link your "
                 "account.")  # fmt: skip


def _read_body(limit: int) -> bytes:
    """The request body, refused (413) as soon as it is known to be over `limit`: by its
    Content-Length before anything is read, or while reading a body without one."""
    if request.content_length is not None and request.content_length > limit:
        abort(413)
    stream = request.stream
    chunks, size = [], 0
    while True:
        chunk = stream.read(min(64 * 1024, limit + 1 - size))
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)
        size += len(chunk)
        if size > limit:
            abort(413)


def _events(body: bytes) -> list:
    """The body's events list; 400 for anything that is not LINE's envelope."""
    try:
        payload = json.loads(body.decode("utf-8"))
    except (ValueError, RecursionError):  # RecursionError: deep nesting
        abort(400)
    events = payload.get("events") if isinstance(payload, dict) else None
    if not isinstance(events, list):
        abort(400)
    return events


@bp.route("/hooks/line", methods=["POST"])
@public
@csrf.exempt
def line_webhook():
    body = _read_body(MAX_WEBHOOK_BYTES)
    shop = get_shop(db.session)
    secret = shop.line_channel_secret
    if not verify_signature(secret or "", body, request.headers.get("X-Line-Signature")):
        abort(400)
    events = _events(body)
    locale = shop.default_locale or "zh_Hant"
    shop_name = shop.name or ""
    api = line_api(shop, current_app.config)
    db.session.rollback()
    replies = line_links.handle_events(
        db.session, events[:100], current_app.secret_key,
        api.profile_name if api is not None else None,
    )  # fmt: skip
    if api is not None:
        try:
            for reply in replies:
                api.reply(reply.token, _reply_text(reply, locale, shop_name))
        except SendError as error:  # the link is made; a lost reply is only a courtesy
            log.warning("LINE reply failed: %s", error.text)
        finally:
            api.close()
    return "OK"


@bp.route("/hooks/sms/receipt/<key>/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def sms_receipt(key: str, token: str):
    if not sms_receipts.token_ok(current_app.secret_key, key, token):
        abort(404)
    values = request.values
    msgid = (values.get("msgid") or "").strip()
    statuscode = (values.get("statuscode") or "").strip()
    sms_receipts.record_receipt(db.session, key, msgid, statuscode)
    # What Mitake expects back: it stops re-sending the receipt.
    return f"magicid=sms_gateway_rpack\nmsgid={msgid}\n", 200, {"Content-Type": "text/plain"}
