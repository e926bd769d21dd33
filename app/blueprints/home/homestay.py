"""A homestay's Today (arrivals, departures, in house, rooms to prepare) and the full list
behind each of its counts (and behind the owner's monthly figures)."""

from datetime import date

from flask import abort, render_template, request
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.home import today_bp
from app.extensions import db
from app.models import Role
from app.security import staff_required
from app.services import stays as stays_service
from app.services import timeline as timeline_service
from app.services.home import homestay_day as service
from app.services.shop import shop_context


def can_check_in() -> bool:
    """Checking guests in and out is the front desk's (and the owner's) job."""
    return current_user.role in (Role.OWNER, Role.FRONTDESK)


def homestay_today():
    day = service.homestay_day(db.session, shop_context(db.session).today)
    return render_template("today/homestay.html", day=day, can_check=can_check_in())


def list_titles() -> dict[str, str]:
    return {
        "arrivals": _("Arriving"),
        "departures": _("Leaving"),
        "in_house": _("In house now"),
        "prepare": _("Rooms to prepare"),
        "month": _("Stays this month"),
    }


def _status(stay) -> str:
    if stay.checked_out_at:
        return _("Checked out")
    if stay.checked_in_at and stay.status == "stayed":
        return _("In house")
    return stays_service.status_label(stay.status)


@today_bp.route("/today/stays")
@staff_required
def stays():
    which = request.args.get("list", "arrivals")
    if which not in service.LISTS:
        abort(404)
    try:
        day = date.fromisoformat(request.args.get("day", ""))
    except ValueError:
        day = shop_context(db.session).today
    rows = service.stays_list(db.session, which, day)
    titles = list_titles()
    title = titles[which]
    if which == "month":
        title = _("Stays in %(month)s", month=f"{day.year}-{day.month:02d}")
    elif which != "in_house":
        title = f"{title} · {day.isoformat()}"
    return render_template(
        "today/stays.html", title=title, which=which, day=day, stays=rows,
        lists=list(titles.items()), month=service.month_start(day), nights_in=service.nights_in,
        status_label=_status,
        alerts=timeline_service.open_alerts_by_customer(db.session, [s.customer_id for s in rows]),
    )  # fmt: skip
