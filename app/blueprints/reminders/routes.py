"""Reminder views: the worklist, done / snooze / log a note, reminders by hand, rules."""

from datetime import date, datetime

from flask import flash, make_response, redirect, render_template, request, url_for
from flask_babel import format_date, ngettext
from flask_babel import gettext as _
from flask_login import current_user

from app.blueprints.reminders import bp
from app.blueprints.reminders.forms import QuickNoteForm, ReminderForm, RuleForm
from app.blueprints.shared import staff_choices
from app.clock import utcnow
from app.extensions import db, htmx
from app.forms import as_select_choices
from app.models import Customer, Reminder, ReminderRule
from app.security import audit, desk_required, owner_required
from app.services import reminders as service
from app.services import segments as seg
from app.services import tags
from app.services import timeline as timeline_service
from app.services.shop import get_shop, shop_context
from app.vocabulary import shop_term


def today() -> date:
    return shop_context(db.session).today


def _days_since(stamp: str | None) -> int | None:
    return (utcnow() - datetime.fromisoformat(stamp)).days if stamp else None


def _on(stamp: str) -> str:
    return format_date(date.fromisoformat(stamp), "medium")


def _birthday_reason(_reminder: Reminder, reason: dict) -> str:
    if reason.get("relation"):
        return _(
            "%(relation)s %(name)s's birthday on %(date)s",
            relation=reason["relation"],
            name=reason["name"],
            date=_on(reason["date"]),
        )
    return _("Birthday on %(date)s", date=_on(reason["date"]))


def _important_date_reason(_reminder: Reminder, reason: dict) -> str:
    return _("%(label)s on %(date)s", label=reason.get("label", ""), date=_on(reason["date"]))


def _away_reason(reminder: Reminder, reason: dict) -> str:
    """No contact, or no visit, for a while: "VIP, last contact 23 days ago"."""
    who = service.who_label(reminder.rule) if reminder.rule is not None else ""
    if not who and reason.get("level"):
        who = _("Level %(level)s", level=reason["level"])
    prefix = f"{who}, " if who else ""
    days = _days_since(reason.get("last"))
    if reason.get("code") == "no_contact":
        if days is None:
            return prefix + _("never contacted")
        return prefix + ngettext(
            "last contact %(num)d day ago", "last contact %(num)d days ago", days
        )
    if days is None:
        return prefix + _("never visited")
    return prefix + ngettext("last visit %(num)d day ago", "last visit %(num)d days ago", days)


def _return_reason(_reminder: Reminder, reason: dict) -> str:
    days = _days_since(reason.get("last")) or 0
    if reason.get("kind") == "purchase":
        text = ngettext("last purchase %(num)d day ago", "last purchase %(num)d days ago", days)
    else:
        text = ngettext("last visit %(num)d day ago", "last visit %(num)d days ago", days)
    if reason.get("keyword"):
        text += f" ({reason['keyword']})"
    return text


def _stay_occasion_reason(_reminder: Reminder, reason: dict) -> str:
    """ "Birthday (小安) on 2027-03-02: offer 家庭四人房, a bigger room (4 people now)"."""
    what = {"birthday": _("Birthday"), "anniversary": _("Anniversary")}.get(
        reason.get("occasion"), reason.get("label") or _("Occasion")
    )
    if reason.get("who"):
        what = f"{what} ({reason['who']})"
    text = _("%(occasion)s on %(date)s, stayed with us for it last time", occasion=what,
             date=_on(reason["date"]))  # fmt: skip
    if reason.get("bigger") and reason.get("room"):
        return text + ": " + _(
            "offer %(room)s, a bigger room (%(num)d people now; last time %(last)s)",
            room=reason["room"], num=reason.get("people", 0), last=reason.get("last_room") or "-",
        )  # fmt: skip
    if reason.get("room"):
        return text + ": " + _("offer %(room)s again", room=reason["room"])
    return text


_REASONS = {
    "stay_occasion": _stay_occasion_reason,
    "birthday": _birthday_reason,
    "important_date": _important_date_reason,
    "no_contact": _away_reason,
    "lapsed": _away_reason,
    "return": _return_reason,
}


@bp.app_template_global()
def reminder_reason(reminder: Reminder) -> str:
    """Why a rule made the reminder, in the reader's language ("VIP, last contact 23 days ago")."""
    reason = reminder.reason or {}
    describe = _REASONS.get(reason.get("code"))
    return describe(reminder, reason) if describe else ""


def _reminder_or_404(reminder_id: int) -> Reminder:
    return db.get_or_404(Reminder, reminder_id)


def _render_item(reminder_id: int, message: str | None = None):
    reminder = db.get_or_404(Reminder, reminder_id)
    return render_template(
        "reminders/_item.html", reminder=reminder, today=today(), message=message
    )


def _after_action(reminder_id: int, message: str):
    if htmx:
        return _render_item(reminder_id, message)
    flash(message, "success")
    return redirect(request.form.get("next") or url_for("reminders.index"))


# ---- the worklist ----------------------------------------------------------------------------

VIEWS = ("mine", "all", "upcoming", "done")


@bp.route("/reminders/")
@desk_required
def index():
    view = request.args.get("view", "mine")
    view = view if view in VIEWS else "mine"
    rule = None
    rule_id = request.args.get("rule", type=int)
    if rule_id is not None:
        rule = db.get_or_404(ReminderRule, rule_id)
        view = "all"
    day = today()
    if view == "done":
        reminders = service.done_reminders(db.session)
    elif view == "upcoming":
        reminders = service.open_reminders(db.session, due_after=day)
    elif view == "mine":
        reminders = service.open_reminders(
            db.session, due_by=day, assignee_id=current_user.id, include_unassigned=True
        )
    else:
        reminders = service.open_reminders(
            db.session, due_by=None if rule else day, rule_id=rule.id if rule else None, limit=500
        )
    return render_template(
        "reminders/index.html",
        reminders=reminders,
        view=view,
        rule=rule,
        rule_count=service.open_counts_by_rule(db.session).get(rule.id, 0) if rule else 0,
        counts=service.count_open(db.session, day),
        today=day,
        form=ReminderForm(),
    )


@bp.route("/reminders/run", methods=["POST"])
@desk_required
def run():
    result = service.run_rules(db.session, shop_context(db.session))
    flash(
        ngettext(
            "Rules checked: %(num)d new reminder.",
            "Rules checked: %(num)d new reminders.",
            result.created,
        ),
        "success",
    )
    return redirect(request.form.get("next") or url_for("reminders.index"))


@bp.route("/reminders/<int:reminder_id>/done", methods=["POST"])
@desk_required
def done(reminder_id: int):
    reminder = _reminder_or_404(reminder_id)
    service.mark_done(db.session, reminder, current_user, utcnow())
    db.session.commit()
    return _after_action(reminder_id, _("Done."))


@bp.route("/reminders/<int:reminder_id>/reopen", methods=["POST"])
@desk_required
def reopen(reminder_id: int):
    reminder = _reminder_or_404(reminder_id)
    service.reopen(db.session, reminder)
    db.session.commit()
    return _after_action(reminder_id, _("Back on the list."))


@bp.route("/reminders/<int:reminder_id>/snooze", methods=["POST"])
@desk_required
def snooze(reminder_id: int):
    reminder = _reminder_or_404(reminder_id)
    days = request.form.get("days", type=int)
    try:
        service.snooze(db.session, reminder, days, today())
    except service.ReminderError:
        db.session.rollback()
        if htmx:
            return _render_item(reminder_id, _("Choose one of the options.")), 422
        flash(_("Choose one of the options."), "error")
        return redirect(url_for("reminders.index"))
    due = reminder.due_date
    db.session.commit()
    return _after_action(reminder_id, _("Snoozed until %(date)s.", date=format_date(due)))


@bp.route("/reminders/<int:reminder_id>/note", methods=["POST"])
@desk_required
def note(reminder_id: int):
    """Log a note on the customer's timeline and mark the reminder done, in one step."""
    reminder = _reminder_or_404(reminder_id)
    form = QuickNoteForm()
    if not form.validate():
        message = next(iter(form.body.errors), _("Please check what you wrote."))
        if htmx:
            return _render_item(reminder_id, str(message)), 422
        flash(str(message), "error")
        return redirect(url_for("reminders.index"))
    customer = reminder.customer
    timeline_service.add_entry(
        db.session, customer, author=current_user, kind="note", body=form.body.data
    )
    service.mark_done(db.session, reminder, current_user, utcnow(), how="note")
    db.session.commit()
    return _after_action(reminder_id, _("Note added and reminder done."))


@bp.route("/customers/<int:customer_id>/reminders", methods=["POST"])
@desk_required
def add(customer_id: int):
    customer = db.get_or_404(Customer, customer_id)
    form = ReminderForm()
    form.assignee_id.choices = staff_choices(_("Anyone"))
    if form.validate():
        try:
            service.add_reminder(
                db.session,
                customer,
                text=form.text.data,
                due_date=form.due_date.data,
                assignee_id=int(form.assignee_id.data) if form.assignee_id.data else None,
                created_by=current_user,
            )
        except service.ReminderError:
            db.session.rollback()
            form.text.errors = [_("Please check what you wrote.")]
        else:
            db.session.commit()
            flash(_("Reminder added."), "success")
            return redirect(url_for("customers.show", customer_id=customer_id))
    response = make_response(
        render_template("reminders/add.html", form=form, customer=customer), 422
    )
    return response


# ---- rules (owner) ------------------------------------------------------------------------


def _rule_form(rule: ReminderRule | None) -> RuleForm:
    form = RuleForm(obj=rule if request.method == "GET" else None)
    if get_shop(db.session).kind == "homestay":  # a guest's family: no "child" at a homestay
        form.include_family.label.text = _("Also family members' birthdays (e.g. a companion's)")
    if request.method == "GET" and rule is not None:
        form.levels.data = rule.level_list
        form.segment_id.data = str(rule.segment_id or "")
        form.tag_id.data = str(rule.tag_id or "")
        form.assignee_id.data = str(rule.assignee_id or "")
        form.entry_kind.data = rule.entry_kind or ""
    form.segment_id.choices = [("", "—")] + [
        (str(s.id), s.name) for s in seg.saved_segments(db.session)
    ]
    form.tag_id.choices = [("", "—")] + [(str(t.id), t.name) for t in tags.all_tags(db.session)]
    form.assignee_id.choices = staff_choices(
        _("Whoever looks after the %(person)s", person=shop_term("person"))
    )
    for field in (form.segment_id, form.tag_id):
        field.choices = as_select_choices(field.choices)
    return form


def rule_error_message(code: str) -> str:
    return {
        "days": _("Between 1 and 3650 days."),
        "entry-kind": _("Choose visit or purchase."),
        "levels": _("Levels are A, B or C."),
        "name": _("Another rule already has this name."),
    }.get(code, _("Choose one of the options."))


@bp.route("/settings/reminders")
@owner_required
def rules():
    all_rules = service.all_rules(db.session)
    return render_template(
        "reminders/rules.html",
        rules=all_rules,
        open_counts=service.open_counts_by_rule(db.session),
        who_label=service.who_label,
    )


@bp.route("/settings/reminders/new", methods=["GET", "POST"])
@bp.route("/settings/reminders/<int:rule_id>/edit", methods=["GET", "POST"])
@owner_required
def edit_rule(rule_id: int | None = None):
    rule = db.get_or_404(ReminderRule, rule_id) if rule_id else None
    form = _rule_form(rule)
    if form.validate_on_submit():
        target = rule or ReminderRule()
        try:
            service.save_rule(db.session, target, form.data)
        except service.ReminderError as error:
            problem = error.code
        else:
            audit("reminder_rule.save", "reminder_rule", rule_id, detail=target.name)
            db.session.commit()
            flash(_("Rule saved."), "success")
            return redirect(url_for("reminders.rules"))
        db.session.rollback()
        field = form.name if problem == "name" else form.days
        if problem == "entry-kind":
            field = form.entry_kind
        field.errors = list(field.errors) + [rule_error_message(problem)]
    status = 422 if request.method == "POST" else 200
    return render_template("reminders/rule_form.html", form=form, rule=rule), status


@bp.route("/settings/reminders/<int:rule_id>/delete", methods=["POST"])
@owner_required
def delete_rule(rule_id: int):
    rule = db.get_or_404(ReminderRule, rule_id)
    name = rule.name
    audit("reminder_rule.delete", "reminder_rule", rule_id, detail=name)
    db.session.delete(rule)
    db.session.commit()
    flash(_("Rule %(name)s removed with its reminders.", name=name), "success")
    return redirect(url_for("reminders.rules"))


def rule_audience_expression(rule: ReminderRule) -> str:
    return f"reminder:{seg.quote_value(rule.name)}"


@bp.app_template_global()
def rule_campaign_url(rule: ReminderRule) -> str:
    return url_for("campaigns.compose", q=rule_audience_expression(rule))
