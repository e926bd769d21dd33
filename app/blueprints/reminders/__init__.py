"""Reminders: the worklist, actions on one reminder, and the owner's rules."""

from flask import Blueprint

bp = Blueprint("reminders", __name__)

from app.blueprints.reminders import routes  # noqa: E402,F401
