"""`make run-postgres`: runs a command (the app's `flask serve`) on a local PostgreSQL.

With DATABASE_URL set, that server is used as it is. Otherwise a private server is kept in
instance/postgres (Debian's postgresql package; created on first use, reached over a Unix
socket in that folder only) and started if it is not running; it keeps running after the
app stops (`pg_ctl -D instance/postgres/data stop` stops it).
"""

import os
import sys
from pathlib import Path

from app.config import instance_path

DATABASE = "hearth"


def ensure_server(folder: Path) -> str:
    from devtools.postgres import PostgresServer

    server = PostgresServer(folder, durable=True)
    import psycopg

    with psycopg.connect(
        host=str(server.socket), user="hearth", dbname="postgres", autocommit=True
    ) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)
        ).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{DATABASE}"')
    return server.url(DATABASE)


def main(argv: list[str]) -> None:
    if not os.environ.get("DATABASE_URL"):
        folder = Path(instance_path()) / "postgres"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = ensure_server(folder)
    print(f"Database: {os.environ['DATABASE_URL']}", flush=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
