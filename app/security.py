"""Role checks for every route, the audit helper and the security headers."""

from collections.abc import Callable
from functools import wraps

from flask import Flask, abort, request
from flask_login import current_user

from app.extensions import db
from app.models import AuditEvent, Role

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
) -> AuditEvent:
    """Adds one audit row to the current transaction (the caller commits)."""
    if user_id is None and current_user and current_user.is_authenticated:
        user_id = current_user.id
    event = AuditEvent(
        action=action,
        target_type=target_type,
        target_id=target_id,
        detail=detail,
        user_id=user_id,
        ip=client_ip(),
    )
    db.session.add(event)
    return event


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
