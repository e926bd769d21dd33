"""tag merges remember the teachers whose class moved with the merge, so an undo gives the
class back to them

Revision ID: f8a9b0c1d2e3
Revises: e7f8a9b0c1d2
Create Date: 2026-12-07 02:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "f8a9b0c1d2e3"
down_revision = "e7f8a9b0c1d2"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("tag_merge") as batch:
        batch.add_column(
            sa.Column("teachers_had_source", sa.Text(), nullable=False, server_default="")
        )
        batch.add_column(
            sa.Column("teachers_gained_target", sa.Text(), nullable=False, server_default="")
        )


def downgrade():
    with op.batch_alter_table("tag_merge") as batch:
        batch.drop_column("teachers_gained_target")
        batch.drop_column("teachers_had_source")
