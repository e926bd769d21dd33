"""The same in-process figures on PostgreSQL (`*_pg`), beside SQLite's in one run.

The large shop built for SQLite is copied once into a private PostgreSQL server kept in
bench/out (migrated by the real migrations, rows copied with COPY, triggers off while
copying, sequences moved on, ANALYZE), then the app is pointed at it. Rebuilt when the
SQLite shop is.
"""

import time
from pathlib import Path

import sqlalchemy as sa

DATABASE = "hearth_bench"
# Filled by the migrations or kept by triggers; copied like any other table.
EXTRA_TABLES = ("customer_search", "page_version")


class Suffixed:
    """Results whose names end in `_pg`."""

    def __init__(self, results, suffix: str):
        self.results, self.suffix = results, suffix

    def timing(self, name, samples, baseline=None, **extra):
        self.results.timing(name + self.suffix, samples, baseline, **extra)

    def value(self, name, value, **extra):
        self.results.value(name + self.suffix, value, **extra)


def _copy(sqlite_url: str, pg_url: str) -> dict:
    from app.db import ddl
    from app.extensions import db
    from app.models import page_version
    from app.services.search import customer_search

    source = sa.create_engine(sqlite_url)
    target = sa.create_engine(pg_url)
    tables = [t for t in db.metadata.sorted_tables] + [customer_search, page_version]
    counts = {}
    raw = target.raw_connection()
    try:
        connection = raw.driver_connection
        with connection.cursor() as cursor:
            for statement in ddl.drop_bigram_indexes():
                cursor.execute(statement)
            cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks
            # …except the ones that fill the search pieces (columns SQLite does not have).
            for table in ("customer_search", "timeline_entry"):
                cursor.execute(f"ALTER TABLE {table} ENABLE ALWAYS TRIGGER {table}_bigrams")
            for table in tables:
                columns = [c.name for c in table.columns]
                names = ", ".join(f'"{c}"' for c in columns)
                cursor.execute(f'TRUNCATE "{table.name}" CASCADE')
                copied = 0
                with (
                    source.connect() as reading,
                    cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy,
                ):
                    # As stored (untyped): enum names, JSON text, 0/1, times as text —
                    # what PostgreSQL's COPY reads for the same columns.
                    result = reading.execution_options(stream_results=True).exec_driver_sql(
                        f'SELECT {names} FROM "{table.name}"'
                    )
                    for row in result:
                        copy.write_row(tuple(row))
                        copied += 1
                counts[table.name] = copied
                if "id" in columns and table.c.id.autoincrement is not False and copied:
                    cursor.execute(
                        f"SELECT setval(pg_get_serial_sequence('\"{table.name}\"', 'id'), "
                        f'(SELECT max(id) FROM "{table.name}"))'
                    )
            cursor.execute("SET session_replication_role = origin")
            for table in ("customer_search", "timeline_entry"):
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER {table}_bigrams")
            for statement in ddl.bigram_indexes():
                cursor.execute(statement)
        connection.commit()
        connection.autocommit = True
        connection.execute("ANALYZE")
    finally:
        raw.close()
        source.dispose()
        target.dispose()
    return counts


def server_folder(folder: Path) -> Path:
    """Beside the shop's instance folder, not in it: the app makes its instance folder
    private (0700) when it starts, and a server run as the postgres user (under root) then
    can no longer reach its own data folder."""
    return folder.parent / f"{folder.name}-postgres"


def prepare(folder: Path) -> str:
    """The large shop on PostgreSQL: its URL (built once per SQLite shop)."""
    from devtools.postgres import PostgresServer

    server = PostgresServer(server_folder(folder))
    url = server.url(DATABASE)
    if (folder / "postgres-ready").exists():
        print("Reusing the large shop on PostgreSQL", flush=True)
        return url
    print("Copying the large shop into PostgreSQL …", flush=True)
    started = time.monotonic()
    server.admin(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)')
    server.create_database(name=DATABASE)
    from flask_migrate import upgrade

    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        upgrade()
        from app.extensions import db

        db.session.remove()
        db.engine.dispose()
    counts = _copy(f"sqlite:///{folder / 'hearth.sqlite'}", url)
    seconds = round(time.monotonic() - started, 1)
    print(f"  copied in {seconds} s ({counts.get('timeline_entry', 0):,} entries)", flush=True)
    (folder / "postgres-ready").write_text(str(seconds))
    return url


def stop(folder: Path) -> None:
    from devtools.postgres import PostgresServer

    PostgresServer(server_folder(folder)).stop()
