"""Sending a campaign and following it: the review (warning when a channel in use is down),
send, the live progress with each channel's state, pause, resume and cancel, resuming or
retrying one channel, and the owner's decision on an uncertain delivery."""

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
from flask_babel import ngettext
from flask_login import current_user

from app.blueprints.campaigns import bp
from app.blueprints.campaigns.routes import (
    _audience,
    _custom_keys,
    _preview,
    _request_base_url,
)
from app.blueprints.campaigns.words import (
    channel_label,
    reason_label,
    skip_label,
    template_problem_message,
)
from app.blueprints.segments.messages import segment_error_message
from app.blueprints.shared import mail_server_status
from app.db import begin_write
from app.extensions import db
from app.models import Campaign, Delivery
from app.models.campaign import SEND_CHANNELS
from app.security import audit, client_ip, desk_required
from app.services import campaigns as service
from app.services import segments as seg
from app.services.campaigns.health import channel_problem
from app.services.shop import get_shop


@bp.route("/campaigns/<int:campaign_id>/progress")
@desk_required
def progress(campaign_id: int):
    campaign = db.get_or_404(Campaign, campaign_id)
    totals = service.counts(db.session, campaign.id)
    response = make_response(
        render_template(
            "campaigns/_progress.html", campaign=campaign, totals=totals,
            channel_states=service.channel_states(db.session, campaign),
        )
    )  # fmt: skip
    if campaign.status in ("done", "cancelled", "paused", "draft"):
        response.status_code = 286  # htmx: stop polling
    return response


@bp.route("/campaigns/<int:campaign_id>/review")
@desk_required
def review(campaign_id: int, status: int = 200, confirm_error: str | None = None):
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
        confirm_error=confirm_error,
        campaign=campaign,
        audience=audience,
        preview=preview,
        previews=_channel_previews(campaign, audience),
        channel_costs=channel_costs(campaign, audience),
        skip_label=skip_label,
        mail_server=mail_server_status(),
        down=_down_channels(audience),
    ), status


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
    if _down_channels(audience) and request.form.get("send_anyway") != "1":
        # A channel in use is down: its people would only wait. Asked, not refused.
        return review(campaign_id, status=422, confirm_error=_("A channel you use cannot send now. Tick “Send "
                                         "anyway” to send to the others now, or put it right "
                                         "first."))  # fmt: skip
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
    still_down = _resume_channels(campaign) if action == "resume" else []
    if service.change_status(
        db.session, campaign, action, actor_id=current_user.id, ip=client_ip()
    ):
        db.session.commit()
        if action == "resume":
            send_campaign(campaign_id)
        flash(message, "success")
    for words in still_down:
        flash(words, "error")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


def _resume_channels(campaign: Campaign) -> list[str]:
    """On the campaign's Resume, each paused channel whose server answers again resumes
    too; returns what to say about those still down (they stay paused)."""
    said = []
    for state in service.channel_states(db.session, campaign):
        if state.state != "paused":
            continue
        problem = _problem(state.channel, fresh=True)
        if problem:
            said.append(_still_down(state.channel, problem))
        else:
            service.resume_channel(db.session, campaign, state.channel,
                                   actor_id=current_user.id, ip=client_ip())  # fmt: skip
    return said


def _problem(channel: str, *, fresh: bool = False):
    return channel_problem(
        db.session, get_shop(db.session), current_app.config, channel, fresh=fresh
    )


def _still_down(channel: str, problem) -> str:
    return _("%(channel)s stays paused: %(reason)s",
             channel=channel_label(channel), reason=reason_label(*problem, channel))  # fmt: skip


def _down_channels(audience) -> dict:
    """channel → {"people", "reason"} for each channel the audience uses that cannot send."""
    down = {}
    for channel, people in audience.by_channel().items():
        if people:
            problem = _problem(channel)
            if problem:
                down[channel] = {"people": people, "reason": reason_label(*problem, channel)}
    return down


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


def _channel_of(campaign_id: int, channel: str) -> Campaign:
    if channel not in SEND_CHANNELS:
        abort(404)
    return db.get_or_404(Campaign, campaign_id)


@bp.route("/campaigns/<int:campaign_id>/channels/<channel>/resume", methods=["POST"])
@desk_required
def resume_channel(campaign_id: int, channel: str):
    """One paused channel sends again, when its server answers; else the page says why
    it stays paused (instead of pausing again at once with no word)."""
    from app.tasks import send_campaign

    campaign = _channel_of(campaign_id, channel)
    problem = _problem(channel, fresh=True)
    if problem:
        flash(_still_down(channel, problem), "error")
    elif service.resume_channel(db.session, campaign, channel, actor_id=current_user.id,
                                ip=client_ip()):  # fmt: skip
        db.session.commit()
        send_campaign(campaign_id)
        flash(_("%(channel)s resumed.", channel=channel_label(channel)), "success")
    else:
        db.session.commit()
        flash(_("%(channel)s is not paused.", channel=channel_label(channel)), "info")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))


@bp.route("/campaigns/<int:campaign_id>/channels/<channel>/retry", methods=["POST"])
@desk_required
def retry_channel(campaign_id: int, channel: str):
    """The channel's failed deliveries that may go now are sent again, each once."""
    from app.tasks import send_campaign

    campaign = _channel_of(campaign_id, channel)
    problem = _problem(channel, fresh=True)
    if problem:
        flash(_still_down(channel, problem), "error")
        return redirect(url_for("campaigns.show", campaign_id=campaign_id))
    again = service.retry_failed(
        db.session, campaign, channel, actor_id=current_user.id, ip=client_ip()
    )
    db.session.commit()
    if again:
        send_campaign(campaign_id)
        flash(ngettext("%(num)d failed message will be sent again (%(channel)s).",
                       "%(num)d failed messages will be sent again (%(channel)s).",
                       again, channel=channel_label(channel)), "success")  # fmt: skip
    else:
        flash(_("Nothing to send again: those messages were retried already."), "info")
    return redirect(url_for("campaigns.show", campaign_id=campaign_id))
