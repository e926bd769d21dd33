"""The duplicate finder on 50,000 customers: `python -m bench.duplicates` builds a shop of
its own (random names, phones written every way, 500 planted duplicates: a phone written
+886…, a name in Simplified characters, an email in capitals) and times find_pairs and the
page; `duplicates()` times the page on `make bench`'s large shop."""

import os
import random
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date, datetime
from pathlib import Path

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝洪郭邱曾廖賴徐周葉蘇莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋鄧杜傅侯曹薛丁卓馬阮董唐"  # noqa: E501
GIVEN = "怡君雅婷淑芬美玲家豪志明冠宇宗翰俊傑建宏心怡佳穎詩涵宜蓁承恩柏翰品妤子晴宥廷欣妍書豪哲瑋思妤予安語彤"  # noqa: E501
SIMPLIFIED = str.maketrans(
    "陳張劉楊許鄭謝郭葉蘇莊呂蕭羅潘鍾盧趙顏魏孫鄧傅薛馬董玲豪傑誌涵穎詩語書",
    "陈张刘杨许郑谢郭叶苏庄吕萧罗潘钟卢赵颜魏孙邓傅薛马董玲豪杰志涵颖诗语书",
)  # noqa: E501


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, 2))


def _phone(rng: random.Random) -> str:
    number = f"09{rng.randrange(10**8):08d}"
    style = rng.randrange(3)
    if style == 0:
        return f"{number[:4]}-{number[4:7]}-{number[7:]}"
    return f"+886 {number[1:4]} {number[4:7]} {number[7:]}" if style == 1 else number


def build(folder: Path, customers: int = 50_000, planted: int = 500, seed: int = 11) -> None:
    env = {**os.environ, "HEARTH_INSTANCE": str(folder)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"], env=env,
                   check=True, capture_output=True)  # fmt: skip
    rng = random.Random(seed)
    now = datetime.utcnow().replace(microsecond=0)
    rows = []
    for cid in range(1, customers + 1):
        name, phone = _name(rng), _phone(rng)
        birthday = date(rng.randrange(1950, 2020), rng.randrange(1, 13), rng.randrange(1, 29))
        email = f"p{cid}@example.com" if cid % 3 == 0 else None
        rows.append([cid, name, f"M{cid:06d}", birthday, phone, email])
    for number in range(planted):  # the last `planted` customers repeat earlier ones
        source, copy = rows[number * 50], rows[customers - 1 - number]
        copy[1] = source[1].translate(SIMPLIFIED)
        copy[4] = "+886 " + "".join(ch for ch in source[4] if ch.isdigit())[-9:]
        copy[5] = source[5].upper() if source[5] else None
    db = sqlite3.connect(folder / "hearth.sqlite", isolation_level=None)
    db.execute("BEGIN")
    db.executemany(
        "INSERT INTO customer (id, display_name, member_number, level, birthday, phone,"
        " phone_digits, email, email_opt_out, created_at, updated_at, version)"
        " VALUES (?,?,?,'C',?,?,?,?,0,?,?,1)",
        [(cid, name, number, birthday, phone, "".join(c for c in phone if c.isdigit()), email,
          now, now) for cid, name, number, birthday, phone, email in rows],
    )  # fmt: skip
    db.execute("COMMIT")
    db.close()


def duplicates(app, client, baseline, results) -> None:
    from bench.run import measure

    results.timing("duplicates_page", measure(client, ["/customers/duplicates"], 5), baseline,
                   target_p95_ms=2000)  # fmt: skip


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        build(Path(folder))
        print(f"built 50,000 customers in {time.perf_counter() - started:.1f} s", flush=True)
        os.environ["HEARTH_INSTANCE"] = folder
        from app import create_app
        from app.extensions import db
        from app.services import merging

        app = create_app()
        with app.app_context():
            merging.find_pairs(db.session)  # warms SQLite's cache and OpenCC's table
            samples = []
            for _ in range(5):
                started = time.perf_counter()
                pairs, total = merging.find_pairs(db.session)
                samples.append((time.perf_counter() - started) * 1000)
                db.session.rollback()
            planted = sum(1 for pair in pairs if {k for k, _ in pair.reasons} >= {"phone", "name"})
            print(f"find_pairs on 50,000: p50 {statistics.median(samples):.0f} ms, "
                  f"max {max(samples):.0f} ms; {total} pairs, {planted} of the first "
                  f"{len(pairs)} share phone and name")  # fmt: skip
        started, rounds = time.perf_counter(), 2000
        bare = app.test_client()
        for _ in range(rounds):
            bare.get("/healthz")
        print(f"baseline /healthz in-process: {rounds / (time.perf_counter() - started):.0f} req/s")


if __name__ == "__main__":
    main()
