"""Settings → Mail: the shop's mail server, and a test mail that reports the server's answer."""

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.settings import bp
from app.blueprints.settings.forms import MailServerForm, TestMailForm
from app.extensions import db
from app.security import audit, owner_required
from app.services import mail_settings
from app.services.campaigns.outbox.letter import Letter
from app.services.shop import ensure_shop, get_shop


def _step_words(step: str) -> str:
    return {
        "connect": _("Connecting"),
        "tls": _("Starting encryption"),
        "login": _("Logging in"),
        "sender": _("Giving the sender"),
        "recipient": _("Giving the recipient"),
        "data": _("Handing over the mail"),
        "address": _("Checking the addresses"),
        "host": _("Finding the server"),
        "timeout": _("Waiting for the server (10 s)"),
    }.get(step, step)


def _page(form, test_form, result=None, status=200):
    shop = get_shop(db.session)
    target = mail_settings.smtp_target(shop, current_app.config)
    return render_template(
        "settings/mail.html", form=form, test_form=test_form, shop=shop, target=target,
        result=result, step_words=_step_words(result.step) if result else "",
    ), status  # fmt: skip


@bp.route("/mail", methods=["GET", "POST"])
@owner_required
def mail():
    shop = ensure_shop(db.session) if request.method == "POST" else get_shop(db.session)
    form = MailServerForm(obj=shop)
    if request.method == "GET" and not shop.mail_security:
        form.mail_security.data = "starttls"
    test_form = TestMailForm(formdata=None, test_to=current_user.email)
    if form.validate_on_submit():
        mail_settings.save(shop, form.data, clear_password=bool(request.form.get("clear_password")))
        audit("settings.mail", "shop", shop.id)
        db.session.commit()
        g.pop("shop", None)
        flash(_("Mail server saved. Send a test mail to see that it works."), "success")
        return redirect(url_for("settings.mail"))
    return _page(form, test_form, status=422 if request.method == "POST" else 200)


@bp.route("/mail/test", methods=["POST"])
@owner_required
def mail_test():
    shop = get_shop(db.session)
    form = MailServerForm(formdata=None, obj=shop)
    test_form = TestMailForm()
    if not test_form.validate_on_submit():
        return _page(form, test_form, status=422)
    target = mail_settings.smtp_target(shop, current_app.config)
    sender = shop.sender_address or current_app.config["MAIL_DEFAULT_SENDER"]
    letter = Letter(
        subject=_("Test mail from %(shop)s", shop=shop.name),
        recipients=[("", test_form.test_to.data)],
        body=_("If you can read this, the mail server works: campaigns and reminders can go out."),
        html="<p>"
        + _("If you can read this, the mail server works: campaigns and reminders can go out.")
        + "</p>",
        sender=(shop.sender_name or shop.name, sender),
        timezone=shop.timezone or "Asia/Taipei",
    )
    result = mail_settings.send_test(target, letter)
    audit("settings.mail_test", "shop", shop.id, detail=f"{result.step}: {result.reply}"[:500])
    db.session.commit()
    return _page(form, test_form, result, status=200 if result.ok else 422)
