"""Template globals and filters: the shop, its vocabulary, dates in the shop's time zone."""

from datetime import date, datetime

from flask import Flask, current_app, g, url_for
from flask_babel import format_date, format_datetime, get_translations
from flask_login import current_user

from app.clock import to_zone
from app.extensions import db
from app.vocabulary import level_words, shop_level_words, term


def _shop():
    from app.services.shop import get_shop

    if "shop" not in g:
        g.shop = get_shop(db.session)
    return g.shop


def _translations():
    """This request's catalog, looked up once: Flask-Babel finds it anew for every string
    (several context lookups each, ~100 strings a page). Kept beside Flask-Babel's own
    per-request locale, so a change of language within a request (flask_babel.refresh)
    is followed."""
    if not g:  # no app context: Flask-Babel's own answer
        return get_translations()
    kept = g.get("_hearth_translations")
    if kept is not None and kept[0] is not None and kept[0] is _babel_locale():
        return kept[1]
    translations = get_translations()  # (settles the request's locale)
    g._hearth_translations = (_babel_locale(), translations)
    return translations


def _babel_locale():
    return getattr(g.get("_flask_babel"), "babel_locale", None)


def _install_template_gettext(app: Flask) -> None:
    """The same callables Flask-Babel installs for templates, reading _translations()."""
    app.jinja_env.install_gettext_callables(
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
    )


def register(app: Flask) -> None:
    _install_template_gettext(app)

    @app.context_processor
    def _globals():
        return {"shop": _shop(), "term": lambda key: term(_shop().kind, key)}

    @app.template_filter("datetime")
    def _datetime(value: datetime | None, style: str = "medium") -> str:
        return format_datetime(value, style) if value else ""

    @app.template_filter("exact_time")
    def _exact_time(value: datetime | None) -> str:
        """ "2026-11-22 14:05" in the shop's zone: readable in every language, and cheap
        enough for every entry of a long timeline (Babel's long formats are not)."""
        if not value:
            return ""
        return to_zone(value, _shop().timezone).strftime("%Y-%m-%d %H:%M")

    @app.template_filter("iso_utc")
    def _iso_utc(value: datetime | None) -> str:
        """A stored (naive UTC) time for <time datetime>: the browser shows it as "3 hours
        ago" in the reader's language, so a rendered page stays right as time passes."""
        return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else ""

    @app.template_filter("date")
    def _date(value: date | None, style: str = "medium") -> str:
        return format_date(value, style) if value else ""

    @app.template_filter("merge_placeholders")
    def _merge_placeholders(text: str | None) -> str:
        """A template as a title: {{ nickname }} reads as «nickname», not as code."""
        import re

        return re.sub(r"\{\{\s*([\w.]+)[^}]*\}\}", r"«\1»", text or "")

    @app.template_test("role")
    def _has_role(user, *roles) -> bool:
        return bool(user and user.is_authenticated and user.role.value in roles)

    app.jinja_env.globals["current_user"] = current_user

    def _active_products():
        from app.services.purchases import products

        return products(db.session, active_only=True)

    app.jinja_env.globals["active_products"] = _active_products

    def _stay_status(status: str) -> str:
        from app.services.stays import status_label

        return status_label(status)

    app.jinja_env.globals["stay_status"] = _stay_status

    def _stay_state_label(state: str) -> str:
        from app.services.stays import state_label

        return state_label(state)

    app.jinja_env.globals["stay_state_label"] = _stay_state_label

    def _stay_occasion(stay) -> str:
        """ "Birthday (the younger daughter), 20 Dec 2026"."""
        from flask_babel import gettext as _

        what = {"birthday": _("Birthday"), "anniversary": _("Anniversary")}.get(
            stay.occasion, stay.occasion_label
        )
        if stay.occasion_who:
            what = f"{what} ({stay.occasion_who})"
        return f"{what}, {format_date(stay.occasion_on, 'medium')}" if stay.occasion_on else what

    app.jinja_env.globals["stay_occasion"] = _stay_occasion

    def _weekday_names(days: str) -> str:
        from app.blueprints.stays.forms import WEEKDAYS

        names = dict(WEEKDAYS)
        return "、".join(str(names[d]) for d in days if d in names)

    app.jinja_env.globals["weekday_names"] = _weekday_names
    app.jinja_env.globals["level_label"] = _level_label
    app.jinja_env.globals["shop_level_words"] = lambda: shop_level_words(_shop())
    app.jinja_env.globals["shop_level_words_default"] = lambda: [
        str(word) for word in level_words(_shop().kind).values()
    ]
    app.jinja_env.globals["mail_server_status"] = _mail_server_status
    app.jinja_env.globals["role_label"] = role_label
    app.jinja_env.globals["kind_label"] = kind_label
    app.jinja_env.globals["kind_icon"] = KIND_ICONS.__getitem__
    app.jinja_env.globals["tag_query"] = tag_query
    app.jinja_env.globals["tag_url"] = tag_url
    app.jinja_env.globals["chip"] = chip
    app.jinja_env.globals["level_badge"] = level_badge
    app.jinja_env.globals["id_url"] = id_url
    app.jinja_env.globals["campaign_status_label"] = campaign_status_label
    app.jinja_env.globals["delivery_status_label"] = delivery_status_label
    app.jinja_env.globals["channel_label"] = channel_label
    app.jinja_env.globals["consent_text"] = consent_text
    app.jinja_env.globals["can_edit_entry"] = _can_edit_entry


def _mail_server_status() -> dict:
    from app.blueprints.shared import mail_server_status

    return mail_server_status()


def _can_edit_entry(entry) -> bool:
    from app.services.timeline import can_edit

    return current_user.is_authenticated and can_edit(entry, current_user)


KIND_ICONS = {"note": "✎", "call": "☎", "visit": "⌂", "purchase": "¥", "email": "✉", "sms": "✆",
              "line": "💬", "alert": "⚠", "tag": "#"}  # fmt: skip


def kind_label(kind: str) -> str:
    from flask_babel import gettext as _

    # Built once per request: a page of entries asks for these labels many times.
    if "kind_labels" not in g:
        g.kind_labels = {
            "note": _("Note"),
            "call": _("Call"),
            "visit": _("Visit / stay"),
            "purchase": _("Purchase"),
            "email": _("Email"),
            "sms": _("SMS"),
            "line": _("LINE"),
            "alert": _("Alert"),
            "tag": _("Tag change"),
        }
    return g.kind_labels.get(kind, kind)


def channel_label(channel: str | None) -> str:
    from flask_babel import gettext as _

    return {
        "email": _("Email"),
        "phone": _("Phone"),
        "sms": _("SMS"),
        "line": _("LINE"),
        "in_person": _("In person"),
    }.get(channel or "", _("No preference"))


def consent_text(customer) -> str:
    from flask_babel import gettext as _

    purposes = {"service": _("service records"), "marketing": _("marketing email")}
    methods = {"paper": _("paper form"), "in_person": _("in person"), "online": _("online")}
    what = ", ".join(purposes[p] for p in sorted(customer.consents) if p in purposes)
    return _(
        "Agreed to %(what)s (%(how)s) on %(when)s, recorded by %(who)s.",
        what=what,
        how=methods.get(customer.consent_method or "", _("how not recorded")),
        when=format_date(customer.consent_given_at) if customer.consent_given_at else "?",
        who=customer.consent_recorded_by.name if customer.consent_recorded_by else "?",
    )


def role_label(value: str) -> str:
    from flask_babel import gettext as _

    # The tablet role is a homestay's housekeeping staff, an after-school centre's teacher.
    carer = _("Housekeeping") if _shop().kind == "homestay" else _("Teacher")
    return {"owner": _("Owner"), "frontdesk": _("Front desk"), "teacher": carer}.get(value, value)


def _level_label(level: str) -> str:
    # Once per request: a list of 50 customers asks for it on every row.
    if "level_words" not in g:
        g.level_words = shop_level_words(_shop())
    return g.level_words.get(level, level)


def tag_url(name: str) -> str:
    """The list filtered by this tag, built once per tag per request (a list of 50 customers
    shows the same few tags again and again)."""
    urls = g.setdefault("tag_urls", {})
    url = urls.get(name)
    if url is None:
        url = urls[name] = url_for("customers.index", q=tag_query(name))
    return url


def once_per_request(macro: str, *args):
    """A macro of _macros/customers.html whose markup depends only on its arguments, rendered
    once per request for each set of them: a list of 50 customers shows the same few tags
    and levels again and again, and a Jinja macro call costs more than its markup."""
    kept = g.setdefault("macro_markup", {})
    key = (macro, *args)
    markup = kept.get(key)
    if markup is None:
        module = current_app.jinja_env.get_template("_macros/customers.html").module
        markup = kept[key] = getattr(module, macro)(*args)
    return markup


def chip(tag, link: bool = True):
    """tag_chip(tag), once per tag per request."""
    return once_per_request("tag_chip_of", tag.name, tag.colour, link)


def level_badge(level: str):
    return once_per_request("level_badge", level)


def id_url(endpoint: str, **values) -> str:
    """url_for for the routes a page links once per row or entry (a customer, an entry):
    the address is built once per request and endpoint with a stand-in number, then each
    row's number put in its place. Same result as url_for, a tenth of the work."""
    ((name, number),) = values.items()
    patterns = g.setdefault("id_urls", {})
    pattern = patterns.get((endpoint, name))
    if pattern is None:
        pattern = url_for(endpoint, **{name: _STAND_IN}).split(str(_STAND_IN))
        if len(pattern) != 2:  # the stand-in must appear exactly once
            return url_for(endpoint, **values)
        patterns[(endpoint, name)] = pattern
    return f"{pattern[0]}{int(number)}{pattern[1]}"


_STAND_IN = 918273645


def tag_query(name: str) -> str:
    """The segment expression for one tag, e.g. tag:"wine club"."""
    from app.services.segments import TagAtom, to_text

    return to_text(TagAtom(name))


def campaign_status_label(status: str) -> str:
    from flask_babel import gettext as _

    return {
        "draft": _("Draft"),
        "queued": _("Waiting for the worker"),
        "sending": _("Sending"),
        "paused": _("Paused"),
        "done": _("Done"),
        "cancelled": _("Cancelled"),
    }.get(status, status)


def delivery_status_label(status: str) -> str:
    from flask_babel import gettext as _

    return {
        "queued": _("Waiting"),
        "sending": _("Sending"),
        "sent": _("Sent"),
        "failed": _("Failed"),
        "skipped": _("Skipped"),
        "uncertain": _("Uncertain"),
    }.get(status, status)
