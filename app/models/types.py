"""Column types of our own: JsonList, a short ordered list (names, levels, ids) kept as one
JSON value on SQLite and PostgreSQL alike, instead of comma-separated text."""

import sqlalchemy as sa
from sqlalchemy.types import TypeDecorator


class JsonList(TypeDecorator):
    """A list of strings or numbers. An empty column reads as []; text is refused (a comma
    string written by mistake would otherwise be stored as one item)."""

    impl = sa.JSON
    cache_ok = True

    def __init__(self):
        super().__init__(none_as_null=True)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str | bytes):
            raise TypeError("JsonList takes a list, not text")
        return list(value)

    def process_result_value(self, value, dialect):
        return list(value or [])
