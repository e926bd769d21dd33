"""The smaller findings: unsubscribe links without a public address, export content types,
proxy headers, expired sign-ins, the import progress file."""

import json
import threading
from pathlib import Path

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Campaign, StaffSession
from tests.campaigns.test_campaign_routes import run_jobs
from tests.conftest import build_app, login, mail_config
from tests.factories import PASSWORD, make_customer, make_user


def test_unsubscribe_links_follow_the_host_staff_use_and_compose_warns(
    tmp_path, migrated_db, smtp_server
):
    config = {**mail_config(smtp_server), "PUBLIC_BASE_URL": None}
    app = build_app(tmp_path, migrated_db, **config)
    with app.app_context():
        owner = make_user("owner")
        make_customer("王小明", email="ming@example.com", consent={"marketing"})
        client = app.test_client()
        host = {"base_url": "http://crm.shop.example:8123"}
        signed_in = client.post("/login", data={"email": owner.email, "password": PASSWORD}, **host)
        assert signed_in.status_code == 302
        compose = client.get("/campaigns/new?q=has:email", **host)
        assert "No public address is set" in compose.get_data(as_text=True)
        warning = compose.get_data(as_text=True).split("No public address is set")[1][:300]
        assert "http://crm.shop.example:8123" in warning, warning
        campaign = Campaign(subject="Hi", body="{{ greeting }}", audience="has:email")
        db.session.add(campaign)
        db.session.commit()
        assert client.post(f"/campaigns/{campaign.id}/send", **host).status_code == 302
        run_jobs()
        (message,) = smtp_server.parsed()
        assert message["List-Unsubscribe"].strip().startswith("<http://crm.shop.example:8123/u/")
        db.session.remove()
        db.engine.dispose()


def test_csv_downloads_name_their_charset_once(client, owner, frontdesk):
    make_customer("王小明")
    login(client, owner)
    export = client.get("/customers/export?format=csv&columns=display_name&q=")
    assert export.headers["Content-Type"] == "text/csv; charset=utf-8"
    template = client.get("/imports/template.csv")
    assert template.headers["Content-Type"] == "text/csv; charset=utf-8"
    reports = []
    for report in ("half_year", "history", "repurchase", "stays", "attendance"):
        answer = client.get(f"/reports?report={report}&format=csv&pattern=*&min_price=0")
        if answer.mimetype == "text/csv":
            reports.append(report)
            assert answer.headers["Content-Type"] == "text/csv; charset=utf-8", report
    assert reports


INVISIBLE_NAMES = ["\u200b", "\ufeff", " \u200b\u200e ", "\u3164", "\u2800\u200b"]


@pytest.mark.parametrize("name", INVISIBLE_NAMES, ids=["zwsp", "bom", "marks", "filler", "braille"])
def test_a_name_of_only_invisible_characters_is_refused(client, owner, name):
    """Rooms, products, tags and customers: a name nobody can see is no name (422, nothing
    saved), and invisible characters around a real name do not make a second one."""
    from app.models import Customer, Product, Room, Tag

    login(client, owner)
    customer = make_customer("王小明")
    answers = {
        "room": client.post("/settings/rooms", data={"new-name": name, "new-active": "y"}),
        "product": client.post(
            "/settings/products", data={"new-name": name, "new-price": "1", "new-points": "0"}
        ),
        "tag": client.post(
            f"/customers/{customer.id}/tags",
            data={"name": name},
            headers={"HX-Request": "true", "HX-Target": "tags"},
        ),
        "customer": client.post("/customers/new", data={"display_name": name}),
    }
    assert {kind: answer.status_code for kind, answer in answers.items()} == dict.fromkeys(
        answers, 422
    )
    db.session.rollback()
    for model in (Room, Product, Tag):
        assert db.session.scalar(sa.select(sa.func.count()).select_from(model)) == 0, model
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Customer)) == 1
    client.post("/settings/rooms", data={"new-name": "海景房", "new-active": "y"})
    again = client.post("/settings/rooms", data={"new-name": "海景房\u200b", "new-active": "y"})
    assert again.status_code == 422
    assert "There is already a room called 海景房." in again.get_data(as_text=True)


def test_forwarded_for_is_ignored_unless_a_proxy_is_configured(tmp_path, migrated_db):
    """Without HEARTH_PROXY_COUNT a client cannot pick its own address for the limiter."""
    for proxies, expected in ((0, "127.0.0.1"), (1, "203.0.113.9")):
        (tmp_path / str(proxies)).mkdir()
        app = build_app(tmp_path / str(proxies), migrated_db, PROXY_COUNT=proxies)
        with app.app_context():
            from app.models import LoginAttempt

            client = app.test_client()
            make_user("owner")
            client.post(
                "/login",
                data={"email": "nobody@example.com", "password": "wrong password"},
                headers={"X-Forwarded-For": "203.0.113.9"},
                environ_base={"REMOTE_ADDR": "127.0.0.1"},
            )
            assert db.session.scalar(sa.select(LoginAttempt.ip)) == expected
            db.session.remove()
            db.engine.dispose()


def test_limiter_cannot_be_dodged_by_rotating_forwarded_for(client, owner):
    for number in range(12):
        response = client.post(
            "/login",
            data={"email": "x@example.com", "password": "wrong password"},
            headers={"X-Forwarded-For": f"198.51.100.{number}"},
        )
    assert response.status_code == 429


def test_expired_sign_ins_stop_working_and_are_purged(app, client, owner):
    import time_machine

    from app.clock import utcnow
    from app.tasks import purge_old_login_attempts

    login(client, owner)
    assert client.get("/").status_code == 200
    with time_machine.travel(utcnow().timestamp() + 13 * 3600, tick=False):
        assert client.get("/").status_code == 302  # back to sign in
        purge_old_login_attempts.call_local()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(StaffSession)) == 0


def test_import_progress_is_never_read_half_written(tmp_path):
    from app.services.importer import read_progress, write_progress

    stop = threading.Event()
    seen = []

    def reader():
        while not stop.is_set():
            seen.append(read_progress(tmp_path, 1))

    thread = threading.Thread(target=reader)
    thread.start()
    for done in range(3000):
        write_progress(tmp_path, 1, done, 3000)
    stop.set()
    thread.join()
    assert all(set(item) == {"done", "total"} for item in seen)
    assert {"done": 0, "total": 0} not in seen[len(seen) // 2 :]  # no torn reads
    assert json.loads(Path(tmp_path / "batch-1.progress").read_text())["done"] == 2999
