"""Tag management views (front desk and owner)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.tags import bp
from app.blueprints.tags.forms import MergeTagForm, NewTagForm, RecolourTagForm, RenameTagForm
from app.extensions import db
from app.forms import as_select_choices
from app.models import Tag
from app.security import audit, desk_required
from app.services import tags as tag_service
from app.vocabulary import shop_term


def tag_error_message(error: tag_service.TagError) -> str:
    return {
        "empty": _("Enter a name."),
        "too-long": _("Enter a tag name of at most 60 characters."),
        "exists": _("Another tag already has this name. Merge them instead."),
        "same": _("Choose another tag to merge into."),
        "colour": _("Choose one of the options."),
        "undone": _("This merge was already undone."),
        "taken": _("A tag with that name exists again; rename it first, then undo."),
    }.get(error.code, _("Please check the form."))


def _merge_form(tag: Tag, tags: list[Tag]) -> MergeTagForm:
    form = MergeTagForm(prefix=f"merge{tag.id}")
    form.target.choices = as_select_choices(
        [("", _("Choose a tag…"))]
        + [(str(other.id), other.name) for other in tags if other.id != tag.id]
    )
    return form


@bp.route("/", methods=["GET", "POST"])
@desk_required
def index():
    new_form = NewTagForm(prefix="new")
    status = 200
    if request.method == "POST":
        if new_form.validate():
            try:
                tag, created = tag_service.get_or_create_tag(
                    db.session, new_form.name.data, new_form.colour.data
                )
            except tag_service.TagError as error:
                db.session.rollback()
                new_form.name.errors = [tag_error_message(error)]
                status = 422
            else:
                if created:
                    db.session.commit()
                    flash(_("Tag %(name)s created.", name=tag.name), "success")
                else:
                    flash(_("Tag %(name)s already exists.", name=tag.name), "info")
                return redirect(url_for("tags.index"))
        else:
            status = 422
    rows = tag_service.counts(db.session)
    tags = [tag for tag, _count in rows]
    return (
        render_template(
            "tags/index.html",
            rows=rows,
            new_form=new_form,
            rename_form=RenameTagForm,
            colour_form=RecolourTagForm,
            merge_form=lambda tag: _merge_form(tag, tags),
            last_merge=tag_service.last_merge(db.session),
        ),
        status,
    )


@bp.route("/<int:tag_id>/rename", methods=["POST"])
@desk_required
def rename(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    form = RenameTagForm(prefix=f"rename{tag.id}")
    if not form.validate():
        flash(" ".join(map(str, form.name.errors)), "error")
        return redirect(url_for("tags.index"))
    old = tag.name
    try:
        tag_service.rename(db.session, tag, form.name.data)
    except tag_service.TagError as error:
        db.session.rollback()
        flash(tag_error_message(error), "error")
        return redirect(url_for("tags.index"))
    audit("tag.rename", "tag", tag.id, f"{old} -> {tag.name}")
    db.session.commit()
    flash(_("Renamed %(old)s to %(new)s.", old=old, new=tag.name), "success")
    return redirect(url_for("tags.index"))


@bp.route("/<int:tag_id>/colour", methods=["POST"])
@desk_required
def recolour(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    form = RecolourTagForm(prefix=f"colour{tag.id}")
    if not form.validate():
        flash(" ".join(map(str, form.colour.errors)), "error")
        return redirect(url_for("tags.index"))
    tag_service.recolour(tag, form.colour.data)
    db.session.commit()
    flash(_("Colour of %(name)s changed.", name=tag.name), "success")
    return redirect(url_for("tags.index"))


@bp.route("/<int:tag_id>/merge", methods=["POST"])
@desk_required
def merge(tag_id: int):
    """First a confirmation with the numbers; the merge itself only with confirm=1."""
    source = db.get_or_404(Tag, tag_id)
    tags = tag_service.all_tags(db.session)
    form = _merge_form(source, tags)
    if not form.validate() or not form.target.data:
        flash(" ".join(map(str, form.target.errors)) or _("Choose the tag to merge into."), "error")
        return redirect(url_for("tags.index"))
    target = db.get_or_404(Tag, int(form.target.data))
    if target.id == source.id:
        flash(tag_error_message(tag_service.TagError("same")), "error")
        return redirect(url_for("tags.index"))
    if request.form.get("confirm") != "1":
        return render_template(
            "tags/merge_confirm.html",
            source=source,
            target=target,
            form=form,
            numbers=tag_service.merge_preview(db.session, source, target),
        )
    source_name = source.name
    moved = tag_service.merge(db.session, source, target, actor_id=current_user.id)
    audit("tag.merge", "tag", target.id, f"{source_name} -> {target.name}")
    db.session.commit()
    flash(
        _(
            "Merged %(old)s into %(new)s (%(count)d %(people)s moved).",
            people=shop_term("people"),
            old=source_name,
            new=target.name,
            count=moved,
        ),
        "success",
    )
    return redirect(url_for("tags.index"))


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@desk_required
def undo_merge(merge_id: int):
    from app.models import TagMerge

    record = db.get_or_404(TagMerge, merge_id)
    try:
        tag = tag_service.undo_merge(db.session, record)
    except tag_service.TagError as error:
        db.session.rollback()
        flash(tag_error_message(error), "error")
        return redirect(url_for("tags.index"))
    audit("tag.merge_undo", "tag", tag.id, record.source_name)
    db.session.commit()
    flash(_("Merge undone: %(name)s is back.", name=tag.name), "success")
    return redirect(url_for("tags.index"))


@bp.route("/<int:tag_id>/delete", methods=["GET", "POST"])
@desk_required
def delete(tag_id: int):
    tag = db.get_or_404(Tag, tag_id)
    count = dict((t.id, c) for t, c in tag_service.counts(db.session)).get(tag.id, 0)
    if request.method == "POST":
        name = tag.name
        tag_service.delete(db.session, tag)
        audit("tag.delete", "tag", tag_id, name)
        db.session.commit()
        flash(_("Tag %(name)s deleted.", name=name), "info")
        return redirect(url_for("tags.index"))
    return render_template("tags/delete.html", tag=tag, count=count)
