"""the SMS password and LINE's channel secret and access token are sealed (Fernet, with the
instance's SETTINGS_KEY from instance/config.py): the columns become text wide enough for
the sealed form, and the values already saved are sealed in place

Revision ID: afa4fef6da38
Revises: 7c2c8d151df4
Create Date: 2026-12-07 13:00:00

"""

import sqlalchemy as sa
from alembic import op
from flask import current_app

revision = "afa4fef6da38"
down_revision = "7c2c8d151df4"
branch_labels = None
depends_on = None

COLUMNS = {"sms_password": 200, "line_channel_secret": 200, "line_access_token": 500}


def _shop_rows(connection):
    names = ", ".join(COLUMNS)
    return connection.execute(sa.text(f"SELECT id, {names} FROM shop")).mappings().all()


def _rewrite(change) -> None:
    """Each saved secret through `change` (the migrations run inside the app, which holds
    SETTINGS_KEY: `flask db upgrade` writes one into instance/config.py if missing)."""
    connection = op.get_bind()
    for row in _shop_rows(connection):
        values = {name: change(row[name]) for name in COLUMNS if row[name] is not None}
        if values:
            assignments = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(
                sa.text(f"UPDATE shop SET {assignments} WHERE id = :row_id"),
                {**values, "row_id": row["id"]},
            )


def upgrade():
    with op.batch_alter_table("shop") as batch:
        for name, length in COLUMNS.items():
            batch.alter_column(name, existing_type=sa.String(length), type_=sa.Text())
    from app.models.sealed import PREFIX, seal

    key = current_app.config.get("SETTINGS_KEY")
    _rewrite(lambda value: value if value.startswith(PREFIX) else seal(value, key))


def downgrade():
    from cryptography.fernet import InvalidToken

    from app.models.sealed import MissingKey, unseal

    key = current_app.config.get("SETTINGS_KEY")

    def opened(value):
        try:
            return unseal(value, key)
        except (InvalidToken, MissingKey):
            return None  # cannot be opened with this key: the owner enters it again

    _rewrite(opened)
    with op.batch_alter_table("shop") as batch:
        for name, length in COLUMNS.items():
            batch.alter_column(name, existing_type=sa.Text(), type_=sa.String(length))
