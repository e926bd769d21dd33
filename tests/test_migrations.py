"""The migrations build exactly the schema the models describe."""

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from app.extensions import db
from app.services.search import include_in_migrations, include_object_in_migrations


# SQLAlchemy cannot reflect SQLite expression indexes; the next test checks that one.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings(
    "ignore:autogenerate skipping metadata-specified expression-based index"
)
def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(
            connection,
            opts={"render_as_batch": True, "include_name": include_in_migrations,
                  "include_object": include_object_in_migrations},
        )  # fmt: skip
        diff = compare_metadata(context, db.metadata)
    assert diff == [], diff


@pytest.mark.sqlite_only
def test_the_birthday_expression_index_exists_and_is_used(app):
    with db.engine.connect() as connection:
        sql = connection.scalar(
            sa.text("SELECT sql FROM sqlite_master WHERE name = 'ix_customer_birthday_md'")
        )
        plan = connection.execute(
            sa.text(
                "EXPLAIN QUERY PLAN SELECT id FROM customer "
                "WHERE strftime('%m-%d', birthday) IN ('01-01', '01-02')"
            )
        ).all()
    assert "strftime('%m-%d', birthday)" in sql
    assert "ix_customer_birthday_md" in str(plan)
