"""What providers call: the LINE webhook and the SMS gateway's delivery receipts. No
sign-in and no CSRF token; each checks a signature (LINE) or a secret address (SMS)."""

from flask import Blueprint

bp = Blueprint("webhooks", __name__)

from app.blueprints.webhooks import routes  # noqa: E402,F401
