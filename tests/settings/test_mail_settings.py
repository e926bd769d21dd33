"""Settings → Mail server: the owner sets the shop's SMTP server (the password kept sealed),
sends a test mail and reads the server's own answer; campaigns and the compose pages' check
use that server instead of instance/config.py's."""

import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Shop
from app.services.shop import ensure_shop
from tests.conftest import _free_port, login

PASSWORD = "app-password-1234"


def _save(client, port, **fields):
    data = {"mail_host": "127.0.0.1", "mail_security": "none", "mail_port": str(port),
            "mail_username": "", "mail_password": "", **fields}  # fmt: skip
    return client.post("/settings/mail", data=data, follow_redirects=True)


def test_the_owner_sets_the_server_and_a_test_mail_reports_its_answer(
    app, client, owner, smtp_server
):
    ensure_shop(db.session).name = "小森林"
    db.session.commit()
    login(client, owner)
    page = client.get("/settings/mail").get_data(as_text=True)
    assert "from the instance configuration" in page
    saved = _save(client, smtp_server.port, mail_username="shop@forest.example",
                  mail_password=PASSWORD)  # fmt: skip
    assert saved.status_code == 200 and "Mail server saved" in saved.get_data(as_text=True)
    assert f"Now: 127.0.0.1:{smtp_server.port}, set here." in saved.get_data(as_text=True)
    raw = db.session.execute(sa.text("SELECT mail_password FROM shop")).scalar()
    assert raw and PASSWORD not in raw  # sealed at rest
    db.session.expire_all()
    assert db.session.scalar(sa.select(Shop)).mail_password == PASSWORD
    # A blank password keeps the saved one.
    _save(client, smtp_server.port, mail_username="shop@forest.example")
    db.session.expire_all()
    assert db.session.scalar(sa.select(Shop)).mail_password == PASSWORD
    # No login offered by this server: the test goes without one.
    _save(client, smtp_server.port, clear_password="1")
    tested = client.post("/settings/mail/test", data={"test_to": "me@forest.example"})
    text = tested.get_data(as_text=True)
    assert tested.status_code == 200, text
    assert "The test mail was handed over" in text
    assert re.search(r'<code id="server-answer">250 ', text)
    (mail,) = smtp_server.parsed()
    assert "小森林" in str(mail["Subject"]) and mail["To"] == "me@forest.example"


def test_a_refusing_server_and_no_server_are_named_in_chinese(app, client, owner, smtp_server):
    login(client, owner)
    client.post("/language", data={"lang": "zh_Hant"})
    _save(client, smtp_server.port)
    smtp_server.refuse_all = "550 5.1.1 No such user here"
    refused = client.post("/settings/mail/test", data={"test_to": "nobody@forest.example"})
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "測試信沒有寄出" in text and "送出收件人時" in text
    assert "550 5.1.1 No such user here" in text
    closed = _free_port()
    _save(client, closed)
    nobody = client.post("/settings/mail/test", data={"test_to": "me@forest.example"})
    text = nobody.get_data(as_text=True)
    assert nobody.status_code == 422 and "連線時" in text and "refused" in text.lower()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"mail_host": "smtp example.com"}, "A host name such as smtp.example.com."),
        ({"mail_port": "70000"}, "A port from 1 to 65535."),
        ({"mail_security": "rot13"}, "Choose one of the options."),
    ],
)
def test_bad_settings_are_refused_and_nothing_is_saved(app, client, owner, fields, message):
    login(client, owner)
    response = client.post(
        "/settings/mail",
        data={"mail_host": "smtp.example.com", "mail_security": "starttls", **fields},
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(Shop.mail_host)) is None


def test_campaigns_and_the_compose_check_use_the_shops_server(app, client, owner, smtp_server):
    """instance/config.py points at a closed port; the shop's own server answers."""
    from app.tasks import _smtp_target

    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=_free_port())
    login(client, owner)
    assert "No mail server answers" in client.get("/settings/mail").get_data(as_text=True)
    _save(client, smtp_server.port)
    assert "No mail server answers" not in client.get("/settings/mail").get_data(as_text=True)
    target = _smtp_target(app)
    assert (target.host, target.port) == ("127.0.0.1", smtp_server.port)
