"""The home area: the owner's summary, the front desk's day, the Today board (a teacher's
home) and a homestay's day. Two blueprints keep the endpoint names the rest of the app links
to: `main` (the home page and the health check) and `today` (the Today board and its marks)."""

from flask import Blueprint

bp = Blueprint("main", __name__)
today_bp = Blueprint("today", __name__)

from app.blueprints.home import attendance, homestay, routes  # noqa: E402,F401
