"""Flask extensions, created once and bound to the app in create_app()."""

import re

from flask import g, has_app_context, has_request_context, request
from flask_babel import Babel
from flask_htmx import HTMX
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from huey import SqliteHuey
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, scoped_session

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
mail = Mail()
csrf = CSRFProtect()
babel = Babel()
htmx = HTMX()
# Real storage (instance/huey.sqlite) is attached in create_app(); memory until then.
huey = SqliteHuey("hearth", immediate=True)


_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class UnsafeWrite(RuntimeError):
    """Raised in tests (SQLITE_STRICT_WRITES) for a write that did not take the lock first."""


def configure_sqlite(engine: Engine, busy_timeout_ms: int, strict_writes: bool = False) -> None:
    """WAL, a busy timeout and foreign keys on every connection; explicit transactions.

    pysqlite's own transaction handling is switched off so that SQLAlchemy's BEGIN is
    what SQLite sees. State-changing requests (and background jobs) start with
    BEGIN IMMEDIATE: taking the write lock up front avoids the "database is locked"
    failures that deferred read-then-write transactions hit under concurrency.
    """
    if engine.dialect.name != "sqlite":
        return

    from app.services.tokens import bigrams

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        # Used by the triggers that keep the short-query search index in sync.
        dbapi_connection.create_function("hearth_bigrams", 1, bigrams, deterministic=True)
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA synchronous = NORMAL")
        # Deleted and overwritten content is zeroed, not left in free space: an erased
        # customer's words must not survive in the file.
        cursor.execute("PRAGMA secure_delete = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        writing = connection.get_execution_options().get("hearth_immediate") or _request_writes()
        connection.info["hearth_writing"] = bool(writing)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if writing else "BEGIN")

    if strict_writes:

        @event.listens_for(engine, "before_cursor_execute")
        def _refuse_upgrades(connection, _cursor, statement, _parameters, _context, _many):
            # A write inside a read (deferred) transaction has to upgrade its lock, which
            # fails at once with "database is locked" when anyone else wrote meanwhile.
            if (
                (has_request_context() or (has_app_context() and g.get("background_job")))
                and not connection.info.get("hearth_writing")
                and connection.in_transaction()
                and _WRITE_STATEMENT.match(statement)
            ):
                raise UnsafeWrite(
                    "a write inside a read transaction: call begin_write() (or mark the view "
                    f"@writes) before reading: {statement[:80]}"
                )


def check_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Refuses to start on a SQLite connection without WAL, the busy timeout or foreign keys."""
    if engine.dialect.name != "sqlite" or engine.url.database in (None, "", ":memory:"):
        return
    with engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar()
        timeout = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        foreign_keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar()
    if str(mode).lower() != "wal" or int(timeout) < busy_timeout_ms or int(foreign_keys) != 1:
        raise RuntimeError(
            f"SQLite is not set up safely (journal_mode={mode}, busy_timeout={timeout}, "
            f"foreign_keys={foreign_keys})"
        )


def _request_writes() -> bool:
    return (
        has_request_context()
        and request.method not in {"GET", "HEAD", "OPTIONS"}
        and not g.get("background_job")
    )


def writes_in_this_transaction(session) -> bool:
    """Whether the session's transaction holds (or, not begun yet, will take) the write lock."""
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        return bool(real.connection().info.get("hearth_writing"))
    return _request_writes()


def begin_write(session) -> None:
    """Starts the session's transaction with BEGIN IMMEDIATE if none is open yet.

    Web requests that change state already do (see configure_sqlite); this covers the
    command line, background jobs and tests calling services directly.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        if real.connection().info.get("hearth_writing"):
            return
        # A read transaction is open: upgrading it later can fail at once ("database is
        # locked") if someone else wrote meanwhile. End it and start a writing one.
        real.commit()
    real.connection(execution_options={"hearth_immediate": True})
