"""Campaign views (front desk and owner) and the public unsubscribe page."""

import smtplib

from flask import (
    abort,
    current_app,
    flash,
    make_response,
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
from app.blueprints.shared import mail_server_status
from app.db import begin_write
from app.extensions import csrf, db
from app.models import Campaign, Delivery
from app.security import audit, client_ip, desk_required, public
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
    return service.audience_for(db.session, query, get_shop(db.session), channels, use_preferred)


def _custom_keys() -> set[str]:
    return listing.custom_keys(db.session)


def _check(form: ComposeForm) -> bool:
    if not form.validate_on_submit():
        return False
    keys = _custom_keys()
    channels, _preferred = form.channels()
    if "email" not in channels and not (form.short_text.data or "").strip():
        form.short_text.errors = [_("Write the short message that SMS and LINE will carry.")]
        return False
    for field in (form.subject, form.body, form.short_text):
        try:
            service.check_template(field.data or "", keys)
        except service.TemplateProblem as problem:
            field.errors = [template_problem_message(problem)]
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
        subject=form.subject.data.strip(), body=form.body.data, audience=expression,
        segment_id=segment.id if segment else None, status="draft", created_by_id=current_user.id,
        channels=channels, use_preferred=use_preferred,
        short_text=(form.short_text.data or "").strip() or None,
    )  # fmt: skip
    db.session.add(campaign)
    return campaign


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
        campaign.subject, campaign.body = form.subject.data.strip(), form.body.data
        campaign.channels, campaign.use_preferred = form.channels()
        campaign.short_text = (form.short_text.data or "").strip() or None
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
        context["by_channel"] = service.counts_by_channel(db.session, campaign.id)
        status_filter = request.args.get("status")
        context["deliveries"] = listing.deliveries_page(
            db.session, campaign.id, status_filter, request.args.get("page", 1, type=int)
        )
        context["status_filter"] = status_filter
        context["uncertain"] = listing.uncertain_deliveries(db.session, campaign.id)
    return render_template("campaigns/show.html", **context)


@bp.route("/campaigns/<int:campaign_id>/progress")
@desk_required
def progress(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    totals = service.counts(db.session, campaign.id)
    by_channel = service.counts_by_channel(db.session, campaign.id)
    response = make_response(
        render_template(
            "campaigns/_progress.html", campaign=campaign, totals=totals, by_channel=by_channel
        )
    )
    if campaign.status in ("done", "cancelled", "paused", "draft"):
        response.status_code = 286  # htmx: stop polling
    return response


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


@bp.route("/campaigns/<int:campaign_id>/review")
@desk_required
def review(campaign_id: int):
    """The last step before sending: how many, by which channel, who is skipped, the
    subject and the first recipient's mail as it will be sent."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status != "draft":
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    try:
        audience = _audience(campaign.audience, campaign)
    except seg.SegmentError as error:
        flash(segment_error_message(error, campaign.audience), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    preview = _preview(campaign, audience.sendable, 0)
    if not audience.sendable or (preview and preview.get("error")):
        if preview and preview.get("error"):
            flash(preview["error"], "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    return render_template(
        "campaigns/review.html",
        campaign=campaign,
        audience=audience,
        preview=preview,
        previews=_channel_previews(campaign, audience),
        channel_costs=channel_costs(campaign, audience),
        skip_label=skip_label,
        mail_server=mail_server_status(),
    )


def _channel_previews(campaign: Campaign, audience) -> dict:
    """The first recipient's message on each channel the campaign will use."""
    previews = {}
    for channel in ("email", "sms", "line"):
        people = [r for r in audience.sendable if r.channel == channel]
        if people:
            previews[channel] = _preview(campaign, people, 0)
    return previews


def channel_costs(campaign: Campaign, audience) -> dict:
    """What the SMS will cost (parts of the first message × recipients × the shop's price
    per part) and how much of LINE's monthly quota is left."""
    from app.services.channels.setup import line_api, sms_transport

    shop = get_shop(db.session)
    by_channel = audience.by_channel()
    result: dict = {"by_channel": by_channel}
    if by_channel.get("sms"):
        first = _preview(campaign, [r for r in audience.sendable if r.channel == "sms"], 0)
        parts = first["parts"]["parts"] if first and "parts" in first else 1
        result["sms_parts"] = parts
        result["sms_cost"] = round(by_channel["sms"] * parts * shop.sms_part_price_cents / 100, 2)
        transport = sms_transport(shop, current_app.config)
        result["sms_balance"] = transport.balance() if transport else None
    if by_channel.get("line"):
        api = line_api(shop, current_app.config)
        quota = api.quota() if api else None
        if api:
            api.close()
        result["line_quota"] = quota
        if quota and quota["limit"] is not None:
            result["line_left"] = max(0, quota["limit"] - quota["used"])
    return result


@bp.route("/campaigns/<int:campaign_id>/send", methods=["POST"])
@desk_required
def send(campaign_id: int):
    from app.tasks import send_campaign

    campaign = db.get_or_404(Campaign, campaign_id)
    if campaign.status != "draft":
        flash(_("This campaign is already on its way."), "info")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    try:
        audience = _audience(campaign.audience, campaign)
        service.check_template(
            campaign.subject + "\n" + campaign.body + "\n" + (campaign.short_text or ""),
            _custom_keys(),
        )
    except seg.SegmentError as error:
        flash(segment_error_message(error, campaign.audience), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    except service.TemplateProblem as problem:
        flash(template_problem_message(problem), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign.id))
    begin_write(db.session)
    campaign.base_url = _request_base_url()
    queued = service.queue(db.session, campaign, audience)
    audit(
        "campaign.send",
        "campaign",
        campaign.id,
        f"{queued} recipients, {len(audience.sendable)} sendable",
    )
    db.session.commit()
    send_campaign(campaign_id)  # plain values after the commit (see test_send)
    flash(_("Sending has started. You can leave this page; the worker carries on."), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


def _change_status(campaign_id: int, action: str, message: str):
    from app.tasks import send_campaign

    campaign = db.get_or_404(Campaign, campaign_id)
    if service.change_status(
        db.session, campaign, action, actor_id=current_user.id, ip=client_ip()
    ):
        db.session.commit()
        if action == "resume":
            send_campaign(campaign_id)
        flash(message, "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/pause", methods=["POST"])
@desk_required
def pause(campaign_id: int):
    return _change_status(campaign_id, "pause", _("Paused. Nothing more is sent until you resume."))


@bp.route("/campaigns/<int:campaign_id>/resume", methods=["POST"])
@desk_required
def resume(campaign_id: int):
    return _change_status(campaign_id, "resume", _("Resumed."))


@bp.route("/campaigns/<int:campaign_id>/cancel", methods=["POST"])
@desk_required
def cancel(campaign_id: int):
    return _change_status(
        campaign_id, "cancel", _("Cancelled. Mail already sent stays sent; the rest is not sent.")
    )


@bp.route("/campaigns/<int:campaign_id>/deliveries/<int:delivery_id>/<decision>", methods=["POST"])
@desk_required
def decide(campaign_id: int, delivery_id: int, decision: str):
    """For an uncertain delivery the owner decides: send again, or count it as sent."""
    from app.tasks import send_campaign

    delivery = db.get_or_404(Delivery, delivery_id)
    if (
        delivery is None
        or delivery.campaign_id != campaign_id
        or decision not in ("resend", "sent")
    ):
        abort(404)
    if delivery.status != "uncertain":
        flash(_("That delivery is no longer uncertain."), "info")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    resend_now = service.decide_uncertain(
        db.session, delivery, decision, actor_id=current_user.id, ip=client_ip()
    )
    db.session.commit()
    if resend_now:
        send_campaign(campaign_id)
    flash(_("Will be sent again.") if decision == "resend" else _("Counted as sent."), "success")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


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
