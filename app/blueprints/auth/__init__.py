"""Sign-in, sign-out, the first-run owner setup and the language switch."""

from flask import Blueprint

bp = Blueprint("auth", __name__)

from app.blueprints.auth import routes  # noqa: E402,F401
