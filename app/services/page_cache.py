"""Rendered customer pages, reused until something on them changes.

The database keeps a version per customer and one for the whole shop (row 0), moved on by
triggers whenever a row the page shows changes — whoever writes it: a web worker, the
background worker, an import, the outbox. A page is reused only for the same customer and
versions, the same staff member (so their role and name), language, time zone, address and
shop day; everything else about a request (its CSRF token) is filled in when it is served.
Each web worker process keeps its own pages, at most `max_bytes` of them.
"""

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date

CSRF_MARK = "\x00hearth-csrf\x00"
CSRF_MARK_BYTES = CSRF_MARK.encode()

_VERSIONS = "SELECT customer_id, version FROM page_version WHERE customer_id IN (?, 0)"
_VERSIONS_FORMAT = _VERSIONS.replace("?", "%s")  # psycopg's placeholders


def versions(connection, customer_id: int) -> tuple[int, int]:
    """(this customer's version, the shop's version): one indexed read."""
    sql = _VERSIONS if connection.dialect.paramstyle == "qmark" else _VERSIONS_FORMAT
    found = dict(connection.exec_driver_sql(sql, (customer_id,)).all())
    return found.get(customer_id, 0), found.get(0, 0)


@dataclass(frozen=True)
class Page:
    html: bytes  # UTF-8, with CSRF_MARK where the request's CSRF token goes
    day: date  # the shop's date it was rendered on (reminders, "due", ages)
    timezone: str  # the shop's zone then (a change moves the shop's version)
    open_alerts: bool  # a teacher's view of them is audited on every view

    def served(self, csrf_token: str) -> bytes:
        """The page for one request: kept as bytes, so serving it encodes only the token."""
        return self.html.replace(CSRF_MARK_BYTES, csrf_token.encode())


class PageCache:
    def __init__(self, max_bytes: int = 16 * 1024 * 1024):
        self.max_bytes = max_bytes
        self._pages: OrderedDict = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key) -> Page | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key, page: Page) -> None:
        size = len(page.html)
        if size > self.max_bytes // 4:
            return
        with self._lock:
            old = self._pages.pop(key, None)
            if old is not None:
                self._bytes -= len(old.html)
            self._pages[key] = page
            self._bytes += size
            while self._bytes > self.max_bytes and self._pages:
                _key, dropped = self._pages.popitem(last=False)
                self._bytes -= len(dropped.html)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)
