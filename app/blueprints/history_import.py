"""The pages that take a sheet of past records (purchases, stays): upload and check every line,
then confirm. One pair of views and one template for every kind; a HistoryPage holds a kind's
spec and words, and each area's routes register the pair under its own URLs and roles."""

import json
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from app.extensions import db
from app.security import audit
from app.services import importer
from app.services.importer import history
from app.services.importer.history import HistorySpec
from app.services.shop import shop_context
from app.tasks import imports_folder

TEMPLATE = "imports/history.html"


@dataclass
class HistoryPage:
    """One kind's page, in the words of this request's language."""

    spec: HistorySpec
    endpoint: str  # the upload page's; the confirm is `confirm_endpoint`
    confirm_endpoint: str
    audit_action: str  # e.g. "purchase.import"; the detail is "<count> <spec.kind>"
    title: str
    intro: str
    missing: str  # what the first row needs
    describe: Callable[[str, str], str]  # (error code, value) -> the problem in words
    ready: Callable[[int], str]  # "%(num)d purchases are ready to import."
    button: Callable[[int], str]  # "Import %(num)d purchases"
    imported: Callable[[int], str]  # "%(num)d purchases imported."
    # The preview's columns after the person: (label, "text"/"date"/"number"/"money",
    # the line's value).
    columns: list[tuple[str, str, Callable]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)  # (url, label) beside Import


def history_error(code: str, value: str) -> str:
    """A history line's problem in words (the person, a purchase's columns)."""
    return {
        "customer": _("No one has this member number or name: %(value)s", value=value),
        "customer-ambiguous": _(
            "Several people are called %(value)s: use the member number", value=value
        ),
        "product": _(
            "Not in the catalogue: %(value)s (add it under Settings → Products)", value=value
        ),
        "date": _("Not a date up to today: %(value)s", value=value),
        "quantity": _("Quantity from 1: %(value)s", value=value),
        "unit_price": _("Not a price in whole NT$: %(value)s", value=value),
        "note-long": _("The note is longer than 500 characters"),
    }.get(code, code)


def _history_folder():
    return imports_folder(current_app)


def read_history_upload():
    """(file name, sheet, error) for an uploaded history sheet (.xlsx or .csv)."""
    upload = request.files.get("sheet")
    name = (upload.filename or "").rsplit("/", 1)[-1][:200] if upload else ""
    kind = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if not name:
        return name, None, _("Choose a file first.")
    if kind not in ("xlsx", "csv"):
        return name, None, _("Send an Excel (.xlsx) or CSV file.")
    try:
        return name, importer.read_sheet(upload.read(), kind), None
    except importer.ImportProblem:
        return name, None, _("This file cannot be read. Save it as .xlsx or .csv and try again.")


def keep_history(prefix: str, sheet) -> str:
    """Keeps a checked sheet until its confirm; returns the token that names it."""
    token = secrets.token_urlsafe(16)
    (_history_folder() / f"{prefix}-{token}.json").write_text(
        json.dumps({"header": sheet.header, "rows": sheet.rows}), encoding="utf-8"
    )
    return token


def kept_history(prefix: str, token: str):
    """(path, stored sheet) for a token, or (None, None) when it is not (or no longer) there."""
    if not re.fullmatch(r"[\w-]{10,40}", token):
        abort(404)
    path = _history_folder() / f"{prefix}-{token}.json"
    if not path.exists():
        return None, None
    return path, json.loads(path.read_text(encoding="utf-8"))


def _checked_upload(page: HistoryPage, sheet) -> tuple[list, str | None]:
    """(lines, None), or ([], what is wrong with the file as a whole)."""
    today = shop_context(db.session).today
    try:
        lines, missing = history.check(page.spec, db.session, sheet.header, sheet.rows, today)
    except history.TooManyLines as error:
        return [], _("At most %(num)d lines per file: split the history into several files.",
                     num=error.limit)  # fmt: skip
    if missing:
        return [], page.missing
    if not lines:
        return [], _("The file has no lines under its header.")
    return lines, None


def upload(page: HistoryPage):
    """GET: the upload form. POST: every line checked; nothing is saved until all are right,
    then the sheet is kept for the confirm."""
    if request.method == "GET":
        return render_template(TEMPLATE, page=page, lines=None)
    name, sheet, error = read_history_upload()
    lines = []
    if sheet is not None:
        lines, error = _checked_upload(page, sheet)
    if error:
        return render_template(TEMPLATE, page=page, lines=None, error=error), 422
    bad = [line for line in lines if line.errors]
    token = None if bad else keep_history(page.spec.kind, sheet)
    status = 422 if bad else 200
    return render_template(
        TEMPLATE, page=page, lines=lines, bad=bad, token=token, name=name
    ), status


def confirm(page: HistoryPage, token: str):
    """Checks the kept sheet again (the data may have changed since) and saves it all."""
    path, stored = kept_history(page.spec.kind, token)
    if stored is None:
        flash(_("That upload is gone: send the file again."), "error")
        return redirect(url_for(page.endpoint))
    context = shop_context(db.session)
    lines, missing = history.check(
        page.spec, db.session, stored["header"], stored["rows"], context.today
    )
    if missing or any(line.errors for line in lines):
        flash(_("The data changed since the check: send the file again."), "error")
        return redirect(url_for(page.endpoint))
    added = history.save(
        page.spec, db.session, lines, actor=current_user, today=context.today, zone=context.zone
    )
    audit(page.audit_action, detail=f"{added} {page.spec.kind}")
    db.session.commit()
    path.unlink(missing_ok=True)
    flash(page.imported(added), "success")
    return redirect(url_for(page.endpoint))
