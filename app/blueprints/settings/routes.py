"""Shop settings views."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.blueprints.settings import bp
from app.blueprints.settings.forms import ShopForm
from app.extensions import db
from app.security import audit, owner_required
from app.services.shop import get_shop


@bp.route("/", methods=["GET", "POST"])
@owner_required
def shop():
    shop = get_shop(db.session)
    form = ShopForm(obj=shop)
    if form.validate_on_submit():
        shop.name = form.name.data.strip()
        shop.kind = form.kind.data
        shop.timezone = form.timezone.data.strip()
        shop.default_locale = form.default_locale.data
        shop.sender_address = (form.sender_address.data or "").strip() or None
        audit("settings.shop", "shop", shop.id)
        db.session.commit()
        g.pop("shop", None)
        flash(_("Settings saved."), "success")
        return redirect(url_for("settings.shop"))
    status = 422 if request.method == "POST" else 200
    return render_template("settings/shop.html", form=form), status
