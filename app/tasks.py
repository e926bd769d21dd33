"""Background jobs (huey): run by `flask --app wsgi worker`, each inside an app context."""

from datetime import timedelta

import sqlalchemy as sa
from flask import Flask
from huey import crontab

from app.clock import utcnow
from app.extensions import db, huey

_app: Flask | None = None


def bind_app(app: Flask) -> None:
    global _app
    _app = app


def _application() -> Flask:
    global _app
    if _app is None:
        from app import create_app

        _app = create_app()
    return _app


@huey.periodic_task(crontab(minute="17", hour="3"))
def purge_old_login_attempts() -> int:
    """Failed-login rows only matter for the 15-minute limit; keep a day for the audit page."""
    from app.models import LoginAttempt

    with _application().app_context():
        result = db.session.execute(
            sa.delete(LoginAttempt).where(LoginAttempt.at < utcnow() - timedelta(days=1))
        )
        db.session.commit()
        return result.rowcount
