"""Segments: parser messages, dates in the shop's zone, and a property test against Python."""

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.extensions import db
from app.models import Customer, CustomField, Tag, TimelineEntry
from app.services import segments as seg
from app.services.customers import add_family_member, set_custom_values
from tests.factories import make_alert, make_customer, make_entry, make_tag, tag_customer


def _ids(text: str, now: datetime, zone: str = "Asia/Taipei") -> set[int]:
    query = seg.customers_query(db.session, text, seg.Context(now=now, zone=zone))
    return {c.id for c in db.session.scalars(query)}


NOW = datetime(2026, 12, 20, 4, 0)  # naive UTC; 12:00 in Taipei


# ---- parsing ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "code", "position"),
    [
        ("(tag:VIP or tag:B", "unbalanced-open", 0),
        ("tag:VIP)", "unbalanced-close", 7),
        ("colour:red", "unknown-atom", 0),
        ("last_contact > soon", "expected-duration", 0),
        ("level:D", "bad-level", 6),
        ("birthday:someday", "bad-birthday", 9),
        ("tag:VIP and", "unexpected-end", 11),
        ("", "empty", 0),
        ("   ", "empty", 0),
        ("()", "empty-parentheses", 1),
        ('tag:"wine club', "unclosed-quote", 4),
        ("has:fax", "bad-has", 4),
        ("field:oops", "bad-field", 6),
        ("and tag:VIP", "expected-term", 0),
    ],
)
def test_bad_expressions_say_where_and_what(text, code, position):
    with pytest.raises(seg.SegmentError) as error:
        seg.parse(text)
    assert (error.value.code, error.value.position) == (code, position)


def test_unknown_tag_lists_close_matches(app):
    make_tag("VIP")
    make_tag("紅酒同好會")
    with pytest.raises(seg.SegmentError) as error:
        _ids("tag:VPI", NOW)
    assert error.value.code == "unknown-tag" and "VIP" in error.value.suggestions
    with pytest.raises(seg.SegmentError) as error:
        _ids("tag:紅酒", NOW)
    assert "紅酒同好會" in error.value.suggestions


@pytest.mark.parametrize(
    "text",
    [
        "tag:VIP and not tag:競爭對手",
        '(tag:"wine club" or tag:VIP) and last_contact > 15d',
        "birthday:next_month and tag:VIP",
        "level:A and not visited < 365d",
        "level:A,B minus tag:VIP",
        'field:teachers_words="很 好" or alert:花生 or has:email or optout:email or created < 30d',
        "birthday:within 30d 花生",
    ],
)
def test_round_trip_through_text(text):
    node = seg.parse(text)
    assert seg.parse(seg.to_text(node)) == node


def test_the_owners_four_examples(app):
    vip, rival, prospect, registered = (
        make_tag(n) for n in ("VIP", "競爭對手", "潛在客戶", "已報名")
    )
    a = make_customer("A", birthday=date(2015, 1, 9))
    b = make_customer("B", birthday=date(2016, 5, 1))
    c = make_customer("C")
    d = make_customer("D")
    tag_customer(a, vip)
    tag_customer(b, vip)
    tag_customer(b, rival)
    tag_customer(c, prospect)
    tag_customer(d, prospect)
    tag_customer(d, registered)
    make_entry(b, body="called", created_at=NOW - timedelta(days=3))
    for customer in (a, b, c, d):  # the never-contacted count from when they joined
        customer.created_at = NOW - timedelta(days=60)
    db.session.commit()
    everyone = {a.id, b.id, c.id, d.id}
    assert _ids("not tag:競爭對手", NOW) == everyone - {b.id}
    assert _ids("tag:潛在客戶 minus tag:已報名", NOW) == {c.id}
    assert _ids("tag:VIP and last_contact > 15d", NOW) == {a.id}
    assert _ids("birthday:next_month and tag:VIP", NOW) == {a.id}  # December -> January


def test_birthday_windows_across_the_year_end_and_29_february(app):
    leapling = make_customer("Leap", birthday=date(2016, 2, 29))
    new_year = make_customer("NY", birthday=date(2014, 1, 2))
    # 2027 has no 29 February: the leapling is celebrated on the 28th.
    feb_27_2027 = datetime(2027, 2, 27, 4, 0)
    assert leapling.id in _ids("birthday:within 1d", feb_27_2027)
    assert leapling.id not in _ids("birthday:within 0d", feb_27_2027)
    assert new_year.id in _ids("birthday:within 14d", NOW)
    # Taipei is 8 hours ahead: at 20:00 UTC on 31 December it is already 1 January there.
    assert new_year.id in _ids("birthday:this_month", datetime(2026, 12, 31, 20, 0))
    assert new_year.id not in _ids("birthday:this_month", datetime(2026, 12, 31, 20, 0), zone="UTC")


def test_contact_visit_created_conditions(app):
    def joined(name, days_ago):
        customer = make_customer(name)
        customer.created_at = NOW - timedelta(days=days_ago)
        db.session.commit()
        return customer

    never, recent, old = (joined(name, 100) for name in ("never", "recent", "old"))
    newcomer = joined("newcomer", 3)
    make_entry(recent, body="visit", kind="visit", created_at=NOW - timedelta(days=2))
    make_entry(old, body="call", kind="call", created_at=NOW - timedelta(days=40))
    make_alert(newcomer)  # an alert is not a contact…
    make_alert(old)
    # …and someone who joined 3 days ago was not left alone for 15 days.
    assert _ids("last_contact > 15d", NOW) == {never.id, old.id}
    assert _ids("last_contact > 2d", NOW) == {never.id, old.id, newcomer.id}
    assert _ids("last_contact < 15d", NOW) == {recent.id}
    assert _ids("visited < 30d", NOW) == {recent.id}
    assert _ids("not visited < 30d", NOW) == {never.id, old.id, newcomer.id}


def test_alerts_fields_and_text(app):
    field = CustomField(key="teachers_words", label="老師的話")
    db.session.add(field)
    db.session.commit()
    a, b = make_customer("王小明"), make_customer("Amy")
    make_alert(a, keywords="花生, peanut")
    set_custom_values(db.session, b, {field.id: "很好"})
    add_family_member(
        db.session, b, {"name": "Chen Mei", "email": "mei@example.com", "is_guardian": True}
    )
    db.session.commit()
    make_entry(b, body="小明對花生過敏")
    assert _ids("alert:peanut", NOW) == {a.id}
    assert _ids("alert:allergy", NOW) == {a.id}
    # A keyword is a whole keyword, as in the feed's filter: 花 is not 花生.
    assert _ids("alert:花生", NOW) == {a.id} and _ids("alert:花", NOW) == set()
    assert _ids("field:teachers_words=很好", NOW) == {b.id}
    assert _ids('field:老師的話=""', NOW) == {a.id}
    assert _ids("has:email", NOW) == {b.id}
    assert _ids("花生", NOW) == {a.id, b.id}  # the alert and the note
    assert _ids("小明對", NOW) == {b.id}
    assert _ids("王", NOW) == {a.id}
    assert _ids("mei", NOW) == {b.id}  # guardian's name


def test_builder_writes_and_reads_the_same_expression():
    builder = seg.Builder(
        include=["VIP", "wine club"],
        exclude=["競爭對手"],
        levels=["A"],
        no_contact_days=15,
        birthday="next_month",
        has_email=True,
        text="花生",
    )
    text = builder.to_text()
    assert (
        text
        == '(tag:VIP or tag:"wine club") and not tag:競爭對手 and level:A and last_contact > 15d and birthday:next_month and has:email and 花生'
    )
    again = seg.builder_from_text(text)
    assert again.representable and again.to_text() == text
    assert not seg.builder_from_text("tag:A or level:B").representable


# ---- the property test --------------------------------------------------------------------

TAG_NAMES = ["VIP", "紅酒同好會", "wine club", "競爭對手"]
TEXT_ALPHABET = "花生過敏王小明ab"
NOWS = [NOW, datetime(2027, 2, 27, 20, 0), datetime(2026, 6, 30, 17, 0)]

customer_specs = st.fixed_dictionaries(
    {
        "name": st.text(TEXT_ALPHABET, min_size=1, max_size=4),
        "level": st.sampled_from("ABC"),
        "birthday": st.one_of(
            st.none(), st.dates(date(2010, 1, 1), date(2020, 12, 31)), st.just(date(2016, 2, 29))
        ),
        "email": st.sampled_from([None, "x@example.com"]),
        "opt_out": st.booleans(),
        "tags": st.sets(st.sampled_from(TAG_NAMES)),
        "notes": st.lists(
            st.tuples(
                st.text(TEXT_ALPHABET, min_size=1, max_size=6),
                st.sampled_from(["note", "visit", "call"]),
                st.integers(0, 400),
            ),
            max_size=3,
        ),
        "alert": st.sampled_from([None, "花生", "peanut"]),
        "created_days_ago": st.integers(0, 400),
    }
)

atoms = st.one_of(
    st.builds(seg.TagAtom, st.sampled_from(TAG_NAMES)),
    st.builds(
        seg.LevelAtom, st.sets(st.sampled_from("ABC"), min_size=1).map(lambda s: tuple(sorted(s)))
    ),
    st.builds(seg.BirthdayAtom, st.sampled_from(["this_month", "next_month"])),
    st.builds(lambda d: seg.BirthdayAtom("within", d), st.integers(0, 60)),
    st.builds(
        seg.DurationAtom,
        st.sampled_from(["last_contact", "visited", "created"]),
        st.sampled_from("<>"),
        st.integers(0, 400),
    ),
    st.builds(seg.HasAtom, st.sampled_from(["email", "birthday"])),
    st.just(seg.OptOutAtom("email")),
    st.builds(seg.AlertAtom, st.sampled_from(["花生", "peanut", "生"])),
    st.builds(seg.TextAtom, st.text(TEXT_ALPHABET, min_size=1, max_size=3)),
)
expressions = st.recursive(
    atoms,
    lambda inner: st.one_of(
        st.builds(seg.Not, inner),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: seg.And(tuple(items))),
        st.lists(inner, min_size=2, max_size=3).map(lambda items: seg.Or(tuple(items))),
    ),
    max_leaves=6,
)


def _birthday_in(node, birthday: date, today: date) -> bool:
    if node.when == "this_month":
        return birthday.month == today.month
    if node.when == "next_month":
        return birthday.month == today.month % 12 + 1
    for offset in range(node.days + 1):
        day = today + timedelta(days=offset)
        if (birthday.month, birthday.day) == (day.month, day.day):
            return True
        leap = day.year % 4 == 0 and (day.year % 100 != 0 or day.year % 400 == 0)
        if (
            (birthday.month, birthday.day) == (2, 29)
            and (day.month, day.day) == (2, 28)
            and not leap
        ):
            return True
    return False


def evaluate(node, person: dict, now: datetime) -> bool:
    """The same language, evaluated in plain Python on plain data."""
    today = (
        now.replace(tzinfo=UTC).astimezone(__import__("zoneinfo").ZoneInfo("Asia/Taipei")).date()
    )
    if isinstance(node, seg.And):
        return all(evaluate(item, person, now) for item in node.items)
    if isinstance(node, seg.Or):
        return any(evaluate(item, person, now) for item in node.items)
    if isinstance(node, seg.Not):
        return not evaluate(node.item, person, now)
    if isinstance(node, seg.TagAtom):
        return node.name in person["tags"]
    if isinstance(node, seg.LevelAtom):
        return person["level"] in node.levels
    if isinstance(node, seg.BirthdayAtom):
        return person["birthday"] is not None and _birthday_in(node, person["birthday"], today)
    if isinstance(node, seg.DurationAtom):
        moment = {
            "last_contact": person["last_contact"],
            "visited": person["last_visit"],
            "created": person["created"],
        }[node.field]
        cutoff = now - timedelta(days=node.days)
        if node.op == "<":
            return moment is not None and moment >= cutoff
        if node.field == "last_contact":  # never contacted: counted from joining
            return (moment or person["created"]) < cutoff
        return moment is not None and moment < cutoff  # never came: not "lapsed"
    if isinstance(node, seg.HasAtom):
        return bool(person["email"]) if node.what == "email" else person["birthday"] is not None
    if isinstance(node, seg.OptOutAtom):
        return person["opt_out"]
    if isinstance(node, seg.AlertAtom):
        # One of the alert's keywords exactly (as the feed's keyword filter), or its category.
        return person["alert"] is not None and (
            node.keyword in person["alert"].split(",") or node.keyword == "allergy"
        )
    if isinstance(node, seg.TextAtom):
        needle = node.text.lower()
        texts = [person["name"], person["member_number"], person["email"] or ""] + [
            body for body, _k, _d in person["notes"]
        ]
        texts += [person["alert_body"]] if person["alert"] else []
        return any(needle in text.lower() for text in texts)
    raise TypeError(node)


def _clear():
    for table in ("customer_tag", "timeline_entry", "family_member", "customer", "tag"):
        db.session.execute(sa.text(f"DELETE FROM {table}"))
    db.session.commit()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    people=st.lists(customer_specs, max_size=8),
    nodes=st.lists(expressions, min_size=1, max_size=5),
    now=st.sampled_from(NOWS),
)
def test_compiled_segments_match_plain_python(app, people, nodes, now):
    _clear()
    tags = {name: Tag(name=name, colour="blue") for name in TAG_NAMES}
    db.session.add_all(tags.values())
    plain = {}
    for spec in people:
        customer = Customer(
            display_name=spec["name"], member_number=f"M{len(plain) + 1:06d}", level=spec["level"], birthday=spec["birthday"],
            email=spec["email"], email_opt_out=spec["opt_out"], version=1,
            created_at=now - timedelta(days=spec["created_days_ago"], hours=1),
        )  # fmt: skip
        customer.tags = [tags[name] for name in spec["tags"]]
        db.session.add(customer)
        db.session.flush()
        last_contact = last_visit = None
        for body, kind, days_ago in spec["notes"]:
            moment = now - timedelta(days=days_ago, minutes=7)
            db.session.add(
                TimelineEntry(customer_id=customer.id, kind=kind, body=body, created_at=moment)
            )
            last_contact = max(filter(None, [last_contact, moment]))
            if kind == "visit":
                last_visit = max(filter(None, [last_visit, moment]))
        alert_body = "注意 allergy"
        if spec["alert"]:
            moment = now - timedelta(days=1)
            db.session.add(
                TimelineEntry(customer_id=customer.id, kind="alert", body=alert_body, created_at=moment, pinned=True,
                              alert_category="allergy", alert_keywords=[spec["alert"]])
            )  # fmt: skip
        customer.last_contact_at, customer.last_visit_at = last_contact, last_visit
        plain[customer.id] = {
            **spec, "member_number": customer.member_number, "last_contact": last_contact, "last_visit": last_visit,
            "created": customer.created_at, "alert_body": alert_body,
        }  # fmt: skip
    db.session.commit()
    for node in nodes:
        text = seg.to_text(node)  # (and the parser reads it back: nested and/or flatten)
        expected = {cid for cid, person in plain.items() if evaluate(node, person, now)}
        assert _ids(text, now) == expected, text


def test_builder_writes_and_reads_visit_conditions():
    builder = seg.Builder(include=["VIP"], no_visit_days=30, visited_within_days=400)
    text = builder.to_text()
    assert text == "tag:VIP and visited > 30d and visited < 400d"
    again = seg.builder_from_text(text)
    assert (again.no_visit_days, again.visited_within_days, again.representable) == (30, 400, True)
