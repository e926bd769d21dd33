"""LINE link codes against a stranger guessing them: a twelve-digit code space, a lockout per
LINE user and a pause for the whole shop after wrong codes, every failure audited, and a
reply that never names the child."""

import json
import re
from datetime import timedelta

import sqlalchemy as sa

from app.clock import utcnow
from app.extensions import db
from app.models import AuditEvent, LineCode, LineCodeFailure, LineLink
from app.services import line_links
from app.services.channels.line import sign
from tests.factories import make_customer
from tests.fakes import follow_event, line_user_id, text_event
from tests.security.conftest import LINE_SECRET as SECRET


def _send(client, user: str, *texts: str):
    body = json.dumps({"events": [text_event(user, text) for text in texts]}).encode()
    response = client.post("/hooks/line", data=body, content_type="application/json",
                           headers={"X-Line-Signature": sign(SECRET, body)})  # fmt: skip
    assert response.status_code == 200


def _last_reply(fakes) -> str:
    return fakes.state.replies[-1]["messages"][0]["text"]


def _links() -> int:
    db.session.rollback()
    return db.session.scalar(sa.select(sa.func.count()).select_from(LineLink))


def _audits(action: str) -> list[AuditEvent]:
    db.session.rollback()
    return list(db.session.scalars(sa.select(AuditEvent).where(AuditEvent.action == action)))


def _wrong(code: str) -> str:
    """Another code of the same shape (the last digit changed)."""
    return code[:-1] + str((int(code[-1]) + 1) % 10)


def test_codes_are_twelve_digits_in_groups_and_may_be_typed_loosely(app, client, line_shop):
    child = make_customer("王小明")
    seen = set()
    for _ in range(20):
        record, code = line_links.new_code(db.session, child, None, app.secret_key)
        assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code)  # 10^12 codes
        assert code.replace("-", "") not in record.code_hash  # only a keyed hash is stored
        seen.add(code)
    db.session.commit()
    assert len(seen) == 20
    # The last one is the only one that works; typed with spaces, full-width, in a sentence.
    loose = "我的代碼是 " + code.replace("-", " ").translate(
        str.maketrans("0123456789", "０１２３４５６７８９")
    )
    _send(client, line_user_id(1), loose)
    assert _links() == 1


def test_one_line_user_is_locked_out_after_five_wrong_codes(app, client, line_shop, fakes):
    child = make_customer("王小明", nickname="小明")
    code = line_links.new_code(db.session, child, None, app.secret_key)[1]
    db.session.commit()
    stranger = line_user_id(66)
    # One request with many guesses counts each one.
    _send(client, stranger, *[_wrong(code)] * 5)
    assert _links() == 0
    # Now even the right code is refused, and the stranger is told to wait.
    _send(client, stranger, code)
    assert _links() == 0
    assert "小明" not in _last_reply(fakes) and code not in _last_reply(fakes)
    assert "稍後" in _last_reply(fakes)  # "try again later"
    failures = _audits("line.code_failed")
    assert len(failures) == 5
    assert all(stranger in (a.detail or "") for a in failures)
    assert not any(_wrong(code) in (a.detail or "") for a in failures)  # typos stay secret
    assert len(_audits("line.code_locked")) == 1
    # Someone else still links with the code.
    _send(client, line_user_id(7), code)
    assert _links() == 1
    # The lockout ends when the failures are an hour old.
    other = make_customer("李小華")
    code = line_links.new_code(db.session, other, None, app.secret_key)[1]
    db.session.execute(sa.update(LineCodeFailure).values(at=utcnow() - timedelta(minutes=61)))
    db.session.commit()
    _send(client, stranger, code)
    assert _links() == 2


def test_wrong_codes_across_the_shop_pause_all_code_links(app, client, line_shop, fakes):
    child = make_customer("王小明")
    code = line_links.new_code(db.session, child, None, app.secret_key)[1]
    db.session.commit()
    for n in range(10):  # ten accounts, each just under its own lockout... and one more
        _send(client, line_user_id(100 + n), *[_wrong(code)] * 5)
    assert len(_audits("line.code_failed")) == 50
    assert len(_audits("line.codes_paused")) == 1
    _send(client, line_user_id(200), code)  # a parent with the right code: asked to wait
    assert _links() == 0
    assert "稍後" in _last_reply(fakes)
    assert len(_audits("line.code_failed")) == 50  # refused attempts are not failures


def test_the_success_reply_names_only_the_shop(
    app, client, line_shop, fakes, login_as, owner, frontdesk
):
    child = make_customer("王小明", nickname="小明")
    page = login_as(frontdesk).post(f"/customers/{child.id}/line-code").get_data(as_text=True)
    code = re.search(r'id="line-code"[^>]*>([\d-]+)<', page).group(1)
    assert re.fullmatch(r"\d{4}-\d{4}-\d{4}", code)
    assert "12-digit code" in page
    assert db.session.scalar(sa.select(LineCode.customer_id)) == child.id
    parent = line_user_id(8)
    body = json.dumps({"events": [follow_event(parent)]}).encode()
    client.post("/hooks/line", data=body, headers={"X-Line-Signature": sign(SECRET, body)})
    assert "12" in _last_reply(fakes)  # "send the 12-digit code"
    _send(client, parent, code)
    reply = _last_reply(fakes)
    assert "小森林" in reply
    assert "小明" not in reply and "王" not in reply
    assert _links() == 1
    # Staff see the new link on the customer's page.
    page = login_as(frontdesk).get(f"/customers/{child.id}").get_data(as_text=True)
    assert "家長 " + parent[-4:] in page
