"""each channel of a campaign pauses on its own (campaign_channel, with a reason code and its
details); a delivery's failure has a code; a campaign has a kind (blast or booking) and a
purpose (marketing or service)

Revision ID: a1c2e3f4b5d6
Revises: e2b7c4d9a1f3
Create Date: 2026-12-07 19:30:00

Columns are added in place (no batch rebuild: on SQLite that would drop the campaign table and
fire the foreign keys that point at it). Deposit reminders sent before become booking/service
campaigns.
"""

import sqlalchemy as sa
from alembic import op

revision = "a1c2e3f4b5d6"
down_revision = "e2b7c4d9a1f3"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "campaign", sa.Column("kind", sa.String(length=20), nullable=False, server_default="blast")
    )
    op.add_column(
        "campaign",
        sa.Column("purpose", sa.String(length=20), nullable=False, server_default="marketing"),
    )
    op.add_column("campaign", sa.Column("pause_code", sa.String(length=30), nullable=True))
    op.add_column("delivery", sa.Column("error_code", sa.String(length=30), nullable=True))
    op.create_index("ix_campaign_kind_created", "campaign", ["kind", "created_at"])
    op.create_table(
        "campaign_channel",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("reason_code", sa.String(length=30), nullable=True),
        sa.Column("reason_details", sa.JSON(none_as_null=True), nullable=True),
        sa.Column("changed_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_channel_campaign_id_campaign"),
            ondelete="CASCADE",
        ),  # fmt: skip
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_channel")),
        sa.UniqueConstraint("campaign_id", "channel", name=op.f("uq_campaign_channel_campaign_id")),
    )
    op.execute(
        "UPDATE campaign SET kind = 'booking', purpose = 'service' WHERE id IN "
        "(SELECT reminder_campaign_id FROM stay_money WHERE reminder_campaign_id IS NOT NULL)"
    )


def downgrade():
    op.drop_table("campaign_channel")
    op.drop_index("ix_campaign_kind_created", table_name="campaign")
    op.drop_column("delivery", "error_code")
    op.drop_column("campaign", "pause_code")
    op.drop_column("campaign", "purpose")
    op.drop_column("campaign", "kind")
