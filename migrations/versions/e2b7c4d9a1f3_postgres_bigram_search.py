"""PostgreSQL searches through a stored bigram tsvector (GIN) instead of pg_trgm and an
expression index that was recomputed for every row a query rechecked; SQLite is unchanged

Revision ID: e2b7c4d9a1f3
Revises: fed5b28f654b
Create Date: 2026-12-07 19:20:00

The new column is filled for the rows already there in batches of ids, then indexed; from
then on BEFORE triggers keep it current on every insert and update (an erasure blanks the
body, and with it the pieces).
"""

import sqlalchemy as sa
from alembic import op

revision = "e2b7c4d9a1f3"
down_revision = "fed5b28f654b"
branch_labels = None
depends_on = None

TABLES = ("customer_search", "timeline_entry")
BATCH = 20_000
OLD_INDEXES = (
    "ix_customer_search_tri", "ix_customer_search_grams",
    "ix_timeline_entry_tri", "ix_timeline_entry_grams",
)  # fmt: skip


def upgrade():
    connection = op.get_bind()
    if connection.dialect.name != "postgresql":
        return
    from app.db import ddl

    for statement in ddl.bigram_search_functions():
        op.execute(statement)
    for table in TABLES:
        op.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS search_bigrams tsvector")
    for statement in ddl.bigram_triggers():
        op.execute(statement)
    # Filling a column no page shows: the page-version trigger need not count it as a change.
    op.execute("ALTER TABLE timeline_entry DISABLE TRIGGER timeline_entry_page")
    for table in TABLES:
        low, high = connection.execute(sa.text(f"SELECT min(id), max(id) FROM {table}")).one()
        for first in range(low or 0, (high or -1) + 1, BATCH):
            op.execute(ddl.fill_bigrams(table, first, first + BATCH - 1))
    op.execute("ALTER TABLE timeline_entry ENABLE TRIGGER timeline_entry_page")
    for statement in ddl.bigram_indexes():
        op.execute(statement)
    for name in OLD_INDEXES:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.execute("DROP FUNCTION IF EXISTS hearth_grams(text)")
    for table in TABLES:
        op.execute(f"ANALYZE {table}")


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    from app.db import ddl

    for statement in ddl.search_indexes():
        op.execute(statement)
    for statement in ddl.drop_bigram_indexes():
        op.execute(statement)
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bigrams ON {table}")
        op.execute(f"ALTER TABLE {table} DROP COLUMN IF EXISTS search_bigrams")
    for name in ("hearth_entry_bigrams()", "hearth_document_bigrams()",
                 "hearth_bigram_query(text)", "hearth_bigrams(text)"):  # fmt: skip
        op.execute(f"DROP FUNCTION IF EXISTS {name}")
