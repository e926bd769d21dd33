"""The search view: a dropdown partial for the header box, or a whole page."""

from flask import render_template, request

from app.blueprints.search import bp
from app.extensions import db
from app.htmx import is_partial
from app.security import staff_required
from app.services import search as search_service
from app.services.timeline import open_alerts_by_customer


@bp.route("/search")
@staff_required
def search():
    query = request.args.get("q", "")[:200]
    results = search_service.search(db.session, query)
    customer_ids = [c.id for c in results.customers] + [e.customer_id for e in results.entries]
    alerts = open_alerts_by_customer(db.session, sorted(set(customer_ids)))
    template = "search/_results.html" if is_partial("search-results") else "search/page.html"
    return render_template(
        template, results=results, alerts=alerts, highlight=search_service.highlight
    )
