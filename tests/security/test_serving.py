"""`make run`'s server under abuse: idle half-sent requests, a killed worker, a restore while
running. One real `flask serve` (web server + huey worker) for the module."""

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Served:
    def __init__(self, instance: Path):
        self.instance = instance
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.output: list[str] = []
        env = {**os.environ, "HEARTH_INSTANCE": str(instance), "PORT": str(self.port)}
        self.env = env
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "serve"],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.process.stdout:
            self.output.append(line)

    def text(self) -> str:
        return "".join(self.output)

    def wait_for(self, pattern: str, timeout: float = 120) -> re.Match:
        deadline = time.time() + timeout
        while time.time() < deadline:
            match = re.search(pattern, self.text())
            if match:
                return match
            time.sleep(0.2)
        raise AssertionError(f"never saw {pattern!r} in:\n{self.text()[-3000:]}")

    def get(self, path: str = "/login", timeout: float = 10) -> int:
        with urllib.request.urlopen(self.url + path, timeout=timeout) as response:
            response.read()
            return response.status

    def flask(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "flask", "--app", "wsgi", *args],
            cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
        self.reader.join(10)
        self.process.stdout.close()


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    server = Served(tmp_path_factory.mktemp("served") / "instance")
    try:
        server.wait_for(r"Web server pid \d+, worker pid \d+")
        deadline = time.time() + 60
        while True:
            try:
                assert server.get() == 200
                break
            except OSError:
                if time.time() > deadline:
                    raise
                time.sleep(0.3)
        yield server
    finally:
        server.stop()


class Attack:
    """Sockets that hold on to the server without finishing a request: `half_sent` send a
    request line and a header but never the blank line that ends them, `idle` connect and
    send nothing, `dripping` send their headers (then a body) one byte at a time."""

    def __init__(self, port: int, half_sent: int, idle: int, dripping: int):
        self.port = port
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        for _ in range(half_sent):
            self._open().sendall(b"GET /login HTTP/1.1\r\nHost: x\r\n")
        for _ in range(idle):
            self._open()
        self.drips = [self._open() for _ in range(dripping)]
        self.dripper = threading.Thread(target=self._drip, daemon=True)
        self.dripper.start()

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=10)
        self.sockets.append(sock)
        return sock

    def _drip(self) -> None:
        request = (
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded"
            b"\r\nContent-Length: 4000\r\n\r\n" + b"x" * 4000
        )
        for byte in range(len(request)):
            for sock in self.drips:
                try:
                    sock.send(request[byte : byte + 1])
                except OSError:
                    pass  # the server may close a dripping socket: that is its right
            if self.stop.wait(0.2):
                return

    def close(self) -> None:
        self.stop.set()
        self.dripper.join(5)
        for sock in self.sockets:
            sock.close()


def test_hundreds_of_idle_half_sent_and_dripping_sockets_do_not_starve_others(served):
    """200 sockets that sent half a request, 200 that sent nothing and 30 that drip bytes:
    each costs the server a file descriptor, not a thread, so other people's pages (signed
    out and signed in) are still answered within a second."""
    from tests.security.conftest import http_login

    owner = http_login(served.url, "owner@example.com", "hearth-demo-1")
    anyone = urllib.request.build_opener()
    pages = [(anyone, "/login"), (owner, "/"), (owner, "/customers/"), (anyone, "/healthz")]
    for _round in range(4):  # every web process has rendered these pages once before
        for opener, path in pages:
            opener.open(served.url + path, timeout=10).read()
    attack = Attack(served.port, half_sent=200, idle=200, dripping=30)
    slow: list[str] = []
    times: list[float] = []
    try:
        time.sleep(1)  # the server has taken them all in by now
        for _round in range(3):
            for opener, path in pages:
                started = time.monotonic()
                try:
                    with opener.open(served.url + path, timeout=10) as page:
                        page.read()
                        assert page.status == 200, path
                except OSError as error:
                    slow.append(f"{path}: {error}")
                    continue
                elapsed = time.monotonic() - started
                times.append(elapsed)
                if elapsed >= 1.0:
                    slow.append(f"{path}: {elapsed:.2f} s")
    finally:
        attack.close()
    print(f"pages answered in {min(times or [0]):.3f}–{max(times or [0]):.3f} s")
    assert slow == [], f"pages waited behind sockets that never finished a request: {slow}"


def test_restore_is_refused_while_the_app_runs(served, tmp_path):
    backup = tmp_path / "copy.sqlite"
    made = served.flask("backup", str(backup))
    assert made.returncode == 0, made.stdout + made.stderr
    database = served.instance / "hearth.sqlite"
    inode = database.stat().st_ino
    result = served.flask("restore", str(backup), "--yes")
    assert result.returncode != 0
    assert "running" in (result.stdout + result.stderr)
    assert "Restored" not in result.stdout
    assert database.stat().st_ino == inode  # the live file was not replaced
    assert served.get() == 200


def test_a_killed_worker_is_restarted_and_the_web_keeps_serving(served):
    worker = int(served.wait_for(r"worker pid (\d+)").group(1))
    os.kill(worker, signal.SIGKILL)
    served.wait_for(rf"Worker \(pid {worker}\) stopped with code -9; restarting in \d+ s\.")
    assert served.get() == 200  # the web server did not go down with it
    new = int(served.wait_for(r"Worker restarted \(pid (\d+)\)").group(1))
    assert new != worker
    time.sleep(1)
    os.kill(new, 0)  # alive
    assert served.get() == 200


def test_a_killed_web_process_is_restarted_and_the_others_keep_serving(served):
    web_server = int(served.wait_for(r"Web server pid (\d+)").group(1))
    children = Path(f"/proc/{web_server}/task/{web_server}/children").read_text().split()
    victim = int(children[0])
    os.kill(victim, signal.SIGKILL)
    served.wait_for(
        rf"Web process \d+ \(pid {victim}\) stopped with code -9; restarting in \d+ s\."
    )
    assert served.get() == 200  # the other processes answer meanwhile
    served.wait_for(r"Web process \d+ restarted \(pid \d+\)")
    assert served.get() == 200


def test_the_web_server_names_no_software_and_refuses_huge_bodies_unread(served):
    with urllib.request.urlopen(served.url + "/login", timeout=10) as response:
        assert response.headers.get("Server") is None
    with socket.create_connection(("127.0.0.1", served.port), timeout=10) as sock:
        # 30 MB announced, none sent: refused at once, nothing read or spooled to disk.
        sock.sendall(
            b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\n"
            b"Content-Length: 30000000\r\n\r\n"
        )
        assert sock.recv(100).startswith(b"HTTP/1.1 413")


def test_instance_lock_is_held_by_a_running_process_only(tmp_path):
    from app.serving import InstanceInUse, exclusive_instance

    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import sys, time; from app.serving import hold_instance_lock; "
         f"hold_instance_lock({str(tmp_path)!r}); print('held', flush=True); time.sleep(60)"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(InstanceInUse), exclusive_instance(tmp_path):
            pass
    finally:
        holder.kill()
        holder.wait(10)
        holder.stdout.close()
    with exclusive_instance(tmp_path):  # nobody holds it any more
        pass


def test_web_workers_follow_the_cores_or_the_setting(monkeypatch):
    """Two processes per core (threads of one process wait for one interpreter lock), from 2
    on a one-core box to at most 8; HEARTH_WEB_WORKERS overrides, nonsense is ignored."""
    from app.serving import web_workers

    monkeypatch.delenv("HEARTH_WEB_WORKERS", raising=False)
    for cores, expected in ((1, 2), (2, 4), (3, 6), (32, 8)):
        monkeypatch.setattr(os, "sched_getaffinity", lambda _pid, n=cores: set(range(n)))
        assert web_workers() == expected
    monkeypatch.setenv("HEARTH_WEB_WORKERS", "3")
    assert web_workers() == 3
    for nonsense in ("lots", "0", "-2", "1000"):
        monkeypatch.setenv("HEARTH_WEB_WORKERS", nonsense)
        assert web_workers() == 8
