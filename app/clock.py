"""Time: the database stores naive UTC; people see the shop's time zone."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """Now in UTC, naive, as stored in the database."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_zone(moment: datetime, zone: str) -> datetime:
    """A stored naive-UTC moment as an aware datetime in the given zone."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(ZoneInfo(zone))
