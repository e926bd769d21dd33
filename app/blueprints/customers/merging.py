"""Duplicates: the finder's list of likely pairs, "not the same person", the side-by-side
merge page, and undoing a merge. Thin: the rules live in services.merging."""

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from app.blueprints.customers import bp
from app.blueprints.customers.forms import MergeForm, NotDuplicateForm, channel_choices
from app.extensions import db
from app.models import User
from app.security import client_ip, desk_required
from app.services import merging
from app.services.merging import MergeError
from app.vocabulary import shop_term

FIELD_LABELS = {
    "display_name": _l("Name"),
    "nickname": _l("Nickname (used in greetings)"),
    "level": _l("Level"),
    "birthday": _l("Birthday"),
    "phone": _l("Phone"),
    "email": _l("Email"),
    "postal_address": _l("Postal address"),
    "preferred_channel": _l("Preferred contact"),
    "occupation": _l("Occupation"),
    "summary": _l("One-line summary"),
    "assigned_user_id": _l("Looked after by"),
}

# What moves, as the merge page counts it (LINE codes are short-lived: not counted).
TABLE_LABELS = {
    "timeline_entry": _l("Timeline"),
    "customer_tag": _l("Tags"),
    "family_member": _l("Family"),
    "important_date": _l("Important dates"),
    "custom_field_value": _l("More about them"),
    "line_link": _l("LINE"),
    "consent_event": _l("Consent history"),
    "enrolment": _l("Enrolments"),
    "attendance": _l("Attendance"),
    "delivery": _l("Messages sent"),
    "purchase": _l("Purchases"),
    "reminder": _l("Reminders"),
    "stay": _l("Stays"),
    "stay_payment": _l("Payments"),
}


def merge_error_message(error: MergeError) -> str:
    messages = {
        "same": _("These are the same record: choose two different %(people)s.",
                  people=shop_term("people")),
        "missing": _("One of these records no longer exists."),
        "erased": _("A record whose personal data was erased cannot be merged."),
        "merged": _("One of these records was already merged into another."),
        "changed": _("Someone saved one of these records while you were comparing them. "
                     "Look at them again and merge once more."),
        "undone": _("This merge was already undone."),
        "merged_again": _("The surviving record was merged again since: undo that merge first."),
        "choice": _("Choose each field from one side or the other."),
    }  # fmt: skip
    return messages.get(error.code, _("These records cannot be merged."))


def _reason_text(kind: str, detail: str) -> str:
    texts = {
        "phone": _("same phone %(phone)s", phone=detail),
        "email": _("same email %(email)s", email=detail),
        "name": _("similar name %(names)s", names=detail),
        "birthday": _("same birthday %(day)s and a similar name", day=detail),
    }
    return texts.get(kind, detail)


def _duplicates_page(problem: str | None = None, status: int = 200):
    pairs, total = merging.find_pairs(db.session)
    return render_template(
        "customers/duplicates.html", pairs=pairs, total=total, reason_text=_reason_text,
        form=NotDuplicateForm(formdata=None), problem=problem,
    ), status  # fmt: skip


@bp.route("/duplicates")
@desk_required
def duplicates():
    return _duplicates_page()


@bp.route("/duplicates/not-same", methods=["POST"])
@desk_required
def not_duplicate():
    form = NotDuplicateForm()
    if not form.validate_on_submit():
        return _duplicates_page(_("Choose two records from the list."), 422)
    try:
        merging.mark_not_duplicate(
            db.session, form.first.data, form.second.data, actor_id=current_user.id
        )
    except MergeError as error:
        db.session.rollback()
        return _duplicates_page(merge_error_message(error), error.status)
    db.session.commit()
    flash(_("Noted: they are different people. The pair is not shown again."), "success")
    return redirect(url_for("customers.duplicates"))


def _shown(name: str, value) -> str:
    """A field's value as the merge page shows it."""
    if value in (None, ""):
        return ""
    if name == "level":
        from app.templating import _level_label

        return str(_level_label(value))
    if name == "preferred_channel":
        return str(dict(channel_choices()).get(value, value))
    if name == "assigned_user_id":
        user = db.session.get(User, value)
        return user.name if user else ""
    return value.isoformat() if name == "birthday" else str(value)


def _merge_page(keep_id: int, other_id: int, *, form=None, problem=None, status=200):
    try:
        preview = merging.merge_preview(db.session, keep_id, other_id)
    except MergeError as error:
        if error.code == "missing":
            abort(404)
        return render_template(
            "customers/merge.html", preview=None, problem=merge_error_message(error)
        ), error.status
    survivor, other = preview["survivor"], preview["other"]
    if form is None:
        form = MergeForm(formdata=None, keep=survivor.id, other=other.id,
                         keep_version=survivor.version, other_version=other.version)  # fmt: skip
    chosen = request.form if request.method == "POST" else {}
    rows = [
        {
            "name": name,
            "label": FIELD_LABELS[name],
            "mine": _shown(name, mine),
            "theirs": _shown(name, theirs),
            # Shown as it will be saved: a blank on the survivor's side is filled from the other.
            "other_chosen": chosen.get(f"choose-{name}") == "other"
            if chosen
            else mine in (None, "") and theirs not in (None, ""),
        }
        for name, mine, theirs in preview["fields"]
    ]
    return render_template(
        "customers/merge.html", preview=preview, survivor=survivor, other=other, rows=rows,
        counts={TABLE_LABELS[table]: n for table, n in preview["counts"].items()
                if n and table in TABLE_LABELS},
        form=form,
        problem=problem,
    ), status  # fmt: skip


def _id_argument(name: str) -> int:
    value = request.args.get(name, "")
    if not value.isdigit():
        abort(400)
    return int(value)


@bp.route("/merge", methods=["GET"])
@desk_required
def merge():
    return _merge_page(_id_argument("keep"), _id_argument("other"))


@bp.route("/merge", methods=["POST"])
@desk_required
def merge_submit():
    form = MergeForm()
    if not form.validate_on_submit():
        if form.keep.data and form.other.data:
            return _merge_page(form.keep.data, form.other.data, form=form, status=422,
                               problem=_("The form was incomplete: look again and merge."))  # fmt: skip
        abort(400)
    choices = {name: request.form.get(f"choose-{name}", "keep") for name in merging.MERGE_FIELDS}
    try:
        record = merging.merge(
            db.session, form.keep.data, form.other.data, choices=choices,
            versions=(form.keep_version.data, form.other_version.data),
            actor=current_user, ip=client_ip(),
        )  # fmt: skip
    except MergeError as error:
        db.session.rollback()
        if error.code == "missing":
            abort(404)
        return _merge_page(form.keep.data, form.other.data, form=form, status=error.status,
                           problem=merge_error_message(error))  # fmt: skip
    db.session.commit()
    flash(
        _("%(other)s is merged into this record. Everything of theirs is here now.",
          other=record.other_name),
        "success",
    )  # fmt: skip
    return redirect(url_for("customers.show", customer_id=record.survivor_id))


@bp.route("/merges/<int:merge_id>/undo", methods=["POST"])
@desk_required
def merge_undo(merge_id: int):
    try:
        record = merging.undo(db.session, merge_id, actor=current_user, ip=client_ip())
    except MergeError as error:
        db.session.rollback()
        if error.code == "missing":
            abort(404)
        return render_template(
            "customers/merge.html", preview=None, problem=merge_error_message(error)
        ), error.status
    db.session.commit()
    flash(_("The merge is undone: %(other)s is a record of its own again.",
            other=record.other_name), "success")  # fmt: skip
    return redirect(url_for("customers.show", customer_id=record.survivor_id))
