"""Secrets sealed in the database (the SMS password, LINE's channel secret and token): a
column type that encrypts with the instance's SETTINGS_KEY (Fernet), so neither the database
file nor its backups hold them in clear, and no caller ever sees the ciphertext."""

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from flask import current_app, has_app_context
from sqlalchemy import Text
from sqlalchemy.types import TypeDecorator

PREFIX = "sealed:"  # what tells a sealed value from one saved before sealing existed


class MissingKey(RuntimeError):
    """No SETTINGS_KEY in the configuration (instance/config.py writes one on first start)."""


class UnreadableSecret(str):
    """A saved secret this instance's key cannot open (a backup restored on another
    instance, a changed key). Empty for everyone who reads it, so nothing is sent with it;
    it keeps the sealed text, so saving the row again does not throw it away."""

    sealed: str

    def __new__(cls, sealed: str) -> "UnreadableSecret":
        secret = super().__new__(cls, "")
        secret.sealed = sealed
        return secret


_keys: dict[str, MultiFernet] = {}


def settings_keys(setting: str | None = None) -> MultiFernet:
    """SETTINGS_KEY: one Fernet key, or several separated by spaces (the first seals, any
    opens: put a new key first to change keys without losing what the old one sealed)."""
    if setting is None:
        setting = current_app.config.get("SETTINGS_KEY") if has_app_context() else None
    if not setting:
        raise MissingKey("SETTINGS_KEY is not set (instance/config.py)")
    if setting not in _keys:
        words = setting.replace(",", " ").split()
        try:
            _keys[setting] = MultiFernet([Fernet(word) for word in words])
        except ValueError as error:
            raise MissingKey(f"SETTINGS_KEY is not a Fernet key: {error}") from None
    return _keys[setting]


def seal(text: str, setting: str | None = None) -> str:
    return PREFIX + settings_keys(setting).encrypt(text.encode("utf-8")).decode("ascii")


def unseal(stored: str, setting: str | None = None) -> str:
    """The secret; raises InvalidToken or MissingKey when this key cannot open it."""
    if not stored.startswith(PREFIX):
        return stored  # saved before sealing existed (the migration seals these)
    token = stored[len(PREFIX) :].encode("ascii")
    return settings_keys(setting).decrypt(token).decode("utf-8")


class SealedText(TypeDecorator):
    """Text sealed on the way in, opened on the way out (an UnreadableSecret when the key
    cannot open it, never an error: a page that reads the shop must still work)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, UnreadableSecret):
            return value.sealed
        return seal(str(value))

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        try:
            return unseal(value)
        except (InvalidToken, MissingKey, UnicodeError, ValueError):
            return UnreadableSecret(value)


def is_unreadable(value) -> bool:
    return isinstance(value, UnreadableSecret)
