"""Home views: the owner's summary, the front desk's day, the Today page and one child's
card; each parses the request, calls one service of app/services/home and renders."""

from flask import render_template, request
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user

from app.blueprints.home import bp, today_bp
from app.blueprints.home.homestay import can_check_in, homestay_today
from app.blueprints.shared import initials
from app.blueprints.timeline.forms import EntryForm
from app.extensions import db
from app.models import Customer, Role
from app.security import audit, public, staff_required
from app.services import segments as seg
from app.services import timeline as timeline_service
from app.services.home import centre_today, dashboard, today_board
from app.services.home import my_day as my_day_service
from app.services.shop import get_shop, shop_context


@bp.route("/")
@staff_required
def home():
    if current_user.role == Role.TEACHER:
        return today_page()  # a teacher's home is their Today
    segments = seg.saved_segments(db.session)
    context = shop_context(db.session)
    if current_user.role == Role.OWNER:
        kind = get_shop(db.session).kind
        return render_template(
            "main/owner_home.html",
            saved_segments=segments,
            summary=dashboard.summary(db.session, context, kind=kind),
            deposits_due=dashboard.deposits_due(db.session, context)
            if kind == "homestay"
            else None,
            centre=centre_today.centre_today(db.session, get_shop(db.session), context)
            if kind == "afterschool"
            else None,
        )
    return render_template("main/my_day.html", saved_segments=segments, **my_day(context))


def my_day(context: seg.Context) -> dict:
    """The front desk's day, with each reminder group's title in the reader's language."""
    day = my_day_service.my_day(
        db.session, context, current_user.id, kind=get_shop(db.session).kind
    )
    groups = []
    for group in day.reminder_groups:
        if group.key == "mine":
            title = _("Assigned to you")
        elif group.due_today:
            title = _("Due today")
        else:
            title = _("Overdue: %(rule)s", rule=group.rule_name or _("added by hand"))
        groups.append((group.key, title, group, hidden_words(group.hidden)))
    return {
        "homestay_day": day.homestay,
        "can_check": can_check_in(),
        "reminder_groups": groups,
        "due_today_count": day.due_today_count,
        "overdue_count": day.overdue_count,
        "today": day.today,
        "birthdays": day.birthdays,
        "alert_customers": day.alert_customers,
        "alerts": day.alerts,
        "deposits_past_due": day.deposits_past_due,
        "room_clashes": day.room_clashes,
        "enquiries_to_follow": day.enquiries,
    }


def hidden_words(hidden: dict[str, int]) -> str:
    """ "And 53 more: 3 assigned to you, 50 made by rules." for a group's hidden reminders."""
    if not hidden:
        return ""
    words = {
        "assigned": lambda num: ngettext("%(num)d assigned to you", "%(num)d assigned to you", num),
        "by_hand": lambda num: ngettext("%(num)d added by hand", "%(num)d added by hand", num),
        "rules": lambda num: ngettext("%(num)d made by a rule", "%(num)d made by rules", num),
    }
    kinds = _(", ").join(words[kind](number) for kind, number in hidden.items())
    return _("And %(num)d more: %(kinds)s.", num=sum(hidden.values()), kinds=kinds)


@bp.route("/healthz")
@public
def healthz():
    """For load balancers and monitoring (and the benchmarks' baseline): no database."""
    return {"status": "ok"}


def today_page():
    """The Today page of the signed-in staff member's group(s) (or the groups chosen); a
    homestay's Today is its guests' day instead."""
    if get_shop(db.session).kind == "homestay":
        return homestay_today()
    page = today_board.today_page(
        db.session, get_shop(db.session), current_user, shop_context(db.session),
        chosen=request.args.getlist("group"), alerts_only=request.args.get("alerts") == "1",
        show=request.args.get("show", ""),
    )  # fmt: skip
    board = page.board
    return render_template(
        "today/index.html",
        children=board.children,
        total=len(board.ids),
        with_alerts=board.with_alerts,
        alerts_only=board.alerts_only,
        alerts=board.alerts,
        notes=board.notes,
        groups=page.groups.all,
        selected=page.groups.selected,
        mine=page.groups.mine,
        initials=initials,
        roll=board.roll,
        expected=board.expected,
        present=board.present,
        missing=board.missing,
        family=page.family,
        markable=page.markable,
        classes=page.classes,
        roll_groups=page.roll_groups,
        tally=page.tally,
        show=page.show,
        avatars=page.avatars,
    )


@today_bp.route("/today")
@staff_required
def index():
    return today_page()


@today_bp.route("/today/<int:customer_id>")
@staff_required
def child(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    page = timeline_service.customer_page(db.session, customer.id)
    pinned = timeline_service.pinned_entries(db.session, customer.id)
    alerts = [entry for entry in pinned if entry.alert_open]
    if current_user.role == Role.TEACHER and alerts:
        audit("alert.view", "customer", customer.id)
        db.session.commit()
    return render_template(
        "today/child.html",
        customer=customer,
        page=page,
        pinned=[entry for entry in pinned if not entry.alert_open],
        alerts=alerts,
        entry_form=EntryForm(),
        initials=initials,
        **today_board.child_card(db.session, get_shop(db.session), customer),
    )
