"""Purchases on the customer page, the product catalogue (Settings) and past purchases."""

from flask import Blueprint

bp = Blueprint("purchases", __name__)

from app.blueprints.purchases import routes  # noqa: E402,F401
