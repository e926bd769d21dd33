"""The import pages' words: what each column may be, and every problem with a file or a row
(and why a row is skipped) in the desk's language."""

from flask_babel import gettext as _

from app.blueprints.customers.labels import custom_field_labels, profile_labels
from app.extensions import db
from app.services import stays
from app.services.shop import get_shop
from app.vocabulary import shop_term


def target_labels() -> dict[str, str]:
    return {
        **profile_labels(),
        "tags": _("Tags (comma-separated)"),
        "guardian_name": _("Guardian / family member: name"),
        "guardian_relation": _("Guardian: relation"),
        "guardian_phone": _("Guardian: phone"),
        "guardian_email": _("Guardian: email"),
        "consent_service": _("Consent: service records (yes/no)"),
        "consent_marketing": _("Consent: marketing email (yes/no)"),
        "first_note": _("First note on the timeline"),
        "alert_allergy": _("Allergy (becomes an allergy alert)"),
        "last_visit": _("Last visit or stay (a date; kept when later than the one on record)"),
        **custom_field_labels(_("Field: %(label)s", label="%(label)s")),
        **(stay_labels() if get_shop(db.session).kind == "homestay" else {}),
    }


def stay_labels() -> dict[str, str]:
    """A homestay's guest book: the columns that make a stay."""
    return {
        "stay_check_in": _("Stay: check-in date (makes a stay)"),
        "stay_check_out": _("Stay: check-out date"),
        "stay_nights": _("Stay: nights"),
        "stay_room": _("Stay: room (as named in Settings → Rooms)"),
        "stay_amount": _("Stay: amount (NT$)"),
    }


def problem_message(code: str, detail: str = "") -> str:
    return {
        "encoding": _(
            "The file is not UTF-8, Big5 or GB18030 text. Choose the encoding, or save it as .xlsx."
        ),
        "unreadable": _(
            "This is not an Excel file we can read. Save it as .xlsx or .csv and try again."
        ),
        "empty": _("The file has no rows."),
        "too-big": _("The file is larger than 20 MB."),
        "too-many": _("At most %(num)s rows at a time; split the file.", num=detail),
        "too-wide": _(
            "The sheet has more than %(num)s columns. Delete the columns you do not need.",
            num=detail,
        ),
        "too-many-cells": _(
            "The sheet reaches too far (more than %(num)s cells, counting empty ones up to the "
            "last cell used). Delete far-away cells or split the file.",
            num=detail,
        ),
        "too-big-unpacked": _(
            "This Excel file unpacks to far more data than a list of people holds. Save it as "
            ".csv and try again."
        ),
        "cell-too-long": _cell_too_long(detail),
        "too-much-text": _(
            "The sheet holds more than %(num)s characters of text. Split it into smaller "
            "files, or delete the columns you do not need.",
            num=detail,
        ),
        "kind": _("Choose a .xlsx or .csv file."),
        "choice": _("Choose one of the options."),
        "twice": _(
            "“%(what)s” is chosen for two columns.", what=target_labels().get(detail, detail)
        ),
        "row-errors": _(
            "%(num)s rows still have errors: fix them, or choose to skip them.", num=detail
        ),
    }.get(code, _("The import failed; nothing was saved."))


def _cell_too_long(detail: str) -> str:
    limit, _bar, cell = detail.partition("|")
    if cell:
        return _(
            "Cell %(cell)s holds more than %(num)s characters, more than any field keeps. "
            "Shorten it and upload the file again; nothing was saved.",
            cell=cell,
            num=limit,
        )
    return _(
        "A cell holds more than %(num)s characters, more than any field keeps. Shorten it "
        "and upload the file again; nothing was saved.",
        num=limit,
    )


def row_error_message(target: str, code: str, labels: dict[str, str]) -> str:
    name = labels.get(target) or (target.split(":", 1)[1] if ":" in target else target)
    if code.startswith("duplicate:"):
        return _("Same %(what)s as row %(row)s.", what=name, row=code.split(":", 1)[1])
    if code.startswith("stay-"):
        return stay_error_message(code)
    if code.startswith("same-person:"):
        return _same_person_message(target, code.split(":", 1)[1])
    return {
        "bad-date": _("%(what)s: not a date (use 2016-03-02, 2016/3/2 or 105/3/2).", what=name),
        "bad-email": _("%(what)s: not an email address.", what=name),
        "bad-level": _("%(what)s: use A, B or C.", what=name),
        "bad-yes-no": _("%(what)s: write yes or no (是/否).", what=name),
        "bad-nights": _("%(what)s: write a number of nights (1 to 366).", what=name),
        "bad-money": _("%(what)s: write an amount in whole NT$ (e.g. 3200).", what=name),
        "too-long": _("%(what)s: too long.", what=name),
        "required": _("A new %(person)s needs a name.", person=shop_term("person")),
    }.get(code, name)


def _same_person_message(how: str, row: str) -> str:
    return {
        "email": _("Same email as row %(row)s: the same person twice?", row=row),
        "phone": _("Same name and phone as row %(row)s: the same person twice?", row=row),
        "birthday": _("Same name and birthday as row %(row)s: the same person twice?", row=row),
    }.get(how, _("The same person as row %(row)s?", row=row))


def skip_reason(row) -> str:
    """Why a row imports nothing, in the desk's words."""
    code, _colon, detail = row.reason.partition(":")
    return {
        "blank": _("Skipped: the columns chosen for import are empty in this row."),
        "no-columns": _(
            "Skipped: no column is set to be imported. Choose what each column is above, or "
            "choose the row that holds the column names."
        ),
        "update-only": _(
            "Skipped: not already here, and this import only updates %(people)s.",
            people=shop_term("people"),
        ),
        "merged": _("Merged into row %(row)s.", row=detail),
        "guest-skipped": _("Skipped with this guest’s row %(row)s.", row=detail),
    }.get(code, _("Skipped: nothing in this row changes anything."))


def stay_error_message(code: str) -> str:
    """A guest book row's stay that cannot be written, in the desk's words."""
    code, _colon, detail = code.partition(":")
    if code == "stay-unknown-room":
        known = "、".join(room.name for room in stays.rooms(db.session)) or "—"
        return _(
            "Room: no room of that name. Use a room's name from Settings → Rooms (%(rooms)s), "
            "or add the room there first.",
            rooms=known,
        )
    return {
        "stay-no-check-in": _("Stay: the check-in date is missing."),
        "stay-check-out-first": _("Stay: the check-out date must be after the check-in date."),
        "stay-too-long": _("Stay: longer than a year; check the dates."),
        "stay-date-range": _("Stay: the check-in date is too far in the past or future."),
        "stay-dates": _("Stay: not a date (use 2016-03-02, 2016/3/2 or 105/3/2)."),
        "stay-nights-disagree": _(
            "Stay: the nights do not match the check-in and check-out dates."
        ),
        "stay-clash-row": _(
            "Room: row %(row)s books the same room for the same night.", row=detail
        ),
        "stay-clash": _("Room: already booked for these nights (%(booking)s).", booking=detail),
        "stay-lead-error": _("This guest’s row %(row)s has an error: fix it first.", row=detail),
    }.get(code, _("Stay: check this row."))
