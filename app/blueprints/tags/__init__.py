"""Tag management: rename, recolour, merge, delete, counts."""

from flask import Blueprint

bp = Blueprint("tags", __name__)

from app.blueprints.tags import routes  # noqa: E402,F401
