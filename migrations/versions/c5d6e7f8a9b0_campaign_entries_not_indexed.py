"""campaign mails on the timeline are not indexed for search: the same subject on thousands of
timelines says nothing a search needs, and indexing each cost the outbox most of its confirm

Revision ID: c5d6e7f8a9b0
Revises: b4c5d6e7f8a9
Create Date: 2026-11-24 08:25:00

"""
from alembic import op

revision = 'c5d6e7f8a9b0'
down_revision = 'b4c5d6e7f8a9'
branch_labels = None
depends_on = None

SKIP_NEW = "WHEN new.action IS NOT 'campaign'"
SKIP_OLD = "WHEN old.action IS NOT 'campaign'"


def _triggers(guarded: bool):
    new_guard, old_guard = (SKIP_NEW, SKIP_OLD) if guarded else ("", "")
    return [
        f"CREATE TRIGGER timeline_entry_search_ai AFTER INSERT ON timeline_entry {new_guard} BEGIN "
        "INSERT INTO note_tri(rowid, body) VALUES (new.id, new.body); "
        "INSERT INTO note_bi(rowid, body) VALUES (new.id, hearth_bigrams(new.body)); END",
        f"CREATE TRIGGER timeline_entry_search_ad AFTER DELETE ON timeline_entry {old_guard} BEGIN "
        "INSERT INTO note_tri(note_tri, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO note_bi(note_bi, rowid, body) VALUES ('delete', old.id, hearth_bigrams(old.body)); END",
        f"CREATE TRIGGER timeline_entry_search_au AFTER UPDATE OF body ON timeline_entry {old_guard} BEGIN "
        "INSERT INTO note_tri(note_tri, rowid, body) VALUES ('delete', old.id, old.body); "
        "INSERT INTO note_bi(note_bi, rowid, body) VALUES ('delete', old.id, hearth_bigrams(old.body)); "
        "INSERT INTO note_tri(rowid, body) VALUES (new.id, new.body); "
        "INSERT INTO note_bi(rowid, body) VALUES (new.id, hearth_bigrams(new.body)); END",
    ]


def _drop():
    for suffix in ("ai", "ad", "au"):
        op.execute(f"DROP TRIGGER IF EXISTS timeline_entry_search_{suffix}")


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        return  # the search indexes (app.db.ddl) leave campaign mails out from the start
    # Campaign mails already indexed leave the index first (while the old triggers still
    # match what is in it), then the guarded triggers take over.
    op.execute(
        "INSERT INTO note_tri(note_tri, rowid, body) SELECT 'delete', id, body FROM timeline_entry "
        "WHERE action = 'campaign'"
    )
    op.execute(
        "INSERT INTO note_bi(note_bi, rowid, body) SELECT 'delete', id, hearth_bigrams(body) "
        "FROM timeline_entry WHERE action = 'campaign'"
    )
    _drop()
    for statement in _triggers(guarded=True):
        op.execute(statement)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        return
    _drop()
    for statement in _triggers(guarded=False):
        op.execute(statement)
    op.execute(
        "INSERT INTO note_tri(rowid, body) SELECT id, body FROM timeline_entry WHERE action = 'campaign'"
    )
    op.execute(
        "INSERT INTO note_bi(rowid, body) SELECT id, hearth_bigrams(body) FROM timeline_entry "
        "WHERE action = 'campaign'"
    )
