"""Shop settings, owner only."""

from flask import Blueprint

bp = Blueprint("settings", __name__)

from app.blueprints.settings import channels, mail, routes, synonyms  # noqa: E402,F401
