"""Today: big cards for the children of my group(s); tap one for alerts, notes, quick note."""

from flask import render_template, request
from flask_login import current_user

from app.blueprints.timeline.forms import EntryForm
from app.blueprints.today import bp
from app.extensions import db
from app.models import Customer, Role
from app.models.timeline import ALERT_SEVERITY
from app.security import audit, staff_required
from app.services import groups as group_service
from app.services import timeline as timeline_service
from app.services.shop import get_shop, shop_context


def initials(name: str) -> str:
    """Two letters for a Latin name ("Amy Chen" → "AC"), the given name for a Chinese one."""
    parts = name.split()
    if len(parts) > 1 and all(part[:1].isascii() for part in parts):
        return (parts[0][0] + parts[-1][0]).upper()
    name = name.strip()
    if name[:1].isascii():
        return name[:2].upper()
    return name[-2:] if len(name) >= 3 else name


@bp.route("/today")
@staff_required
def index():
    shop = get_shop(db.session)
    all_groups = group_service.group_names(db.session, shop)
    chosen = [name for name in request.args.getlist("group") if name in all_groups]
    mine = [name for name in current_user.groups if name in all_groups]
    selected = chosen or mine or all_groups[:1]
    context = shop_context(db.session)
    children = group_service.members(db.session, shop, selected)
    ids = [child.id for child in children]
    alerts = timeline_service.open_alerts_by_customer(db.session, ids)
    notes = group_service.entries_since(db.session, ids, context.start_of(context.today))
    # Children with an allergy or medical alert first, so nobody scrolls past them.

    def order(child: Customer):
        child_alerts = alerts.get(child.id, [])
        top = min((ALERT_SEVERITY.get(a.alert_category, 9) for a in child_alerts), default=10)
        return (top, child.display_name)

    with_alerts = sum(1 for child in children if alerts.get(child.id))
    alerts_only = request.args.get("alerts") == "1"
    if alerts_only:
        children = [child for child in children if alerts.get(child.id)]
    return render_template(
        "today/index.html",
        children=sorted(children, key=order),
        total=len(ids),
        with_alerts=with_alerts,
        alerts_only=alerts_only,
        alerts=alerts,
        notes=notes,
        groups=all_groups,
        selected=selected,
        mine=mine,
        initials=initials,
    )


@bp.route("/today/<int:customer_id>")
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
    )
