"""View helpers that more than one area's pages use: the side-form page with its errors, the
words for timeline and history-sheet errors, staff choices, the mail server's state, and a
checked history sheet kept between its check and its confirm."""

import json
import re
import secrets

from flask import abort, current_app, render_template, request
from flask_babel import gettext as _

from app.extensions import db
from app.forms import as_select_choices
from app.services import accounts, importer
from app.services import campaigns as campaign_service
from app.services.timeline import TimelineError
from app.tasks import imports_folder


def form_panel_with_errors(customer, name: str, form, title: str):
    """A side form that failed validation, as its own page with the errors beside the fields
    and everything typed still there (422); the error summary at the top takes the focus."""
    return (
        render_template(
            "customers/form_panel.html",
            template=f"customers/_form_{name}.html",
            customer=customer,
            form=form,
            title=title,
        ),
        422,
    )


def timeline_error_message(error: TimelineError) -> str:
    return {
        "empty": _("Write something first."),
        "too-long": _("At most 5000 characters, please."),
        "category": _("Choose one of the options."),
        "keywords": _("Give at least one keyword."),
        "kind": _("Choose one of the options."),
    }.get(error.code, _("Please check what you wrote."))


def staff_choices(blank: str):
    users = accounts.active_staff(db.session)
    return as_select_choices([("", blank)] + [(str(user.id), user.name) for user in users])


def mail_server_status() -> dict:
    """Whether the configured mail server answers (checked at most every 30 s)."""
    config = current_app.config
    return campaign_service.mail_server_answers(
        config["MAIL_SERVER"], int(config["MAIL_PORT"]), bool(config.get("MAIL_USE_SSL"))
    )


def history_error(code: str, value: str) -> str:
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
