"""The LINE webhook and the SMS receipt address."""

import json
import logging

from flask import abort, current_app, request
from flask_babel import force_locale
from flask_babel import gettext as _

from app.blueprints.hooks import bp
from app.extensions import csrf, db
from app.security import public
from app.services import line_links, sms_receipts
from app.services.channels import SendError, verify_signature
from app.services.channels.setup import line_api
from app.services.shop import get_shop

log = logging.getLogger(__name__)
MAX_WEBHOOK_BYTES = 256 * 1024


def _reply_text(reply: line_links.Reply, locale: str) -> str:
    with force_locale(locale):
        if reply.kind == "linked":
            return _("Linked: %(names)s. The shop's news will reach you here.",
                     names="、".join(reply.names))  # fmt: skip
        if reply.kind == "bad-code":
            return _("That code is not valid any more. Please ask the shop for a new one.")
        return _("Welcome! Please send the six-digit code the shop gave you to link your "
                 "account.")  # fmt: skip


@bp.route("/hooks/line", methods=["POST"])
@public
@csrf.exempt
def line_webhook():
    body = request.get_data(cache=False)
    if len(body) > MAX_WEBHOOK_BYTES:
        abort(413)
    shop = get_shop(db.session)
    secret = shop.line_channel_secret
    if not verify_signature(secret or "", body, request.headers.get("X-Line-Signature")):
        abort(400)
    try:
        events = json.loads(body.decode("utf-8")).get("events") or []
    except (ValueError, AttributeError):
        abort(400)
    if not isinstance(events, list):
        abort(400)
    locale = shop.default_locale or "zh_Hant"
    api = line_api(shop, current_app.config)
    db.session.rollback()
    replies = line_links.handle_events(
        db.session, events[:100], api.profile_name if api is not None else None
    )
    if api is not None:
        try:
            for reply in replies:
                if reply.token:
                    api.reply(reply.token, _reply_text(reply, locale))
        except SendError as error:  # the link is made; a lost reply is only a courtesy
            log.warning("LINE reply failed: %s", error.text)
        finally:
            api.close()
    return "OK"


@bp.route("/hooks/sms/receipt/<token>", methods=["GET", "POST"])
@public
@csrf.exempt
def sms_receipt(token: str):
    if not sms_receipts.token_ok(current_app.secret_key, token):
        abort(404)
    values = request.values
    msgid = (values.get("msgid") or "").strip()
    sms_receipts.record_receipt(db.session, msgid, (values.get("statuscode") or "").strip())
    # What Mitake expects back: it stops re-sending the receipt.
    return f"magicid=sms_gateway_rpack\nmsgid={msgid}\n", 200, {"Content-Type": "text/plain"}
