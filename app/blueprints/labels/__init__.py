"""Printable mailing labels for an audience (A4 sheets of 3×8 or 2×7)."""

from flask import Blueprint

bp = Blueprint("labels", __name__)

from app.blueprints.labels import routes  # noqa: E402,F401
