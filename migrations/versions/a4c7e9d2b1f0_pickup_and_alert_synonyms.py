"""authorised pick-up people and the owner's alert synonyms: a family member may pick a child
up without being a guardian; the shop keeps lines of keywords that mean the same thing

Revision ID: a4c7e9d2b1f0
Revises: f1a2b3c4d5e6
Create Date: 2026-12-07 19:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "a4c7e9d2b1f0"
down_revision = "f1a2b3c4d5e6"
branch_labels = None
depends_on = None


def upgrade():
    # Plain ADD COLUMNs (a batch would copy the tables).
    op.add_column(
        "family_member",
        sa.Column("can_pick_up", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("shop", sa.Column("alert_synonyms", sa.JSON(none_as_null=True), nullable=True))


def downgrade():
    op.drop_column("shop", "alert_synonyms")
    op.drop_column("family_member", "can_pick_up")
