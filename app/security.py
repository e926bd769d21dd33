"""Role checks for every route, the audit helper and the security headers."""

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, current_app, request
from flask_login import current_user

from app.db import writes_in_this_transaction
from app.extensions import db
from app.models import Role

ALL_STAFF = (Role.OWNER, Role.FRONTDESK, Role.TEACHER)
DESK_AND_OWNER = (Role.OWNER, Role.FRONTDESK)


def roles_required(*roles: Role) -> Callable:
    """Only signed-in staff with one of these roles reach the view; others get 401/403."""
    allowed = frozenset(roles)

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                from app.extensions import login_manager

                return login_manager.unauthorized()
            if current_user.role not in allowed:
                abort(403)
            return view(*args, **kwargs)

        wrapped.allowed_roles = allowed  # read by the route-coverage test
        return wrapped

    return decorator


owner_required = roles_required(Role.OWNER)
staff_required = roles_required(*ALL_STAFF)
desk_required = roles_required(*DESK_AND_OWNER)


def public(view: Callable) -> Callable:
    """Marks a view as reachable without signing in (login, static, unsubscribe…)."""
    view.allowed_roles = None
    return view


def client_ip() -> str | None:
    # Behind nginx, ProxyFix (configured in create_app) has already put the client here.
    return request.remote_addr if request else None


def audit(
    action: str,
    target_type: str | None = None,
    target_id: int | None = None,
    detail: str | None = None,
    user_id: int | None = None,
) -> None:
    """Audits a web action by the signed-in user from the client's address.

    In a request that writes, the row joins its transaction (the view commits). In a page
    that only reads, the row is written at once in its own write transaction.
    """
    from app.services import audit as audit_log

    if user_id is None and current_user and current_user.is_authenticated:
        user_id = current_user.id
    if not writes_in_this_transaction(db.session):
        written = audit_log.record_now(
            db.engine, action, target_type, target_id, detail, user_id=user_id, ip=client_ip(),
            queue_folder=current_app.instance_path,
        )  # fmt: skip
        if not written:  # the database is busy: the worker moves the row in (app/tasks.py)
            from app.tasks import drain_audit_queue

            drain_audit_queue()
        return
    audit_log.record(
        db.session, action, target_type, target_id, detail, user_id=user_id, ip=client_ip()
    )


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def install_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        if current_user and current_user.is_authenticated:
            response.headers["Cache-Control"] = "no-store"
        return response


def install_input_guard(app: Flask) -> None:
    """Refuses a NUL character in any query or form value with a clear 400: no text a person
    types contains one, and SQLite's full-text queries fail on it."""

    @app.before_request
    def _no_nul():
        values = [*request.args.values(), request.path]
        if request.method not in ("GET", "HEAD", "OPTIONS") and request.mimetype in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            values.extend(request.form.values())
        if (
            request.method == "POST"
            and request.view_args
            and current_user.is_authenticated  # others get the sign-in page, learn nothing
        ):
            _refuse_erased_customer(request.view_args, request.endpoint)
        if any("\x00" in value for value in values):
            from flask_babel import gettext as _

            from app.errors import render_error

            return render_error(400, _("The text contains a character that cannot be used."))
        return None


def _refuse_erased_customer(view_args: dict, endpoint: str | None) -> None:
    """A POST that names an erased person — /customers/<id>/…, or one of their stays,
    purchases, enrolments, notes, reminders, LINE links — is refused up front (409) before
    any form is read. The flush guard in services.privacy refuses the same below the views,
    for services and jobs."""
    if endpoint == "privacy.erase":
        return  # says "already erased" itself
    from app.services.privacy import CustomerErased, erased_owner

    erased = erased_owner(db.session, view_args)
    if erased is not None:
        raise CustomerErased(erased)
