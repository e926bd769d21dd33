"""Template helpers that stand in for slower equivalents must give the same markup."""

from flask import render_template_string, url_for

from app.models import Tag
from app.templating import chip, id_url, level_badge


def test_id_url_builds_what_url_for_builds(app):
    for prefix in ("", "/hearth"):
        with app.test_request_context("/", base_url=f"http://shop.example{prefix}"):
            for endpoint, name in (
                ("customers.show", "customer_id"),
                ("timeline.edit", "entry_id"),
                ("timeline.pin", "entry_id"),
            ):
                for number in (1, 42, 918273645, 10**12):
                    assert id_url(endpoint, **{name: number}) == url_for(endpoint, **{name: number})


def test_kept_chips_and_badges_match_the_macros(app):
    with app.test_request_context("/"):
        macros = '{% from "_macros/customers.html" import tag_chip, level_badge as badge %}'
        for tag in (Tag(name="VIP", colour="red"), Tag(name='<b>"wine club"</b>', colour="blue")):
            for link in (True, False):
                expected = render_template_string(
                    macros + "{{ tag_chip(t, link) }}", t=tag, link=link
                )
                assert str(chip(tag, link)) == expected
                assert str(chip(tag, link)) == expected  # the kept one
            assert "<b>" not in str(chip(tag))
        for level in ("A", "B", "C"):
            assert str(level_badge(level)) == render_template_string(
                macros + "{{ badge(level) }}", level=level
            )
