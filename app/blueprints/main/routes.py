"""Home page views: the owner's summary, the front desk's day, the teacher's today."""

import sqlalchemy as sa
from flask import render_template
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.main import bp
from app.extensions import db
from app.models import Customer, Role, Segment, TimelineEntry
from app.security import public, staff_required
from app.services import dashboard
from app.services import reminders as reminder_service
from app.services import segments as seg
from app.services import timeline as timeline_service
from app.services.shop import shop_context


@bp.route("/")
@staff_required
def home():
    if current_user.role == Role.TEACHER:
        from app.blueprints.today.routes import index as today

        return today()
    segments = db.session.scalars(sa.select(Segment).order_by(Segment.name)).all()
    context = shop_context(db.session)
    if current_user.role == Role.OWNER:
        return render_template(
            "main/owner_home.html",
            saved_segments=segments,
            summary=dashboard.summary(db.session, context),
        )
    return render_template("main/my_day.html", saved_segments=segments, **my_day(context))


def my_day(context: seg.Context) -> dict:
    """Due and overdue reminders (mine and unassigned), today's birthdays, my customers'
    open alerts."""
    reminders = reminder_service.open_reminders(
        db.session, due_by=context.today, assignee_id=current_user.id, include_unassigned=True
    )
    mine_with_alerts = db.session.scalars(
        sa.select(Customer)
        .where(
            Customer.assigned_user_id == current_user.id,
            Customer.archived_at.is_(None),
            Customer.id.in_(
                sa.select(TimelineEntry.customer_id).where(
                    TimelineEntry.kind == "alert", TimelineEntry.alert_resolved_at.is_(None)
                )
            ),
        )
        .order_by(Customer.display_name)
        .limit(50)
    ).all()
    # Grouped so that 85 reminders are a few lines: today's first, then overdue ones by
    # the rule that made them (or "added by hand").
    due_today = [r for r in reminders if r.due_date >= context.today]
    overdue: dict[str, list] = {}
    for reminder in reminders:
        if reminder.due_date < context.today:
            name = reminder.rule.name if reminder.rule else _("added by hand")
            overdue.setdefault(name, []).append(reminder)
    groups = [("today", _("Due today"), due_today)] + [
        ("overdue", _("Overdue: %(rule)s", rule=name), items)
        for name, items in sorted(overdue.items())
    ]
    return {
        "reminders": reminders,
        "reminder_groups": [group for group in groups if group[2]],
        "due_today_count": len(due_today),
        "overdue_count": len(reminders) - len(due_today),
        "today": context.today,
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
