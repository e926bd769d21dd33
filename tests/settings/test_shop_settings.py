"""Shop settings: validation and effect."""

from app.extensions import db
from app.services.shop import ensure_shop
from tests.conftest import login


def test_owner_saves_settings(client, owner):
    login(client, owner)
    response = client.post(
        "/settings/",
        data={
            "name": "海邊民宿",
            "kind": "homestay",
            "timezone": "Asia/Taipei",
            "default_locale": "zh_Hant",
            "sender_address": "",
        },
    )
    assert response.status_code == 302
    assert ensure_shop(db.session).name == "海邊民宿"
    assert "海邊民宿" in client.get("/").get_data(as_text=True)


def test_bad_settings_get_messages(client, owner):
    login(client, owner)
    response = client.post(
        "/settings/",
        data={
            "name": "",
            "kind": "castle",
            "timezone": "Mars/Base",
            "default_locale": "en",
            "sender_address": "nope",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Unknown time zone" in page and "Enter a valid email address." in page
    assert "Choose one of the options." in page
