"""Shop settings: one row describing the shop this install serves."""

from sqlalchemy import ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import db
from app.models.sealed import SealedText
from app.models.types import JsonList

SHOP_KINDS = ("homestay", "afterschool")
# What makes a class/group for the teacher's view: tags the owner marks, or a custom field.
GROUP_SOURCES = ("tags", "field")


class Shop(db.Model):
    __tablename__ = "shop"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="Hearth")
    kind: Mapped[str] = mapped_column(String(20), default="homestay")
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Taipei")
    default_locale: Mapped[str] = mapped_column(String(16), default="zh_Hant")
    sender_address: Mapped[str | None] = mapped_column(String(254))
    sender_name: Mapped[str | None] = mapped_column(String(120))
    # Where unsubscribe links point, e.g. https://crm.example.com (no trailing slash).
    public_base_url: Mapped[str | None] = mapped_column(String(300))
    # The mail server, set by the owner in Settings → Mail (empty host: instance/config.py's
    # MAIL_SERVER…). security: "none", "starttls" or "ssl". The password is sealed.
    mail_host: Mapped[str | None] = mapped_column(String(253))
    mail_port: Mapped[int | None] = mapped_column(Integer)
    mail_security: Mapped[str | None] = mapped_column(String(10))
    mail_username: Mapped[str | None] = mapped_column(String(254))
    mail_password: Mapped[str | None] = mapped_column(
        SealedText(), deferred=True, deferred_group="mail_secret"
    )
    mail_rate_per_minute: Mapped[int] = mapped_column(Integer, default=600, server_default="600")
    mail_max_consecutive_failures: Mapped[int] = mapped_column(
        Integer, default=10, server_default="10"
    )
    # The owner's own words for levels A/B/C (empty: the shop kind's words).
    # SMS gateway (Mitake or Every8d) and LINE Messaging API channel, entered by the owner.
    # The password, secret and token are sealed with the instance's SETTINGS_KEY, and read
    # (together) only where used: most pages read the shop for its zone and words.
    sms_provider: Mapped[str | None] = mapped_column(String(20))
    sms_username: Mapped[str | None] = mapped_column(String(120))
    sms_password: Mapped[str | None] = mapped_column(
        SealedText(), deferred=True, deferred_group="channel_secrets"
    )
    sms_sender: Mapped[str | None] = mapped_column(String(40))
    sms_part_price_cents: Mapped[int] = mapped_column(Integer, default=100, server_default="100")
    line_channel_secret: Mapped[str | None] = mapped_column(
        SealedText(), deferred=True, deferred_group="channel_secrets"
    )
    line_access_token: Mapped[str | None] = mapped_column(
        SealedText(), deferred=True, deferred_group="channel_secrets"
    )
    line_account_id: Mapped[str | None] = mapped_column(String(40))
    level_a_name: Mapped[str | None] = mapped_column(String(40))
    level_b_name: Mapped[str | None] = mapped_column(String(40))
    level_c_name: Mapped[str | None] = mapped_column(String(40))
    group_source: Mapped[str] = mapped_column(String(10), default="tags", server_default="tags")
    group_field_id: Mapped[int | None] = mapped_column(
        ForeignKey("custom_field.id", ondelete="SET NULL")
    )
    # Alert keywords that mean the same thing, one line per group: "花生 = peanut = 土豆".
    alert_synonyms: Mapped[list[str]] = mapped_column(JsonList(), default=list, nullable=True)
    # Enquiries' follow-up rhythm: a hot enquiry nobody got back to in this many days returns
    # to its owner's My day; getting back sooner than this many hours after the last time
    # is "following too closely".
    enquiry_quiet_days: Mapped[int] = mapped_column(Integer, default=3, server_default="3")
    enquiry_min_gap_hours: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
