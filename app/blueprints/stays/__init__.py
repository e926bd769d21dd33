"""A homestay's stays on the guest page, arrivals and departures, rooms in Settings."""

from flask import Blueprint

bp = Blueprint("stays", __name__)

from app.blueprints.stays import booking, routes, stay_page  # noqa: E402,F401
