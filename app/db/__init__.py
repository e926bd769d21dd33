"""Everything that differs between SQLite and PostgreSQL, in one place.

SQLite is the embedded default; PostgreSQL is chosen by `DATABASE_URL=postgresql+psycopg://…`.
The rest of the app asks this package instead of testing the dialect itself:

- `configure(engine)` sets each connection up (SQLite: WAL, busy timeout, foreign keys,
  secure delete, the bigram function its search triggers call) and starts transactions
  that write with the write lock held (`begin_write`, `@writes` views, POST requests).
- Writers are serialised on both: SQLite's `BEGIN IMMEDIATE`, a transaction-scoped
  advisory lock on PostgreSQL. A shop has a handful of writers at a time and every write
  is short, so reading-then-writing code (member numbers, outbox claims, import ids) stays
  simple and safe on both instead of needing per-table locking rules.
- `insert_ignore`, `month_day`, `matches_digits`, `reserve_ids`, `list_contains`: the
  dialect's spelling.
"""

import re
import sqlite3

import sqlalchemy as sa
from flask import g, has_app_context, has_request_context, request
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import scoped_session
from sqlalchemy.sql.functions import FunctionElement

# The advisory lock key every PostgreSQL writer takes (any constant; "hearth" in ASCII).
WRITE_LOCK_KEY = 0x686561727468

_WRITE_STATEMENT = re.compile(r"\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


class UnsafeWrite(RuntimeError):
    """Raised in tests (SQLITE_STRICT_WRITES) for a write that did not take the lock first."""


class WriteLockBusy(RuntimeError):
    """The write lock was not free within a connection's `hearth_lock_wait_ms`."""


def dialect_of(bind) -> str:
    """'sqlite' or 'postgresql' for an engine, connection or session."""
    if isinstance(bind, scoped_session):
        bind = bind()
    if hasattr(bind, "get_bind"):
        bind = bind.get_bind()
    return bind.dialect.name


def is_postgres(bind) -> bool:
    return dialect_of(bind) == "postgresql"


def normalise_url(url: str) -> str:
    """postgres:// and postgresql:// (as hosting providers write them) use psycopg 3."""
    for plain in ("postgres://", "postgresql://"):
        if url.startswith(plain):
            return "postgresql+psycopg://" + url[len(plain) :]
    return url


def dialect_of_url(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite"


def sqlite_file_of_url(url: str) -> str | None:
    """The database file of a sqlite:/// URL (None for PostgreSQL or an in-memory one)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    if parsed.database.startswith("file:"):
        return None  # a URI filename: its own options
    return parsed.database


def engine_options(url: str, busy_timeout_ms: int) -> dict:
    """SQLAlchemy engine options for the configured database."""
    if url.startswith("postgresql"):
        # Naive UTC everywhere, as SQLite stores it.
        return {"pool_pre_ping": True, "connect_args": {"options": "-c timezone=UTC"}}
    return {}


def configure(engine: Engine, busy_timeout_ms: int, strict_writes: bool = False) -> None:
    """Per-connection set-up and the write lock at BEGIN, for either dialect."""
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine, busy_timeout_ms)
    elif engine.dialect.name == "postgresql":
        _configure_postgres(engine, busy_timeout_ms)
    else:  # pragma: no cover - a configuration mistake
        raise RuntimeError(f"unsupported database: {engine.dialect.name}")
    if strict_writes:
        _install_strict_writes(engine)


def _configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    from app.db.bigrams import bigrams

    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # pysqlite's own transaction handling is off, so SQLAlchemy's BEGIN is what SQLite sees.
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

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        writing = _wants_write(connection)
        connection.info["hearth_writing"] = writing
        # Straight to sqlite3: SQLAlchemy's path for a statement costs more than SQLite takes
        # to begin, on every request. Its errors still reach the app as SQLAlchemy's (the
        # "busy" page answers a write lock that stayed taken past the busy timeout).
        statement = "BEGIN IMMEDIATE" if writing else "BEGIN"
        driver = connection.connection.driver_connection
        wait_ms = connection.get_execution_options().get("hearth_lock_wait_ms")
        if writing and wait_ms is not None:
            driver.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
        try:
            driver.execute(statement)
        except sqlite3.OperationalError as error:
            if wait_ms is not None and "locked" in str(error):
                raise WriteLockBusy(str(error)) from error
            raise sa.exc.OperationalError(statement, None, error) from error
        finally:
            if writing and wait_ms is not None:
                driver.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")


def _configure_postgres(engine: Engine, busy_timeout_ms: int) -> None:
    @sa.event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        with dbapi_connection.cursor() as cursor:
            # Waiting for the write lock is bounded like SQLite's busy timeout.
            cursor.execute(f"SET lock_timeout = {int(busy_timeout_ms)}")
        dbapi_connection.commit()

    @sa.event.listens_for(engine, "begin")
    def _on_begin(connection):
        writing = _wants_write(connection)
        connection.info["hearth_writing"] = writing
        wait_ms = connection.get_execution_options().get("hearth_lock_wait_ms")
        if writing and wait_ms is not None:
            _try_advisory_lock(connection, wait_ms)
        elif writing:
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")


def _try_advisory_lock(connection, wait_ms: int) -> None:
    """Takes the writers' advisory lock if it comes free within wait_ms, or WriteLockBusy."""
    import time

    deadline = time.monotonic() + wait_ms / 1000
    while True:
        taken = connection.exec_driver_sql(
            f"SELECT pg_try_advisory_xact_lock({WRITE_LOCK_KEY})"
        ).scalar()
        if taken:
            return
        if time.monotonic() >= deadline:
            raise WriteLockBusy("another writer holds the lock")
        time.sleep(0.01)


def _wants_write(connection) -> bool:
    return bool(connection.get_execution_options().get("hearth_immediate") or _request_writes())


def _install_strict_writes(engine: Engine) -> None:
    @sa.event.listens_for(engine, "before_cursor_execute")
    def _refuse_upgrades(connection, _cursor, statement, _parameters, _context, _many):
        # A write inside a read (deferred) transaction has to upgrade its lock, which on
        # SQLite fails at once with "database is locked" when anyone else wrote meanwhile.
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


def check(engine: Engine, busy_timeout_ms: int) -> None:
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


def is_busy(error: BaseException) -> bool:
    """The database stayed locked for the whole busy/lock timeout."""
    text = str(getattr(error, "orig", error)).lower()
    return "database is locked" in text or "lock timeout" in text


def _request_writes() -> bool:
    return (
        has_request_context()
        and request.method not in {"GET", "HEAD", "OPTIONS"}
        and not g.get("background_job")
        and not g.get("hearth_write_refused")
    )


def answer_without_writing() -> None:
    """The rest of this request only reads: its write was refused (the write lock stayed
    taken past the busy timeout), and the page saying so must not wait for it again."""
    g.hearth_write_refused = True


def writes_in_this_transaction(session) -> bool:
    """Whether the session's transaction holds (or, not begun yet, will take) the write lock."""
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        return bool(real.connection().info.get("hearth_writing"))
    return _request_writes()


def begin_write(session) -> None:
    """Starts the session's transaction with the write lock if none is open yet.

    Web requests that change state already do (see configure); this covers the command
    line, background jobs and tests calling services directly.
    """
    real = session() if isinstance(session, scoped_session) else session
    if real.in_transaction():
        if real.connection().info.get("hearth_writing"):
            return
        # A read transaction is open: upgrading it later can fail at once ("database is
        # locked") if someone else wrote meanwhile. End it and start a writing one.
        real.commit()
    real.connection(execution_options={"hearth_immediate": True})


# ---- SQL spelled per dialect ----------------------------------------------------------------


def insert_ignore(table, bind):
    """INSERT that skips rows a unique constraint already has (OR IGNORE / ON CONFLICT)."""
    if is_postgres(bind):
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return insert(table).on_conflict_do_nothing()


def insert_ignore_rows(session, table, rows: list[dict]) -> int:
    """Inserts `rows`, skipping those a unique constraint already has; returns how many went in."""
    if not rows:
        return 0
    statement = insert_ignore(table, session)
    if is_postgres(session):
        # psycopg reports no row count for a batch: count what came back.
        primary = list(table.primary_key.columns)[0]
        return len(session.execute(statement.returning(primary), rows).all())
    return session.execute(statement, rows).rowcount


class month_day(FunctionElement):  # noqa: N801 - used like a SQL function
    """'MM-DD' of a date column, written so that each database can use an index on it:
    strftime with a literal format on SQLite, immutable date parts on PostgreSQL."""

    type = sa.String()
    inherit_cache = True
    name = "month_day"


@compiles(month_day, "sqlite")
def _month_day_sqlite(element, compiler, **kw):
    return f"strftime('%m-%d', {compiler.process(element.clauses, **kw)})"


@compiles(month_day, "postgresql")
def _month_day_postgres(element, compiler, **kw):
    column = compiler.process(element.clauses, **kw)
    # to_char() is not immutable (it reads settings), so it cannot be indexed; these are.
    return (
        f"(lpad(date_part('month', {column})::int::text, 2, '0') || '-' || "
        f"lpad(date_part('day', {column})::int::text, 2, '0'))"
    )


def month_day_sql(column: str, dialect: str) -> str:
    """The same expression as raw SQL (for the index a migration creates)."""
    if dialect == "postgresql":
        return (
            f"(lpad(date_part('month', {column})::int::text, 2, '0') || '-' || "
            f"lpad(date_part('day', {column})::int::text, 2, '0'))"
        )
    return f"strftime('%m-%d', {column})"


class matches_digits(sa.sql.expression.ColumnElement):  # noqa: N801
    """`column` is `prefix` followed by exactly `digits` decimal digits."""

    type = sa.Boolean()
    inherit_cache = False

    def __init__(self, column, prefix: str, digits: int):
        self.column, self.prefix, self.digits = column, prefix, digits


@compiles(matches_digits, "sqlite")
def _matches_digits_sqlite(element, compiler, **kw):
    pattern = f"{element.prefix}{'[0-9]' * element.digits}"
    return f"{compiler.process(element.column, **kw)} GLOB {compiler.process(sa.literal(pattern), **kw)}"


@compiles(matches_digits, "postgresql")
def _matches_digits_postgres(element, compiler, **kw):
    pattern = f"^{re.escape(element.prefix)}[0-9]{{{element.digits}}}$"
    return (
        f"{compiler.process(element.column, **kw)} ~ {compiler.process(sa.literal(pattern), **kw)}"
    )


def reserve_ids(connection, table: sa.Table, count: int) -> list[int]:
    """Ids for `count` rows about to be inserted with Core statements (bulk imports).

    SQLite: the next ones after the highest (the write lock is held: nobody else inserts).
    PostgreSQL: taken from the table's sequence, so later inserts never collide."""
    if count <= 0:
        return []
    if connection.dialect.name == "postgresql":
        sequence = connection.scalar(
            sa.text("SELECT pg_get_serial_sequence(:table, 'id')"), {"table": table.name}
        )
        return list(
            connection.scalars(
                sa.text("SELECT nextval(CAST(:sequence AS regclass)) FROM generate_series(1, :n)"),
                {"sequence": sequence, "n": count},
            )
        )
    first = (connection.scalar(sa.select(sa.func.max(table.c.id))) or 0) + 1
    return list(range(first, first + count))


def days_between(later, earlier):
    """later − earlier in whole days, for two DATE columns, as a SQL expression."""
    return _DaysBetween(later, earlier)


class _DaysBetween(sa.sql.expression.ColumnElement):
    type = sa.Integer()
    inherit_cache = False

    def __init__(self, later, earlier):
        self.later, self.earlier = later, earlier


@compiles(_DaysBetween, "sqlite")
def _days_sqlite(element, compiler, **kw):
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"CAST(julianday({later}) - julianday({earlier}) AS INTEGER)"


@compiles(_DaysBetween, "postgresql")
def _days_postgres(element, compiler, **kw):
    later, earlier = compiler.process(element.later, **kw), compiler.process(element.earlier, **kw)
    return f"({later} - {earlier})"


class list_contains(sa.sql.expression.ColumnElement):  # noqa: N801
    """A JSON list column (app.models.types.JsonList) holds `value` as one of its items."""

    type = sa.Boolean()
    inherit_cache = False

    def __init__(self, column, value: str):
        self.column, self.value = column, value


@compiles(list_contains, "sqlite")
def _list_contains_sqlite(element, compiler, **kw):
    column, value = (
        compiler.process(element.column, **kw),
        compiler.process(sa.literal(element.value), **kw),
    )
    return f"EXISTS (SELECT 1 FROM json_each({column}) WHERE json_each.value = {value})"


@compiles(list_contains, "postgresql")
def _list_contains_postgres(element, compiler, **kw):
    column, value = (
        compiler.process(element.column, **kw),
        compiler.process(sa.literal(element.value), **kw),
    )
    return f"(CAST({column} AS JSONB) @> jsonb_build_array(CAST({value} AS TEXT)))"


class RawWriter:
    """Plain driver calls with the write lock, for hot loops (the outbox's confirmations)
    where the ORM's per-statement bookkeeping costs too much. SQL is written with `?`
    placeholders; times are passed as each driver stores them."""

    def __init__(self, connection, dialect: str):
        self.connection, self.postgres = connection, dialect == "postgresql"

    def _sql(self, sql: str) -> str:
        return sql.replace("?", "%s") if self.postgres else sql

    def stamp(self, moment):
        # SQLAlchemy stores SQLite times as text in this shape; psycopg takes datetimes.
        return moment if self.postgres else moment.strftime("%Y-%m-%d %H:%M:%S.%f")

    def begin(self) -> None:
        if self.postgres:
            self.connection.execute(f"SELECT pg_advisory_xact_lock({WRITE_LOCK_KEY})")
        else:
            self.connection.execute("BEGIN IMMEDIATE")

    def executemany(self, sql: str, rows) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.executemany(self._sql(sql), rows)
        finally:
            cursor.close()

    def fetch(self, sql: str, parameters) -> list:
        cursor = self.connection.cursor()
        try:
            cursor.execute(self._sql(sql), parameters)
            return cursor.fetchall()
        finally:
            cursor.close()

    def commit(self) -> None:
        if self.postgres:
            self.connection.commit()
        else:
            self.connection.execute("COMMIT")

    def rollback(self) -> None:
        if self.postgres:
            self.connection.rollback()
        elif self.connection.in_transaction:
            self.connection.execute("ROLLBACK")
