"""a teacher's classes are rows (user_group: a class tag, or a custom field's value) instead of
comma-separated names in user.group_names: a renamed class tag stays the teacher's, a deleted
one goes, and no list is cut at 300 characters

Revision ID: d76cf09f8dcb
Revises: c41e7a9d2b60
Create Date: 2026-12-07 16:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "d76cf09f8dcb"
down_revision = 'c41e7a9d2b60'
branch_labels = None
depends_on = None


def upgrade():
    connection = op.get_bind()
    saved = connection.execute(
        sa.text("SELECT id, group_names FROM \"user\" WHERE group_names != '' ORDER BY id")
    ).all()
    # Not a batch: on SQLite a batch rebuilds "user", and dropping the old table would fire
    # every foreign key pointing at it (staff sessions deleted, authors set to NULL). SQLite
    # 3.35+ drops a plain column in place, as PostgreSQL does.
    op.drop_column("user", "group_names")
    op.create_table(
        "user_group",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("tag_id", sa.Integer(), nullable=True),
        sa.Column("value", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(
            ["tag_id"], ["tag.id"], name=op.f("fk_user_group_tag_id_tag"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_user_group_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_group")),
        sa.UniqueConstraint("user_id", "tag_id", name="uq_user_group_user_tag"),
        sa.UniqueConstraint("user_id", "value", name="uq_user_group_user_value"),
    )
    op.create_index(op.f("ix_user_group_tag_id"), "user_group", ["tag_id"], unique=False)
    # A class kept by name: its tag when one has that name (and the shop's classes are
    # tags), else the name itself (a custom field's value).
    by_field = connection.scalar(sa.text("SELECT group_source FROM shop ORDER BY id LIMIT 1"))
    tags = dict(connection.execute(sa.text("SELECT name, id FROM tag")).all())
    if by_field == "field":
        tags = {}
    rows = []
    for user_id, text in saved:
        for name in sorted({name for name in (text or "").split(",") if name}):
            rows.append(
                {
                    "user_id": user_id,
                    "tag_id": tags.get(name),
                    "value": None if name in tags else name,
                }
            )
    if rows:
        connection.execute(
            sa.text(
                "INSERT INTO user_group (user_id, tag_id, value) VALUES (:user_id, :tag_id, :value)"
            ),
            rows,
        )


def downgrade():
    connection = op.get_bind()
    names: dict[int, list[str]] = {}
    for user_id, name in connection.execute(
        sa.text(
            "SELECT g.user_id, COALESCE(t.name, g.value) FROM user_group g "
            "LEFT JOIN tag t ON t.id = g.tag_id ORDER BY g.user_id, g.id"
        )
    ):
        names.setdefault(user_id, []).append(name)
    op.drop_index(op.f("ix_user_group_tag_id"), table_name="user_group")
    op.drop_table("user_group")
    # A column with a constant default is added in place on SQLite too (no rebuild).
    with op.batch_alter_table("user") as batch:
        batch.add_column(
            sa.Column("group_names", sa.String(length=300), server_default="", nullable=False)
        )
    for user_id, kept in names.items():
        text = ""
        for name in sorted(kept):  # whole names only, as many as the old column holds
            longer = f"{text},{name}" if text else name
            if len(longer) > 300:
                break
            text = longer
        connection.execute(
            sa.text('UPDATE "user" SET group_names = :text WHERE id = :user_id'),
            {"text": text, "user_id": user_id},
        )
