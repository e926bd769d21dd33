"""A homestay's booking money: Settings → Rates, each stay's money panel (deposit, balance,
refunds), the live quote, cancelling, no-shows and late deposits."""

from flask import Blueprint

bp = Blueprint("booking_money", __name__)

from app.blueprints.booking_money import routes  # noqa: E402,F401
