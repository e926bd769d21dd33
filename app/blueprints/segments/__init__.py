"""Saved segments: named filter expressions with live counts."""

from flask import Blueprint

bp = Blueprint("segments", __name__)

from app.blueprints.segments import routes  # noqa: E402,F401
