"""Enquiries: the desk's board of who asked for what, an enquiry's page (stage, hot, each
time the shop got back to them) and the owner's list of reasons enquiries are lost."""

from flask import Blueprint

bp = Blueprint("enquiries", __name__)

from app.blueprints.enquiries import routes  # noqa: E402,F401
