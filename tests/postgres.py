"""A real PostgreSQL server for the tests, started in a temporary folder (Debian's
`postgresql` package, installed by the Makefile), reached over a Unix socket only.

The suite runs on SQLite; `HEARTH_TEST_DATABASE=postgresql` runs the chosen tests on
PostgreSQL instead (make test does both). Each test gets its own database, copied from a
template that the real migrations built once per test process.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

ADMIN = "hearth"


def wanted() -> bool:
    return os.environ.get("HEARTH_TEST_DATABASE", "sqlite") == "postgresql"


def binaries() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: run `make test` (it installs it)")
    return Path(found[-1]).parent


def _as_server_user(command: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; Debian's package made the postgres user.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *command]
    return command


class PostgresServer:
    """initdb + pg_ctl in a temporary folder; stop() removes everything."""

    def __init__(self):
        self.folder = Path(tempfile.mkdtemp(prefix="hearth-pg-"))
        self.data = self.folder / "data"
        self.socket = self.folder / "socket"
        self.socket.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")
        bin_dir = binaries()
        self.bin_dir = bin_dir
        subprocess.run(
            _as_server_user([
                str(bin_dir / "initdb"), "-D", str(self.data), "-U", ADMIN, "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8",
            ]),
            check=True, capture_output=True,
        )  # fmt: skip
        options = (
            f"-k {self.socket} -c listen_addresses='' -c fsync=off -c synchronous_commit=off "
            "-c full_page_writes=off -c max_connections=200"
        )
        subprocess.run(
            _as_server_user([
                str(bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
                "-l", str(self.folder / "server.log"), "-w", "start",
            ]),
            check=True, capture_output=True,
        )  # fmt: skip

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://{ADMIN}@/{database}?host={self.socket}"

    def admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(
            host=str(self.socket), user=ADMIN, dbname="postgres", autocommit=True
        ) as connection:
            connection.execute(sql)

    def create_database(self, template: str | None = None) -> str:
        name = f"t_{uuid.uuid4().hex[:12]}"
        if template:
            self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        subprocess.run(
            _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"]),
            capture_output=True,
        )  # fmt: skip
        shutil.rmtree(self.folder, ignore_errors=True)
