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

from app.blueprints.imports import bp
from app.blueprints.imports.forms import BlankForm, UploadForm
from app.blueprints.imports.messages import (
    problem_message,
    row_error_message,
    skip_reason,
    target_labels,
)
from app.extensions import db, htmx
from app.models import ImportBatch
from app.models.importing import IMPORT_MODES
from app.security import audit, desk_required
from app.services import importer
from app.services.importer import batches
from app.vocabulary import shop_term


def folder() -> Path:
    from app.tasks import imports_folder

    return imports_folder(current_app)


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
            if row.number > shown[-1].number
            and (row.errors or row.outcome in ("updated", "skipped") or row.merged)
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
        "skip_reason": skip_reason,
        "header": _header_context(batch, sheet),
        "profile_targets": importer.PROFILE_TARGETS,
        "samples": {
            i: next((r[i] for r in sheet.rows if r[i]), "") for i in range(len(sheet.header))
        },
    }


def _header_context(batch: ImportBatch, sheet: importer.Sheet) -> dict:
    """The rows the header may be chosen from, the one in use, and our guess with its reason."""
    table = [*sheet.above, sheet.header, *sheet.rows][: importer.HEADER_SEARCH]
    return {
        "rows": [" | ".join(cell for cell in row if cell)[:120] for row in table],
        "index": len(sheet.above),
        "guess": batches.header_guess(db.session, sheet),
    }


@bp.route("/imports/<int:batch_id>/header", methods=["POST"])
@desk_required
def header_row(batch_id: int):
    """Another row holds the column names: the columns are guessed again from it."""
    batch = _batch(batch_id)
    form = BlankForm()
    if batch.status != "uploaded" or not form.validate_on_submit():
        abort(400)
    sheet = _sheet(batch)
    try:
        sheet = batches.choose_header_row(
            db.session, batch, sheet, request.form.get("header_row", type=int, default=-1)
        )
    except importer.ImportProblem as error:
        db.session.rollback()
        flash(problem_message(error.code), "error")
        return render_template("imports/show.html", **_preview_context(batch, sheet)), 422
    db.session.commit()
    if htmx:
        return render_template("imports/show.html", **_preview_context(batch, sheet))
    return redirect(url_for("imports.show", batch_id=batch.id))


@bp.route("/imports/<int:batch_id>/rows/<int:number>/same", methods=["POST"])
@desk_required
def same_person(batch_id: int, number: int):
    """A row naming an earlier row's person: merge them into one, or keep both."""
    batch = _batch(batch_id)
    form = BlankForm()
    if batch.status != "uploaded" or not form.validate_on_submit():
        abort(400)
    if not 2 <= number <= batch.total_rows + 1:
        abort(404)
    choice = request.form.get("choice", "")
    if choice not in importer.SAME_PERSON_CHOICES:
        abort(400)
    batch.row_choices = {**(batch.row_choices or {}), str(number): choice}
    db.session.commit()
    context = _preview_context(batch, _sheet(batch))
    if htmx:
        return render_template("imports/_preview.html", **context)
    return redirect(url_for("imports.show", batch_id=batch.id) + "#preview")


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
