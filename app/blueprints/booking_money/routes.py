"""Settings → Rates (owner), and each booking's money (front desk and owner): the live quote,
the deposit and balance taken, cancelling with the policy's refund, no-shows, and the late
deposit's reminder or the room released."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from app.blueprints.booking_money import bp
from app.blueprints.booking_money.forms import (
    CancelForm,
    HolidayForm,
    PaymentForm,
    QuoteForm,
    RateForm,
    RefundPolicyForm,
    TermsForm,
)
from app.extensions import db
from app.models import Holiday, Room, Stay
from app.security import audit, desk_required, owner_required
from app.services import booking_money as service
from app.services.booking_money import MoneyError
from app.services.booking_money.deposits import thousands
from app.services.shop import get_shop, shop_context


def error_message(error: MoneyError) -> str:
    return {
        "price": _("From 0 to 1,000,000."),
        "holiday-day": _("Enter a date."),
        "holiday-name": _("Give it a name."),
        "holiday-name-long": _("At most 60 characters."),
        "holiday-exists": _("%(day)s is already on the list.", day=error.detail),
        "percent": _("From 0 to 100."),
        "due-days": _("From 0 to 60."),
        "text-long": _("That is too long."),
        "rule-days": _("Days before arrival: from 0 to 365."),
        "rule-percent": _("Refund: from 0 to 100 %."),
        "rule-twice": _("%(days)s days appears twice.", days=error.detail),
        "rule-zero": _("Keep a row for 0 days (cancelling on the arrival day)."),
        "rule-many": _("At most 20 rows."),
        "kind": _("Choose one of the options."),
        "paid-on": _("Enter a date."),
        "paid-on-range": _("The date paid is today or earlier (up to five years back)."),
        "amount": _("From 1 to 100,000,000."),
        "last5": _("A transfer needs exactly the last 5 digits of the payer's account."),
        "dates": _("Choose a room and both dates to see the price."),
        "check-out-first": _("Check-out must be after check-in."),
        "too-long": _("A stay is at most 366 nights."),
        "room": _("Choose a room and both dates to see the price."),
        "people": _("From 0 to 20."),
        "extra-beds": _("From 0 to 20."),
        "not-booked": _("Only a booking that is still booked can be cancelled or marked."),
        "not-yet": _("A no-show is marked after the arrival day."),
        "not-late": _("This deposit is not late."),
        "no-channel": _("There is no email, mobile or LINE to reach this guest by."),
    }.get(error.code, _("Check the values and try again."))


# ---- Settings → Rates ---------------------------------------------------------------------


def _policy_form(rules: list[tuple[int, int]]) -> RefundPolicyForm:
    """The saved policy with two empty rows to add to."""
    form = RefundPolicyForm(prefix="policy", formdata=None)
    while form.rules.entries:
        form.rules.pop_entry()
    for days, percent in [*rules, (None, None), (None, None)]:
        form.rules.append_entry({"days": days, "percent": percent})
    return form


def _rates_page(status: int = 200, **forms):
    rates = service.rates_by_room(db.session)
    rate_forms = forms.pop("rate_forms", {})
    for room, rate in rates:
        if room.id not in rate_forms:
            rate_forms[room.id] = RateForm(prefix=f"room{room.id}", obj=rate, formdata=None)
    terms = service.terms(db.session)
    context = {
        "rates": rates,
        "rate_forms": rate_forms,
        "holidays": service.holidays(db.session),
        "holiday_form": forms.get("holiday_form") or HolidayForm(prefix="holiday", formdata=None),
        "terms_form": forms.get("terms_form")
        or TermsForm(prefix="terms", obj=terms, formdata=None),
        "policy_form": forms.get("policy_form") or _policy_form(service.refund_rules(db.session)),
    }
    return render_template("booking_money/rates.html", **context), status


@bp.route("/settings/rates")
@owner_required
def rates():
    return _rates_page()


@bp.route("/settings/rates/rooms/<int:room_id>", methods=["POST"])
@owner_required
def rate(room_id: int):
    room = db.get_or_404(Room, room_id)
    form = RateForm(prefix=f"room{room.id}")
    if form.validate():
        service.save_rate(db.session, room, form.values())
        audit("rate.save", "room", room.id, " ".join(f"{k}={v}" for k, v in form.values().items()))
        db.session.commit()
        flash(_("Rates for %(room)s saved.", room=room.name), "success")
        return redirect(url_for("booking_money.rates") + f"#rate-{room.id}")
    return _rates_page(422, rate_forms={room.id: form})


@bp.route("/settings/rates/holidays", methods=["POST"])
@owner_required
def add_holiday():
    form = HolidayForm(prefix="holiday")
    if form.validate():
        try:
            holiday = service.add_holiday(db.session, form.day.data, form.name.data)
        except MoneyError as error:
            db.session.rollback()
            field = (
                form.day
                if error.code.startswith("holiday-day") or "exists" in error.code
                else form.name
            )
            field.errors = [error_message(error)]
        else:
            audit("holiday.add", "holiday", holiday.id, f"{holiday.day} {holiday.name}")
            db.session.commit()
            flash(_("%(name)s added.", name=holiday.name), "success")
            return redirect(url_for("booking_money.rates") + "#holidays-heading")
    return _rates_page(422, holiday_form=form)


@bp.route("/settings/rates/holidays/<int:holiday_id>/delete", methods=["POST"])
@owner_required
def delete_holiday(holiday_id: int):
    holiday = db.get_or_404(Holiday, holiday_id)
    audit("holiday.delete", "holiday", holiday.id, f"{holiday.day} {holiday.name}")
    service.delete_holiday(db.session, holiday)
    db.session.commit()
    flash(_("Holiday removed."), "success")
    return redirect(url_for("booking_money.rates") + "#holidays-heading")


@bp.route("/settings/rates/terms", methods=["POST"])
@owner_required
def terms():
    form = TermsForm(prefix="terms")
    if form.validate():
        values = {name: getattr(form, name).data for name in
                  ("deposit_percent", "deposit_due_days", "bank_name", "bank_account",
                   "account_name")}  # fmt: skip
        if values["deposit_percent"] is None:
            values["deposit_percent"] = 30
        if values["deposit_due_days"] is None:
            values["deposit_due_days"] = 3
        saved = service.save_terms(db.session, values)
        audit("booking_terms.save", None, None,
              f"{saved.deposit_percent}% within {saved.deposit_due_days} days")  # fmt: skip
        db.session.commit()
        flash(_("Deposit terms saved."), "success")
        return redirect(url_for("booking_money.rates") + "#terms-heading")
    return _rates_page(422, terms_form=form)


@bp.route("/settings/rates/refunds", methods=["POST"])
@owner_required
def refunds():
    form = RefundPolicyForm(prefix="policy")
    if form.validate():
        rows = [(row.form.days.data, row.form.percent.data) for row in form.rules]
        try:
            saved = service.save_refund_rules(db.session, rows)
        except MoneyError as error:
            db.session.rollback()
            form.form_errors.append(error_message(error))
        else:
            audit("refund_policy.save", None, None,
                  ", ".join(f"{d}+:{p}%" for d, p in saved))  # fmt: skip
            db.session.commit()
            flash(_("Cancellation policy saved."), "success")
            return redirect(url_for("booking_money.rates") + "#policy-heading")
    return _rates_page(422, policy_form=form)


# ---- the quote ----------------------------------------------------------------------------


@bp.route("/stays/quote")
@desk_required
def quote():
    """The price for the query's room, dates and party, as a fragment a booking form swaps in
    live (its fields may carry a form prefix such as "stay-")."""
    fields = MultiDict(
        (key.rsplit("-", 1)[-1], value) for key, value in request.args.items(multi=True)
    )
    form = QuoteForm(formdata=fields)
    result, problem, status = None, None, 422
    if not form.validate():
        problem = next(iter(form.errors.values()))[0]
    elif not (form.room_id.data and form.check_in.data and form.check_out.data):
        # Not wrong, only not yet filled in.
        problem, status = _("Choose a room and both dates to see the price."), 200
    else:
        try:
            result = service.quote(db.session, form.room_id.data, form.check_in.data,
                                   form.check_out.data, form.adults.data or 0,
                                   form.children.data or 0, form.extra_beds.data or 0)  # fmt: skip
        except MoneyError as error:
            problem = error_message(error)
        else:
            status = 200
    page = render_template("booking_money/_quote.html", quote=result, problem=problem,
                           problem_is_error=status == 422)  # fmt: skip
    return page, status


# ---- a booking's money --------------------------------------------------------------------


def _money_page(stay: Stay, status: int = 200, payment_form: PaymentForm | None = None):
    context = shop_context(db.session)
    state = service.money_state(db.session, stay)
    if payment_form is None:
        payment_form = PaymentForm(prefix="pay", formdata=None)
        payment_form.paid_on.data = context.today
        deposit_left = max(0, state.deposit_due - state.deposit_paid_in)
        payment_form.kind.data = "deposit" if deposit_left else "balance"
        payment_form.amount.data = deposit_left or state.balance or None
    stay_quote = None
    if stay.room_id:
        try:
            stay_quote = service.quote(db.session, stay.room_id, stay.check_in, stay.check_out,
                                       stay.adults, min(stay.children, 20))  # fmt: skip
        except MoneyError:
            stay_quote = None
    page = render_template(
        "booking_money/money.html", stay=stay, customer=stay.customer, state=state,
        payments=service.payments(db.session, stay.id), payment_form=payment_form,
        quote=stay_quote, today=context.today, payment_words=service.payment_words,
        method_words=service.method_words,
        cancel=service.cancel_quote(db.session, stay, context.today),
        reminder=service.reminder_delivery(db.session, stay.id),
    )  # fmt: skip
    return page, status


@bp.route("/stays/<int:stay_id>/money")
@desk_required
def money(stay_id: int):
    return _money_page(db.get_or_404(Stay, stay_id))


@bp.route("/stays/<int:stay_id>/payments", methods=["POST"])
@desk_required
def pay(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    form = PaymentForm(prefix="pay")
    if form.validate():
        context = shop_context(db.session)
        try:
            payment = service.record_payment(db.session, stay, form.values(), actor=current_user,
                                             today=context.today, zone=context.zone)  # fmt: skip
        except MoneyError as error:
            db.session.rollback()
            field = {"last5": form.account_last5, "paid-on": form.paid_on,
                     "paid-on-range": form.paid_on}.get(error.code, form.amount)  # fmt: skip
            field.errors = [error_message(error)]
        else:
            audit("stay.payment", "customer", stay.customer_id,
                  f"stay {stay.id} {payment.kind} NT${payment.amount:,} {payment.method} "
                  f"{payment.account_last5 or ''}".strip())  # fmt: skip
            db.session.commit()
            flash(_("%(kind)s of NT$%(amount)s recorded.", kind=service.payment_words(payment.kind),
                    amount=thousands(payment.amount)), "success")  # fmt: skip
            return redirect(url_for("booking_money.money", stay_id=stay.id))
    return _money_page(stay, 422, form)


@bp.route("/stays/<int:stay_id>/cancel", methods=["POST"])
@desk_required
def cancel(stay_id: int):
    """Without `confirm`: the refund the policy gives, to confirm. With it: cancelled."""
    stay = db.get_or_404(Stay, stay_id)
    form = CancelForm()
    context = shop_context(db.session)
    if stay.status != "booked":
        flash(error_message(MoneyError("not-booked")), "error")
        return redirect(url_for("booking_money.money", stay_id=stay.id))
    if not (form.validate() and form.confirm.data == "yes"):
        figures = service.cancel_quote(db.session, stay, context.today)
        page = render_template("booking_money/cancel.html", stay=stay, customer=stay.customer,
                               figures=figures, form=form)  # fmt: skip
        return page, (422 if form.errors else 200)
    figures = service.cancel(db.session, stay, actor=current_user, today=context.today,
                             zone=context.zone, method=form.method.data)  # fmt: skip
    audit("stay.cancel", "customer", stay.customer_id,
          f"stay {stay.id} {figures.days_before} days {figures.percent}% "
          f"refund NT${figures.refund:,}")  # fmt: skip
    db.session.commit()
    flash(
        _("Booking cancelled. Refund: NT$%(refund)s.", refund=thousands(figures.refund)),
        "success",
    )
    return redirect(url_for("booking_money.money", stay_id=stay.id))


def _act(stay: Stay, action) -> str | None:
    """Runs a service action on the stay; the message when it is refused."""
    context = shop_context(db.session)
    try:
        action(db.session, stay, actor=current_user, today=context.today, zone=context.zone)
    except MoneyError as error:
        db.session.rollback()
        return error_message(error)
    return None


@bp.route("/stays/<int:stay_id>/no-show", methods=["POST"])
@desk_required
def no_show(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    problem = _act(stay, service.no_show)
    if problem:
        flash(problem, "error")
    else:
        audit("stay.no_show", "customer", stay.customer_id, f"stay {stay.id}")
        db.session.commit()
        flash(_("Marked as a no-show; the money paid is kept."), "success")
    return redirect(url_for("booking_money.money", stay_id=stay.id))


def _back_to_day():
    return redirect(url_for("main.home") + "#deposits-heading")


@bp.route("/stays/<int:stay_id>/release", methods=["POST"])
@desk_required
def release(stay_id: int):
    stay = db.get_or_404(Stay, stay_id)
    problem = _act(stay, service.release)
    if problem:
        flash(problem, "error")
        return _back_to_day()
    audit("stay.release", "customer", stay.customer_id, f"stay {stay.id} deposit not paid")
    db.session.commit()
    flash(_("Room released: the booking of %(name)s is cancelled.",
            name=stay.customer.display_name), "success")  # fmt: skip
    return _back_to_day()


@bp.route("/stays/<int:stay_id>/remind", methods=["POST"])
@desk_required
def remind(stay_id: int):
    """Queues the late deposit's reminder once and wakes the outbox after the commit."""
    from app.services.channels.setup import configured
    from app.tasks import send_campaign

    stay = db.get_or_404(Stay, stay_id)
    context = shop_context(db.session)
    try:
        sent = service.remind(db.session, stay, actor=current_user, today=context.today,
                              set_up=configured(get_shop(db.session)))  # fmt: skip
    except MoneyError as error:
        db.session.rollback()
        flash(error_message(error), "error")
        return _back_to_day()
    if sent.already:
        db.session.rollback()
        flash(_("The reminder was already sent."), "info")
        return _back_to_day()
    audit("stay.deposit_reminder", "customer", stay.customer_id, f"stay {stay.id} {sent.channel}")
    campaign_id = sent.campaign_id
    db.session.commit()
    send_campaign(campaign_id)
    flash(_("Reminder sent to %(name)s by %(channel)s.", name=stay.customer.display_name,
            channel=service.channel_words(sent.channel)), "success")  # fmt: skip
    return _back_to_day()
