"""A private PostgreSQL server in a folder (Debian's `postgresql` package, installed by the
Makefile), reached over a Unix socket only: for the tests (HEARTH_TEST_DATABASE=postgresql,
one per test process, a database per test copied from a migrated template), the benchmarks
(the large shop on PostgreSQL) and `make run-postgres`.
"""

import glob
import hashlib
import os
import pwd
import shutil
import stat
import subprocess
import tempfile
import uuid
from pathlib import Path

ADMIN = "hearth"
# A Unix socket's path holds at most 107 bytes (sun_path), ".s.PGSQL.5432" included.
SOCKET_PATH_MAX = 107
SOCKET_FILE = ".s.PGSQL.5432"


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


def socket_folder(folder: Path) -> Path:
    """Where the server's socket lives: `folder`/socket, or, when that path is too long for a
    Unix socket (a checkout a few folders deep), a short private folder in /tmp named after
    `folder`, the same one each time (a kept server is found again after a restart)."""
    inside = folder / "socket"
    if len(os.fsencode(inside / SOCKET_FILE)) <= SOCKET_PATH_MAX:
        return inside
    digest = hashlib.sha256(os.fsencode(folder.resolve())).hexdigest()[:16]
    return Path("/tmp") / f"hearth-pg-{digest}"


def _private_folder(path: Path) -> None:
    """Makes `path` (mode 0700, the server's user's) or checks the one already there: in /tmp
    a symlink or someone else's folder is refused rather than used."""
    as_root = os.geteuid() == 0
    uid = pwd.getpwnam("postgres").pw_uid if as_root else os.geteuid()
    try:
        path.mkdir(mode=0o700)
        if as_root:
            shutil.chown(path, "postgres", "postgres")
    except FileExistsError:
        pass
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != uid:
        raise RuntimeError(f"{path} is not a private folder of the PostgreSQL server's user")


class PostgresServer:
    """initdb + pg_ctl in a temporary folder; stop() removes everything."""

    def __init__(self, folder: Path | None = None, *, durable: bool = False):
        """A new server in a temporary folder, or the one kept in `folder` (created there
        the first time, started if it is not running). Not durable (fsync off) unless asked."""
        self.temporary = folder is None
        self.folder = Path(tempfile.mkdtemp(prefix="hearth-pg-")) if folder is None else folder
        self.data = self.folder / "data"
        self.socket = socket_folder(self.folder)
        self.bin_dir = binaries()
        self.durable = durable
        if not (self.data / "PG_VERSION").exists():
            self._create()
        if not self.running():
            self.start()

    def _create(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
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
        _private_folder(self.socket)  # /tmp may have been emptied since the last start
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
            shutil.rmtree(self.socket, ignore_errors=True)
