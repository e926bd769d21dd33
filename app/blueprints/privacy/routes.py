"""Privacy views, owner only: consent, a person's data (JSON / printable), erasure, list
export (CSV / Excel), the audit log."""

import json
from datetime import datetime

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.customers.labels import custom_field_labels, profile_labels
from app.blueprints.privacy import bp
from app.blueprints.privacy.forms import ConsentForm, EraseForm
from app.blueprints.segments.messages import segment_error_message
from app.clock import utcnow
from app.extensions import db
from app.models import Customer
from app.security import audit, owner_required
from app.services import accounts, exporting, privacy
from app.services import segments as seg
from app.services.audit import AuditFilter, audit_actions, audit_page
from app.services.shop import get_shop, shop_context
from app.vocabulary import shop_term


def _customer(customer_id: int) -> Customer:
    return db.get_or_404(Customer, customer_id)


def privacy_error_message(code: str) -> str:
    return {
        "name": _("The name does not match. Type it exactly as shown to erase."),
        "already": _("This %(person)s was already erased.", person=shop_term("person")),
        "method": _("Say how the consent was given."),
        "unchanged": _(
            "Nothing changed: that is already the %(person)s's consent.", person=shop_term("person")
        ),
    }.get(code, _("Choose one of the options."))


@bp.route("/customers/<int:customer_id>/privacy")
@owner_required
def page(customer_id: int, consent_form=None, erase_form=None, status=200):
    customer = _customer(customer_id)
    history = privacy.consent_history(db.session, customer.id)
    return render_template(
        "privacy/page.html",
        customer=customer,
        history=history,
        consent_form=consent_form or ConsentForm(),
        erase_form=erase_form or EraseForm(),
    ), status


@bp.route("/customers/<int:customer_id>/consent", methods=["POST"])
@owner_required
def consent(customer_id: int):
    customer = _customer(customer_id)
    form = ConsentForm()
    if form.validate_on_submit():
        try:
            privacy.record_consent(
                db.session,
                customer,
                purpose=form.purpose.data,
                action=form.action.data,
                method=form.method.data or None,
                actor=current_user,
            )
        except privacy.PrivacyError as error:
            db.session.rollback()
            form.method.errors = [privacy_error_message(error.code)]
        else:
            db.session.commit()
            flash(_("Consent recorded."), "success")
            return redirect(url_for("privacy.page", customer_id=customer_id))
    return page(customer_id, consent_form=form, status=422)


@bp.route("/customers/<int:customer_id>/data.json")
@owner_required
def data_json(customer_id: int):
    customer = _customer(customer_id)
    data = privacy.person_data(db.session, customer)
    audit("customer.data_export", "customer", customer.id, detail="json")
    db.session.commit()
    body = json.dumps(data, ensure_ascii=False, indent=2)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": f'attachment; filename="customer-{customer.member_number}.json"'
        },
    )


def data_labels() -> dict[str, str]:
    """The readable page's words for the keys of person_data()."""
    return {
        **profile_labels(),
        "name": _("Name"),
        "preferred_channel": _("Preferred contact"),
        "created_at": _("Created"),
        "updated_at": _("Updated"),
        "last_contact_at": _("Last contact"),
        "email_opt_out": _("Opted out of email"),
        "email_opt_out_at": _("Opted out on"),
        "email_opt_out_source": _("Opted out how"),
        "consent_purposes": _("Consent"),
        "relation": _("Relation"),
        "guardian": shop_term("guardian"),
        "label": _("Label"),
        "date": _("Date"),
        "at": _("When"),
        "kind": _("Kind"),
        "text": _("Text"),
        "author": _("Written by"),
        "alert_category": _("Alert"),
        "alert_keywords": _("Keywords"),
        "edited_at": _("Edited"),
        "purpose": _("Purpose"),
        "action": _("Change"),
        "method": _("How"),
        "recorded_by": _("Recorded by"),
        "source": _("Source"),
        "campaign": _("Campaign"),
        "address": _("Address"),
        "status": _("Status"),
        "sent_at": _("Sent"),
        "unsubscribed_at": _("Unsubscribed"),
    }


@bp.route("/customers/<int:customer_id>/data")
@owner_required
def data_page(customer_id: int):
    customer = _customer(customer_id)
    data = privacy.person_data(db.session, customer)
    audit("customer.data_export", "customer", customer.id, detail="page")
    db.session.commit()
    return render_template("privacy/data.html", customer=customer, data=data, labels=data_labels())


@bp.route("/customers/<int:customer_id>/erase", methods=["POST"])
@owner_required
def erase(customer_id: int):
    customer = _customer(customer_id)
    form = EraseForm()
    if not form.validate_on_submit():
        return page(customer_id, erase_form=form, status=422)
    try:
        privacy.erase(db.session, customer, typed_name=form.confirm_name.data)
    except privacy.PrivacyError as error:
        db.session.rollback()
        form.confirm_name.errors = [privacy_error_message(error.code)]
        return page(customer_id, erase_form=form, status=422)
    audit("customer.erase", "customer", customer_id)
    db.session.commit()
    from app.tasks import purge_erased_traces

    purge_erased_traces()
    flash(
        _(
            "The %(person)s was erased. Their counts remain; nothing personal does.",
            person=shop_term("person"),
        ),
        "success",
    )
    return redirect(url_for("customers.show", customer_id=customer_id))


# ---- list export ------------------------------------------------------------------------


def column_labels() -> dict[str, str]:
    return {
        **profile_labels(),
        "tags": _("Tags"),
        "guardians": shop_term("guardians"),
        "consent": _("Consent"),
        "email_opt_out": _("Opted out of email"),
        "last_contact_at": _("Last contact"),
        "created_at": _("Created"),
        **custom_field_labels(),
    }


@bp.route("/customers/export")
@owner_required
def export():
    expression = request.args.get("q", "").strip()
    labels = column_labels()
    chosen = [key for key in request.args.getlist("columns") if key in labels]
    file_format = request.args.get("format")
    error = None
    try:
        query = exporting.export_query(db.session, expression, shop_context(db.session))
    except seg.SegmentError as problem:
        query, error = None, segment_error_message(problem, expression)
    if file_format in ("csv", "xlsx") and not error:
        if not chosen:
            error = _("Choose at least one column.")
        else:
            header = [labels[key] for key in chosen]
            data = exporting.rows(db.session, query, chosen)
            stamp = utcnow().strftime("%Y%m%d-%H%M")
            if file_format == "csv":
                body, mimetype = exporting.to_csv(header, data), "text/csv; charset=utf-8"
            else:
                body = exporting.to_xlsx(header, data, shop_term("customers"))
                mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
            audit(
                "customers.export",
                detail=f"{file_format} q={expression[:200]} columns={','.join(chosen)}",
            )
            db.session.commit()
            return Response(
                body,
                content_type=mimetype,
                headers={
                    "Content-Disposition": f'attachment; filename="customers-{stamp}.{file_format}"'
                },
            )
    count = 0 if error else exporting.count_of(db.session, query)
    return render_template(
        "privacy/export.html",
        expression=expression,
        labels=labels,
        chosen=chosen or list(exporting.DEFAULT_COLUMNS),
        error=error,
        count=count,
    ), (422 if error and file_format else 200)


# ---- the audit log ----------------------------------------------------------------------


@bp.route("/audit")
@owner_required
def audit_log():
    args = request.args

    def day(name: str):
        try:
            return datetime.strptime(args.get(name, ""), "%Y-%m-%d").date()
        except ValueError:
            return None  # an unreadable day filters nothing

    wanted = AuditFilter(
        action=args.get("action", "").strip(),
        user_id=args.get("user", type=int),
        customer_id=args.get("customer", type=int),
        since=day("since"),
        until=day("until"),
    )
    context = seg.Context(now=utcnow(), zone=get_shop(db.session).timezone)
    page_number = max(1, args.get("page", 1, type=int))
    rows, more = audit_page(db.session, wanted, context, page_number)
    actions = audit_actions(db.session)
    staff = accounts.all_staff(db.session)
    return render_template(
        "privacy/audit.html",
        rows=rows,
        more=more,
        page=page_number,
        newer_url=url_for("privacy.audit_log", **{**args.to_dict(), "page": page_number - 1}),
        older_url=url_for("privacy.audit_log", **{**args.to_dict(), "page": page_number + 1}),
        actions=actions,
        staff=staff,
        args=args,
    )
