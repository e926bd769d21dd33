"""Words that change with the shop's kind: guest/stay at a homestay, child/guardian at a centre."""

from flask_babel import lazy_gettext as _l

VOCABULARY = {
    "homestay": {
        "customer": _l("Guest"),
        "customers": _l("Guests"),
        "guardian": _l("Companion"),
        "guardians": _l("Companions"),
        "visit": _l("Stay"),
        "visits": _l("Stays"),
        "new_customer": _l("New guest"),
    },
    "afterschool": {
        "customer": _l("Child"),
        "customers": _l("Children"),
        "guardian": _l("Guardian"),
        "guardians": _l("Guardians"),
        "visit": _l("Attendance"),
        "visits": _l("Attendance"),
        "new_customer": _l("New child"),
    },
}


def term(kind: str, key: str) -> str:
    words = VOCABULARY.get(kind, VOCABULARY["homestay"])
    return str(words[key])


# What the levels A/B/C mean in each kind of shop: a child is never a "prospect".
LEVEL_WORDS = {
    "homestay": {"A": _l("A — loyal"), "B": _l("B — regular"), "C": _l("C — prospect")},
    "afterschool": {
        "A": _l("A — long-term"),
        "B": _l("B — enrolled"),
        "C": _l("C — trial or enquiry"),
    },
}


def level_words(kind: str) -> dict:
    return LEVEL_WORDS.get(kind, LEVEL_WORDS["homestay"])
