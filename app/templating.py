"""Template globals and filters: the shop, its vocabulary, dates in the shop's time zone."""

from datetime import date, datetime

from flask import Flask, g
from flask_babel import format_date, format_datetime, format_timedelta
from flask_login import current_user

from app.clock import utcnow
from app.extensions import db
from app.vocabulary import term


def _shop():
    from app.services.shop import get_shop

    if "shop" not in g:
        g.shop = get_shop(db.session)
    return g.shop


def register(app: Flask) -> None:
    @app.context_processor
    def _globals():
        return {"shop": _shop(), "term": lambda key: term(_shop().kind, key)}

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, style: str = "medium") -> str:
        return format_datetime(value, style) if value else ""

    @app.template_filter("date")
    def _date(value: date | None, style: str = "medium") -> str:
        return format_date(value, style) if value else ""

    @app.template_filter("timeago")
    def _timeago(value: datetime | None) -> str:
        if not value:
            return ""
        return format_timedelta(value - utcnow(), add_direction=True, threshold=1.0)

    @app.template_test("role")
    def _has_role(user, *roles) -> bool:
        return bool(user and user.is_authenticated and user.role.value in roles)

    app.jinja_env.globals["current_user"] = current_user
    app.jinja_env.globals["role_label"] = role_label


def role_label(value: str) -> str:
    from flask_babel import gettext as _

    return {"owner": _("Owner"), "frontdesk": _("Front desk"), "teacher": _("Teacher")}.get(value, value)
