"""Timeline views: compose (htmx), older entries (infinite scroll), edit, pin, alerts, feed."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.shared import form_panel_with_errors, timeline_error_message
from app.blueprints.timeline import bp
from app.blueprints.timeline.forms import AlertForm, EditEntryForm, EntryForm
from app.clock import utcnow
from app.extensions import db, htmx
from app.htmx import is_partial
from app.models import Customer, TimelineEntry
from app.models.timeline import ENTRY_KINDS
from app.security import audit, desk_required, staff_required
from app.services import accounts
from app.services import timeline as timeline_service
from app.services.shop import get_shop
from app.services.timeline import TimelineError
from app.vocabulary import shop_term


def _customer_or_404(customer_id: int) -> Customer:
    return db.get_or_404(Customer, customer_id)


def _entry_or_404(entry_id: int) -> TimelineEntry:
    return db.get_or_404(TimelineEntry, entry_id)


def _first_error(form) -> str:
    for field in form:
        if field.errors:
            return str(field.errors[0])
    return _("Please check what you wrote.")


def _back_to_composer(customer: Customer):
    """Without JavaScript the composer posts a whole page: go back to the page it was on."""
    if request.form.get("return_to") == "today":
        return redirect(url_for("today.child", customer_id=customer.id))
    return redirect(url_for("customers.show", customer_id=customer.id))


@bp.route("/customers/<int:customer_id>/entries", methods=["POST"])
@staff_required
def compose(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = EntryForm()
    error = None
    if form.validate():
        try:
            happened = timeline_service.happened_at(
                form.happened_on.data, form.happened_time.data,
                get_shop(db.session).timezone or "Asia/Taipei", utcnow(),
            )  # fmt: skip
            entry = timeline_service.add_entry(
                db.session, customer, author=current_user, kind=form.kind.data,
                body=form.body.data, happened=happened,
            )  # fmt: skip
        except TimelineError as problem:
            db.session.rollback()
            error = timeline_error_message(problem)
        else:
            db.session.commit()
            if htmx:
                return render_template("timeline/_item.html", entry=entry, fresh=True), 201
            flash(_("Added to the timeline."), "success")
            return _back_to_composer(customer)
    else:
        error = _first_error(form)
    if htmx:
        response = make_response(render_template("timeline/_composer_error.html", error=error), 422)
        response.headers["HX-Retarget"] = "#composer-error"
        response.headers["HX-Reswap"] = "innerHTML"
        return response
    flash(error, "error")
    return _back_to_composer(customer)


@bp.route("/customers/<int:customer_id>/entries")
@staff_required
def older(customer_id: int):
    customer = _customer_or_404(customer_id)
    page = timeline_service.customer_page(db.session, customer.id, request.args.get("cursor"))
    if is_partial():
        return render_template("timeline/_entries.html", page=page, customer=customer)
    return render_template("timeline/older.html", page=page, customer=customer)


@bp.route("/customers/<int:customer_id>/alerts", methods=["POST"])
@staff_required
def add_alert(customer_id: int):
    customer = _customer_or_404(customer_id)
    form = AlertForm()
    if form.validate():
        try:
            timeline_service.add_alert(
                db.session,
                customer,
                author=current_user,
                category=form.category.data,
                keywords=form.keywords.data,
                body=form.body.data,
            )
        except TimelineError as problem:
            db.session.rollback()
            flash(_("Alert not added: %(reason)s", reason=timeline_error_message(problem)), "error")
        else:
            audit("alert.create", "customer", customer.id)
            db.session.commit()
            flash(
                _(
                    "Alert added. Everyone will see it on this %(person)s.",
                    person=shop_term("person"),
                ),
                "success",
            )
    else:
        flash(_("Alert not added: %(reason)s", reason=_first_error(form)), "error")
        return form_panel_with_errors(customer, "alert", form, _("Add an alert"))
    return redirect(url_for("customers.show", customer_id=customer.id))


@bp.route("/entries/<int:entry_id>/edit", methods=["GET", "POST"])
@staff_required
def edit(entry_id: int):
    entry = _entry_or_404(entry_id)
    if not timeline_service.can_edit(entry, current_user):
        abort(403)
    form = EditEntryForm(obj=entry if request.method == "GET" else None)
    status = 200
    if request.method == "POST":
        if form.validate():
            timeline_service.edit_entry(db.session, entry, editor=current_user, body=form.body.data)
            db.session.commit()
            if htmx:
                return render_template("timeline/_item.html", entry=entry)
            flash(_("Saved. The earlier text is kept."), "success")
            return redirect(url_for("customers.show", customer_id=entry.customer_id))
        status = 422
    template = "timeline/_edit.html" if htmx else "timeline/edit.html"
    return render_template(template, entry=entry, form=form), status


@bp.route("/entries/<int:entry_id>")
@staff_required
def item(entry_id: int):
    """One entry as shown in the feed (the edit form's Cancel comes back here)."""
    entry = _entry_or_404(entry_id)
    if is_partial():
        return render_template("timeline/_item.html", entry=entry)
    return redirect(url_for("customers.show", customer_id=entry.customer_id))


@bp.route("/entries/<int:entry_id>/revisions")
@staff_required
def revisions(entry_id: int):
    entry = _entry_or_404(entry_id)
    template = "timeline/_revisions.html" if is_partial() else "timeline/revisions.html"
    return render_template(template, entry=entry)


@bp.route("/entries/<int:entry_id>/pin", methods=["POST"])
@staff_required
def pin(entry_id: int):
    entry = _entry_or_404(entry_id)
    if entry.kind in ("tag", "alert"):
        abort(400)
    timeline_service.set_pinned(entry, request.form.get("pinned") == "1")
    db.session.commit()
    flash(_("Pinned to the top.") if entry.pinned else _("Unpinned."), "success")
    return redirect(url_for("customers.show", customer_id=entry.customer_id))


@bp.route("/entries/<int:entry_id>/resolve", methods=["POST"])
@desk_required
def resolve(entry_id: int):
    entry = _entry_or_404(entry_id)
    if not entry.is_alert:
        abort(400)
    timeline_service.resolve_alert(db.session, entry, actor=current_user)
    audit("alert.resolve", "customer", entry.customer_id)
    db.session.commit()
    flash(_("The alert is ended. It stays in the timeline as history."), "info")
    return redirect(url_for("customers.show", customer_id=entry.customer_id))


@bp.route("/feed")
@staff_required
def feed():
    """What happened in the shop: one day (today by default), filter by staff and kind."""
    zone = ZoneInfo(get_shop(db.session).timezone)
    now_local = datetime.now(zone)
    try:
        day = datetime.strptime(request.args.get("day", ""), "%Y-%m-%d").date()
    except ValueError:
        day = now_local.date()
    try:  # a range of days (the dashboard's links), else one day
        until = datetime.strptime(request.args.get("until", ""), "%Y-%m-%d").date()
    except ValueError:
        until = None
    if until is not None and until <= day:
        until = None
    start = datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
    last_day = until or day
    end = (
        datetime.combine(last_day + timedelta(days=1), time.min, tzinfo=zone)
        .astimezone(UTC)
        .replace(tzinfo=None)
    )
    author_id = request.args.get("author", type=int)
    kind = request.args.get("kind") if request.args.get("kind") in ENTRY_KINDS else None
    keyword = (request.args.get("keyword") or "").strip()[:400] or None
    page = timeline_service.shop_feed(
        db.session,
        start=start,
        end=end,
        author_id=author_id,
        kind=kind,
        keyword=keyword,
        cursor=request.args.get("cursor"),
    )
    staff = accounts.all_staff(db.session)
    alerts = timeline_service.open_alerts_by_customer(
        db.session, sorted({entry.customer_id for entry in page.entries})
    )
    context = {
        "page": page,
        "alerts": alerts,
        "day": day,
        "until": until,
        "keyword": keyword,
        "previous_day": day - timedelta(days=1),
        "next_day": day + timedelta(days=1) if day < now_local.date() else None,
        "staff": staff,
        "author_id": author_id,
        "kind": kind,
        "kinds": ENTRY_KINDS,
    }
    if is_partial("feed-more"):
        return render_template("timeline/_feed_entries.html", **context)
    if is_partial("feed-results"):
        return render_template("timeline/_feed_results.html", **context)
    return render_template("timeline/feed.html", **context)
