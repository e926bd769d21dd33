"""Home page views: the owner's summary, the front desk's day, the teacher's today."""

from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.main import bp
from app.blueprints.today.board import today_page
from app.extensions import db
from app.models import Role
from app.security import public, staff_required
from app.services import customers as customer_service
from app.services import dashboard
from app.services import reminders as reminder_service
from app.services import segments as seg
from app.services import timeline as timeline_service
from app.services.rooms import blocks as room_blocks
from app.services.shop import get_shop, shop_context


@bp.route("/")
@staff_required
def home():
    if current_user.role == Role.TEACHER:
        return today_page()  # a teacher's home is their Today
    segments = seg.saved_segments(db.session)
    context = shop_context(db.session)
    if current_user.role == Role.OWNER:
        return render_template(
            "main/owner_home.html",
            saved_segments=segments,
            summary=dashboard.summary(db.session, context),
        )
    return render_template("main/my_day.html", saved_segments=segments, **my_day(context))


MY_DAY_GROUP_SIZE = 20


def my_day(context: seg.Context) -> dict:
    """Due and overdue reminders (mine and unassigned), today's birthdays, my customers'
    open alerts."""
    mine_with_alerts = customer_service.with_open_alerts_assigned_to(db.session, current_user.id)
    # Grouped so that many reminders are a few lines: today's first, then overdue ones by
    # the rule that made them (or "added by hand"); counted in full, each group showing its
    # first MY_DAY_GROUP_SIZE (the reminders page lists them all).
    groups = []
    for group in reminder_service.my_day_groups(
        db.session, context.today, current_user.id, limit=MY_DAY_GROUP_SIZE
    ):
        if group.due_today:
            title = _("Due today")
        else:
            title = _("Overdue: %(rule)s", rule=group.rule_name or _("added by hand"))
        groups.append(("today" if group.due_today else "overdue", title, group))
    due_today = sum(group.count for _key, _title, group in groups if group.due_today)
    arrivals = departures = deposits_late = []
    guest_alerts: dict = {}
    if get_shop(db.session).kind == "homestay":
        from app.services import stays

        arrivals = stays.arriving(db.session, context.today)
        departures = stays.leaving(db.session, context.today)
        from app.services.booking_money import deposits_past_due  # hook: late deposits

        deposits_late = deposits_past_due(db.session, context.today)
        guest_alerts = timeline_service.open_alerts_by_customer(
            db.session, [stay.customer_id for stay in arrivals + departures]
        )
    return {
        "arrivals": arrivals,
        "departures": departures,
        "deposits_past_due": deposits_late,
        "guest_alerts": guest_alerts,
        "reminder_groups": groups,
        "due_today_count": due_today,
        "overdue_count": sum(group.count for _key, _title, group in groups) - due_today,
        "today": context.today,
        "room_clashes": room_blocks.clashes(db.session, context.today),
        "birthdays": dashboard.todays_birthdays(db.session, context),
        "alert_customers": mine_with_alerts,
        "alerts": timeline_service.open_alerts_by_customer(
            db.session, [customer.id for customer in mine_with_alerts]
        ),
    }


@bp.route("/healthz")
@public
def healthz():
    """For load balancers and monitoring (and the benchmarks' baseline): no database."""
    return {"status": "ok"}
