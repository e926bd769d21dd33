"""The owner's reports: sales, stays and attendance, on screen and as files."""

from flask import Blueprint

bp = Blueprint("reports", __name__)

from app.blueprints.reports import routes  # noqa: E402,F401
