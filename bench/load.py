"""Benchmark: 50 simulated staff against the server `make run` starts (app/web_server.py:
forked waitress processes, as app/serving.py configures them) on the large shop, for 60 s, three times over (one server, the
same signed-in staff): the machines are shared, so the figure is the median run by p95, and
every run is listed beside it.

Each simulated staff member signs in (front desk or owner), then works in a loop with a
think time of 0.5–1.5 s between clicks: opens a customer page (40 %), searches from the
header (20 %), opens a filtered list (15 %), adds a note (10 %), tags or untags someone (10 %),
goes home (5 %). A 10-second warm-up first is not timed (its errors count). Figures:
`load_p95_ms` / `load_p50_ms` over every request, `load_errors` (anything but 2xx/3xx, or no
answer), and the web processes' RSS and PSS after the runs.
"""

import http.client
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
USERS = int(os.environ.get("BENCH_LOAD_USERS", "50"))
SECONDS = float(os.environ.get("BENCH_LOAD_SECONDS", "60"))
RUNS = int(os.environ.get("BENCH_LOAD_RUNS", "3"))  # one server, the same signed-in staff
# Not counted: a freshly started server's workers still compile templates and fill their
# caches on their first pages, which a server that has run for a day has long done.
WARM_UP_SECONDS = float(os.environ.get("BENCH_LOAD_WARM_UP_SECONDS", "10"))
SEARCHES = ["王", "花生", "過敏", "小明", "作業", "Chen", "0912", "寒假營", "品酒會"]
FILTERS = ["tag:VIP", "level:A", "last_contact > 30d", "(tag:VIP or tag:紅酒同好會) and level:B"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Staff:
    """One browser: a keep-alive connection and a cookie jar of one (also the booking race's
    desks, bench/bookings.py, one per thread)."""

    def __init__(self, port: int, timeout: float = 30):
        self.port = port
        self.timeout = timeout
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        self.cookies: dict[str, str] = {}
        self.csrf = ""

    def request(self, method: str, path: str, body: dict | None = None, htmx: bool = False):
        headers = {"Accept-Language": "zh-TW"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if htmx:
            headers["HX-Request"] = "true"
        data = None
        if body is not None:
            data = urllib.parse.urlencode(body)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.csrf
        for attempt in (1, 2):
            try:
                self.connection.request(method, path, body=data, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle keep-alive connection (after 5 s): a browser
                # opens a new one and sends the request again, and so do we, once.
                self.connection.close()
                self.connection = http.client.HTTPConnection(
                    "127.0.0.1", self.port, timeout=self.timeout
                )
                if attempt == 2:
                    raise
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        return response.status, text

    def sign_in(self, email: str, password: str) -> None:
        _status, page = self.request("GET", "/login")
        self.csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        status, _ = self.request(
            "POST", "/login", {"email": email, "password": password, "csrf_token": self.csrf}
        )
        assert status == 302, f"sign-in failed ({status})"
        _status, home = self.request("GET", "/")
        self.csrf = re.search(r'"X-CSRFToken": "([^"]+)"', home).group(1)


def _work(staff: Staff, customers: int, deadline: float, rng: random.Random, out: dict) -> None:
    while time.time() < deadline:
        time.sleep(rng.uniform(0.5, 1.5))
        customer = rng.randint(1, customers)
        roll = rng.random()
        if roll < 0.40:
            kind, call = "customer_page", ("GET", f"/customers/{customer}", None, False)
        elif roll < 0.60:
            query = urllib.parse.urlencode({"q": rng.choice(SEARCHES)})
            kind, call = "search", ("GET", f"/search?{query}", None, True)
        elif roll < 0.75:
            query = urllib.parse.urlencode({"q": rng.choice(FILTERS)})
            kind, call = "filtered_list", ("GET", f"/customers/?{query}", None, False)
        elif roll < 0.85:
            body = {"kind": "note", "body": f"負載測試的紀錄 {rng.randint(1, 10**6)}"}
            kind, call = "add_note", ("POST", f"/customers/{customer}/entries", body, True)
        elif roll < 0.95:
            tag = {"pick": "VIP", "name": ""}
            kind, call = "tag_click", ("POST", f"/customers/{customer}/tags", tag, True)
        else:
            kind, call = "home", ("GET", "/", None, False)
        started = time.perf_counter()
        try:
            status, _text = staff.request(call[0], call[1], call[2], htmx=call[3])
        except (OSError, http.client.HTTPException) as error:
            status = f"{type(error).__name__}"
        elapsed = (time.perf_counter() - started) * 1000
        with out["lock"]:
            out["times"].append(elapsed)
            out["by_kind"].setdefault(kind, []).append(elapsed)
            if not (isinstance(status, int) and 200 <= status < 400):
                out["errors"].append((call[0], call[1], status))


def _one_run(staff: list[Staff], customers: int, number: int, seconds: float = SECONDS) -> dict:
    out = {"lock": threading.Lock(), "times": [], "errors": [], "by_kind": {}}
    end = time.time() + seconds
    threads = [
        threading.Thread(
            target=_work, args=(member, customers, end, random.Random(number * 1000 + n), out)
        )
        for n, member in enumerate(staff)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return out


def _summary(out: dict) -> dict:
    times = sorted(out["times"])
    return {
        "p95_ms": round(_percentile(times, 0.95), 1),
        "p50_ms": round(statistics.median(times), 1) if times else None,
        "p99_ms": round(_percentile(times, 0.99), 1),
        "requests": len(times),
        "errors": len(out["errors"]),
        "by_kind": {
            kind: {"n": len(values), "p50_ms": round(statistics.median(values), 1),
                   "p95_ms": round(_percentile(sorted(values), 0.95), 1)}
            for kind, values in sorted(out["by_kind"].items())
        },
    }  # fmt: skip


def _percentile(ordered: list[float], share: float) -> float:
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def _rss_mb(master: int) -> tuple[float, float, float | None]:
    """(largest web worker, master and workers together, their proportional set size) in
    MB: RSS counts the pages the forked workers share once per process, PSS splits them."""
    output = subprocess.run(
        ["ps", "-o", "pid=,rss=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout.split()
    pids = [master, *(int(v) for v in output[0::2])]
    workers = [int(v) for v in output[1::2]]
    master_rss = subprocess.run(
        ["ps", "-o", "rss=", "-p", str(master)], capture_output=True, text=True
    ).stdout.split()
    total = sum(workers) + sum(int(v) for v in master_rss)
    pss = 0
    for pid in pids:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            return round(max(workers or [0]) / 1024, 1), round(total / 1024, 1), None
        pss += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
    return round(max(workers or [0]) / 1024, 1), round(total / 1024, 1), round(pss / 1024, 1)


def _tree_pss_mb(root: int) -> float | None:
    """PSS of a process and its children (the worker: flask worker, huey's own threads)."""
    children = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(root)], capture_output=True, text=True
    ).stdout.split()
    total = 0
    for pid in [root, *(int(v) for v in children)]:
        try:
            rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
        except OSError:
            continue
        total += int(re.search(r"^Pss:\s+(\d+) kB", rollup, re.M).group(1))
    return round(total / 1024, 1) if total else None


def run(folder: Path, customers: int, results) -> None:
    from app.serving import WEB_SETTINGS, web_server_command

    # On a copy: the notes and tags the simulated staff add must not change the shop the
    # other benchmarks (and later runs) measure.
    scratch = Path(tempfile.mkdtemp(prefix="hearth-load-"))
    folder = Path(shutil.copytree(folder, scratch / "shop"))
    port = _free_port()
    env = {**os.environ, "HEARTH_INSTANCE": str(folder), "HEARTH_ENV": "development"}
    server = subprocess.Popen(
        web_server_command(sys.executable, "127.0.0.1", port),
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    # The background worker beside it, as make run has it: the stack's memory is both.
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        staff = []
        for number in range(USERS):
            member = Staff(port)
            email = "desk@example.com" if number % 5 else "owner@example.com"
            member.sign_in(email, "hearth-demo-1")
            staff.append(member)
        warm_up = _one_run(staff, customers, -1, WARM_UP_SECONDS)
        runs = [_one_run(staff, customers, number) for number in range(RUNS)]
        worker_rss, total_rss, total_pss = _rss_mb(server.pid)
        background_pss = _tree_pss_mb(worker.pid)
    finally:
        for process in (server, worker):
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(scratch, ignore_errors=True)
    # The machine is shared: the figure is the median of the runs by p95 (each run listed).
    summaries = [_summary(out) for out in runs]
    middle = sorted(summaries, key=lambda summary: summary["p95_ms"])[len(summaries) // 2]
    results.value(
        "load_p95_ms",
        middle["p95_ms"],
        users=USERS,
        seconds=SECONDS,
        runs=[{k: v for k, v in summary.items() if k != "by_kind"} for summary in summaries],
        think_time_s="0.5-1.5",
        warm_up_s=WARM_UP_SECONDS,
        server=f"waitress, {WEB_SETTINGS['workers']} processes × {WEB_SETTINGS['threads']} threads",
        **{k: v for k, v in middle.items() if k != "p95_ms"},
    )
    errors = [error for out in (warm_up, *runs) for error in out["errors"]]
    results.value("load_errors", len(errors), examples=errors[:5])
    results.value(
        "load_web_rss_mb", worker_rss, all_web_processes_mb=total_rss,
        all_web_processes_pss_mb=total_pss,
    )  # fmt: skip
    stack = None if total_pss is None or background_pss is None else total_pss + background_pss
    results.value(
        "stack_pss_mb", round(stack, 1) if stack is not None else None,
        web_processes_pss_mb=total_pss, worker_pss_mb=background_pss, target=400,
    )  # fmt: skip
