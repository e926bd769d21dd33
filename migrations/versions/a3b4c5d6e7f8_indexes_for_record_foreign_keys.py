"""indexes on the dated records' foreign keys (deleting a timeline entry, room or family
member must not scan every purchase, stay and attendance row)

Revision ID: a3b4c5d6e7f8
Revises: f2a3b4c5d6e7
Create Date: 2026-11-24 07:40:00

"""
from alembic import op

revision = 'a3b4c5d6e7f8'
down_revision = 'f2a3b4c5d6e7'
branch_labels = None
depends_on = None

INDEXES = [
    ("ix_purchase_entry_id", "purchase", "entry_id"),
    ("ix_stay_entry_id", "stay", "entry_id"),
    ("ix_stay_room_id", "stay", "room_id"),
    ("ix_attendance_entry_id", "attendance", "entry_id"),
    ("ix_attendance_picked_up_by_id", "attendance", "picked_up_by_id"),
]


def upgrade():
    for name, table, column in INDEXES:
        op.create_index(name, table, [column])


def downgrade():
    for name, table, _column in INDEXES:
        op.drop_index(name, table_name=table)
