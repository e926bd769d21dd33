"""Importing customers from CSV / Excel: upload, map columns, preview, dry run, import, undo."""

from flask import Blueprint

bp = Blueprint("imports", __name__)

from app.blueprints.imports import routes  # noqa: E402,F401
