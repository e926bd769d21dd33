"""page versions: a counter per customer (and one for the whole shop, id 0) that moves on
with every change to what the customer page shows; kept by triggers so that every writer
counts (the web, the worker, imports, the outbox's plain SQL)

Revision ID: c9d0e1f2a3b4
Revises: b8c9d0e1f2a3
Create Date: 2026-11-24 06:50:00

"""
from alembic import op

revision = 'c9d0e1f2a3b4'
down_revision = 'b8c9d0e1f2a3'
branch_labels = None
depends_on = None

# Tables whose rows belong to one customer, and tables whose changes show on every page.
PER_CUSTOMER = ("custom_field_value", "customer_tag", "family_member", "important_date",
                "timeline_entry", "reminder", "consent_event")
WHOLE_SHOP = ("user", "tag", "custom_field", "shop", "reminder_rule")


def _bump(expression: str) -> str:
    return (
        f"INSERT INTO page_version (customer_id, version) VALUES ({expression}, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET version = version + 1;"
    )


def _triggers():
    for table in PER_CUSTOMER:
        yield f"{table}_page_ai", f"AFTER INSERT ON {table}", _bump("NEW.customer_id")
        yield f"{table}_page_ad", f"AFTER DELETE ON {table}", _bump("OLD.customer_id")
        yield (f"{table}_page_au", f"AFTER UPDATE ON {table}",
               _bump("NEW.customer_id") + " " + _bump("OLD.customer_id"))
    yield "customer_page_au", "AFTER UPDATE ON customer", _bump("NEW.id")
    yield "customer_page_ad", "AFTER DELETE ON customer", _bump("OLD.id")
    for table in WHOLE_SHOP:
        for suffix, event in (("ai", "INSERT"), ("au", "UPDATE"), ("ad", "DELETE")):
            yield f"{table}_page_{suffix}", f'AFTER {event} ON "{table}"', _bump("0")


def upgrade():
    op.execute(
        "CREATE TABLE page_version (customer_id INTEGER NOT NULL PRIMARY KEY, version INTEGER NOT NULL)"
    )
    if op.get_bind().dialect.name == "postgresql":
        from app.db import ddl

        op.execute(ddl.PAGE_FUNCTION)
        for table in PER_CUSTOMER:
            for statement in ddl.page_triggers(table, "customer_id"):
                op.execute(statement)
        for statement in ddl.page_triggers("customer", "id", events=("UPDATE", "DELETE")):
            op.execute(statement)
        for table in WHOLE_SHOP:
            for statement in ddl.page_triggers(table, None):
                op.execute(statement)
        return
    for name, when, body in _triggers():
        op.execute(f"CREATE TRIGGER {name} {when} FOR EACH ROW BEGIN {body} END")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE page_version")
        op.execute("DROP FUNCTION hearth_bump_page() CASCADE")
        return
    for name, _when, _body in _triggers():
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.execute("DROP TABLE page_version")
