"""Audit rows of pages that only read, when the shop's database is busy writing: kept in a
small SQLite file of their own (instance/audit-queue.sqlite, which no other writer locks)
and moved into the audit log by the one background worker, so a page that only reads never
waits for the write lock and no row is lost (the move is idempotent: killed half-way, it is
done again without doubling a row)."""

import json
import sqlite3
import uuid
from datetime import datetime
from pathlib import Path

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import begin_write
from app.models import AuditEvent

FILENAME = "audit-queue.sqlite"
DRAIN_BATCH = 500


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, timeout=5, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute(
        "CREATE TABLE IF NOT EXISTS queued (key TEXT PRIMARY KEY, row TEXT NOT NULL)"
    )
    return connection


def put(folder: str | Path, row: dict) -> None:
    """Keeps one audit row (AuditEvent's columns, `at` included) until the worker moves it."""
    path = Path(folder) / FILENAME
    values = {**row, "at": row["at"].isoformat(), "key": uuid.uuid4().hex}
    connection = _connect(path)
    try:
        connection.execute(
            "INSERT INTO queued (key, row) VALUES (?, ?)", (values["key"], json.dumps(values))
        )
    finally:
        connection.close()
    path.chmod(0o600)


def waiting(folder: str | Path) -> int:
    path = Path(folder) / FILENAME
    if not path.exists():
        return 0
    connection = _connect(path)
    try:
        return connection.execute("SELECT count(*) FROM queued").fetchone()[0]
    finally:
        connection.close()


def drain(session: Session, folder: str | Path) -> int:
    """Moves every queued row into the audit log (the caller's session; it waits for the
    write lock like any writer). A row already moved by a run that died before forgetting
    it (same moment, action, user and target) is not written twice."""
    path = Path(folder) / FILENAME
    if not path.exists():
        return 0
    moved = 0
    connection = _connect(path)
    try:
        while True:
            batch = connection.execute(
                "SELECT key, row FROM queued ORDER BY rowid LIMIT ?", (DRAIN_BATCH,)
            ).fetchall()
            if not batch:
                return moved
            begin_write(session)
            for _key, text in batch:
                values = json.loads(text)
                values.pop("key")
                values["at"] = datetime.fromisoformat(values["at"])
                if not _already_there(session, values):
                    session.add(AuditEvent(**values))
            session.commit()
            connection.executemany("DELETE FROM queued WHERE key = ?", [(k,) for k, _ in batch])
            moved += len(batch)
    finally:
        connection.close()


def _already_there(session: Session, values: dict) -> bool:
    return (
        session.scalar(
            sa.select(AuditEvent.id).where(
                AuditEvent.at == values["at"],
                AuditEvent.action == values["action"],
                AuditEvent.user_id.is_(None)
                if values.get("user_id") is None
                else AuditEvent.user_id == values["user_id"],
                AuditEvent.target_id.is_(None)
                if values.get("target_id") is None
                else AuditEvent.target_id == values["target_id"],
            )
        )
        is not None
    )
