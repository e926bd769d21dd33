"""Campaign views (front desk and owner) and the public unsubscribe page."""

import smtplib

from flask import (
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.campaigns import bp
from app.blueprints.campaigns.forms import ComposeForm
from app.blueprints.campaigns.words import skip_label, template_problem_message
from app.blueprints.segments.messages import segment_error_message
from app.extensions import csrf, db
from app.models import Campaign, Delivery
from app.models.campaign import CAMPAIGN_PURPOSES
from app.security import desk_required, public
from app.services import campaigns as service
from app.services import segments as seg
from app.services.campaigns import listing
from app.services.channels import sms_parts
from app.services.shop import get_shop, shop_context


def _request_base_url() -> str:
    """The address staff reach Hearth at: where unsubscribe links point when the shop set no
    public address (better than a guess; Settings says how to set the real one)."""
    return request.url_root.rstrip("/")[:200]


def _preview_settings(settings):
    import dataclasses

    if settings.base_url:
        return settings
    return dataclasses.replace(settings, base_url=_request_base_url())


def _context() -> seg.Context:
    return shop_context(db.session)


def _audience(expression: str, campaign: Campaign | None = None):
    """The customers an expression names, as recipients (each with the channel they will
    get it by) or with the reason they are skipped."""
    query = seg.customers_query(db.session, expression, _context()) if expression else None
    if query is None:
        abort(400)
    channels = campaign.channel_list if campaign else ["email"]
    use_preferred = bool(campaign.use_preferred) if campaign else False
    purpose = campaign.purpose if campaign else "marketing"
    return service.audience_for(
        db.session, query, get_shop(db.session), channels, use_preferred, purpose
    )


def _custom_keys() -> set[str]:
    return listing.custom_keys(db.session)


def _check(form: ComposeForm) -> bool:
    if not form.validate_on_submit():
        return False
    keys = _custom_keys()
    if not _texts_given(form):
        return False
    for field in (form.subject, form.body, form.short_text):
        try:
            service.check_template(field.data or "", keys)
        except service.TemplateProblem as problem:
            field.errors = [template_problem_message(problem)]
            return False
    return True


def _texts_given(form: ComposeForm) -> bool:
    """Email needs its subject and letter; SMS and LINE carry the short text, or the letter
    when the short text is empty. Says what is missing at its field."""
    channels, _preferred = form.channels()
    if "email" in channels:
        for field, words in ((form.subject, _("Write a subject.")),
                             (form.body, _("Write the message."))):  # fmt: skip
            if not (field.data or "").strip():
                field.errors = [words]
        return not (form.subject.errors or form.body.errors)
    if not (form.short_text.data or "").strip() and not (form.body.data or "").strip():
        form.short_text.errors = [_("Write the short message that SMS and LINE will carry.")]
        return False
    return True


@bp.route("/campaigns/")
@desk_required
def index():
    campaigns = listing.recent_campaigns(db.session)
    totals = {c.id: service.counts(db.session, c.id) for c in campaigns}
    return render_template("campaigns/index.html", campaigns=campaigns, totals=totals)


def _chosen_audience():
    """(saved segment or None, expression): a segment chosen by id, else the list's filter."""
    chosen = request.values.get("segment_id", "") or request.args.get("segment", "")
    segment = seg.segment_by_id(db.session, int(chosen)) if chosen.isdecimal() else None
    if segment is not None:
        return segment, segment.expression
    return None, (request.values.get("audience") or request.args.get("q", "")).strip()


def _draft(form: ComposeForm, expression: str, segment) -> Campaign:
    channels, use_preferred = form.channels()
    campaign = Campaign(
        audience=expression, segment_id=segment.id if segment else None, status="draft",
        created_by_id=current_user.id,
    )  # fmt: skip
    _fill(campaign, form)
    db.session.add(campaign)
    return campaign


def _fill(campaign: Campaign, form: ComposeForm) -> None:
    """What the form says into the campaign. Without email the subject is only the
    campaign's name on its pages: the start of the text when none was written."""
    campaign.channels, campaign.use_preferred = form.channels()
    campaign.purpose = form.purpose.data if form.purpose.data in CAMPAIGN_PURPOSES else "marketing"
    campaign.body = form.body.data or ""
    campaign.short_text = (form.short_text.data or "").strip() or None
    subject = (form.subject.data or "").strip()
    if not subject:
        first = (campaign.short_text or campaign.body).strip().splitlines() or [""]
        subject = first[0][:60]
    campaign.subject = subject


@bp.route("/campaigns/new", methods=["GET", "POST"])
@desk_required
def compose():
    segment, expression = _chosen_audience()
    if not expression:
        flash(
            _("Choose who to write to first: filter the list, then “Email these people”."), "info"
        )
        return redirect(url_for("customers.index"))
    try:
        audience = _audience(expression)
    except seg.SegmentError as error:
        flash(segment_error_message(error, expression), "error")
        return redirect(url_for("customers.index", q=expression))
    form = ComposeForm(audience=expression, segment_id=segment.id if segment else "")
    if request.method == "GET" and not form.body.data:
        # The unsubscribe footer is added to every mail in the recipient's language; the
        # greeting's punctuation follows the language (Chinese has no English comma).
        form.body.data = _("{{ greeting }},") + "\n\n"
    if _check(form):
        campaign = _draft(form, expression, segment)
        db.session.commit()
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "campaigns/compose.html",
        form=form,
        audience=audience,
        segment=segment,
        campaign=None,
        custom_fields=listing.custom_fields(db.session),
        skip_label=skip_label,
    ), status


@bp.route("/campaigns/<int:campaign_id>/edit", methods=["GET", "POST"])
@desk_required
def edit(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status != "draft":
        flash(_("This campaign was already sent; it cannot be changed."), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    form = ComposeForm(obj=campaign if request.method == "GET" else None)
    if request.method == "GET":
        form.load_channels(campaign)
    try:
        audience = _audience(campaign.audience, campaign)
    except seg.SegmentError as error:
        flash(segment_error_message(error, campaign.audience), "error")
        return redirect(url_for("campaigns.index"))
    if _check(form):
        _fill(campaign, form)
        db.session.commit()
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    status = 422 if request.method == "POST" else 200
    return render_template(
        "campaigns/compose.html",
        form=form,
        audience=audience,
        segment=campaign.segment,
        campaign=campaign,
        custom_fields=listing.custom_fields(db.session),
        skip_label=skip_label,
    ), status


def _preview(campaign: Campaign, recipients: list, index: int):
    """The rendered mail for the index-th sendable recipient (as the worker will build it)."""
    if not recipients:
        return None
    index = max(0, min(index, len(recipients) - 1))
    recipient = recipients[index]
    from app.tasks import send_settings

    fake = Delivery(
        id=0,
        campaign_id=campaign.id,
        customer_id=recipient.customer.id,
        address=recipient.address,
        recipient_name=recipient.name,
    )
    custom = service.custom_values_for(db.session, [recipient.customer.id])[recipient.customer.id]
    if recipient.channel != "email":
        try:
            text = service.build_short_message(
                campaign, recipient.customer, get_shop(db.session),
                _preview_settings(send_settings(current_app)), custom, current_app.secret_key,
                customer_id=recipient.customer.id,
            )  # fmt: skip
        except service.TemplateProblem as problem:
            return {"error": template_problem_message(problem), "index": index,
                    "recipient": recipient}  # fmt: skip
        return {"short": text, "parts": sms_parts(text), "index": index, "recipient": recipient}
    try:
        message = service.build_message(
            campaign,
            fake,
            recipient.customer,
            get_shop(db.session),
            _preview_settings(send_settings(current_app)),
            custom,
            current_app.secret_key,
        )
    except service.TemplateProblem as problem:
        return {"error": template_problem_message(problem), "index": index, "recipient": recipient}
    return {"message": message, "index": index, "recipient": recipient}


@bp.route("/campaigns/<int:campaign_id>")
@desk_required
def show(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    context = {"campaign": campaign, "skip_label": skip_label}
    if campaign.status == "draft":
        try:
            audience = _audience(campaign.audience, campaign)
        except seg.SegmentError as error:
            flash(segment_error_message(error, campaign.audience), "error")
            audience = service.Audience()
        context["audience"] = audience
        context["preview"] = _preview(
            campaign, audience.sendable, request.args.get("preview", 0, type=int)
        )
    else:
        context["totals"] = service.counts(db.session, campaign.id)
        context["channel_states"] = service.channel_states(db.session, campaign)
        status_filter = request.args.get("status")
        context["deliveries"] = listing.deliveries_page(
            db.session, campaign.id, status_filter, request.args.get("page", 1, type=int)
        )
        context["status_filter"] = status_filter
        context["uncertain"] = listing.uncertain_deliveries(db.session, campaign.id)
    return render_template("campaigns/show.html", **context)


@bp.route("/campaigns/<int:campaign_id>/test", methods=["POST"])
@desk_required
def test_send(campaign_id: int):
    from app.tasks import send_test_email

    campaign = db.get_or_404(Campaign, campaign_id)
    audience = _audience(campaign.audience)
    sendable = audience.sendable
    if not sendable:
        flash(
            _("Nobody in this audience can receive email, so there is nothing to preview."), "error"
        )
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    index = max(0, min(request.form.get("preview", 0, type=int), len(sendable) - 1))
    customer_id = sendable[index].customer.id
    address = current_user.email
    name = sendable[index].customer.display_name
    campaign.base_url = campaign.base_url or _request_base_url()
    db.session.commit()
    # Sent now, in this request, so the page can say what the mail server really answered.
    # Plain values only from here: touching an expired object would open a new (writing)
    # transaction while the send reads.
    try:
        send_test_email.call_local(campaign_id, customer_id, address)
    except (smtplib.SMTPException, OSError) as error:
        _kind, reason = service.classify_failure(error)
        flash(
            _(
                "The test mail was not sent: the mail server said “%(reason)s”.",
                reason=reason or type(error).__name__,
            ),
            "error",
        )
    else:
        flash(
            _(
                "The mail server accepted a test mail as %(name)s would get it, for %(address)s.",
                name=name,
                address=address,
            ),
            "success",
        )
    return redirect(url_for("campaigns.show", campaign_id=campaign_id, preview=index))


# ---- public: unsubscribe --------------------------------------------------------------------


@bp.route("/u/<token>", methods=["GET", "POST"], endpoint="unsubscribe")
@public
@csrf.exempt
def unsubscribe(token: str):
    """GET only asks (link scanners fetch URLs); POST, with or without cookies (RFC 8058
    one-click), records the opt-out at once."""
    parsed = service.read_unsubscribe_token(current_app.secret_key, token)
    if parsed is None:
        abort(404)
    campaign_id, customer_id = parsed
    if request.method == "POST":
        if not service.record_unsubscribe(db.session, campaign_id, customer_id):
            abort(404)
        db.session.commit()
        return render_template("public/unsubscribed.html")
    return render_template("public/unsubscribe.html", token=token)
