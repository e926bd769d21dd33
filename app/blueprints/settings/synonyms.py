"""The owner's alert synonyms: keywords that mean the same thing (花生 = peanut = 土豆), so the
owner's home counts them as one."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from app.blueprints.settings import bp
from app.extensions import db
from app.security import audit, owner_required
from app.services import alert_synonyms
from app.services.shop import ensure_shop, get_shop


class SynonymsForm(FlaskForm):
    synonyms = TextAreaField(
        _l("Keywords that mean the same, one group per line"),
        validators=[Optional(), Length(max=5000)],
    )


def _error_message(error: alert_synonyms.SynonymError) -> str:
    return {
        "one-word": _("“%(line)s” has one keyword: write two or more with = between them.",
                      line=error.detail),
        "too-long": _("“%(line)s”: a keyword is at most 40 characters.", line=error.detail),
        "repeated": _("“%(word)s” is on two lines: keep it on one.", word=error.detail),
        "too-many": _("At most %(number)s lines.", number=error.detail),
    }.get(error.code, _("Check the values and try again."))  # fmt: skip


@bp.route("/synonyms", methods=["GET", "POST"])
@owner_required
def synonyms():
    shop = ensure_shop(db.session) if request.method == "POST" else get_shop(db.session)
    form = SynonymsForm()
    if not form.is_submitted():
        form.synonyms.data = alert_synonyms.as_text(shop)
    status = 200
    if form.validate_on_submit():
        try:
            alert_synonyms.save(db.session, shop, form.synonyms.data or "")
        except alert_synonyms.SynonymError as error:
            db.session.rollback()
            form.synonyms.errors = [_error_message(error)]
        else:
            audit("settings.synonyms", "shop", shop.id, " | ".join(shop.alert_synonyms))
            db.session.commit()
            flash(_("Synonyms saved."), "success")
            return redirect(url_for("settings.synonyms"))
    if form.is_submitted():
        status = 422
    return render_template("settings/synonyms.html", form=form), status
