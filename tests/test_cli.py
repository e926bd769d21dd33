"""The flask commands: users create, demo, and serve (the `make run` path) end to end."""

import http.cookiejar
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import sqlalchemy as sa

from app.extensions import db
from app.models import Role, User

ROOT = Path(__file__).resolve().parent.parent


def test_users_create_with_password_stdin(app):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "Owner@Shop.tw",
            "--name",
            "老闆",
            "--role",
            "owner",
            "--password-stdin",
        ],
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(sa.select(User).where(User.email == "owner@shop.tw"))
    assert user.role == Role.OWNER


def test_users_create_rejects_short_password_and_duplicates(app):
    runner = app.test_cli_runner()
    short = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.tw",
            "--name",
            "A",
            "--role",
            "teacher",
            "--password-stdin",
        ],
        input="short\n",
    )
    assert short.exit_code != 0 and "10 characters" in short.output
    runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.tw",
            "--name",
            "A",
            "--role",
            "teacher",
            "--password-stdin",
        ],
        input="a long password\n",
    )
    again = runner.invoke(
        args=[
            "users",
            "create",
            "--email",
            "a@b.tw",
            "--name",
            "A",
            "--role",
            "teacher",
            "--password-stdin",
        ],
        input="a long password\n",
    )
    assert again.exit_code != 0 and "already" in again.output


def test_demo_is_idempotent(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo"]).exit_code == 0
    assert runner.invoke(args=["demo"]).exit_code == 0
    emails = db.session.scalars(sa.select(User.email).order_by(User.email)).all()
    assert emails == ["desk@example.com", "owner@example.com", "teacher@example.com"]


def test_search_rebuild_command(app):
    from app.services.search import search
    from tests.factories import make_customer, make_entry

    make_entry(make_customer("王小明"), body="小明對花生過敏")
    result = app.test_cli_runner().invoke(args=["search", "rebuild"])
    assert result.exit_code == 0 and "1 customers, 1 timeline entries" in result.output
    assert len(search(db.session, "花生").entries) == 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); check its state.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] != "Z"
    except FileNotFoundError:
        return False


def test_make_run_path_serves_demo_shop_and_stops_both(tmp_path):
    """What `make run` runs after installing: migrate, seed, web + worker, Ctrl-C stops both."""
    port = _free_port()
    env = {**os.environ, "HEARTH_INSTANCE": str(tmp_path / "inst"), "PORT": str(port)}
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "serve"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    output = []
    reader = None
    try:
        deadline = time.time() + 120  # generous: CI runs this beside other tests on 2 cores
        pids = None
        while time.time() < deadline:
            line = process.stdout.readline()
            output.append(line)
            match = re.search(r"Web server pid (\d+), worker pid (\d+)", line)
            if match:
                pids = int(match.group(1)), int(match.group(2))
                break
        assert pids, "".join(output)
        # Keep reading what the server and worker print, so a full pipe never blocks them.
        import threading

        reader = threading.Thread(target=lambda: output.extend(process.stdout), daemon=True)
        reader.start()
        jar = http.cookiejar.CookieJar()
        opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
        base = f"http://127.0.0.1:{port}"
        page = None
        while time.time() < deadline:
            try:
                page = opener.open(f"{base}/login", timeout=5).read().decode()
                break
            except OSError:
                time.sleep(0.3)
        assert page and "Sign in" in page or "登入" in page
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        form = urllib.parse.urlencode(
            {"csrf_token": token, "email": "owner@example.com", "password": "hearth-demo-1"}
        ).encode()
        home = opener.open(f"{base}/login", data=form, timeout=10).read().decode()
        assert "林老闆" in home
        assert (tmp_path / "inst" / "hearth.sqlite").exists()
        assert (tmp_path / "inst" / "config.py").exists()
        assert all(_alive(pid) for pid in pids)
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)
            raise AssertionError("serve did not stop:\n" + "".join(output[-60:])) from None
        if reader is not None:
            reader.join(10)
        process.stdout.close()
    time.sleep(0.5)
    assert not any(_alive(pid) for pid in pids)


def test_demo_of_each_kind_has_its_records(app):
    from app.models import Enrolment, Purchase, Room, Stay
    from app.services import stays
    from app.services.shop import get_shop, shop_context

    runner = app.test_cli_runner()
    result = runner.invoke(args=["demo", "--kind", "homestay", "--customers", "40"])
    assert result.exit_code == 0, result.output
    assert get_shop(db.session).kind == "homestay"
    count = lambda model: db.session.scalar(sa.select(sa.func.count()).select_from(model))  # noqa: E731
    assert count(Room) == 4 and count(Stay) >= 40 and count(Purchase) > 0
    returning = db.session.execute(
        sa.select(Stay.customer_id).group_by(Stay.customer_id).having(sa.func.count() >= 2)
    ).all()
    assert returning  # some guests came back
    today = shop_context(db.session).today
    assert len(stays.arriving(db.session, today)) == 3
    assert len(stays.leaving(db.session, today)) == 3
    assert count(Enrolment) == 0


def test_demo_kind_from_the_environment(app, monkeypatch):
    from app.models import Enrolment
    from app.services.shop import get_shop

    monkeypatch.setenv("HEARTH_DEMO_KIND", "afterschool")
    result = app.test_cli_runner().invoke(args=["demo", "--customers", "12"])
    assert result.exit_code == 0, result.output
    assert get_shop(db.session).kind == "afterschool"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Enrolment)) == 12
