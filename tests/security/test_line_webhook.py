"""The LINE webhook against what a stranger or a replaying attacker can send: oversize bodies
refused before they are read, each event applied once (replays, redeliveries, two
deliveries at once), and any signed body answered 200 or 400, never 500."""

import copy
import io
import json
import threading

import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import EnvironBuilder, run_wsgi_app

from app.blueprints.webhooks.routes import MAX_WEBHOOK_BYTES
from app.extensions import db
from app.models import AuditEvent, LineLink, TimelineEntry
from app.services import line_links
from app.services.channels.line import sign
from tests.factories import make_customer
from tests.fakes import follow_event, line_user_id, text_event, unfollow_event
from tests.security.conftest import LINE_SECRET as SECRET


def _body(events) -> bytes:
    return json.dumps({"destination": "U" + "f" * 32, "events": events}).encode()


def _post(client, body: bytes):
    return client.post("/hooks/line", data=body, content_type="application/json",
                       headers={"X-Line-Signature": sign(SECRET, body)})  # fmt: skip


def _count(model, *where) -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(model).where(*where))


class EndlessBody(io.RawIOBase):
    """A request body that never ends, counting what the app took from it."""

    def __init__(self):
        self.given = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        buffer[:] = b" " * len(buffer)
        self.given += len(buffer)
        return len(buffer)


# ---- size ---------------------------------------------------------------------------------


def _raw_post(app, body, length: int | None) -> int:
    """POSTs a body stream to the webhook as a WSGI server hands it over; the status."""
    environ = EnvironBuilder("/hooks/line", method="POST", content_type="application/json",
                             headers={"X-Line-Signature": "x"}).get_environ()  # fmt: skip
    environ["wsgi.input"] = body
    if length is None:  # chunked: the server ends the stream; no length
        environ.pop("CONTENT_LENGTH", None)
        environ["wsgi.input_terminated"] = True
    else:
        environ["CONTENT_LENGTH"] = str(length)
    _body, status, _headers = run_wsgi_app(app, environ, buffered=True)
    return int(status.split()[0])


def test_an_oversize_body_is_refused_before_it_is_read(app, client, line_shop):
    # A 20 MB body announced by its Content-Length: refused without reading a byte.
    body = EndlessBody()
    assert _raw_post(app, body, 20 * 1024 * 1024) == 413
    assert body.given == 0
    # No length (chunked): read in small pieces, and no further than the limit.
    body = EndlessBody()
    assert _raw_post(app, body, None) == 413
    assert body.given <= MAX_WEBHOOK_BYTES + 64 * 1024
    # A signed body just over the limit is refused too; one under it is read.
    big = b'{"events": []' + b" " * MAX_WEBHOOK_BYTES + b"}"
    assert _post(client, big).status_code == 413
    assert _post(client, _body([])).status_code == 200


# ---- each event once ----------------------------------------------------------------------


def test_a_replayed_or_redelivered_event_is_applied_once(app, client, line_shop, fakes):
    child = make_customer("王小明")
    parent = line_user_id(1)
    db.session.add(LineLink(customer_id=child.id, user_id=parent))
    db.session.commit()
    unfollow = _body([unfollow_event(parent)])
    assert _post(client, unfollow).status_code == 200
    assert _post(client, _body([follow_event(parent)])).status_code == 200
    assert _count(LineLink, LineLink.unfollowed_at.is_(None)) == 1
    # The same signed unfollow again (a replay), and as LINE's redelivery: not applied again.
    assert _post(client, unfollow).status_code == 200
    redelivered = json.loads(unfollow)["events"][0]
    redelivered["deliveryContext"]["isRedelivery"] = True
    assert _post(client, _body([redelivered])).status_code == 200
    assert _count(LineLink, LineLink.unfollowed_at.is_(None)) == 1
    entries = _count(TimelineEntry, TimelineEntry.action == "line_unfollowed")
    assert entries == 1
    # A code sent once and replayed: one link, one reply, no wrong-code failure counted.
    other = make_customer("李小華")
    code = line_links.new_code(db.session, other, None, app.secret_key)[1]
    db.session.commit()
    message = _body([text_event(parent, code)])
    before = len(fakes.state.replies)
    assert _post(client, message).status_code == 200
    assert _post(client, message).status_code == 200
    assert len(fakes.state.replies) == before + 1
    assert _count(LineLink, LineLink.customer_id == other.id) == 1
    assert _count(AuditEvent, AuditEvent.action.like("line.code_%")) == 0
    # A redelivered event we never saw (our first answer was lost) is applied, without a
    # reply: LINE says its reply token may no longer be valid.
    newcomer = line_user_id(2)
    event = follow_event(newcomer)
    event["deliveryContext"]["isRedelivery"] = True
    before = len(fakes.state.replies)
    assert _post(client, _body([event])).status_code == 200
    assert len(fakes.state.replies) == before
    assert _count(LineLink, LineLink.user_id == newcomer) == 0  # nothing to restore


def test_two_deliveries_of_one_event_at_once_apply_it_once(app, line_shop, fakes):
    child = make_customer("王小明")
    parent = line_user_id(3)
    code = line_links.new_code(db.session, child, None, app.secret_key)[1]
    db.session.commit()
    message = _body([text_event(parent, code)] * 3)  # also three times in one body
    start = threading.Barrier(2)
    statuses = []

    def deliver():
        with app.test_client() as client:
            start.wait()
            statuses.append(_post(client, message).status_code)

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert statuses == [200, 200]
    assert _count(LineLink) == 1
    assert len(fakes.state.replies) == 1
    assert _count(AuditEvent, AuditEvent.action.like("line.code_%")) == 0


# ---- shapes -------------------------------------------------------------------------------

UNKNOWN_KINDS = ["join", "leave", "memberJoined", "memberLeft", "postback", "beacon",
                 "accountLink", "unsend", "videoPlayComplete", "messageEdited", "things",
                 "somethingLINEAddsNextYear"]  # fmt: skip


def test_malformed_signed_bodies_get_400_and_odd_events_are_ignored(client, line_shop, fakes):
    child = make_customer("王小明")
    parent = line_user_id(4)
    db.session.add(LineLink(customer_id=child.id, user_id=parent))
    db.session.commit()
    for body in [b"not json", b"\xff\xfe", b"[]", b'"events"', b'{"events": {}}',
                 b'{"events": "x"}', b"[" * 100_000 + b"]" * 100_000,
                 b'{"events": ' + b"[" * 50_000 + b"]" * 50_000 + b"}"]:  # fmt: skip
        assert _post(client, body).status_code == 400, body[:40]
    odd = []
    for source in ["str", 1, None, [], {"type": "user"}, {"type": "user", "userId": 5},
                   {"type": "user", "userId": "../../etc"}, {"type": "group", "userId": parent},
                   {"type": "user", "userId": ["U" + "0" * 32]}]:  # fmt: skip
        event = unfollow_event(parent)
        event["source"] = source
        odd.append(event)
    for message in ["str", 1, None, [], {"type": "text"}, {"type": "text", "text": 5},
                    {"type": "text", "text": {"a": 1}}, {"type": 1, "text": "1"},
                    {"type": "sticker", "packageId": "1"}]:  # fmt: skip
        event = text_event(parent, "x")
        event["message"] = message
        odd.append(event)
    for field, value in [("type", 1), ("type", None), ("type", ["unfollow"]),
                         ("webhookEventId", 5), ("webhookEventId", None), ("webhookEventId", "../"),
                         ("deliveryContext", "x"), ("deliveryContext", {"isRedelivery": "no"}),
                         ("timestamp", "soon"), ("timestamp", True), ("timestamp", 10**40),
                         ("replyToken", 5)]:  # fmt: skip
        event = unfollow_event(parent)
        event[field] = value
        odd.append(event)
    for kind in UNKNOWN_KINDS:
        event = follow_event(parent)
        event["type"] = kind
        odd.append(event)
    odd += ["x", 1, None, [], [unfollow_event(parent)]]
    response = _post(client, _body(odd))
    assert response.status_code == 200
    assert _count(LineLink, LineLink.unfollowed_at.is_(None)) == 1  # none of them applied
    assert fakes.state.replies == []


# Any JSON value, and events that are nearly right.
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip
KIND = st.sampled_from(["follow", "unfollow", "message", *UNKNOWN_KINDS]) | JSON
USER = st.sampled_from([line_user_id(n) for n in range(3)]) | JSON
EVENT = st.fixed_dictionaries(
    {"type": KIND},
    optional={
        "source": st.fixed_dictionaries({"type": st.just("user") | JSON, "userId": USER}) | JSON,
        "message": st.fixed_dictionaries(
            {"type": st.just("text") | JSON, "text": st.text(alphabet="0123456789- ", max_size=20) | JSON}
        ) | JSON,
        "replyToken": st.text(max_size=40) | JSON,
        "webhookEventId": st.text(alphabet="0123456789ABCDEFGHJKMNPQRSTVWXYZ", min_size=1, max_size=30) | JSON,
        "timestamp": st.integers() | JSON,
        "deliveryContext": st.fixed_dictionaries({"isRedelivery": st.booleans() | JSON}) | JSON,
    },
)  # fmt: skip
BODY = st.one_of(
    st.lists(EVENT | JSON, max_size=5).map(_body),
    JSON.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=200),
)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODY)
def test_any_signed_body_is_answered_200_or_400(client, line_shop, body):
    response = _post(client, body)
    assert response.status_code in (200, 400), (body[:300], response.status_code)


def test_events_keep_their_ids_a_week_and_the_nightly_purge_drops_older_ones(
    client, line_shop, app
):
    from datetime import timedelta

    from app.clock import utcnow
    from app.models import LineEvent
    from app.tasks import purge_old_login_attempts

    parent = line_user_id(5)
    event = unfollow_event(parent)
    _post(client, _body([event]))
    assert _count(LineEvent) == 1
    db.session.execute(sa.update(LineEvent).values(handled_at=utcnow() - timedelta(days=9)))
    db.session.commit()
    purge_old_login_attempts.call_local()
    assert _count(LineEvent) == 0
    # An event older than the ids kept is not applied at all (its id may have been purged).
    child = make_customer("王小明")
    db.session.add(LineLink(customer_id=child.id, user_id=parent))
    db.session.commit()
    stale = copy.deepcopy(event)
    stale["timestamp"] -= 8 * 24 * 3600 * 1000
    assert _post(client, _body([stale])).status_code == 200
    assert _count(LineLink, LineLink.unfollowed_at.is_(None)) == 1
