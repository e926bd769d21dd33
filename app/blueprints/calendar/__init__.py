"""A homestay's room calendar: rooms × days, closures, and the rooms' iCal addresses."""

from flask import Blueprint

bp = Blueprint("calendar", __name__)

from app.blueprints.calendar import routes  # noqa: E402,F401
