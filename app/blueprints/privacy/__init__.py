"""Privacy (owner only): consent history, a person's data, erasure, exports, the audit log."""

from flask import Blueprint

bp = Blueprint("privacy", __name__)

from app.blueprints.privacy import routes  # noqa: E402,F401
