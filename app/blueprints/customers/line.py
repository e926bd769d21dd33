"""Linking a customer's family to LINE: the one-time code (and its QR code) the front desk
shows, and removing a link."""

import urllib.parse

import segno
from flask import current_app, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup

from app.blueprints.customers import bp
from app.extensions import db
from app.models import Customer, LineLink
from app.security import audit, desk_required
from app.services import line_links
from app.services.channels.setup import configured
from app.services.shop import get_shop


@bp.route("/<int:customer_id>/line-code", methods=["POST"])
@desk_required
def line_code(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    shop = get_shop(db.session)
    record, code = line_links.new_code(
        db.session, customer, current_user.id, current_app.secret_key
    )
    audit("line.code", "customer", customer.id)
    db.session.commit()
    chat_url = None
    qr = None
    if shop.line_account_id:
        # Opens a chat with the shop's account with the code already typed in.
        chat_url = (
            f"https://line.me/R/oaMessage/{urllib.parse.quote(shop.line_account_id)}/?"
            f"{urllib.parse.quote(code)}"
        )
        svg = segno.make(chat_url, error="m").svg_inline(scale=6, border=2, title=_("QR code"))
        qr = Markup(svg)  # segno's own markup; the only variable part is the quoted URL
    return render_template(
        "customers/line_code.html",
        customer=customer,
        code=code,
        expires_at=record.expires_at,
        chat_url=chat_url,
        qr=qr,
        line_ready=configured(shop)["line"],
    )


@bp.route("/line-links/<int:link_id>/delete", methods=["POST"])
@desk_required
def line_unlink(link_id: int):
    link = db.get_or_404(LineLink, link_id)
    customer_id = link.customer_id
    line_links.unlink(db.session, link, current_user.id)
    audit("line.unlink", "customer", customer_id)
    db.session.commit()
    flash(_("The LINE account is no longer linked; nothing more is sent to it."), "success")
    return redirect(url_for("customers.show", customer_id=customer_id))
