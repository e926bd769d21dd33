"""Builds a large shop for benchmarks: 50,000 customers, 1,000,000 timeline entries, 200 tags.

Runs the real migrations on a fresh instance folder, then bulk-inserts with plain sqlite3
(the search triggers fire as in the app, so the index is built the same way).
Usage: python -m bench.generate INSTANCE_DIR [--customers N] [--entries N]
"""

import argparse
import json
import os
import random
import sqlite3
import subprocess
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

from app.db.bigrams import bigrams

SURNAMES = "陳林黃張李王吳劉蔡楊許鄭謝郭洪曾邱廖賴周徐蘇葉莊呂江何蕭羅高潘簡朱鍾彭游詹胡施沈余盧梁趙顏柯翁魏孫戴范方宋鄧"
GIVEN = "小明東城怡君家豪雅婷冠宇宜蓁承恩子晴宥辰品妍柏翰詩涵宇軒欣妤采潔彥廷思妤俊傑心怡志明美玲建宏淑芬"
ENGLISH_FIRST = [
    "Amy",
    "Brian",
    "Chloe",
    "Daniel",
    "Emma",
    "Felix",
    "Grace",
    "Henry",
    "Ivy",
    "Jason",
    "Kelly",
    "Leo",
    "Mia",
    "Nathan",
    "Olivia",
    "Peter",
]
ENGLISH_LAST = [
    "Chen",
    "Lee",
    "Wu",
    "Lin",
    "Huang",
    "Chang",
    "Liu",
    "Tsai",
    "Yang",
    "Hsu",
    "Cheng",
    "Kuo",
    "Smith",
    "Brown",
]
PHRASES = [
    "今天數學作業全對",
    "媽媽來接時提到最近睡不好",
    "和同學分享了自己帶的水果",
    "家長詢問寒假營隊的時間",
    "作文比賽得到佳作",
    "下午有點發燒，已通知家長",
    "生日快到了，想要恐龍主題的卡片",
    "英文單字小考進步很多",
    "對花生過敏，點心請注意",
    "喜歡坐靠窗的位子",
    "早餐想要清粥小菜",
    "續住兩晚，房間要安靜一點",
    "Read aloud for ten minutes",
    "Asked about the piano class",
    "Forgot the homework notebook",
    "Called mum about the field trip",
    "Prefers the room with the garden view",
    "Allergic to shellfish",
    "帶了紅酒來分享",
    "詢問二月品酒會",
    "蛋奶素，請準備素食",
    "氣喘，書包前袋有藥",
    "結婚紀念日入住",
]
KINDS = ["note"] * 6 + ["call", "visit", "purchase"]
TAG_BASE = [
    "VIP",
    "紅酒同好會",
    "競爭對手",
    "潛在客戶",
    "已報名",
    "二月品酒會",
    "wine club",
    "三年級",
    "四年級",
    "才藝班",
]


def _note(rng: random.Random) -> str:
    return "，".join(rng.sample(PHRASES, rng.randint(1, 2))) + rng.choice(["。", "！", "", "."])


def build(folder: Path, customers: int, entries: int, seed: int = 7) -> dict:
    started = time.perf_counter()
    folder.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HEARTH_INSTANCE": str(folder)}
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "demo", "--customers", "0"],
        env=env,
        check=True,
        capture_output=True,
    )
    rng = random.Random(seed)
    now = datetime.utcnow().replace(microsecond=0)
    db = sqlite3.connect(folder / "hearth.sqlite", isolation_level=None)
    db.create_function("hearth_bigrams", 1, bigrams, deterministic=True)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = OFF")
    db.execute("PRAGMA cache_size = -200000")
    staff = [row[0] for row in db.execute("SELECT id FROM user ORDER BY id")]
    db.execute("BEGIN")
    tag_names = TAG_BASE + [
        f"活動 {n}" if n % 2 else f"Event {n}" for n in range(200 - len(TAG_BASE))
    ]
    palette = [
        "red",
        "orange",
        "amber",
        "green",
        "teal",
        "blue",
        "indigo",
        "purple",
        "pink",
        "brown",
        "grey",
    ]
    db.executemany(
        "INSERT INTO tag (id, name, colour, created_at) VALUES (?, ?, ?, ?)",
        [(i + 1, name, palette[i % len(palette)], now) for i, name in enumerate(tag_names)],
    )
    rows, tag_rows, family_rows, consent_rows = [], [], [], []
    for cid in range(1, customers + 1):
        if cid % 4 == 0:
            name = f"{rng.choice(ENGLISH_FIRST)} {rng.choice(ENGLISH_LAST)}"
            nickname = name.split()[0]
        else:
            given = "".join(rng.sample(GIVEN, 2))
            name = rng.choice(SURNAMES) + given
            nickname = given
        created = now - timedelta(days=rng.randrange(1500))
        birthday = (datetime(2008, 1, 1) + timedelta(days=rng.randrange(6000))).date()
        phone = f"09{rng.randrange(10, 99)}-{rng.randrange(100, 999)}-{rng.randrange(100, 999)}"
        rows.append((
            cid, name, nickname, f"M{cid:06d}", rng.choice("AABBBCC"), birthday, phone, phone.replace("-", ""),
            f"c{cid}@example.com" if cid % 7 else None, int(cid % 31 == 0), created, created, 1,
        ))  # fmt: skip
        for purpose in ("marketing", "service") if cid % 5 else ("service",):
            consent_rows.append((cid, purpose, "paper", created))
        for tag_id in rng.sample(range(1, 201), rng.choice([0, 1, 1, 2, 3])):
            tag_rows.append((cid, tag_id, created))
        if cid % 3 == 0:
            family_rows.append((cid, name[:1] + "媽媽", "母親", phone, f"p{cid}@example.com", 1))
    db.executemany(
        "INSERT INTO customer (id, display_name, nickname, member_number, level, birthday, phone, phone_digits, email,"
        " email_opt_out, created_at, updated_at, version) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    db.executemany(
        "INSERT INTO customer_consent (customer_id, purpose, method, given_at) VALUES (?,?,?,?)",
        consent_rows,
    )
    db.executemany(
        "INSERT INTO customer_tag (customer_id, tag_id, created_at) VALUES (?, ?, ?)", tag_rows
    )
    db.executemany(
        "INSERT INTO family_member (customer_id, name, relation, phone, email, is_guardian) VALUES (?,?,?,?,?,?)",
        family_rows,
    )
    db.execute(
        "INSERT INTO customer_search (id, body) SELECT c.id, c.display_name || char(10) || coalesce(c.nickname, '') ||"
        " char(10) || c.member_number || char(10) || coalesce(c.phone, '') || char(10) || coalesce(c.phone_digits, '') ||"
        " char(10) || coalesce(c.email, '') || char(10) || coalesce((SELECT group_concat(f.name || char(10) ||"
        " coalesce(f.phone, '') || char(10) || coalesce(f.email, ''), char(10)) FROM family_member f"
        " WHERE f.customer_id = c.id), '') FROM customer c"
    )
    db.execute("COMMIT")
    # Timeline: customer 1 has 2,000 entries (the customer-page benchmark); the rest spread out.
    batch, written = [], 0
    db.execute("BEGIN")
    for number in range(entries):
        cid = 1 if number < 2000 else rng.randrange(1, customers + 1)
        moment = now - timedelta(minutes=rng.randrange(60 * 24 * 730))
        kind = rng.choice(KINDS)
        batch.append((cid, rng.choice(staff), kind, _note(rng), moment, 0))
        if len(batch) == 20000:
            db.executemany(
                "INSERT INTO timeline_entry (customer_id, author_id, kind, body, created_at, pinned) VALUES (?,?,?,?,?,?)",
                batch,
            )
            written += len(batch)
            batch = []
    if batch:
        db.executemany(
            "INSERT INTO timeline_entry (customer_id, author_id, kind, body, created_at, pinned) VALUES (?,?,?,?,?,?)",
            batch,
        )
    alerts = [
        (
            cid,
            staff[-1],
            "alert",
            "對花生過敏，點心請避開花生",
            now - timedelta(days=rng.randrange(90)),
            1,
            "allergy",
            json.dumps(["花生", "peanut"]),
        )
        for cid in range(5, customers + 1, 40)
    ]
    db.executemany(
        "INSERT INTO timeline_entry (customer_id, author_id, kind, body, created_at, pinned, alert_category, alert_keywords)"
        " VALUES (?,?,?,?,?,?,?,?)",
        alerts,
    )
    purchases, stays = _history(db, rng, customers, now)
    db.execute(
        "UPDATE customer SET last_contact_at = (SELECT max(created_at) FROM timeline_entry t WHERE t.customer_id = customer.id"
        " AND t.kind != 'tag'), last_visit_at = (SELECT max(created_at) FROM timeline_entry t WHERE"
        " t.customer_id = customer.id AND t.kind = 'visit')"
    )
    db.execute("COMMIT")
    db.execute("PRAGMA optimize")
    db.execute("ANALYZE")
    db.close()
    return {
        "seconds": round(time.perf_counter() - started, 1),
        "customers": customers,
        "entries": entries + len(alerts),
        "purchases": purchases,
        "stays": stays,
    }


PRODUCTS = [("普洱茶", 1200, 30), ("普洱茶禮盒", 3600, 90), ("凍頂烏龍", 800, 20),
            ("高山茶", 1500, 35), ("東方美人", 2000, 45), ("廚房紙巾", 99, 1),
            ("手工皂", 250, 5), ("蜂蜜", 600, 12), ("寒假營", 8000, 100), ("鋼琴課", 3200, 60),
            ("作文班", 2800, 50), ("英文繪本", 450, 8), ("早餐券", 180, 2), ("伴手禮", 350, 6),
            ("精油", 900, 18), ("茶具組", 4200, 80), ("米餅", 120, 1), ("果醬", 320, 5),
            ("咖啡豆", 550, 10), ("會員年費", 1000, 40)]  # fmt: skip
PURCHASES = int(os.environ.get("BENCH_PURCHASES", "150000"))
STAYS = int(os.environ.get("BENCH_STAYS", "50000"))
STAY_ROOMS = int(os.environ.get("BENCH_STAY_ROOMS", "20"))


def _history(db, rng, customers: int, now) -> tuple[int, int]:
    """Products, 150,000 purchases over four years and 50,000 stays in 20 rooms, never two
    in a room on one night (200,000 dated records), inserted without timeline lines: the
    figures, reports and filters read these tables, not the feed."""
    db.executemany(
        "INSERT INTO product (name, price, points, active, created_at) VALUES (?,?,?,1,?)",
        [(name, price, points, now) for name, price, points in PRODUCTS],
    )
    product_ids = {row[1]: row[0] for row in db.execute("SELECT id, name FROM product")}
    prices = {product_ids[name]: (price, points) for name, price, points in PRODUCTS}
    today = now.date()
    rows = []
    for _ in range(PURCHASES):
        product = product_ids[rng.choice(PRODUCTS)[0]]
        price, points = prices[product]
        rows.append((rng.randint(1, customers), product, today - timedelta(days=rng.randrange(1460)),
                     rng.randint(1, 5), price, points, "", now))  # fmt: skip
    db.executemany(
        "INSERT INTO purchase (customer_id, product_id, purchased_on, quantity, unit_price,"
        " unit_points, note, created_at) VALUES (?,?,?,?,?,?,?,?)",
        rows,
    )
    db.executemany(
        "INSERT INTO room (name, active) VALUES (?, 1)",
        [(f"{n}號房",) for n in range(1, STAY_ROOMS + 1)],
    )
    rooms = [row[0] for row in db.execute("SELECT id FROM room")]
    rows = []
    # A room holds one party a night: each room's stays are laid back to back (a night or
    # two free now and then) from a month ahead back into the past, as far as they reach
    # (about 18 years for 2,500 stays a room): no two stays of a room share a night.
    for number, room in enumerate(rooms):
        last_out = today + timedelta(days=rng.randrange(25, 35))
        for _ in range(STAYS // len(rooms) + (number < STAYS % len(rooms))):
            nights = rng.choice((1, 1, 1, 2, 2, 3, 4))
            check_out = last_out - timedelta(days=rng.choice((0, 0, 0, 1, 1, 2)))
            check_in = check_out - timedelta(days=nights)
            last_out = check_in
            status = (
                "booked"
                if check_in > today
                else rng.choice(("stayed",) * 8 + ("cancelled", "no_show"))
            )
            rows.append((rng.randint(1, customers), room, check_in, check_out, rng.randint(1, 4),
                         rng.randint(0, 2), 2600 * nights, 1000, status,
                         rng.choice(("電話", "Booking.com", "Line")), "", now))  # fmt: skip
    db.executemany(
        "INSERT INTO stay (customer_id, room_id, check_in, check_out, adults, children, amount,"
        " deposit, status, source, note, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
        rows,
    )
    return PURCHASES, STAYS


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder", type=Path)
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--entries", type=int, default=1_000_000)
    args = parser.parse_args()
    print(build(args.folder, args.customers, args.entries))


if __name__ == "__main__":
    main()
