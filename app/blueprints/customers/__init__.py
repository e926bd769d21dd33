"""Customers: the list, the customer page, the profile form, family, dates and tags."""

from flask import Blueprint

bp = Blueprint("customers", __name__)

from app.blueprints.customers import family, line, merging, routes, tags  # noqa: E402,F401
