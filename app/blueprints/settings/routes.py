"""Shop settings views."""

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from app.blueprints.settings import bp
from app.blueprints.settings.forms import CustomFieldForm, GroupsForm, ShopForm
from app.extensions import db
from app.forms import as_select_choices
from app.models import CustomField
from app.security import audit, owner_required
from app.services import customers as customer_service
from app.services import groups as group_service
from app.services import tags as tag_service
from app.services.customers import custom_fields
from app.services.shop import ensure_shop, get_shop


@bp.route("/", methods=["GET", "POST"])
@owner_required
def shop():
    shop = ensure_shop(db.session) if request.method == "POST" else get_shop(db.session)
    form = ShopForm(obj=shop)
    if form.validate_on_submit():
        shop.name = form.name.data.strip()
        shop.kind = form.kind.data
        shop.timezone = form.timezone.data.strip()
        shop.default_locale = form.default_locale.data
        shop.sender_address = (form.sender_address.data or "").strip() or None
        shop.sender_name = (form.sender_name.data or "").strip() or None
        shop.public_base_url = (form.public_base_url.data or "").strip().rstrip("/") or None
        shop.mail_rate_per_minute = form.mail_rate_per_minute.data
        shop.mail_max_consecutive_failures = form.mail_max_consecutive_failures.data
        for level in "abc":
            value = (getattr(form, f"level_{level}_name").data or "").strip() or None
            setattr(shop, f"level_{level}_name", value)
        audit("settings.shop", "shop", shop.id)
        db.session.commit()
        g.pop("shop", None)
        flash(_("Settings saved."), "success")
        return redirect(url_for("settings.shop"))
    status = 422 if request.method == "POST" else 200
    from pathlib import Path

    from flask import current_app

    from app.services.backup import last_backup

    record = last_backup(Path(current_app.instance_path) / "last-backup.json")
    return render_template("settings/shop.html", form=form, last_backup=record), status


@bp.route("/fields", methods=["GET", "POST"])
@owner_required
def fields():
    """Custom fields every customer has, e.g. "teacher's words" (merge field custom.KEY)."""
    form = CustomFieldForm()
    status = 200
    if form.validate_on_submit():
        try:
            field = customer_service.add_custom_field(
                db.session, form.key.data or "", form.label.data
            )
        except customer_service.CustomerError:
            db.session.rollback()
            form.key.errors = [_("Another field already uses this name.")]
            status = 422
        else:
            audit("settings.field_add", detail=field.key)
            db.session.commit()
            flash(_("Field %(label)s added.", label=form.label.data.strip()), "success")
            return redirect(url_for("settings.fields"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "settings/fields.html", form=form, fields=custom_fields(db.session)
    ), status


@bp.route("/fields/<int:field_id>/delete", methods=["POST"])
@owner_required
def delete_field(field_id: int):
    field = db.get_or_404(CustomField, field_id)
    label = field.label
    db.session.delete(field)
    audit("settings.field_delete", detail=field.key)
    db.session.commit()
    flash(_("Field %(label)s and its values were removed.", label=label), "info")
    return redirect(url_for("settings.fields"))


@bp.route("/groups", methods=["GET", "POST"])
@owner_required
def groups():
    """Classes for the teacher's Today view, and which teacher looks after which."""
    shop = ensure_shop(db.session) if request.method == "POST" else get_shop(db.session)
    tags = tag_service.all_tags(db.session)
    form = GroupsForm()
    form.tags.choices = as_select_choices([(str(tag.id), tag.name) for tag in tags])
    form.field_id.choices = as_select_choices(
        [("", "—")] + [(str(f.id), f.label) for f in custom_fields(db.session)]
    )
    teachers = group_service.active_teachers(db.session)
    if request.method == "GET":
        form.source.data = shop.group_source
        form.tags.data = [str(tag.id) for tag in tags if tag.is_group]
        form.field_id.data = str(shop.group_field_id or "")
    status = 200
    if form.validate_on_submit():
        status = _save_groups(form, shop, teachers)
        if status == 302:
            return redirect(url_for("settings.groups"))
    elif request.method == "POST":
        status = 422
    return render_template(
        "settings/groups.html",
        form=form,
        teachers=teachers,
        group_names=group_service.group_names(db.session, shop),
    ), status


def _save_groups(form, shop, teachers) -> int:
    """Saves the groups form: 302 when saved, 422 with the form's errors or a message."""
    try:
        group_service.save_groups(
            db.session, shop, source=form.source.data,
            field_id=int(form.field_id.data) if form.field_id.data else None,
            group_tag_ids={int(value) for value in form.tags.data or [] if value.isdecimal()},
            picks={t.id: request.form.getlist(f"teacher-{t.id}") for t in teachers},
        )  # fmt: skip
    except group_service.GroupError:
        db.session.rollback()
        form.field_id.errors = [_("Choose the field whose values are the groups.")]
        return 422
    audit("settings.groups", "shop", shop.id)
    db.session.commit()
    g.pop("shop", None)
    flash(_("Groups saved."), "success")
    return 302
