"""The production web server (`python -m app.web_server`, what `flask serve` starts): one
listening socket shared by several forked waitress processes, each restarted when it dies.

waitress reads whole requests (headers and body) in an event loop before one of its threads
runs the app, so a client that sends half a request, drips bytes or sends nothing costs a
file descriptor, never a thread. Several processes rather than more threads: threads of one
process take turns on one interpreter lock (see app.serving.web_workers)."""

import argparse
import gc
import importlib
import logging
import os
import resource
import signal
import socket
import subprocess
import sys
import time
import traceback
from datetime import datetime

from app.serving import WEB_SETTINGS, Child, hold_instance_lock

BACKLOG = 2048  # connections the kernel queues before any process accepts them
FILES_PER_CONNECTION = 3  # a socket, and a spooled request body and response at worst
SPARE_FILES = 100  # the database, templates, logs, the job queue


class ForkedProcess:
    """A forked web process with the part of subprocess.Popen's interface Child uses."""

    def __init__(self, pid: int):
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

    def send_signal(self, number: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, number)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(str(self.pid), timeout)
            time.sleep(0.05)
        return self.returncode


def listening_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(BACKLOG)
    # Every process waits on this one socket: the ones that lose the race for a new
    # connection must get "nothing there" from accept(), not block their event loop.
    sock.setblocking(False)
    return sock


def connections_per_process(wanted: int) -> int:
    """Raises this process's open-file limit (systemd's default soft limit is 1024) so that
    `wanted` connections fit; fewer if the hard limit does not allow it."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = wanted * FILES_PER_CONNECTION + SPARE_FILES
    if soft != resource.RLIM_INFINITY and soft < needed:
        soft = needed if hard == resource.RLIM_INFINITY else min(needed, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(10, min(wanted, (soft - SPARE_FILES) // FILES_PER_CONNECTION))


def load_application(spec: str):
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name or "app")


def preload(spec: str):
    """Loads the app once in the parent, before any fork, so that the web processes share its
    code, compiled templates and translations instead of each building its own copy: the
    parent warms them, closes every connection it opened (a connection must never cross a
    fork: each process opens its own) and freezes what it made out of the collector's way (a
    collection in a child would otherwise touch, and so copy, every shared page)."""
    application = load_application(spec)
    _warm(application)
    _close_connections(application)
    gc.collect()
    gc.freeze()
    return application


def _warm(application) -> None:
    """Compiles every template and reads both catalogs, as the first requests would."""
    if not hasattr(application, "jinja_env"):
        return
    for name in application.jinja_env.list_templates(extensions=("html", "txt")):
        application.jinja_env.get_template(name)
    if "babel" not in application.extensions:
        return
    from flask_babel import force_locale, get_translations

    with application.test_request_context():
        for language in application.config.get("LANGUAGES", ()):
            with force_locale(language):
                get_translations()


def _close_connections(application) -> None:
    if not hasattr(application, "app_context"):
        return
    from app.extensions import db, huey

    if "sqlalchemy" in application.extensions:  # bench's bare Flask app has no database
        with application.app_context():
            for engine in db.engines.values():
                engine.dispose()
    close = getattr(huey.storage, "close", None)
    if close is not None:
        close()


def access_logged(application, logger: logging.Logger):
    """One line per request on stdout: the socket's peer (nginx when behind it), the request
    line, the status and the time the app took."""

    def logged(environ, start_response):
        if environ.get("SERVER_SOFTWARE") is None:
            environ.pop("SERVER_SOFTWARE", None)  # waitress leaves None when it has no name
        peer = environ.get("REMOTE_ADDR", "-")
        query = environ.get("QUERY_STRING")
        line = (
            f"{environ.get('REQUEST_METHOD')} {environ.get('PATH_INFO', '')}"
            f"{'?' + query if query else ''} {environ.get('SERVER_PROTOCOL')}"
        )
        status = ["-"]

        def remember(code, headers, exc_info=None):
            status[0] = code.split(" ", 1)[0]
            return start_response(code, headers, exc_info)

        started = time.perf_counter()
        try:
            return application(environ, remember)
        finally:
            elapsed = (time.perf_counter() - started) * 1000
            logger.info('%s "%s" %s %.0f ms', peer, line, status[0], elapsed)

    return logged


def _busy(server) -> bool:
    """Requests under way or answers still being sent."""
    return any(
        channel.requests or channel.total_outbufs_len
        for channel in list(server.active_channels.values())
    )


def run_web_process(sock: socket.socket, application, connections: int, parent: int) -> int:
    """The body of one forked web process: waitress on the shared socket until told to stop
    (SIGTERM or SIGINT) or orphaned, then the requests under way are finished."""
    from waitress import wasyncore
    from waitress.server import create_server

    stopping: list[int] = []
    signal.signal(signal.SIGTERM, lambda number, _frame: stopping.append(number))
    signal.signal(signal.SIGINT, lambda number, _frame: stopping.append(number))
    logging.basicConfig(
        level=logging.INFO, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s"
    )
    access = logging.getLogger("hearth.access")
    access.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", "%H:%M:%S"))
    access.addHandler(handler)

    config = getattr(application, "config", {})
    server = create_server(
        access_logged(application, access),
        sockets=[sock],
        threads=WEB_SETTINGS["threads"],
        backlog=BACKLOG,
        connection_limit=connections,
        channel_timeout=WEB_SETTINGS["channel_timeout"],
        cleanup_interval=WEB_SETTINGS["cleanup_interval"],
        # A body bigger than the app takes is refused (413) before it is read to disk.
        max_request_body_size=config.get("MAX_CONTENT_LENGTH") or 21 * 1024 * 1024,
        max_request_header_size=64 * 1024,
        # poll(), not select(): select() cannot watch descriptors numbered above 1023.
        asyncore_use_poll=True,
        # X-Forwarded-* are the app's business (HEARTH_PROXY_COUNT, ProxyFix): waitress must
        # neither believe nor remove them.
        trusted_proxy=None,
        clear_untrusted_proxy_headers=False,
        url_scheme="http",
        ident=None,  # no Server header naming the software and its version
    )
    while not stopping and os.getppid() == parent:
        wasyncore.loop(timeout=1, map=server._map, use_poll=True, count=1)
    # Stop taking connections (the other processes, or the next server, will); finish what
    # is under way.
    server.accepting = False
    server.del_channel()
    deadline = time.monotonic() + WEB_SETTINGS["graceful_timeout"]
    while _busy(server) and time.monotonic() < deadline:
        wasyncore.loop(timeout=0.1, map=server._map, use_poll=True, count=1)
    server.task_dispatcher.shutdown(timeout=1)
    return 0


def fork_web_process(sock: socket.socket, application, connections: int) -> ForkedProcess:
    parent = os.getpid()
    pid = os.fork()
    if pid:
        return ForkedProcess(pid)
    code = 1
    try:
        code = run_web_process(sock, application, connections, parent)
    except BaseException:  # noqa: BLE001 - whatever it was, the parent logs the exit code
        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)  # never return into the parent's code


def serve(host: str, port: int, workers: int, app_spec: str) -> None:
    from app.config import instance_path

    def log(message: str) -> None:
        print(f"[{datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)

    hold_instance_lock(instance_path())  # inherited by the forked processes
    connections = connections_per_process(WEB_SETTINGS["connection_limit"])
    sock = listening_socket(host, port)
    application = preload(app_spec)
    processes = [
        Child(f"Web process {number}", lambda: fork_web_process(sock, application, connections), {}, log)
        for number in range(1, workers + 1)
    ]  # fmt: skip

    def _stop(*_args):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        for process in processes:
            process.start()
        log(
            f"Web server on http://{host}:{port}: {workers} processes × "
            f"{WEB_SETTINGS['threads']} threads, up to {connections} connections each."
        )
        while True:
            for process in processes:
                process.check()
            time.sleep(0.5)
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        deadline = time.time() + WEB_SETTINGS["graceful_timeout"] + 2
        for process in processes:
            process.interrupt()
        for process in processes:
            process.wait_stopped(deadline)
        sock.close()


def _fewer_malloc_arenas(arenas: int = 2) -> None:
    """glibc gives each thread that allocates its own malloc arena (up to 8 per core), and
    memory freed in one is not reused by another: a web process whose threads took turns
    parsing large uploads kept far more than one upload's worth. Two arenas keep the peak
    near what one request needs (set before any thread or fork, so every process has it)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").mallopt(-8, arenas)  # M_ARENA_MAX
    except (OSError, AttributeError):  # not glibc: nothing to cap
        pass


def main(argv: list[str] | None = None) -> None:
    _fewer_malloc_arenas()
    parser = argparse.ArgumentParser(prog="python -m app.web_server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("PORT", "8000")))
    parser.add_argument("--workers", type=int, default=WEB_SETTINGS["workers"])
    parser.add_argument("--app", default="wsgi:app", help="module:name of the WSGI app")
    options = parser.parse_args(argv)
    serve(options.host, options.port, options.workers, options.app)


if __name__ == "__main__":
    main()
