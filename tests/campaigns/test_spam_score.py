"""Mail that looks like a person wrote it: real campaign mails and test mails, in Chinese and
English, short and long, scored by Debian's SpamAssassin with its local rules (no network
tests), each at most 0.5 points; the Date header carries the shop's own offset."""

import re
import shutil
import subprocess

import pytest

from app.extensions import db
from app.tasks import send_test_email
from tests.campaigns.test_outbox import _campaign, _children, _send, _shop


@pytest.fixture(autouse=True)
def _spamassassin():
    if shutil.which("spamassassin") is None:
        pytest.fail("spamassassin is missing: `make test` installs Debian's spamassassin")


SHORT = {
    "zh_Hant": "{{ greeting }}：\n\n本週六下午有親子烘焙課，歡迎一起來。\n\n小森林 敬上",
    "en": "{{ greeting }},\n\nJoin us for the winter party on Saturday at 3pm.\n\nForest",
}
LONG = {
    "zh_Hant": "{{ greeting }}：\n\n"
    + "寒假營從一月二十日開始，每天上午九點到下午五點，有數學、英文、美術和戶外活動。"
    "名額有限，請在十二月三十一日前回覆，詳情請看 https://forest.example/winter 。\n\n"
    * 5
    + "{{ custom.teachers_words }}\n\n小森林 敬上",
    "en": "{{ greeting }},\n\n"
    + "The garden is quiet now and the fireplace is lit every evening. We kept your "
    "favourite room with the garden view for the new year: https://forest.example/rooms\n\n"
    * 5
    + "Warm wishes from all of us at Forest",
}


def _score(mail: bytes) -> tuple[float, str]:
    report = subprocess.run(
        ["spamassassin", "-L", "-t"], input=mail, capture_output=True, timeout=120, check=True
    ).stdout.decode(errors="replace")
    score = float(re.search(r"^X-Spam-Status: \w+, score=(-?[\d.]+)", report, re.M).group(1))
    details = report.split("Content analysis details:")[-1]
    return score, details


@pytest.mark.parametrize("locale", ["zh_Hant", "en"])
@pytest.mark.parametrize("length", ["short", "long"])
def test_campaign_and_test_mails_score_at_most_half_a_point(
    outbox_app, smtp_server, locale, length
):
    _shop(locale=locale)
    children = _children(1)
    body = (SHORT if length == "short" else LONG)[locale]
    subject = "十二月親子活動" if locale == "zh_Hant" else "Our winter letter"
    campaign = _campaign(subject=subject, body=body)
    assert _send(outbox_app, campaign).sent == 1
    send_test_email.call_local(campaign.id, children[0].id, "desk@forest.example")
    assert len(smtp_server.messages) == 2
    for _time, _to, mail in smtp_server.messages:
        score, details = _score(mail)
        assert score <= 0.5, details
    campaign_mail, test_mail = smtp_server.parsed()
    assert test_mail["Subject"].startswith("[TEST]")
    for message in (campaign_mail, test_mail):
        assert message["Date"].endswith("+0800"), message["Date"]  # the shop's Asia/Taipei
        assert re.fullmatch(r".*<customers\.forest\.example>", message["List-Id"])
        assert "小森林" in str(message["List-Id"])
    db.session.remove()
