"""Which transports the shop has set up, from its settings (what the owner typed in
Settings → Channels) and the instance config (the providers' addresses: a test or a demo
points them at local servers)."""

from collections.abc import Callable
from datetime import timedelta

from app.models.sealed import is_unreadable
from app.services.channels.line import LineApi, LineTransport
from app.services.channels.sms import Every8dTransport, MitakeTransport

SMS_PROVIDERS = ("mitake", "every8d")


def sms_transport(shop, config, receipt_address: Callable[[str], str] | None = None):
    """The SMS gateway's transport, or None when SMS is not set up (or its saved password
    cannot be opened with this instance's key)."""
    if shop.sms_provider not in SMS_PROVIDERS or not shop.sms_username:
        return None
    if is_unreadable(shop.sms_password):
        return None
    timeout = float(config.get("CHANNEL_TIMEOUT", 15))
    if shop.sms_provider == "mitake":
        return MitakeTransport(
            config.get("MITAKE_API_BASE"), shop.sms_username, shop.sms_password,
            receipt_address=receipt_address, timeout=timeout,
        )  # fmt: skip
    return Every8dTransport(
        config.get("EVERY8D_API_BASE"), shop.sms_username, shop.sms_password,
        subject=shop.sms_sender or shop.name, timeout=timeout,
    )  # fmt: skip


def line_transport(shop, config):
    if not shop.line_access_token:
        return None
    return LineTransport(
        config.get("LINE_API_BASE"),
        shop.line_access_token,
        timeout=float(config.get("CHANNEL_TIMEOUT", 15)),
        multicast_size=int(config.get("LINE_MULTICAST_SIZE", 500)),
    )


def line_api(shop, config) -> LineApi | None:
    if not shop.line_access_token:
        return None
    return LineApi(config.get("LINE_API_BASE"), shop.line_access_token, timeout=5)


def dedupe_windows(shop) -> dict[str, timedelta | None]:
    """channel → how long its provider recognises a repeated key (None: it does not)."""
    return {
        "email": None,
        "sms": MitakeTransport.dedupe_window if shop.sms_provider == "mitake" else None,
        "line": LineTransport.dedupe_window,
    }


def unreadable(shop) -> list[str]:
    """The saved secrets this instance's SETTINGS_KEY cannot open (the owner enters them
    again): sms_password, line_channel_secret, line_access_token."""
    names = ("sms_password", "line_channel_secret", "line_access_token")
    return [name for name in names if is_unreadable(getattr(shop, name))]


def configured(shop) -> dict[str, bool]:
    return {
        "email": True,
        "sms": shop.sms_provider in SMS_PROVIDERS
        and bool(shop.sms_username)
        and not is_unreadable(shop.sms_password),
        "line": bool(shop.line_access_token and shop.line_channel_secret),
    }


SECRET_SETTINGS = ("sms_password", "line_channel_secret", "line_access_token")


def save_settings(shop, values: dict, *, clear_line: bool = False) -> None:
    """What the owner typed on Settings → Channels. A secret left blank keeps the saved one
    (the form never shows them); `clear_line` forgets the LINE channel's secret and token."""
    shop.sms_provider = values.get("sms_provider") or None
    shop.sms_username = (values.get("sms_username") or "").strip() or None
    shop.sms_sender = (values.get("sms_sender") or "").strip() or None
    shop.sms_part_price_cents = int(round(values["sms_part_price"] * 100))
    account = (values.get("line_account_id") or "").strip()
    shop.line_account_id = "@" + account.removeprefix("@") if account else None
    for name in SECRET_SETTINGS:
        value = (values.get(name) or "").strip()
        if value:
            setattr(shop, name, value)
    if clear_line:
        shop.line_channel_secret = shop.line_access_token = None
