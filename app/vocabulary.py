"""Words that change with the shop's kind: guest/stay at a homestay, child/guardian at a centre."""

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext

VOCABULARY = {
    "homestay": {
        "customer": _l("Guest"),
        "customers": _l("Guests"),
        "guardian": _l("Companion"),
        "guardians": _l("Companions"),
        "visit": _l("Stay"),
        "visits": _l("Stays"),
        "new_customer": _l("New guest"),
        # Inside sentences ("Search guests and notes"): lower case in English.
        "person": _l("guest"),
        "people": _l("guests"),
    },
    # In a context of their own: "Children" is also a homestay party's children (兒童), and
    # at a centre the children are its pupils (學生).
    "afterschool": {
        "customer": lazy_pgettext("after-school", "Child"),
        "customers": lazy_pgettext("after-school", "Children"),
        "guardian": lazy_pgettext("after-school", "Guardian"),
        "guardians": lazy_pgettext("after-school", "Guardians"),
        "visit": _l("Attendance"),
        "visits": _l("Attendance"),
        "new_customer": lazy_pgettext("after-school", "New child"),
        "person": lazy_pgettext("after-school", "child"),
        "people": lazy_pgettext("after-school", "children"),
    },
}


def term(kind: str, key: str) -> str:
    words = VOCABULARY.get(kind, VOCABULARY["homestay"])
    return str(words[key])


def shop_kind() -> str:
    """This request's shop kind (cached on g): "homestay" or "afterschool"."""
    from app.templating import _shop

    return _shop().kind


def shop_term(key: str) -> str:
    """The word for this request's shop (cached on g), for flash messages and form labels."""
    from app.templating import _shop

    return term(_shop().kind, key)


# What the levels A/B/C mean in each kind of shop: a child is never a "prospect".
LEVEL_WORDS = {
    "homestay": {
        "A": _l("A — loyal guest"),
        "B": _l("B — regular guest"),
        "C": _l("C — prospective guest"),
    },
    "afterschool": {
        "A": _l("A — long-term"),
        "B": _l("B — enrolled"),
        "C": _l("C — trial or enquiry"),
    },
}


def level_words(kind: str, names: dict | None = None) -> dict:
    """A/B/C and what they mean here: the owner's own names when given, else the kind's."""
    words = dict(LEVEL_WORDS.get(kind, LEVEL_WORDS["homestay"]))
    for level, name in (names or {}).items():
        if name:
            words[level] = f"{level} — {name}"
    return words


def shop_level_words(shop) -> dict:
    return level_words(
        shop.kind, {"A": shop.level_a_name, "B": shop.level_b_name, "C": shop.level_c_name}
    )
