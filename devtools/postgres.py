"""A private PostgreSQL server in a folder (Debian's `postgresql` package, installed by the
Makefile), reached over a Unix socket only: for the tests (HEARTH_TEST_DATABASE=postgresql,
one per test process, a database per test copied from a migrated template), the benchmarks
(the large shop on PostgreSQL) and `make run-postgres`.
"""

import glob
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

ADMIN = "hearth"


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

    def __init__(self, folder: Path | None = None, *, durable: bool = False):
        """A new server in a temporary folder, or the one kept in `folder` (created there
        the first time, started if it is not running). Not durable (fsync off) unless asked."""
        self.temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="hearth-pg-")) if folder is None else folder
        self.data = self.folder / "data"
        self.socket = self.folder / "socket"
        self.bin_dir = binaries()
        self.durable = durable
        if not (self.data / "PG_VERSION").exists():
            self._create()
        if not self.running():
            self.start()

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self.socket.mkdir(exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.socket, "postgres", "postgres")
        bin_dir = self.bin_dir
        subprocess.run(
            _as_server_user([
                str(bin_dir / "initdb"), "-D", str(self.data), "-U", ADMIN, "--auth=trust",
                "-E", "UTF8", "--locale=C.UTF-8",
            ]),
            check=True, capture_output=True,
        )  # fmt: skip

    def running(self) -> bool:
        status = [str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "status"]
        return subprocess.run(_as_server_user(status), capture_output=True).returncode == 0

    def start(self) -> None:
        options = f"-k {self.socket} -c listen_addresses='' -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        subprocess.run(
            _as_server_user([
                str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-o", options,
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

    def create_database(self, template: str | None = None, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        if template:
            self.admin(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
        else:
            self.admin(f'CREATE DATABASE "{name}"')
        return name

    def drop_database(self, name: str) -> None:
        self.admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def stop(self) -> None:
        """Stops the server; a temporary one is removed with its folder."""
        mode = "immediate" if self.temporary else "fast"
        subprocess.run(
            _as_server_user([str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", mode, "stop"]),
            capture_output=True,
        )  # fmt: skip
        if self.temporary:
            shutil.rmtree(self.folder, ignore_errors=True)
