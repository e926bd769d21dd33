"""Backups of the live SQLite database (online backup API, never a file copy) and restores
into a stopped instance, both checked with PRAGMA integrity_check. Backups are readable by
the app's own user only (mode 600); the secrets in them are sealed with SETTINGS_KEY."""

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from app.config import private_file


class BackupError(RuntimeError):
    pass


def _integrity(path: Path) -> str:
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        connection.close()


def backup(database: Path, target: Path, record: Path | None = None) -> dict:
    """A consistent copy while the app keeps writing (SQLite's online backup copies a
    snapshot; writers are not blocked for long)."""
    if not Path(database).is_file():
        # sqlite3.connect would make an empty database of any name it is given (a PostgreSQL
        # database's name once left empty files named like it in the working folder).
        raise BackupError(f"there is no SQLite database at {database}")
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # mode 600 before a byte is written (replace keeps it)
    source = sqlite3.connect(database, timeout=30)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy, pages=1024)
        copy.execute("PRAGMA journal_mode=DELETE")  # a single self-contained file
    finally:
        copy.close()
        source.close()
    result = _integrity(partial)
    if result != "ok":
        partial.unlink(missing_ok=True)
        raise BackupError(f"integrity check failed: {result}")
    partial.replace(target)
    return _finished(target, record)


def _finished(target: Path, record: Path | None) -> dict:
    """What Settings shows about the backup just written (kept in `record`)."""
    facts = {
        "path": str(target),
        "bytes": target.stat().st_size,
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if record is not None:
        record.write_text(json.dumps(facts))
    return facts


def last_backup(record: Path) -> dict | None:
    try:
        return json.loads(record.read_text())
    except (OSError, ValueError):
        return None


def check_backup_file(path: Path) -> None:
    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    with path.open("rb") as handle:
        if handle.read(16) != b"SQLite format 3\x00":
            raise BackupError(f"not a SQLite database: {path}")
    result = _integrity(path)
    if result != "ok":
        raise BackupError(f"integrity check failed: {result}")
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = {row[0] for row in connection.execute("SELECT name FROM sqlite_master")}
    finally:
        connection.close()
    if not {"alembic_version", "customer", "timeline_entry"} <= tables:
        raise BackupError(f"not a Hearth database: {path}")


def restore(source: Path, database: Path) -> None:
    """Replaces the database with a checked backup. Refuses while anything has it open
    for writing (the app must be stopped)."""
    check_backup_file(source)
    if database.exists():
        probe = sqlite3.connect(database, timeout=0.5)
        try:
            probe.execute("BEGIN EXCLUSIVE")
            probe.execute("ROLLBACK")
        except sqlite3.OperationalError as error:
            raise BackupError(
                "the database is in use: stop the app and the worker first"
            ) from error
        finally:
            probe.close()
    staging = database.with_name(database.name + ".restoring")
    staging.unlink(missing_ok=True)
    private_file(staging)
    source_connection = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    target_connection = sqlite3.connect(staging)
    try:
        source_connection.backup(target_connection)
    finally:
        target_connection.close()
        source_connection.close()
    for suffix in ("-wal", "-shm"):
        Path(str(database) + suffix).unlink(missing_ok=True)
    staging.replace(database)


# ---- PostgreSQL: pg_dump / pg_restore --------------------------------------------------------

PG_DUMP_MAGIC = b"PGDMP"  # the custom format's first bytes


def _pg_tool(name: str) -> str:
    """pg_dump/pg_restore of the newest PostgreSQL installed (Debian keeps them per version)."""
    import glob
    import shutil

    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    tool = found[-1] if found else shutil.which(name)
    if not tool:
        raise BackupError(f"{name} is not installed (Debian: apt-get install postgresql-client)")
    return tool


def _pg_arguments(url) -> tuple[list[str], dict]:
    """Connection options for the command-line tools from a SQLAlchemy URL (the password
    goes in the environment, never on the command line)."""
    import os

    arguments = ["--dbname", url.database or "postgres", "--no-password"]
    host = url.query.get("host") or url.host
    if host:
        arguments += ["--host", str(host)]
    if url.port:
        arguments += ["--port", str(url.port)]
    if url.username:
        arguments += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return arguments, env


def _run(command: list[str], env: dict) -> None:
    import subprocess

    finished = subprocess.run(command, env=env, capture_output=True, text=True)
    if finished.returncode != 0:
        raise BackupError((finished.stderr or finished.stdout).strip()[-500:])


def backup_postgres(url, target: Path, record: Path | None = None) -> dict:
    """pg_dump in its custom format (one consistent snapshot; the app keeps running),
    checked by listing it with pg_restore before it replaces nothing."""
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    private_file(partial)  # pg_dump writes into it and keeps its mode
    arguments, env = _pg_arguments(url)
    try:
        _run([_pg_tool("pg_dump"), "--format=custom", "--file", str(partial), *arguments], env)
        check_postgres_backup(partial)
    except BackupError:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(target)
    return _finished(target, record)


def check_postgres_backup(path: Path) -> None:
    import os
    import subprocess

    if not path.is_file():
        raise BackupError(f"no such file: {path}")
    with path.open("rb") as handle:
        if handle.read(5) != PG_DUMP_MAGIC:
            raise BackupError(f"not a pg_dump backup (custom format): {path}")
    listing = subprocess.run(
        [_pg_tool("pg_restore"), "--list", str(path)], capture_output=True, text=True,
        env=dict(os.environ),
    )  # fmt: skip
    if listing.returncode != 0:
        raise BackupError(f"unreadable backup: {listing.stderr.strip()[-300:]}")
    names = listing.stdout
    if not all(f"TABLE public {table} " in names for table in ("alembic_version", "customer")):
        raise BackupError(f"not a Hearth database: {path}")


def restore_postgres(source: Path, url) -> None:
    """Replaces every Hearth table with the backup's (pg_restore --clean, one transaction:
    a failure leaves the database as it was)."""
    check_postgres_backup(source)
    arguments, env = _pg_arguments(url)
    _run(
        [_pg_tool("pg_restore"), "--clean", "--if-exists", "--no-owner", "--single-transaction",
         *arguments, str(source)],
        env,
    )  # fmt: skip
