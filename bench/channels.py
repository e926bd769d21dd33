"""Benchmark: SMS (Mitake) and LINE campaigns through the real outbox and worker to the
local fake providers (tests/fakes.py, in a process of their own), next to a bare loop of
the same HTTP calls over one keep-alive connection: `sms_rate` / `line_rate` and their
ratios."""

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path

from bench.blast import _free_port

ROOT = Path(__file__).resolve().parent.parent
RECIPIENTS = int(os.environ.get("BENCH_CHANNEL_RECIPIENTS", "5000"))


class Fakes:
    def __init__(self):
        self.port = _free_port()
        env = {**os.environ, "FAKE_SMS_POINTS": "10000000", "FAKE_LINE_NO_LIMIT": "1"}
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.fakes", str(self.port)],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        self.process.stdout.readline()
        self.url = f"http://127.0.0.1:{self.port}"

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/_stats", timeout=5) as response:
            return json.loads(response.read())

    def wait_for(self, channel: str, count: int, timeout: float) -> float | None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.stats()[channel] >= count:
                return time.time()
            time.sleep(0.02)
        return None

    def stop(self):
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()


def _bare_loop(fakes: Fakes, channel: str, jobs: list[tuple[str, str]]) -> float:
    """The same requests, one after another on one keep-alive connection with the same
    HTTP client the transports use."""
    from app.services.channels.http import HttpClient

    http = HttpClient(fakes.url, 15, headers={"Authorization": "Bearer line-token"})
    started = time.time()
    for address, text in jobs:
        if channel == "sms":
            response = http.request(
                "POST", "/api/mtk/SmSend", params={"CharsetURL": "UTF-8"},
                form={"username": "shop", "password": "secret", "dstaddr": address,
                      "smbody": text, "clientid": str(uuid.uuid4())},
            )  # fmt: skip
        else:
            response = http.request(
                "POST", "/v2/bot/message/push",
                json_body={"to": address, "messages": [{"type": "text", "text": text}]},
                headers={"X-Line-Retry-Key": str(uuid.uuid4())},
            )  # fmt: skip
        assert response.status == 200, response.text
    http.close()
    return len(jobs) / (time.time() - started)


def run(results) -> None:
    folder = Path(tempfile.mkdtemp(prefix="hearth-channels-"))
    fakes = Fakes()
    config = {
        "SECRET_KEY": "bench-secret",
        "MAIL_SUPPRESS_SEND": True,
        "MITAKE_API_BASE": fakes.url,
        "LINE_API_BASE": fakes.url,
        "SMS_RATE_PER_SECOND": 1_000_000,
        "LINE_RATE_PER_SECOND": 1_000_000,
        "PUBLIC_BASE_URL": "",
    }
    if os.environ.get("BENCH_CHANNEL_CONNECTIONS"):  # else the app's default
        config["SMS_CONNECTIONS"] = config["LINE_CONNECTIONS"] = int(
            os.environ["BENCH_CHANNEL_CONNECTIONS"]
        )
    (folder / "config.py").write_text("\n".join(f"{k} = {v!r}" for k, v in config.items()) + "\n")
    env = {**os.environ, "HEARTH_INSTANCE": str(folder)}
    subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "db", "upgrade"],
                   cwd=ROOT, env=env, check=True, capture_output=True)  # fmt: skip
    os.environ["HEARTH_INSTANCE"] = str(folder)
    from app import create_app

    app = create_app()
    from app.clock import utcnow
    from app.extensions import db
    from app.models import Campaign, Customer, Delivery, FamilyMember, LineLink
    from app.services import campaigns, segments
    from app.services.shop import ensure_shop
    from app.tasks import send_settings
    from tests.fakes import line_user_id

    campaign_ids, prebuilt = {}, {}
    with app.app_context():
        shop = ensure_shop(db.session)
        shop.name, shop.kind, shop.default_locale = "小森林安親班", "afterschool", "zh_Hant"
        shop.sms_provider, shop.sms_username, shop.sms_password = "mitake", "shop", "secret"
        shop.line_channel_secret, shop.line_access_token = "line-secret", "line-token"
        db.session.add_all(
            Customer(id=n, display_name=f"王東城{n}", nickname=f"東城{n}", member_number=f"M{n:06d}",
                     level="B", consents={"marketing", "service"}, version=1)
            for n in range(1, RECIPIENTS + 1)
        )  # fmt: skip
        db.session.flush()
        db.session.add_all(
            FamilyMember(customer_id=n, name=f"王媽媽{n}", phone=f"09{n:08d}", is_guardian=True)
            for n in range(1, RECIPIENTS + 1)
        )
        db.session.add_all(
            LineLink(customer_id=n, user_id=line_user_id(n), linked_at=utcnow())
            for n in range(1, RECIPIENTS + 1)
        )
        db.session.commit()
        query = segments.customers_query(db.session, "level:B", segments.Context(now=utcnow()))
        for channel in ("sms", "line"):
            campaign = Campaign(subject="停課通知", body="{{ greeting }}", status="draft",
                                short_text="{{ greeting }}：明天颱風停課一天，請留意安全。",
                                audience="level:B", channels=[channel])  # fmt: skip
            db.session.add(campaign)
            db.session.commit()
            audience = campaigns.audience_for(db.session, query, shop, [channel])
            campaigns.queue(db.session, campaign, audience)
            db.session.commit()
            campaign_ids[channel] = campaign.id
        db.session.execute(db.update(Campaign).values(status="draft"))
        db.session.commit()
        settings = send_settings(app)
        settings.base_url = "https://crm.example.com"
        for channel, campaign_id in campaign_ids.items():
            campaign = db.session.get(Campaign, campaign_id)
            rows = db.session.execute(
                db.select(Delivery.address, Delivery.customer_id).where(
                    Delivery.campaign_id == campaign_id)).all()  # fmt: skip
            by_id = {c.id: c for c in db.session.scalars(db.select(Customer))}
            prebuilt[channel] = [
                (row.address, campaigns.build_short_message(
                    campaign, by_id[row.customer_id], shop, settings, {}, app.secret_key,
                    customer_id=row.customer_id))
                for row in rows
            ]  # fmt: skip
        db.session.remove()

    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        time.sleep(3)  # the worker's start-up is not part of sending
        for channel, campaign_id in campaign_ids.items():
            before = fakes.stats()[channel]
            with app.app_context():
                from app.tasks import send_campaign

                started = time.time()
                db.session.execute(
                    db.update(Campaign).where(Campaign.id == campaign_id).values(status="queued")
                )
                db.session.commit()
                send_campaign(campaign_id)
                db.session.remove()
            finished = fakes.wait_for(channel, before + RECIPIENTS, timeout=600)
            assert finished, f"{channel}: only {fakes.stats()[channel] - before} arrived"
            rate = RECIPIENTS / (finished - started)
            bare = _bare_loop(fakes, channel, prebuilt[channel])
            results.value(f"{channel}_rate", round(rate, 1), unit="msg/s", recipients=RECIPIENTS)
            results.value(f"{channel}_bare_rate", round(bare, 1), unit="msg/s")
            results.value(
                f"{channel}_ratio", round(rate / bare, 3),
                baseline={"name": f"{channel}_bare_rate", "rate": round(bare, 1)},
                ratio=round(rate / bare, 3),
            )  # fmt: skip
    finally:
        worker.send_signal(signal.SIGINT)
        worker.wait(30)
        fakes.stop()
