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
            "public_base_url": "https://crm.example.com/",
            "mail_rate_per_minute": "120",
            "mail_max_consecutive_failures": "5",
        },
    )
    assert response.status_code == 302
    shop = ensure_shop(db.session)
    assert (
        shop.public_base_url,
        shop.mail_rate_per_minute,
        shop.mail_max_consecutive_failures,
    ) == ("https://crm.example.com", 120, 5)
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


def test_bad_mail_settings_get_messages(client, owner):
    login(client, owner)
    response = client.post(
        "/settings/",
        data={"name": "x", "kind": "homestay", "timezone": "Asia/Taipei", "default_locale": "en",
              "public_base_url": "crm.example.com", "mail_rate_per_minute": "0", "mail_max_consecutive_failures": "lots"},
    )  # fmt: skip
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert (
        "Enter an address such as https://crm.example.com." in page
        and "Enter a number from 1 to 100,000." in page
    )
    assert "Enter a whole number." in page
