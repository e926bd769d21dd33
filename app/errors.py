"""Styled error pages that also work for htmx requests (swapped into the message area)."""

from flask import Flask, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DataError, OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from app.db import answer_without_writing, is_busy
from app.extensions import db, htmx
from app.services.privacy import CustomerErased


def _titles() -> dict[int, tuple[str, str]]:
    return {
        400: (_("Bad request"), _("The request could not be understood.")),
        401: (_("Please sign in"), _("You need to sign in to see this page.")),
        403: (_("Not allowed"), _("Your role does not allow this page. Ask the shop owner.")),
        404: (_("Not found"), _("There is nothing at this address.")),
        405: (_("Not allowed"), _("This page cannot be used that way.")),
        409: (_("Erased"), _("This person's data was erased.")),
        413: (_("Too large"), _("What you sent is too large.")),
        422: (_("Check the form"), _("Some fields need fixing.")),
        429: (_("Too many attempts"), _("Please wait a while and try again.")),
        503: (
            _("Very busy"),
            _("Many changes are being saved right now. Nothing was saved; please try again."),
        ),
        500: (
            _("Something went wrong"),
            _("We could not finish that. Nothing was saved; please try again."),
        ),
    }


def render_error(code: int, message: str | None = None):
    title, default_message = _titles().get(code, (_("Error"), _("Something went wrong.")))
    context = {"code": code, "title": title, "message": message or default_message}
    if htmx:
        response = render_template("errors/_error.html", **context), code
        return response[0], code, {"HX-Retarget": "#messages", "HX-Reswap": "innerHTML"}
    return render_template("errors/error.html", **context), code


def register(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(error):
        return render_error(
            400,
            _(
                "This form has expired or did not come from this site. Reload the page and try again."
            ),
        )

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        return render_error(error.code)

    @app.errorhandler(CustomerErased)
    def _erased(_error):
        db.session.rollback()
        return render_error(
            409,
            _("This person's data was erased at their request; nothing can be added or changed."),
        )

    @app.errorhandler(OverflowError)
    def _overflow(_error):
        # A number typed into a filter or address bigger than the database can hold.
        db.session.rollback()
        return render_error(400, _("A number in the request is too large."))

    @app.errorhandler(DataError)
    def _out_of_range(error: DataError):
        # PostgreSQL's way of saying the same ("integer out of range"); anything else a
        # value cannot be is still a server error.
        db.session.rollback()
        if "out of range" not in str(error.orig):
            raise error
        return render_error(400, _("A number in the request is too large."))

    @app.errorhandler(OperationalError)
    def _busy(error: OperationalError):
        # Only "database is locked" after the whole busy timeout: the shop is swamped with
        # writes. Say so (503, try again) instead of a generic failure; nothing was saved.
        db.session.rollback()
        if not is_busy(error):
            raise error
        answer_without_writing()  # the page reads the shop and the user: no write lock
        response = render_error(503)
        return response[0], 503, {**(response[2] if len(response) > 2 else {}), "Retry-After": "2"}

    @app.errorhandler(InternalServerError)
    def _server(error):
        db.session.rollback()
        return render_error(500)
