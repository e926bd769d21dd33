"""The teacher's tablet view: today's children of my group(s), alerts first."""

from flask import Blueprint

bp = Blueprint("today", __name__)

from app.blueprints.today import routes  # noqa: E402,F401
