"""`make run-postgres`: runs a command (the app's `flask serve`) on a local PostgreSQL.

With DATABASE_URL set, that server is used as it is. Otherwise a private server is kept in
instance/postgres (Debian's postgresql package; created on first use, reached over a Unix
socket in that folder only) and started if it is not running; it keeps running after the
app stops (`pg_ctl -D instance/postgres/data stop` stops it).
"""

import glob
import os
import shutil
import subprocess
import sys
from pathlib import Path

from app.config import instance_path

ROLE = "hearth"
DATABASE = "hearth"


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        sys.exit("PostgreSQL is not installed: `make run-postgres` installs Debian's postgresql.")
    return found[-1]


def _as_server_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root; Debian's package made the postgres user for it.
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def ensure_server(folder: Path) -> str:
    data, socket = folder / "data", folder / "socket"
    if not (data / "PG_VERSION").exists():
        socket.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            for path in (folder, socket):
                shutil.chown(path, "postgres", "postgres")
        subprocess.run(
            _as_server_user([_bin("initdb"), "-D", str(data), "-U", ROLE, "--auth=trust",
                             "-E", "UTF8", "--locale=C.UTF-8"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    status = subprocess.run(_as_server_user([_bin("pg_ctl"), "-D", str(data), "status"]),
                            stdout=subprocess.DEVNULL)  # fmt: skip
    if status.returncode != 0:
        subprocess.run(
            _as_server_user([_bin("pg_ctl"), "-D", str(data), "-l", str(folder / "server.log"),
                             "-o", f"-k {socket} -c listen_addresses=''", "-w", "start"]),
            check=True, stdout=subprocess.DEVNULL,
        )  # fmt: skip
    import psycopg

    with psycopg.connect(host=str(socket), user=ROLE, dbname="postgres", autocommit=True) as db:
        if not db.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            db.execute(f'CREATE DATABASE "{DATABASE}"')
    return f"postgresql+psycopg://{ROLE}@/{DATABASE}?host={socket}"


def main(argv: list[str]) -> None:
    if not os.environ.get("DATABASE_URL"):
        folder = Path(instance_path()) / "postgres"
        folder.mkdir(parents=True, exist_ok=True)
        os.environ["DATABASE_URL"] = ensure_server(folder)
    print(f"Database: {os.environ['DATABASE_URL']}", flush=True)
    os.execvp(argv[0], argv)


if __name__ == "__main__":
    main(sys.argv[1:])
