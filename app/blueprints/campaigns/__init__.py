"""Messages to many (email, SMS, LINE): compose from an audience, preview, test, send through the outbox, follow."""

from flask import Blueprint

bp = Blueprint("campaigns", __name__)

from app.blueprints.campaigns import routes, sending  # noqa: E402,F401
