"""Import views (front desk and owner): upload → mapping and preview with the dry run →
import in the background with a progress bar → undo."""

from pathlib import Path

from flask import (
    Response,
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

from app.blueprints.customers.labels import custom_field_labels, profile_labels
from app.blueprints.imports import bp
from app.blueprints.imports.forms import BlankForm, UploadForm
from app.extensions import db, htmx
from app.models import ImportBatch
from app.models.importing import IMPORT_MODES
from app.security import audit, desk_required
from app.services import importer, stays
from app.services.importer import batches
from app.services.shop import get_shop
from app.vocabulary import shop_term


def folder() -> Path:
    from app.tasks import imports_folder

    return imports_folder(current_app)


def target_labels() -> dict[str, str]:
    return {
        **profile_labels(),
        "tags": _("Tags (comma-separated)"),
        "guardian_name": _("Guardian / family member: name"),
        "guardian_relation": _("Guardian: relation"),
        "guardian_phone": _("Guardian: phone"),
        "guardian_email": _("Guardian: email"),
        "consent_service": _("Consent: service records (yes/no)"),
        "consent_marketing": _("Consent: marketing email (yes/no)"),
        "first_note": _("First note on the timeline"),
        "alert_allergy": _("Allergy (becomes an allergy alert)"),
        "last_visit": _("Last visit or stay (a date; kept when later than the one on record)"),
        **custom_field_labels(_("Field: %(label)s", label="%(label)s")),
        **(stay_labels() if get_shop(db.session).kind == "homestay" else {}),
    }


def stay_labels() -> dict[str, str]:
    """A homestay's guest book: the columns that make a stay."""
    return {
        "stay_check_in": _("Stay: check-in date (makes a stay)"),
        "stay_check_out": _("Stay: check-out date"),
        "stay_nights": _("Stay: nights"),
        "stay_room": _("Stay: room (as named in Settings → Rooms)"),
        "stay_amount": _("Stay: amount (NT$)"),
    }


def problem_message(code: str, detail: str = "") -> str:
    return {
        "encoding": _(
            "The file is not UTF-8, Big5 or GB18030 text. Choose the encoding, or save it as .xlsx."
        ),
        "unreadable": _(
            "This is not an Excel file we can read. Save it as .xlsx or .csv and try again."
        ),
        "empty": _("The file has no rows."),
        "too-big": _("The file is larger than 20 MB."),
        "too-many": _("At most %(num)s rows at a time; split the file.", num=detail),
        "too-wide": _(
            "The sheet has more than %(num)s columns. Delete the columns you do not need.",
            num=detail,
        ),
        "too-many-cells": _(
            "The sheet reaches too far (more than %(num)s cells, counting empty ones up to the "
            "last cell used). Delete far-away cells or split the file.",
            num=detail,
        ),
        "too-big-unpacked": _(
            "This Excel file unpacks to far more data than a list of people holds. Save it as "
            ".csv and try again."
        ),
        "cell-too-long": _cell_too_long(detail),
        "too-much-text": _(
            "The sheet holds more than %(num)s characters of text. Split it into smaller "
            "files, or delete the columns you do not need.",
            num=detail,
        ),
        "kind": _("Choose a .xlsx or .csv file."),
        "choice": _("Choose one of the options."),
        "twice": _(
            "“%(what)s” is chosen for two columns.", what=target_labels().get(detail, detail)
        ),
        "row-errors": _(
            "%(num)s rows still have errors: fix them, or choose to skip them.", num=detail
        ),
    }.get(code, _("The import failed; nothing was saved."))


def _cell_too_long(detail: str) -> str:
    limit, _bar, cell = detail.partition("|")
    if cell:
        return _(
            "Cell %(cell)s holds more than %(num)s characters, more than any field keeps. "
            "Shorten it and upload the file again; nothing was saved.",
            cell=cell,
            num=limit,
        )
    return _(
        "A cell holds more than %(num)s characters, more than any field keeps. Shorten it "
        "and upload the file again; nothing was saved.",
        num=limit,
    )


def row_error_message(target: str, code: str, labels: dict[str, str]) -> str:
    name = labels.get(target) or (target.split(":", 1)[1] if ":" in target else target)
    if code.startswith("duplicate:"):
        return _("Same %(what)s as row %(row)s.", what=name, row=code.split(":", 1)[1])
    if code.startswith("stay-"):
        return stay_error_message(code)
    return {
        "bad-date": _("%(what)s: not a date (use 2016-03-02, 2016/3/2 or 105/3/2).", what=name),
        "bad-email": _("%(what)s: not an email address.", what=name),
        "bad-level": _("%(what)s: use A, B or C.", what=name),
        "bad-yes-no": _("%(what)s: write yes or no (是/否).", what=name),
        "bad-nights": _("%(what)s: write a number of nights (1 to 366).", what=name),
        "bad-money": _("%(what)s: write an amount in whole NT$ (e.g. 3200).", what=name),
        "too-long": _("%(what)s: too long.", what=name),
        "required": _("A new %(person)s needs a name.", person=shop_term("person")),
    }.get(code, name)


def stay_error_message(code: str) -> str:
    """A guest book row's stay that cannot be written, in the desk's words."""
    code, _colon, detail = code.partition(":")
    if code == "stay-unknown-room":
        known = "、".join(room.name for room in stays.rooms(db.session)) or "—"
        return _(
            "Room: no room of that name. Use a room's name from Settings → Rooms (%(rooms)s), "
            "or add the room there first.",
            rooms=known,
        )
    return {
        "stay-no-check-in": _("Stay: the check-in date is missing."),
        "stay-check-out-first": _("Stay: the check-out date must be after the check-in date."),
        "stay-too-long": _("Stay: longer than a year; check the dates."),
        "stay-date-range": _("Stay: the check-in date is too far in the past or future."),
        "stay-dates": _("Stay: not a date (use 2016-03-02, 2016/3/2 or 105/3/2)."),
        "stay-nights-disagree": _(
            "Stay: the nights do not match the check-in and check-out dates."
        ),
        "stay-clash-row": _(
            "Room: row %(row)s books the same room for the same night.", row=detail
        ),
        "stay-clash": _("Room: already booked for these nights (%(booking)s).", booking=detail),
        "stay-lead-error": _("This guest’s row %(row)s has an error: fix it first.", row=detail),
    }.get(code, _("Stay: check this row."))


def _batch(batch_id: int) -> ImportBatch:
    # A batch whose worker died is marked interrupted (failed, re-runnable) first.
    return batches.current_batch(db.session, folder(), db.get_or_404(ImportBatch, batch_id))


def _sheet(batch: ImportBatch) -> importer.Sheet:
    path = importer.file_path(folder(), batch)
    if not path.exists():
        abort(404)
    try:
        return importer.load_sheet(folder(), batch)
    except importer.ImportProblem:
        abort(404)


@bp.route("/imports/")
@desk_required
def index():
    recent = batches.recent_batches(db.session, folder())
    return render_template("imports/index.html", batches=recent, form=UploadForm())


@bp.route("/imports/", methods=["POST"])
@desk_required
def upload():
    form = UploadForm()
    upload = request.files.get("sheet")
    error = None
    if upload is None or not upload.filename:
        error = _("Choose a file first.")
    elif not form.validate_on_submit():
        error = next((str(e[0]) for e in form.errors.values() if e), _("Please try again."))
    else:
        name = upload.filename.rsplit("/", 1)[-1][:200]
        kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if kind not in ("xlsx", "csv"):
            error = problem_message("kind")
        else:
            data = upload.read()
            try:
                sheet = importer.read_sheet(data, kind, form.encoding.data or None)
            except importer.ImportProblem as problem:
                error = problem_message(problem.code, problem.detail)
            else:
                batch = batches.new_batch(
                    db.session, folder(), name=name, kind=kind, data=data, sheet=sheet,
                    user_id=current_user.id,
                )  # fmt: skip
                audit("import.upload", "import_batch", batch.id, detail=f"{len(sheet.rows)} rows")
                db.session.commit()
                return redirect(url_for("imports.show", batch_id=batch.id))
    form.sheet.errors = [error]
    recent = batches.recent_batches(db.session, folder())
    return render_template("imports/index.html", batches=recent, form=form), 422


@bp.route("/imports/template.<kind>")
@desk_required
def template(kind: str):
    if kind not in ("xlsx", "csv"):
        abort(404)
    mimetype = (
        "text/csv; charset=utf-8"
        if kind == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return Response(
        importer.template(kind),
        content_type=mimetype,
        headers={"Content-Disposition": f'attachment; filename="hearth-import-template.{kind}"'},
    )


def _preview_context(batch: ImportBatch, sheet: importer.Sheet) -> dict:
    labels = target_labels()
    for target in (batch.mapping or {}).values():
        if target.startswith("date:"):
            labels[target] = _("Important date: %(label)s", label=target.split(":", 1)[1])
    result = importer.plan(db.session, batch, sheet)
    shown = result.rows[: importer.PREVIEW_ROWS]
    # Every update is shown (old → new) so nobody overwrites a customer unseen; and errors.
    shown += (
        [
            row
            for row in result.rows
            if row.number > shown[-1].number and (row.errors or row.outcome == "updated")
        ][:500]
        if shown
        else []
    )
    mapped = [
        target for _index, target in sorted((batch.mapping or {}).items(), key=lambda i: int(i[0]))
    ]
    return {
        "batch": batch,
        "sheet": sheet,
        "labels": labels,
        "plan": result,
        "shown": shown,
        "mapped": mapped,
        "modes": IMPORT_MODES,
        "form": BlankForm(),
        "row_error_message": row_error_message,
        "profile_targets": importer.PROFILE_TARGETS,
        "samples": {
            i: next((r[i] for r in sheet.rows if r[i]), "") for i in range(len(sheet.header))
        },
    }


@bp.route("/imports/<int:batch_id>", methods=["GET", "POST"])
@desk_required
def show(batch_id: int):
    batch = _batch(batch_id)
    if batch.status != "uploaded":
        return render_template("imports/status.html", batch=batch, form=BlankForm(),
                               progress=importer.read_progress(folder(), batch.id))  # fmt: skip
    form = BlankForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        header = _sheet(batch).header
        try:
            importer.choose_columns(
                batch, header,
                {index: request.form.get(f"column-{index}", "") for index in range(len(header))},
                set(target_labels()),
                mode=request.form.get("mode", batch.mode),
                encoding=request.form.get("encoding"),
                skip_errors=request.form.get("skip_errors") == "1",
                match_phone=request.form.get("match_phone") == "1",
                folder=folder(),
            )  # fmt: skip
        except importer.ImportProblem as error:
            problem = problem_message(error.code, error.detail)
        else:
            db.session.commit()
            return redirect(url_for("imports.show", batch_id=batch.id) + "#preview")
        flash(problem, "error")
        db.session.rollback()
        return render_template("imports/show.html", **_preview_context(batch, _sheet(batch))), 422
    return render_template("imports/show.html", **_preview_context(batch, _sheet(batch)))


@bp.route("/imports/<int:batch_id>/rows/<int:number>", methods=["POST"])
@desk_required
def fix_row(batch_id: int, number: int):
    """Corrects cells of one row without uploading the file again."""
    batch = _batch(batch_id)
    form = BlankForm()
    if batch.status != "uploaded" or not form.validate_on_submit():
        abort(400)
    if not 2 <= number <= batch.total_rows + 1:
        abort(404)
    mapped = set((batch.mapping or {}).values())
    fixes = {
        key[len("fix-") :]: value.strip()[:5000]
        for key, value in request.form.items()
        if key.startswith("fix-") and key[len("fix-") :] in mapped
    }
    overrides = dict(batch.overrides or {})
    overrides[str(number)] = {**overrides.get(str(number), {}), **fixes}
    batch.overrides = overrides
    db.session.commit()
    context = _preview_context(batch, _sheet(batch))
    if htmx:
        return render_template("imports/_preview.html", **context)
    return redirect(url_for("imports.show", batch_id=batch.id) + "#preview")


@bp.route("/imports/<int:batch_id>/run", methods=["POST"])
@desk_required
def run(batch_id: int):
    batch = _batch(batch_id)
    form = BlankForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.status not in ("uploaded", "failed"):
        flash(_("This import has already run."), "info")
        return redirect(url_for("imports.show", batch_id=batch.id))
    result = importer.plan(db.session, batch, _sheet(batch))
    if result.counts["errors"] and not batch.skip_errors:
        flash(problem_message("row-errors", str(result.counts["errors"])), "error")
        return redirect(url_for("imports.show", batch_id=batch.id) + "#preview")
    batch.status = "queued"
    db.session.commit()
    importer.write_progress(folder(), batch.id, 0, 0)  # not what an interrupted run reached
    from app.tasks import run_import_batch

    run_import_batch(batch.id)
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.route("/imports/<int:batch_id>/progress")
@desk_required
def progress(batch_id: int):
    batch = _batch(batch_id)
    response = make_response(
        render_template(
            "imports/_progress.html",
            batch=batch,
            progress=importer.read_progress(folder(), batch.id),
            form=BlankForm(),
        )
    )
    if batch.status in ("done", "failed", "undone"):
        response.status_code = 286  # htmx: stop polling
    return response


@bp.route("/imports/<int:batch_id>/undo", methods=["POST"])
@desk_required
def undo(batch_id: int):
    batch = _batch(batch_id)
    form = BlankForm()
    if not form.validate_on_submit():
        abort(400)
    if batch.status != "done":
        flash(_("Only a finished import can be undone."), "error")
        return redirect(url_for("imports.show", batch_id=batch.id))
    result = importer.undo(db.session, batch)
    audit(
        "import.undo",
        "import_batch",
        batch.id,
        detail=f"removed {result['removed']}, restored {result['restored']}",
    )
    db.session.commit()
    message = _("Import undone: %(removed)d %(people)s removed, %(restored)d put back as they were.",
                removed=result["removed"], restored=result["restored"], people=shop_term("people"))  # fmt: skip
    if result.get("stays"):
        message += " " + ngettext("%(num)d stay it added removed.", "%(num)d stays it added removed.",
                                  result["stays"])  # fmt: skip
    flash(message, "success")
    return redirect(url_for("imports.index"))
