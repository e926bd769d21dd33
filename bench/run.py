"""`make bench`: build the large shop once, run every benchmark, write bench/out/results.json.

Figures are server time measured in-process (Flask test client, no network) as p50/p95,
each paired with a baseline measured in the same run (/healthz, no database), plus
throughput under the production web server (app/web_server.py, 2 processes) loaded by wrk
beside a bare Flask route under the same server.
"""

import hashlib
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
CUSTOMERS = int(os.environ.get("BENCH_CUSTOMERS", "50000"))
ENTRIES = int(os.environ.get("BENCH_ENTRIES", "1000000"))
SEGMENT = "(tag:VIP or tag:紅酒同好會) and not tag:競爭對手 and last_contact > 15d"
SEARCHES = {
    "search_1char": ["王", "花", "明", "林", "敏"],
    "search_2char": ["花生", "過敏", "家長", "小明", "作業"],
    "search_3char": ["對花生", "數學作", "寒假營", "品酒會", "靠窗的"],
    "search_5char": ["今天數學作", "對花生過敏", "作文比賽得", "英文單字小", "詢問二月品"],
    "search_latin": ["Amy", "Chen", "piano", "Brian Lee", "garden"],
}


def shop_folder() -> Path:
    """One built shop per version of the generator and the schema; rebuilt when they change."""
    digest = hashlib.sha256()
    for path in [
        ROOT / "bench" / "generate.py",
        ROOT / "app" / "db" / "bigrams.py",
        *sorted((ROOT / "migrations" / "versions").glob("*.py")),
    ]:
        digest.update(path.read_bytes())
    digest.update(f"{CUSTOMERS}/{ENTRIES}".encode())
    folder = OUT / f"shop-{digest.hexdigest()[:12]}"
    if (folder / "ready").exists():
        print(f"Reusing the large shop in {folder}")
        return folder
    for old in OUT.glob("shop-*"):
        shutil.rmtree(old, ignore_errors=True)
    print(
        f"Building the large shop ({CUSTOMERS:,} customers, {ENTRIES:,} entries) in {folder} …",
        flush=True,
    )
    from bench.generate import build

    facts = build(folder, CUSTOMERS, ENTRIES)
    print(f"  built in {facts['seconds']} s", flush=True)
    (folder / "ready").write_text(json.dumps(facts))
    return folder


def percentile(samples: list[float], share: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


def measure(client, urls: list[str], rounds: int, headers=None) -> list[float]:
    for url in urls:  # warm up caches and SQLite's page cache
        client.get(url, headers=headers)
    samples = []
    for _ in range(rounds):
        for url in urls:
            started = time.perf_counter()
            response = client.get(url, headers=headers)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
    return samples


class Results:
    def __init__(self):
        self.rows: list[dict] = []
        # This machine's bare Flask route (req/s under the same web server, measured at the
        # start of the run): written beside every figure so two runs can be compared.
        self.bare_rps: float | None = None

    def _add(self, row: dict) -> dict:
        if self.bare_rps is not None:
            row["bare_flask_route_rps"] = self.bare_rps
        self.rows.append(row)
        return row

    def timing(self, name: str, samples: list[float], baseline: list[float] | None = None, **extra):
        row = {
            "name": name,
            "p50_ms": round(statistics.median(samples), 2),
            "p95_ms": round(percentile(samples, 0.95), 2),
            "n": len(samples),
        }
        if baseline:
            base = percentile(baseline, 0.95)
            row["baseline"] = {"name": "healthz", "p95_ms": round(base, 3)}
            row["ratio"] = round(row["p95_ms"] / base, 1) if base else None
        row.update(extra)
        self._add(row)
        print(
            f"  {name:18} p50 {row['p50_ms']:8.2f} ms   p95 {row['p95_ms']:8.2f} ms   {extra or ''}",
            flush=True,
        )

    def value(self, name: str, value: float, **extra):
        self._add({"name": name, "value": value, **extra})
        print(f"  {name:18} {value}   {extra or ''}", flush=True)


def in_process(folder: Path, results: Results, database_url: str | None = None) -> None:
    os.environ["HEARTH_INSTANCE"] = str(folder)
    from app import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url} if database_url else None)
    app.config["WTF_CSRF_ENABLED"] = False
    client = app.test_client()
    response = client.post(
        "/login", data={"email": "owner@example.com", "password": "hearth-demo-1"}
    )
    assert response.status_code == 302, "demo owner login failed"
    baseline = measure(client, ["/healthz"], 300)
    results.timing("baseline_healthz", baseline)
    results.timing(
        "customer_page", measure(client, ["/customers/1"], 100), baseline, entries_of_customer=2000
    )
    segment_url = "/customers/?" + urllib.parse.urlencode({"q": SEGMENT})
    with app.app_context():
        from app.clock import utcnow
        from app.extensions import db
        from app.services import segments

        matching = segments.count(db.session, SEGMENT, segments.Context(now=utcnow()))
    results.timing(
        "segment_list",
        measure(client, [segment_url], 40),
        baseline,
        expression=SEGMENT,
        count=matching,
    )
    partial = {"HX-Request": "true", "HX-Target": "search-results"}
    for name, queries in SEARCHES.items():
        urls = ["/search?" + urllib.parse.urlencode({"q": q}) for q in queries]
        results.timing(name, measure(client, urls, 10, headers=partial), baseline, queries=queries)
    for extra in BENCHMARKS:
        extra(app, client, baseline, results)


# Later issues add (app, client, baseline, results) functions here.
def _benchmarks() -> list:
    from bench.calendar import calendar_month
    from bench.dashboard import dashboard
    from bench.duplicates import duplicates
    from bench.imports import import_10k
    from bench.records import records

    return [dashboard, import_10k, records, calendar_month, duplicates]


BENCHMARKS: list = _benchmarks()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _serve(module: str, folder: Path) -> tuple[subprocess.Popen, int]:
    from app.serving import web_server_command

    port = _free_port()
    env = {**os.environ, "HEARTH_INSTANCE": str(folder), "HEARTH_ENV": "development"}
    process = subprocess.Popen(
        [*web_server_command(sys.executable, "127.0.0.1", port), "--workers", "2", "--app", module],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
            break
        except urllib.error.HTTPError:
            break
        except OSError:
            time.sleep(0.2)
    return process, port


# One browser: it signs in and then asks for pages with the same User-Agent. (Flask-Login's
# session protection marks a session whose browser changed as not fresh: with wrk's own
# headers every request rewrote the session cookie, which no real browser causes.)
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) hearth-bench"


def _wrk(url: str, cookie: str | None = None) -> float:
    command = ["wrk", "-t2", "-c10", "-d5s", "-H", f"User-Agent: {BROWSER}", url]
    if cookie:
        command[1:1] = ["-H", f"Cookie: {cookie}"]
    output = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    return float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))


def _worker_rss_mb(master: int) -> float:
    output = subprocess.run(
        ["ps", "-o", "rss=", "--ppid", str(master)], capture_output=True, text=True
    ).stdout
    values = [int(v) for v in output.split()]
    return round(max(values) / 1024, 1) if values else 0.0


def machine_speed(folder: Path, results: Results) -> None:
    """The bare Flask route's req/s on this machine now (best of three 5-second wrk runs)."""
    if shutil.which("wrk") is None:
        return
    bare, port = _serve("bench.bare_app:app", folder)
    try:
        runs = [_wrk(f"http://127.0.0.1:{port}/") for _ in range(3)]
    finally:
        bare.send_signal(signal.SIGTERM)
        bare.wait(20)
    results.bare_rps = round(max(runs), 1)
    results.value("bare_flask_route", results.bare_rps, runs=[round(r, 1) for r in runs])


def under_load(folder: Path, results: Results) -> None:
    """The customer page (2,000 entries) against a bare Flask route, both under the production
    web server with 2 processes (waitress; before 2026-12 gunicorn with 2 sync workers, so
    older req/s are not comparable), loaded by wrk: five 5-second runs each, taken in turns, best of each
    (the machine is shared: the best run is the one least disturbed)."""
    if shutil.which("wrk") is None:
        print("  wrk is missing (apt-get install wrk): skipping throughput figures")
        return
    hearth, port = _serve("wsgi:app", folder)
    bare, bare_port = _serve("bench.bare_app:app", folder)
    try:
        jar = CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        opener.addheaders = [("User-Agent", BROWSER)]
        page = opener.open(f"http://127.0.0.1:{port}/login").read().decode()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "email": "owner@example.com", "password": "hearth-demo-1"}
        )
        opener.open(f"http://127.0.0.1:{port}/login", data=form.encode()).read()
        # One page as a browser would open next: the cookie it then holds (with its CSRF
        # secret) is what every later request sends.
        opener.open(f"http://127.0.0.1:{port}/customers/1").read()
        cookie = "; ".join(f"{c.name}={c.value}" for c in jar)
        hearth_runs, bare_runs = [], []
        for _ in range(5):
            hearth_runs.append(_wrk(f"http://127.0.0.1:{port}/customers/1", cookie))
            bare_runs.append(_wrk(f"http://127.0.0.1:{bare_port}/"))
        rss = _worker_rss_mb(hearth.pid)
    finally:
        for process in (hearth, bare):
            process.send_signal(signal.SIGTERM)
            process.wait(20)
    hearth_rps, bare_rps = max(hearth_runs), max(bare_runs)
    results.value(
        "timeline_ratio",
        round(hearth_rps / bare_rps, 3),
        rps=round(hearth_rps, 1),
        runs=[round(r, 1) for r in hearth_runs],
        baseline={"name": "bare_flask_route", "rps": round(bare_rps, 1),
                  "runs": [round(r, 1) for r in bare_runs]},
        ratio=round(hearth_rps / bare_rps, 3),
    )  # fmt: skip
    results.value("web_worker_rss_mb", rss)


def search_pg_ratio(results: Results) -> None:
    """The worst of the search cases: PostgreSQL's p95 over SQLite's, same run."""
    p95 = {row["name"]: row["p95_ms"] for row in results.rows if "p95_ms" in row}
    ratios = {
        name: round(p95[name + "_pg"] / p95[name], 2)
        for name in SEARCHES
        if p95.get(name) and name + "_pg" in p95
    }
    if ratios:
        worst = max(ratios, key=ratios.get)
        results.value("search_pg_ratio", ratios[worst], worst=worst, each=ratios, target=2)


def main() -> None:
    from bench import load

    OUT.mkdir(parents=True, exist_ok=True)
    folder = shop_folder()
    results = Results()
    print("This machine's bare Flask route:", flush=True)
    machine_speed(folder, results)
    print("In-process server time:", flush=True)
    in_process(folder, results)
    if os.environ.get("BENCH_SKIP_POSTGRES") != "1":
        from bench import postgres

        url = postgres.prepare(folder)
        print("The same on PostgreSQL:", flush=True)
        try:
            in_process(folder, postgres.Suffixed(results, "_pg"), url)
        finally:
            postgres.stop(folder)
        search_pg_ratio(results)
    print("Under the web server (2 processes) and wrk:", flush=True)
    under_load(folder, results)
    if os.environ.get("BENCH_SKIP_LOAD") != "1":
        print(f"{load.USERS} simulated staff against make run's server:", flush=True)
        load.run(folder, CUSTOMERS, results)
    if os.environ.get("BENCH_SKIP_BLAST") != "1":
        print("Email blast through the outbox vs a plain smtplib loop:", flush=True)
        from bench import blast

        blast.run(results)
    if os.environ.get("BENCH_SKIP_CHANNELS") != "1":
        print("SMS and LINE through the outbox vs a bare loop of the same HTTP calls:", flush=True)
        from bench import channels

        channels.run(results)
    if os.environ.get("BENCH_SKIP_BOOKINGS") != "1":
        print("20 simultaneous bookings of one room and night through HTTP:", flush=True)
        from bench import bookings

        bookings.run(results, postgres=os.environ.get("BENCH_SKIP_POSTGRES") != "1")
    (OUT / "results.json").write_text(json.dumps(results.rows, ensure_ascii=False, indent=2))
    print(f"Wrote {OUT / 'results.json'}")


if __name__ == "__main__":
    main()
