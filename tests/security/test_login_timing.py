"""Sign-in takes as long for an unknown email as for a known one with a wrong password."""

import statistics
import time

from app.extensions import db
from tests.conftest import build_app
from tests.factories import make_user


def test_unknown_and_known_emails_cost_the_same(tmp_path, migrated_db):
    # Real password hashing (scrypt), as in production; a generous limiter so every try runs.
    app = build_app(tmp_path, migrated_db, PASSWORD_METHOD="scrypt", LOGIN_MAX_FAILURES=1000)
    with app.app_context():
        make_user("owner", email="boss@example.com", password_method="scrypt")
        client = app.test_client()

        def timed(email: str) -> float:
            started = time.perf_counter()
            response = client.post("/login", data={"email": email, "password": "wrong password"})
            assert response.status_code == 401
            return time.perf_counter() - started

        timed("boss@example.com"), timed("nobody@example.com")  # warm both paths
        known, unknown = [], []
        for number in range(9):
            known.append(timed("boss@example.com"))
            unknown.append(timed(f"nobody{number}@example.com"))
        # The fastest of each: what the work costs, without what other processes on a busy
        # machine (the parallel test run) add to some of the tries.
        known_cost, unknown_cost = min(known), min(unknown)
        assert known_cost > 0.01  # scrypt really ran
        assert 0.6 < unknown_cost / known_cost < 1.6, (
            known_cost, unknown_cost, statistics.median(known), statistics.median(unknown)
        )  # fmt: skip
        db.session.remove()
        db.engine.dispose()
