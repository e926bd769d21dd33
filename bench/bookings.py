"""Benchmark: 20 simultaneous phone bookings of one room and night, through HTTP, against the
production web server (app/web_server.py, 2 processes), on SQLite and on PostgreSQL. Exactly
one may win: `booking_race_winners` and `booking_race_winners_pg` are the winners counted
(the others must be refused with the message naming the booking that won).

`python -m bench.bookings` runs it alone; `make bench` (bench/run.py) runs it with the rest.
The test tests/customers/test_booking_race.py runs the same race on the suite's databases.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from datetime import date, timedelta
from pathlib import Path

from bench.load import Staff

ROOT = Path(__file__).resolve().parent.parent
ATTEMPTS = 20
DESK = ("desk@example.com", "hearth-demo-1")
CLASH_WORDS = ("already booked", "已有訂房")
REQUEST_TIMEOUT = 120  # the 20 wait their turn for the write lock on a busy machine


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def race(port: int, room_id: int, check_in: date, attempts: int = ATTEMPTS) -> dict:
    """`attempts` bookings of the same room and night sent at once (a barrier releases them
    together), each for a new guest by its own signed-in desk (bench/load.py's Staff: its own
    session, cookies and connection, as `attempts` browsers). Returns the winners, the
    refused (with the clash message) and anything else (status: count)."""
    desks = []
    for _number in range(attempts):
        desk = Staff(port, timeout=REQUEST_TIMEOUT)
        desk.sign_in(*DESK)
        desks.append(desk)
    barrier = threading.Barrier(attempts)
    answers: list[tuple[int, str]] = []
    lock = threading.Lock()

    def book(number: int) -> None:
        desk = desks[number]
        body = {
            "csrf_token": desk.csrf, "guest_id": "", "guest_name": f"Race guest {number}",
            "guest_phone": f"0912{number:06d}", "room_id": str(room_id),
            "check_in": check_in.isoformat(),
            "check_out": (check_in + timedelta(days=1)).isoformat(), "adults": "2",
        }  # fmt: skip
        barrier.wait()
        answer = desk.request("POST", "/bookings/new", body)
        with lock:
            answers.append(answer)

    threads = [threading.Thread(target=book, args=(n,)) for n in range(attempts)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(300)
    finally:
        for desk in desks:
            desk.connection.close()
    winners = sum(1 for status, _ in answers if status == 302)
    refused = sum(
        1 for status, text in answers
        if status == 422 and any(word in text for word in CLASH_WORDS)
    )  # fmt: skip
    other: dict[str, int] = {}
    for status, _text in answers:
        if status not in (302, 422):
            other[str(status)] = other.get(str(status), 0) + 1
    return {"winners": winners, "refused": refused, "other": other, "answers": len(answers)}


def prepare(database_url: str) -> int:
    """A migrated homestay with the demo's staff and one room; returns the room's id."""
    from flask_migrate import upgrade

    from app import create_app
    from app.extensions import db
    from app.services import stays
    from devtools.demo import seed_demo

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        upgrade()
        seed_demo(db.session, password_method="pbkdf2:sha256:1000", customers=0, kind="homestay")
        room = stays.save_room(db.session, None, "海景雙人房")
        db.session.commit()
        room_id = room.id
        db.session.remove()
        db.engine.dispose()
    return room_id


class Server:
    """`make run`'s web server (2 processes) on a database, for the race."""

    def __init__(self, instance: Path, database_url: str):
        from app.serving import web_server_command

        self.port = _free_port()
        env = {**os.environ, "HEARTH_INSTANCE": str(instance), "HEARTH_ENV": "development",
               "DATABASE_URL": database_url}  # fmt: skip
        self.log = open(instance / "web.log", "wb")  # noqa: SIM115 - closed in stop()
        self.process = subprocess.Popen(
            [*web_server_command(sys.executable, "127.0.0.1", self.port), "--workers", "2"],
            cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        deadline = time.time() + 120
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.time() > deadline or self.process.poll() is not None:
                    self.stop()
                    raise RuntimeError("the web server did not start") from None
                time.sleep(0.2)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)
        self.log.close()


def race_on(instance: Path, database_url: str, room_id: int) -> dict:
    server = Server(instance, database_url)
    try:
        return race(server.port, room_id, date.today() + timedelta(days=30))
    finally:
        server.stop()


def run(results, postgres: bool = True) -> None:
    """Both races, each on its own fresh shop; writes booking_race_winners(_pg)."""
    scratch = Path(tempfile.mkdtemp(prefix="hearth-bookings-"))
    try:
        instance = scratch / "sqlite"
        instance.mkdir()
        url = f"sqlite:///{instance / 'hearth.sqlite'}"
        os.environ["HEARTH_INSTANCE"] = str(instance)
        outcome = race_on(instance, url, prepare(url))
        print(f"  SQLite: {outcome}", flush=True)
        results.value("booking_race_winners", outcome["winners"], refused=outcome["refused"])
        if postgres:
            from devtools.postgres import PostgresServer

            instance = scratch / "postgres"
            instance.mkdir()
            os.environ["HEARTH_INSTANCE"] = str(instance)
            server = PostgresServer()
            try:
                url = server.url(server.create_database(name="hearth_race"))
                outcome = race_on(instance, url, prepare(url))
            finally:
                server.stop()
            print(f"  PostgreSQL: {outcome}", flush=True)
            results.value("booking_race_winners_pg", outcome["winners"], refused=outcome["refused"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


class _Printed:
    def __init__(self):
        self.rows: list[dict] = []

    def value(self, name: str, value, **extra):
        self.rows.append({"name": name, "value": value, **extra})


def main() -> None:
    results = _Printed()
    print(f"{ATTEMPTS} simultaneous bookings of one room and night, through HTTP:", flush=True)
    run(results, postgres=os.environ.get("BENCH_SKIP_POSTGRES") != "1")
    print(json.dumps(results.rows, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
