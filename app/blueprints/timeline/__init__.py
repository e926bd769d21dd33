"""The feed: the composer, infinite scroll, editing with revisions, pins, alerts, shop feed."""

from flask import Blueprint

bp = Blueprint("timeline", __name__)

from app.blueprints.timeline import routes  # noqa: E402,F401
