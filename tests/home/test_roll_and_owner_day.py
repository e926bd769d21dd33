"""The teacher's roll (a tap, the tally out of band, undo, classes, pick-up people, a new
child's class) and the owner's home of an after-school centre (today's figures, absences
without a reason, the most urgent reminders, alert synonyms counted as one, the lapsed rule
in words, 變化 not 修改), as a zh-TW browser sees them."""

import re
from datetime import date, timedelta

import sqlalchemy as sa

from app.extensions import db
from app.models import Attendance, AuditEvent, Customer, TimelineEntry
from app.services import attendance
from app.services.customers import add_family_member
from app.services.reminders import add_reminder
from app.services.shop import ensure_shop, shop_context
from tests.conftest import login
from tests.factories import give_groups, make_alert, make_customer, make_tag, tag_customer

ZH = {"Accept-Language": "zh-TW"}
HTMX = {"HX-Request": "true"}
WORDS = {"arrived": "%(time)s 到班", "picked_up": "%(time)s 由 %(who)s 接回",
         "absent": "請假", "not_listed": "（不是登記的家長）"}  # fmt: skip


def _centre(names_by_class: dict[str, list[str]]) -> dict[str, list[Customer]]:
    """An after-school centre with these classes, every child expected every day."""
    shop = ensure_shop(db.session)
    shop.kind, shop.timezone = "afterschool", "Asia/Taipei"
    db.session.commit()
    today = shop_context(db.session).today
    children: dict[str, list[Customer]] = {}
    for class_name, names in names_by_class.items():
        tag = make_tag(class_name, "blue")
        tag.is_group = True
        db.session.commit()
        for name in names:
            child = make_customer(name)
            tag_customer(child, tag)
            attendance.enrol(db.session, child, group="", starts_on=today - timedelta(days=30),
                             weekdays="1234567")  # fmt: skip
            children.setdefault(class_name, []).append(child)
    db.session.commit()
    return children


def _mark(child, how: str, reason: str = ""):
    context = shop_context(db.session)
    args = {"actor": None, "zone": context.zone, "words": WORDS}
    if how == "present":
        attendance.check_in(db.session, child, context.today, **args)
    else:
        attendance.mark_absent(db.session, child, context.today, reason=reason, **args)
    db.session.commit()


def test_owner_home_says_how_the_centre_is_today(client, owner):
    children = _centre({"向日葵班": ["陳小明", "林怡君", "黃家豪", "張雅婷"],
                        "星星班": ["李冠宇", "王宜蓁", "吳承恩"]})  # fmt: skip
    sun, star = children["向日葵班"], children["星星班"]
    _mark(sun[0], "present")
    _mark(sun[1], "present")
    _mark(star[0], "present")
    _mark(sun[2], "absent")  # no reason given
    _mark(star[1], "absent", reason="感冒")
    today = shop_context(db.session).today
    sun[3].birthday = today.replace(year=2018) if (today.month, today.day) != (2, 29) else None
    db.session.commit()
    for days_late in (0, 0, 3, 10):  # 4 due by today, none with a priority
        add_reminder(db.session, sun[0], text=f"late {days_late}", assignee_id=None,
                     due_date=today - timedelta(days=days_late), created_by=None)  # fmt: skip
    add_reminder(db.session, sun[0], text="next week", assignee_id=None,
                 due_date=today + timedelta(days=7), created_by=None)  # fmt: skip
    db.session.commit()
    login(client, owner)
    page = client.get("/", headers=ZH).get_data(as_text=True)

    def figure(name: str) -> str:
        return re.search(rf'id="{name}"[^>]*>(?:<span class="big-number">)?(\d+)', page).group(1)

    assert (figure("stat-present"), figure("stat-absent"), figure("stat-missing")) == (
        "3",
        "2",
        "2",
    )
    assert "今天 2 個班共應到 7 位孩子" in page
    no_reason = page.split('id="absent-no-reason"')[1].split("</ul>")[0]
    assert "黃家豪" in no_reason and "王宜蓁" not in no_reason
    if sun[3].birthday:
        assert "張雅婷" in page.split('id="birthdays-today"')[1].split("</ul>")[0]
    urgent = page.split('id="urgent-reminders"')[1].split("</ol>")[0]
    assert urgent.index("late 10") < urgent.index("late 3") < urgent.index("late 0")
    assert "next week" not in urgent and "逾期 10 天" in urgent
    assert "該處理的 4 件中的 4 件" in page
    # Each number opens the children it counts: every class, that status.
    link = re.search(r'href="([^"]+)" id="stat-absent"', page).group(1).replace("&amp;", "&")
    absent_page = client.get(link, headers=ZH).get_data(as_text=True)
    assert absent_page.count('<li class="child-card') == 2
    assert "黃家豪" in absent_page and "王宜蓁" in absent_page and "陳小明" not in absent_page


def test_alert_synonyms_count_as_one_keyword_and_bad_lines_are_refused(client, owner):
    children = _centre({"向日葵班": ["陳小明", "林怡君", "黃家豪"]})["向日葵班"]
    make_alert(children[0], keywords="花生", body="對花生過敏")
    make_alert(children[1], keywords="peanut", body="Peanut allergy")
    make_alert(children[2], keywords="花生, peanut", body="花生過敏")
    login(client, owner)
    before = client.get("/", headers=ZH).get_data(as_text=True)
    table = before.split('id="alert-trend"')[1].split("</table>")[0]
    assert re.search(r'<th scope="row">花生</th>', table) and '<th scope="row">peanut' in table

    refused = client.post("/settings/synonyms", data={"synonyms": "花生"}, headers=ZH)
    assert refused.status_code == 422
    assert "只有一個關鍵字" in refused.get_data(as_text=True)
    twice = client.post("/settings/synonyms", data={"synonyms": "花生 = peanut\npeanut = 土豆"},
                        headers=ZH)  # fmt: skip
    assert twice.status_code == 422 and "出現在兩行" in twice.get_data(as_text=True)
    assert ensure_shop(db.session).alert_synonyms == []

    saved = client.post("/settings/synonyms", data={"synonyms": "花生 ＝ Peanut = 土豆\n\n"})
    assert saved.status_code == 302
    db.session.expire_all()
    assert ensure_shop(db.session).alert_synonyms == ["花生 = peanut = 土豆"]
    assert db.session.scalar(
        sa.select(sa.func.count()).where(AuditEvent.action == "settings.synonyms")
    )
    page = client.get("/", headers=ZH).get_data(as_text=True)
    table = page.split('id="alert-trend"')[1].split("</table>")[0]
    row = re.search(r'<th scope="row">花生<br><span class="muted synonyms">= peanut = 土豆</span>'
                    r"</th>.*?</tr>", table, re.S).group(0)  # fmt: skip
    assert [int(n) for n in re.findall(r">(\d+)</a>", row)] == [0, 3]  # three alerts, one row
    assert '<th scope="row">peanut' not in table
    # The count's link lists the same three alerts.
    link = re.findall(r'href="([^"]+)"', row)[1].replace("&amp;", "&")
    feed = client.get(link).get_data(as_text=True)
    assert feed.count('class="entry') >= 3 and "Peanut allergy" in feed and "對花生過敏" in feed


def test_owner_home_speaks_words_not_raw_queries_and_change_is_not_edit(client, owner):
    make_alert(_centre({"向日葵班": ["陳小明"]})["向日葵班"][0])
    login(client, owner)
    page = client.get("/", headers=ZH).get_data(as_text=True)
    lapsed = page.split('id="lapsed-words"')[1].split("</span>")[0]
    assert "等級 A, B，而且超過 180 天沒來" in lapsed
    assert "level:" not in page.split('id="stat-lapsed"')[1].split("</p>")[0]
    assert "visited &gt; 180d" not in page and "visited > 180d" not in page
    assert '<th scope="col">變化</th>' in page and ">修改<" not in page


def test_a_tap_answers_with_the_tile_the_tally_and_undo_takes_it_back(client, owner, teacher):
    children = _centre({"向日葵班": ["陳小明", "林怡君", "黃家豪"]})["向日葵班"]
    give_groups(teacher, "向日葵班")
    login(client, teacher)
    child = children[0]
    headers = {**ZH, **HTMX, "HX-Target": f"tile-{child.id}"}
    answer = client.post(f"/today/{child.id}/arrive", data={"group": "向日葵班"}, headers=headers)
    html = answer.get_data(as_text=True)
    assert answer.status_code == 200
    assert html.lstrip().startswith(f'<li class="roll-tile roll-here" id="tile-{child.id}"')
    assert (
        f'id="attendance-{child.id}" hx-target="this" hx-swap="outerHTML" hx-swap-oob="true"'
        in html
    )
    tally = re.search(r'<p id="today-roll"[^>]*hx-swap-oob="true">(.*?)</p>', html, re.S).group(1)
    assert "到班：1 / 應到 3" in tally and "還沒到 2" in tally
    assert "陳小明 到班了。" in html and "復原" in html
    row = db.session.scalar(sa.select(Attendance).where(Attendance.customer_id == child.id))
    entry_id = row.entry_id

    undone = client.post(f"/today/{child.id}/undo", data={"group": "向日葵班"}, headers=headers)
    html = undone.get_data(as_text=True)
    assert undone.status_code == 200
    assert html.lstrip().startswith(f'<li class="roll-tile roll-missing" id="tile-{child.id}"')
    assert "到班：0 / 應到 3" in html and "已復原陳小明今天的點名。" in html
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Attendance)) == 0
    assert db.session.get(TimelineEntry, entry_id) is None
    assert db.session.scalars(
        sa.select(AuditEvent.action).where(AuditEvent.action.like("attendance.%"))
    ).all() == ["attendance.arrive", "attendance.undo"]
    # Nothing left to undo: a clear message, nothing written.
    again = client.post(f"/today/{child.id}/undo", data={"group": "向日葵班"}, headers=headers)
    assert again.status_code == 422 and "沒有可以復原的" in again.get_data(as_text=True)
    # A teacher cannot mark (or undo) another class's child.
    other = make_customer("路人甲")
    assert client.post(f"/today/{other.id}/undo", headers=headers).status_code == 403


def test_undo_after_a_pickup_goes_back_to_here(client, owner, frontdesk):
    child = _centre({"向日葵班": ["陳小明"]})["向日葵班"][0]
    grandma = add_family_member(db.session, child, {"name": "陳阿嬤", "relation": "祖母",
                                                     "can_pick_up": True})  # fmt: skip
    db.session.commit()
    _mark(child, "present")
    login(client, frontdesk)
    response = client.post(f"/today/{child.id}/pickup", data={"member": grandma.id}, headers=HTMX)
    assert response.status_code == 200
    row = db.session.scalar(sa.select(Attendance))
    assert row.checked_out_at and not row.unexpected_pickup  # authorised: not flagged
    client.post(f"/today/{child.id}/undo", headers=HTMX)
    db.session.expire_all()
    row = db.session.scalar(sa.select(Attendance))
    assert row.status == "present" and row.checked_out_at is None and row.checked_in_at


def test_children_told_apart_by_class_and_pickup_people_on_the_child_page(client, owner):
    children = _centre({"向日葵班": ["梁雅婷", "陳小明"], "星星班": ["梁雅婷"]})
    first, second = children["向日葵班"][0], children["星星班"][0]
    first.birthday, second.birthday = date(2018, 3, 4), date(2018, 11, 2)
    add_family_member(db.session, first, {"name": "梁媽媽", "relation": "母親",
                                          "phone": "0912-345-678", "is_guardian": True})  # fmt: skip
    add_family_member(db.session, first, {"name": "梁阿嬤", "relation": "祖母",
                                          "can_pick_up": True})  # fmt: skip
    add_family_member(db.session, first, {"name": "梁舅舅", "relation": "舅舅"})
    db.session.commit()
    login(client, owner)
    page = client.get("/today?group=向日葵班&group=星星班", headers=ZH).get_data(as_text=True)
    cards = re.findall(r'<li class="child-card[^"]*" id="child-\d+">.*?</li>\n  \n', page, re.S)
    metas = re.findall(r'id="child-(\d+)">.*?<p class="child-meta">(.*?)</p>', page, re.S)
    by_id = {int(i): meta for i, meta in metas}
    assert "向日葵班" in by_id[first.id] and "3月生日" in by_id[first.id]
    assert "星星班" in by_id[second.id] and "11月生日" in by_id[second.id]
    avatars = dict(re.findall(r'id="tile-(\d+)".*?class="avatar (avatar-\d)"', page, re.S))
    assert avatars[str(first.id)] != avatars[str(second.id)]  # namesakes never share a colour
    assert cards is not None and page.count('<h3 class="roll-class">') == 2

    child_page = client.get(f"/today/{first.id}", headers=ZH).get_data(as_text=True)
    assert "班級：向日葵班" in child_page and "3月生日" in child_page
    people = child_page.split('id="pickup-people"')[1].split("</section>")[0]
    assert "梁媽媽" in people and "0912-345-678" in people and "梁阿嬤" in people
    assert people.index("梁阿嬤") < people.index("可接送") < people.index("梁舅舅")
    assert "不是登記的家長" in people.split("梁舅舅")[1]


def test_the_new_child_form_puts_the_child_in_a_class_at_once(client, owner, frontdesk):
    _centre({"向日葵班": ["陳小明"], "星星班": ["林怡君"]})
    login(client, frontdesk)
    form = client.get("/customers/new", headers=ZH).get_data(as_text=True)
    assert '<option value="星星班">星星班</option>' in form and "還沒分班" in form
    bad = client.post("/customers/new", data={"display_name": "王小華", "level": "C",
                                               "group": "沒有這班"}, headers=ZH)  # fmt: skip
    assert bad.status_code == 422 and "請從選項中選擇" in bad.get_data(as_text=True)
    assert db.session.scalar(sa.select(Customer).where(Customer.display_name == "王小華")) is None
    made = client.post("/customers/new", data={"display_name": "王小華", "level": "C",
                                                "group": "星星班"})  # fmt: skip
    assert made.status_code == 302
    today = client.get("/today?group=星星班", headers=ZH).get_data(as_text=True)
    assert "王小華" in today and "林怡君" in today


def test_the_desk_marks_a_family_member_as_an_authorised_pick_up(client, owner, frontdesk):
    from app.models import FamilyMember

    child = _centre({"向日葵班": ["陳小明"]})["向日葵班"][0]
    login(client, frontdesk)
    page = client.get(f"/customers/{child.id}/forms/family", headers=ZH).get_data(as_text=True)
    assert "可以接孩子回家（授權接送人）" in page
    added = client.post(f"/customers/{child.id}/family", data={
        "family-name": "陳阿嬤", "family-relation": "祖母", "family-can_pick_up": "y",
    })  # fmt: skip
    assert added.status_code == 302
    member = db.session.scalar(sa.select(FamilyMember).where(FamilyMember.name == "陳阿嬤"))
    assert member.can_pick_up and not member.is_guardian
    profile = client.get(f"/customers/{child.id}", headers=ZH).get_data(as_text=True)
    assert "可接送" in profile.split('id="family"')[1].split("</section>")[0]
