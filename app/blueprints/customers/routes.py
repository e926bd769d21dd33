"""Customer views: thin; the rules live in services.customers, services.tags, services.timeline."""

from datetime import datetime
from zoneinfo import ZoneInfo

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from flask_wtf.csrf import generate_csrf

from app.blueprints.customers import bp
from app.blueprints.customers.forms import (
    BulkTagForm,
    CustomerForm,
    FamilyMemberForm,
    ImportantDateForm,
    NewCustomerForm,
    TagAddForm,
)
from app.blueprints.segments.messages import segment_error_message
from app.blueprints.shared import staff_choices, timeline_error_message
from app.extensions import db, htmx
from app.forms import as_select_choices
from app.htmx import is_partial
from app.models import (
    Customer,
    Role,
)
from app.security import audit, desk_required, staff_required
from app.services import accounts, merging, page_cache
from app.services import customers as customer_service
from app.services import groups as group_service
from app.services import purchases as purchase_service
from app.services import reminders as reminder_service
from app.services import segments as seg
from app.services import tags as tag_service
from app.services import timeline as timeline_service
from app.services.customers import CustomerError, VersionConflict
from app.services.shop import shop_context
from app.services.timeline import TimelineError
from app.vocabulary import shop_term, term

SORTS = customer_service.LIST_SORTS
PER_PAGE = 50


def _customer_or_404(customer_id: int, *, full: bool = False) -> Customer:
    customer = customer_service.customer_record(db.session, customer_id, full=full)
    if customer is None:
        abort(404)
    return customer


def customer_error_message(error: CustomerError) -> str:
    if error.code == "taken":
        return _("Another %(person)s already has this member number.", person=shop_term("person"))
    return _("This field is required.")


# ---- list (filtered by a segment expression) ---------------------------------------------


def segment_context() -> seg.Context:
    return shop_context(db.session)


def builder_from_args(args) -> seg.Builder:
    """The builder's state from its form, applying an add/remove button if one was pressed."""
    return seg.builder_from_form(args)


def _list_url(**params) -> str:
    return url_for("customers.index", **{key: value for key, value in params.items() if value})


@bp.route("/")
@staff_required
def index():
    args = request.args
    building = args.get("build") == "1"
    expression = builder_from_args(args).to_text() if building else args.get("q", "").strip()
    sort = args.get("sort", "name") if args.get("sort") in SORTS else "name"
    direction = "desc" if args.get("dir") == "desc" else "asc"
    archived = args.get("archived") == "1"
    canonical = _list_url(
        q=expression,
        sort=sort if sort != "name" else None,
        dir=direction if direction != "asc" else None,
        archived="1" if archived else None,
    )
    if building and not htmx:
        return redirect(canonical)

    page, problem = customer_service.list_page(
        db.session, expression, segment_context(), sort=sort, descending=direction == "desc",
        archived=archived, page=args.get("page", 1, type=int), per_page=PER_PAGE,
    )  # fmt: skip
    error = segment_error_message(problem, expression) if problem else None
    alerts = timeline_service.open_alerts_by_customer(db.session, [c.id for c in page.items])
    context = {
        "page": page,
        "alerts": alerts,
        "sort": sort,
        "direction": direction,
        "expression": expression,
        "segment_error": error,
        "builder": seg.builder_from_text(expression),
        "archived": archived,
        "list_params": {"q": expression or None, "archived": "1" if archived else None},
        "tag_names": tag_service.names(db.session),
        "bulk_form": BulkTagForm(),
        "saved_segments": seg.saved_segments(db.session),
        "building": building,
    }
    if is_partial("customer-results"):
        response = make_response(render_template("customers/_results.html", oob=True, **context))
        response.headers["HX-Push-Url"] = canonical
        return response
    return render_template("customers/list.html", **context)


@bp.route("/bulk-tags", methods=["POST"])
@desk_required
def bulk_tags():
    form = BulkTagForm()
    ids = [int(value) for value in request.form.getlist("customer_ids") if value.isdecimal()]
    back = request.form.get("next") or url_for("customers.index")
    if not back.startswith("/"):
        back = url_for("customers.index")
    if not ids:
        flash(_("Select at least one %(person)s first.", person=shop_term("person")), "error")
        return redirect(back)
    if not form.validate():
        flash(" ".join(form.tag.errors + form.action.errors), "error")
        return redirect(back)
    try:
        if form.action.data == "add":
            tag, _created = tag_service.get_or_create_tag(db.session, form.tag.data)
        else:
            tag = tag_service.find_tag(db.session, form.tag.data.strip())
            if tag is None:
                flash(_("There is no tag called %(name)s.", name=form.tag.data), "error")
                return redirect(back)
        changed = tag_service.bulk(
            db.session, ids, tag, add=form.action.data == "add", actor=current_user
        )
    except tag_service.TagError:
        db.session.rollback()
        flash(_("Enter a tag name of at most 60 characters."), "error")
        return redirect(back)
    db.session.commit()
    if form.action.data == "add":
        flash(
            _(
                "Added %(tag)s to %(count)d %(people)s.",
                tag=tag.name,
                count=changed,
                people=shop_term("people"),
            ),
            "success",
        )
    else:
        flash(
            _(
                "Removed %(tag)s from %(count)d %(people)s.",
                tag=tag.name,
                count=changed,
                people=shop_term("people"),
            ),
            "success",
        )
    return redirect(back)


# ---- create / edit ----------------------------------------------------------------------


def _staff_choices():
    users = accounts.active_staff(db.session)
    return [(0, _("Nobody in particular"))] + [(user.id, user.name) for user in users]


def _custom_values_from_request(fields) -> tuple[dict[int, str], dict[int, str]]:
    values, errors = {}, {}
    for field in fields:
        text = request.form.get(f"custom_{field.id}", "")
        if len(text) > 2000:
            errors[field.id] = _("At most 2,000 characters.")
        values[field.id] = text
    return values, errors


@bp.route("/new", methods=["GET", "POST"])
@desk_required
def create():
    from app.services.shop import get_shop

    form = NewCustomerForm()
    guardian_word = term(get_shop(db.session).kind, "guardian")
    form.guardian_name.label.text = _("Name of the %(who)s", who=guardian_word.lower())
    form.assigned_user_id.choices = as_select_choices(_staff_choices())
    shop = get_shop(db.session)
    classes = group_service.class_choices(db.session, shop)
    form.group.choices = as_select_choices([("", _("No class yet"))] + [(n, n) for n in classes])
    fields = customer_service.custom_fields(db.session)
    custom_values, custom_errors = ({}, {})
    if request.method == "POST":
        custom_values, custom_errors = _custom_values_from_request(fields)
    if form.validate_on_submit() and not custom_errors:
        try:
            customer = customer_service.create_customer(
                db.session,
                form.profile_data(),
                actor=current_user,
                consent=form.consent_purposes(),
                consent_method=form.consent_method.data or None,
                custom_values=custom_values,
            )
            group_service.put_in_class(db.session, shop, customer, form.group.data,
                                       actor=current_user)  # fmt: skip
            guardian = form.guardian_data()
            if guardian:
                customer_service.add_family_member(db.session, customer, guardian)
            if (form.alert_keywords.data or "").strip():
                timeline_service.add_alert(
                    db.session,
                    customer,
                    author=current_user,
                    category=form.alert_category.data,
                    keywords=form.alert_keywords.data,
                    body=form.alert_body.data,
                )
        except CustomerError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [customer_error_message(error)]
        except TimelineError as error:
            db.session.rollback()
            form.alert_keywords.errors = [timeline_error_message(error)]
        else:
            audit("customer.create", "customer", customer.id)
            db.session.commit()
            flash(_("%(name)s was added.", name=customer.display_name), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    status = 422 if request.method == "POST" else 200
    return (
        render_template(
            "customers/form.html",
            form=form,
            customer=None,
            fields=fields,
            custom_values=custom_values,
            custom_errors=custom_errors,
            conflict=None,
            classes=classes,
        ),
        status,
    )


@bp.route("/<int:customer_id>/edit", methods=["GET", "POST"])
@desk_required
def edit(customer_id: int):
    customer = _customer_or_404(customer_id, full=True)
    fields = customer_service.custom_fields(db.session)
    if request.method == "GET":
        form = CustomerForm(obj=customer)
        form.version.data = customer.version
        form.consent_service.data = "service" in customer.consents
        form.consent_marketing.data = "marketing" in customer.consents
        form.assigned_user_id.data = customer.assigned_user_id or 0
        custom_values = {value.field_id: value.value for value in customer.field_values}
        custom_errors = {}
    else:
        form = CustomerForm()
        custom_values, custom_errors = _custom_values_from_request(fields)
    form.assigned_user_id.choices = as_select_choices(_staff_choices())
    conflict = None
    if form.validate_on_submit() and not custom_errors:
        try:
            expected = int(form.version.data or 0)
            customer_service.update_customer(
                db.session,
                customer,
                form.profile_data(),
                expected_version=expected,
                actor=current_user,
                consent=form.consent_purposes(),
                consent_method=form.consent_method.data or None,
                custom_values=custom_values,
            )
        except VersionConflict as error:
            db.session.rollback()
            conflict = error
            form.version.data = error.current_version
        except CustomerError as error:
            db.session.rollback()
            getattr(form, error.field).errors = [customer_error_message(error)]
        else:
            audit("customer.update", "customer", customer.id)
            db.session.commit()
            flash(_("Saved."), "success")
            return redirect(url_for("customers.show", customer_id=customer.id))
    status = 409 if conflict else (422 if request.method == "POST" else 200)
    return (
        render_template(
            "customers/form.html",
            form=form,
            customer=customer,
            fields=fields,
            custom_values=custom_values,
            custom_errors=custom_errors,
            conflict=conflict,
        ),
        status,
    )


@bp.route("/<int:customer_id>/archive", methods=["POST"])
@desk_required
def archive(customer_id: int):
    customer = _customer_or_404(customer_id)
    archived = request.form.get("archived", "1") == "1"
    customer_service.archive_customer(db.session, customer, archived)
    audit("customer.archive" if archived else "customer.unarchive", "customer", customer.id)
    db.session.commit()
    if archived:
        flash(
            _(
                "%(name)s is archived. Archived %(people)s are hidden from lists.",
                name=customer.display_name,
                people=shop_term("people"),
            ),
            "info",
        )
    else:
        flash(_("%(name)s is back in the lists.", name=customer.display_name), "success")
    return redirect(url_for("customers.show", customer_id=customer.id))


# ---- the customer page ------------------------------------------------------------------


def _page_key(customer_id: int):
    """What a reusable customer page depends on, or None when this request needs its own
    (an htmx fragment, or messages waiting to be shown)."""
    if is_partial() or session.get("_flashes"):
        return None
    versions = page_cache.versions(db.session.connection(), customer_id)
    # The language follows from these (and, failing them, the shop's default: its version).
    language = (current_user.locale, session.get("lang"), request.headers.get("Accept-Language"))
    return (customer_id, *versions, current_user.id, *language, request.full_path)


@bp.route("/<int:customer_id>")
@staff_required
def show(customer_id: int):
    pages = current_app.extensions["page_cache"]
    key = _page_key(customer_id)
    cached = pages.get(key) if key else None
    if cached is not None and datetime.now(ZoneInfo(cached.timezone)).date() == cached.day:
        if cached.open_alerts and current_user.role == Role.TEACHER:
            audit("alert.view", "customer", customer_id)
            db.session.commit()
        return cached.served(generate_csrf())
    html = _render_page(customer_id)
    if key is not None:
        context = shop_context(db.session)
        pages.put(
            key,
            page_cache.Page(
                html=html.replace(generate_csrf(), page_cache.CSRF_MARK).encode(),
                day=context.today,
                timezone=context.zone,
                open_alerts=g.get("page_open_alerts", False),
            ),
        )
    return html


def _render_page(customer_id: int) -> str:
    from app.blueprints.timeline.forms import EntryForm

    customer = _customer_or_404(customer_id, full=True)
    page = timeline_service.customer_page(db.session, customer.id)
    reminders = (
        reminder_service.open_reminders(db.session, customer_id=customer.id, limit=20)
        if current_user.role in (Role.OWNER, Role.FRONTDESK)
        else []
    )
    pinned = timeline_service.pinned_entries(db.session, customer.id)
    g.page_open_alerts = any(entry.alert_open for entry in pinned)
    if current_user.role == Role.TEACHER and g.page_open_alerts:
        audit("alert.view", "customer", customer.id)
        db.session.commit()
    return render_template(
        "customers/page.html",
        customer=customer,
        page=page,
        pinned=pinned,
        alerts=[entry for entry in pinned if entry.alert_open],
        fields=customer_service.custom_fields(db.session),
        values={value.field_id: value.value for value in customer.field_values},
        entry_form=EntryForm(),
        tag_form=TagAddForm(),
        reminders=reminders,
        today=shop_context(db.session).today,
        purchase_figures=purchase_service.figures(db.session, customer.id),
        recent_purchases=purchase_service.recent_purchases(db.session, customer.id),
        merges=merging.merges_into(db.session, customer.id)
        if current_user.role in (Role.OWNER, Role.FRONTDESK)
        else [],
        **_stays_of(customer),
    )


def _stays_of(customer: Customer) -> dict:
    from app.services import stays
    from app.templating import _shop

    if _shop().kind != "homestay":
        from app.services import attendance

        return {"enrolments": attendance.enrolments_of(db.session, customer.id)}
    return {
        "stay_figures": stays.figures(db.session, customer.id),
        "guest_stays": stays.guest_stays(db.session, customer.id),
    }


@bp.route("/<int:customer_id>/forms/<name>")
@staff_required
def form_panel(customer_id: int, name: str):
    """The less-used forms of the customer page, loaded when opened (or as a page without JS)."""
    from flask_babel import gettext

    from app.blueprints.purchases.forms import PurchaseForm
    from app.blueprints.reminders.forms import ReminderForm
    from app.blueprints.stays.forms import EnrolmentForm, StayForm
    from app.blueprints.timeline.forms import AlertForm

    panels = {
        "family": (FamilyMemberForm, "family", gettext("Add a family member"), True),
        "date": (ImportantDateForm, "date", gettext("Add a date"), True),
        "alert": (AlertForm, None, gettext("Add an alert"), False),
        "reminder": (ReminderForm, None, gettext("Add a reminder"), True),
        "purchase": (PurchaseForm, "purchase", gettext("Add a purchase"), True),
        "stay": (StayForm, "stay", gettext("Add a stay"), True),
        "enrolment": (EnrolmentForm, "enrolment", gettext("Enrol"), True),
    }
    if name not in panels:
        abort(404)
    form_class, prefix, title, desk_only = panels[name]
    if desk_only and current_user.role not in (Role.OWNER, Role.FRONTDESK):
        abort(403)
    customer = _customer_or_404(customer_id)
    template = f"customers/_form_{name}.html"
    form = form_class(prefix=prefix) if prefix else form_class()
    if name == "reminder":
        form.assignee_id.choices = staff_choices(gettext("Anyone"))
        form.assignee_id.data = str(current_user.id)
    if name == "purchase":
        form.day.data = shop_context(db.session).today
    if name == "enrolment":
        form.starts_on.data = shop_context(db.session).today
    context = {"customer": customer, "form": form, "title": title}
    if is_partial():
        return render_template(template, **context)
    return render_template("customers/form_panel.html", template=template, **context)


def _errors_text(form) -> str:
    return " ".join(
        f"{field.label.text}: {' '.join(map(str, field.errors))}" for field in form if field.errors
    )
