"""Running Hearth: the instance lock the web server and the worker hold, the web server's
settings, and the supervisor `flask serve` (and the web server itself) use to keep children
alive."""

import fcntl
import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

LOCK_NAME = "hearth.lock"


def web_workers() -> int:
    """Two worker processes per core this process may use, at least 2 and at most 8
    (HEARTH_WEB_WORKERS overrides). Threads of one process share one interpreter lock:
    measured with 50 simulated staff on 2 cores (bench/load.py), 2 processes × 8 threads
    answered with p95 80–181 ms where 4 processes answered with 46–76 ms."""
    configured = os.environ.get("HEARTH_WEB_WORKERS", "")
    if configured.isdecimal() and 0 < int(configured) <= 64:
        return int(configured)
    return min(8, max(2, 2 * len(os.sched_getaffinity(0))))


# waitress in each web process (app/web_server.py): an event loop reads whole requests
# (headers and body) before a thread takes them, so idle, half-sent and slow clients cost a
# file descriptor each, not a thread, and threads only wait for the database or the
# interpreter lock (6 per process, as measured under bench/load.py). Connections per process
# are many (the open-file limit is raised to fit); a socket silent for channel_timeout
# seconds with nothing under way is closed (checked every cleanup_interval seconds);
# requests under way get graceful_timeout seconds after a stop.
WEB_SETTINGS = {
    "workers": web_workers(),
    "threads": 6,
    "connection_limit": 1000,
    "channel_timeout": 30,
    "cleanup_interval": 10,
    "graceful_timeout": 8,
}

_held: list[int] = []  # open lock files: closing them would drop the lock


def lock_path(instance: str | Path) -> Path:
    return Path(instance) / LOCK_NAME


def hold_instance_lock(instance: str | Path) -> None:
    """A shared lock on instance/hearth.lock for as long as this process (and its forked
    children) live: `flask restore` sees it and refuses to pull the database away."""
    path = lock_path(instance)
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_SH)
    _held.append(descriptor)


class InstanceInUse(RuntimeError):
    pass


class exclusive_instance:  # noqa: N801 - used as a context manager, reads like one
    """Holds instance/hearth.lock exclusively (nothing serving this instance may run), or
    raises InstanceInUse at once."""

    def __init__(self, instance: str | Path):
        self.path = lock_path(instance)
        self.descriptor: int | None = None

    def __enter__(self):
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self.descriptor)
            raise InstanceInUse(str(self.path)) from None
        return self

    def __exit__(self, *_exc):
        fcntl.flock(self.descriptor, fcntl.LOCK_UN)
        os.close(self.descriptor)


def web_server_command(python: str, host: str, port: int) -> list[str]:
    return [python, "-m", "app.web_server", "--host", host, "--port", str(port)]


class Child:
    """One supervised process: restarted with a growing pause when it dies on its own.
    `command` is a command line, or a function that starts the process and returns an
    object with Popen's poll/send_signal/wait/kill/pid (a forked web process)."""

    BACKOFF = (1, 2, 5, 10, 30)
    STABLE_AFTER = 60.0  # seconds of running that reset the back-off

    def __init__(
        self, name: str, command: list[str] | Callable, env: dict, log: Callable[[str], None]
    ):
        self.name, self.command, self.env, self.log = name, command, env, log
        self.process: subprocess.Popen | None = None
        self.started = 0.0
        self.failures = 0
        self.restart_at: float | None = None

    def start(self) -> None:
        if callable(self.command):
            self.process = self.command()
        else:
            self.process = subprocess.Popen(self.command, env=self.env)
        self.started = time.monotonic()
        self.restart_at = None

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process else None

    def check(self) -> None:
        """Notices a death and restarts the child when its pause is over."""
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.start()
                self.log(f"{self.name} restarted (pid {self.pid}).")
            return
        code = self.process.poll()
        if code is None:
            if now - self.started > self.STABLE_AFTER:
                self.failures = 0
            return
        pause = self.BACKOFF[min(self.failures, len(self.BACKOFF) - 1)]
        self.failures += 1
        self.restart_at = now + pause
        self.log(f"{self.name} (pid {self.pid}) stopped with code {code}; restarting in {pause} s.")

    def interrupt(self) -> None:
        if self.process is not None and self.restart_at is None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)

    def wait_stopped(self, deadline: float) -> None:
        if self.process is None or self.restart_at is not None:
            return
        try:
            self.process.wait(timeout=max(0.1, deadline - time.time()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(5)
