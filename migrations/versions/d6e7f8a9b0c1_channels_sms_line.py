"""channels: SMS and LINE beside email. Deliveries record their channel and an idempotency
key; campaigns choose channels; LINE users linked to customers; per-channel opt-outs.

Revision ID: d6e7f8a9b0c1
Revises: c5d6e7f8a9b0
Create Date: 2026-11-24 10:50:00

"""
import uuid

from alembic import op
import sqlalchemy as sa

revision = 'd6e7f8a9b0c1'
down_revision = 'c5d6e7f8a9b0'
branch_labels = None
depends_on = None


def _bump(expression: str) -> str:
    return (
        f"INSERT INTO page_version (customer_id, version) VALUES ({expression}, 1) "
        "ON CONFLICT (customer_id) DO UPDATE SET version = version + 1;"
    )


def upgrade():
    # Plain ADD COLUMN (no batch copy): the tables keep their triggers and expression indexes.
    op.add_column(
        "delivery",
        sa.Column("channel", sa.String(length=10), nullable=False, server_default="email")
    )
    op.add_column(
        "delivery", sa.Column("idempotency_key", sa.String(length=36), nullable=True))
    op.add_column(
        "delivery", sa.Column("provider_id", sa.String(length=80), nullable=True))
    op.add_column(
        "delivery", sa.Column("receipt", sa.String(length=40), nullable=True))
    # LINE multicast: the deliveries sent in one request share its retry key; a repeat
    # after a crash sends the same group with the same key.
    op.add_column(
        "delivery", sa.Column("batch_key", sa.String(length=36), nullable=True))
    connection = op.get_bind()
    ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM delivery"))]
    if ids:
        connection.execute(
            sa.text("UPDATE delivery SET idempotency_key = :key WHERE id = :id"),
            [{"key": str(uuid.uuid4()), "id": id_} for id_ in ids],
        )
    op.create_index("ix_delivery_idempotency_key", "delivery", ["idempotency_key"], unique=True)
    op.create_index("ix_delivery_provider_id", "delivery", ["provider_id"])
    # The channels in fallback order ("email"; "line,sms,email"), and whether each
    # person's preferred channel goes first.
    op.add_column(
        "campaign",
        sa.Column("channels", sa.String(length=40), nullable=False, server_default="email")
    )
    op.add_column(
        "campaign",
        sa.Column("use_preferred", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "campaign", sa.Column("short_text", sa.Text(), nullable=True))
    op.add_column(
        "customer",
        sa.Column("sms_opt_out", sa.Boolean(), nullable=False, server_default=sa.false())
    )
    op.add_column(
        "shop", sa.Column("sms_provider", sa.String(length=20), nullable=True))
    op.add_column(
        "shop", sa.Column("sms_username", sa.String(length=120), nullable=True))
    op.add_column(
        "shop", sa.Column("sms_password", sa.String(length=200), nullable=True))
    op.add_column(
        "shop", sa.Column("sms_sender", sa.String(length=40), nullable=True))
    op.add_column(
        "shop",
        sa.Column("sms_part_price_cents", sa.Integer(), nullable=False, server_default="100")
    )
    op.add_column(
        "shop", sa.Column("line_channel_secret", sa.String(length=200), nullable=True))
    op.add_column(
        "shop", sa.Column("line_access_token", sa.String(length=500), nullable=True))
    op.add_column(
        "shop", sa.Column("line_account_id", sa.String(length=40), nullable=True))
    op.create_table(
        "line_link",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=120), nullable=True),
        sa.Column("linked_at", sa.DateTime(), nullable=False),
        sa.Column("unfollowed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        # One LINE user may follow for two children (siblings); once per child.
        sa.UniqueConstraint("customer_id", "user_id"),
    )
    op.create_index("ix_line_link_customer_id", "line_link", ["customer_id"])
    op.create_index("ix_line_link_user_id", "line_link", ["user_id"])
    op.create_table(
        "line_code",
        sa.Column("code", sa.String(length=12), nullable=False),
        sa.Column("customer_id", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["customer_id"], ["customer.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["created_by_id"], ["user.id"], ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("code"),
    )
    op.create_index("ix_line_code_customer_id", "line_code", ["customer_id"])
    if op.get_bind().dialect.name == "postgresql":
        from app.db import ddl

        for statement in ddl.page_triggers("line_link", "customer_id"):
            op.execute(statement)
    else:
        for suffix, event, who in (("ai", "INSERT", "NEW"), ("ad", "DELETE", "OLD")):
            op.execute(
                f"CREATE TRIGGER line_link_page_{suffix} AFTER {event} ON line_link FOR EACH ROW "
                f"BEGIN {_bump(who + '.customer_id')} END"
            )
        op.execute(
            "CREATE TRIGGER line_link_page_au AFTER UPDATE ON line_link FOR EACH ROW BEGIN "
            f"{_bump('NEW.customer_id')} {_bump('OLD.customer_id')} END"
        )


def downgrade():
    for suffix in ("ai", "au", "ad"):
        op.get_bind().dialect.name == "sqlite" and op.execute(f"DROP TRIGGER IF EXISTS line_link_page_{suffix}")
    op.drop_table("line_code")
    op.drop_table("line_link")
    with op.batch_alter_table("shop") as batch_op:
        for name in ("line_account_id", "line_access_token", "line_channel_secret",
                     "sms_part_price_cents", "sms_sender", "sms_password", "sms_username",
                     "sms_provider"):
            batch_op.drop_column(name)
    with op.batch_alter_table("customer") as batch_op:
        batch_op.drop_column("sms_opt_out")
    with op.batch_alter_table("campaign") as batch_op:
        batch_op.drop_column("short_text")
        batch_op.drop_column("use_preferred")
        batch_op.drop_column("channels")
    op.drop_index("ix_delivery_provider_id", "delivery")
    op.drop_index("ix_delivery_idempotency_key", "delivery")
    with op.batch_alter_table("delivery") as batch_op:
        batch_op.drop_column("batch_key")
        batch_op.drop_column("receipt")
        batch_op.drop_column("provider_id")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("channel")
