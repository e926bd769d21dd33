"""Settings → SMS and LINE: what the owner types from the providers' consoles, the providers'
own status, and a test SMS and a test LINE message that report the provider's answer."""

from decimal import Decimal

from flask import current_app, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.blueprints.settings import bp
from app.blueprints.settings.forms import ChannelsForm, TestLineForm, TestSmsForm
from app.extensions import db
from app.forms import as_select_choices
from app.htmx import is_partial
from app.security import audit, owner_required
from app.services.channels import setup, trial
from app.services.shop import ensure_shop, get_shop


def _line_choices(form: TestLineForm) -> dict:
    """Fills the picker with the linked customers; link id → LINE user id."""
    links = trial.linked_accounts(db.session)
    form.link_id.choices = as_select_choices(
        [("", "—")] + [(str(link.id), f"{name} · {link.display_name or 'LINE'}")
                       for link, name in links]
    )  # fmt: skip
    return {str(link.id): link.user_id for link, _name in links}


def _public_base(shop) -> str:
    return (shop.public_base_url or request.url_root).rstrip("/")


def _page(form, sms_form, line_form, *, sms_result=None, line_result=None, status=200):
    shop = get_shop(db.session)
    providers = trial.provider_status(shop, current_app.config)
    base = _public_base(shop)
    return render_template(
        "settings/channels.html", form=form, sms_form=sms_form, line_form=line_form, shop=shop,
        configured=setup.configured(shop), unreadable=setup.unreadable(shop),
        providers=providers, sms_result=sms_result, line_result=line_result,
        webhook_url=f"{base}{url_for('webhooks.line_webhook')}",
        not_https=not base.lower().startswith("https://"),
    ), status  # fmt: skip


def _test_forms(sms_data=None, line_data=None):
    sms_form = TestSmsForm(formdata=sms_data, prefix="sms")
    line_form = TestLineForm(formdata=line_data, prefix="line")
    return sms_form, line_form


@bp.route("/channels", methods=["GET", "POST"])
@owner_required
def channels():
    """SMS gateway and LINE channel: what the owner types from the providers' consoles;
    the SMS balance and LINE's monthly quota as the providers report them."""
    shop = ensure_shop(db.session) if request.method == "POST" else get_shop(db.session)
    form = ChannelsForm(obj=shop)
    if request.method == "GET":
        form.sms_part_price.data = Decimal(shop.sms_part_price_cents or 0) / 100
    if form.validate_on_submit():
        setup.save_settings(shop, form.data, clear_line=bool(request.form.get("clear_line")))
        audit("settings.channels", "shop", shop.id)
        db.session.commit()
        g.pop("shop", None)
        flash(_("Settings saved."), "success")
        return redirect(url_for("settings.channels"))
    sms_form, line_form = _test_forms()
    _line_choices(line_form)
    return _page(form, sms_form, line_form, status=422 if request.method == "POST" else 200)


def _saved_form(shop) -> ChannelsForm:
    form = ChannelsForm(formdata=None, obj=shop)
    form.sms_part_price.data = Decimal(shop.sms_part_price_cents or 0) / 100
    return form


@bp.route("/channels/test-sms", methods=["POST"])
@owner_required
def channels_test_sms():
    """One SMS to the number typed, through the saved gateway; the gateway's answer."""
    shop = get_shop(db.session)
    sms_form, line_form = _test_forms(sms_data=request.form)
    result, status = None, 422
    if sms_form.validate_on_submit():
        text = _("Test SMS from %(shop)s: if this arrived, SMS works.", shop=shop.name)
        result = trial.send_test_sms(shop, current_app.config, sms_form.test_number.data, text)
        if result is None:
            sms_form.test_number.errors = [_("Set up SMS above and save first.")]
        else:
            audit("settings.sms_test", "shop", shop.id,
                  detail=f"{result.code or 'ok'}: {result.reply}"[:500])  # fmt: skip
            db.session.commit()
            status = 200 if result.ok else 422
    if is_partial("sms-test"):
        return render_template("settings/_sms_test.html", sms_form=sms_form,
                               sms_result=result, configured=setup.configured(shop)), status  # fmt: skip
    _line_choices(line_form)
    return _page(_saved_form(shop), sms_form, line_form, sms_result=result, status=status)


@bp.route("/channels/test-line", methods=["POST"])
@owner_required
def channels_test_line():
    """One LINE message to the linked customer picked, through the saved channel."""
    shop = get_shop(db.session)
    sms_form, line_form = _test_forms(line_data=request.form)
    users = _line_choices(line_form)
    result, status = None, 422
    if line_form.validate_on_submit():
        text = _("Test message from %(shop)s: if this arrived, LINE works.", shop=shop.name)
        user_id = users[line_form.link_id.data]
        result = trial.send_test_line(shop, current_app.config, user_id, text)
        if result is None:
            line_form.link_id.errors = [_("Set up LINE above and save first.")]
        else:
            audit("settings.line_test", "shop", shop.id,
                  detail=f"{result.code or 'ok'}: {result.reply}"[:500])  # fmt: skip
            db.session.commit()
            status = 200 if result.ok else 422
    if is_partial("line-test"):
        return render_template("settings/_line_test.html", line_form=line_form,
                               line_result=result, configured=setup.configured(shop)), status  # fmt: skip
    return _page(_saved_form(shop), sms_form, line_form, line_result=result, status=status)
