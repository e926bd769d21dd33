"""A homestay's booking money as Taiwan homestays run it: rates and the quote, the deposit
and its transfer, the balance on arrival, refunds by the cancellation policy, no-shows, and
the one reminder about a late deposit.

rates (rates, holidays, `quote`) · deposits (terms, a booking's deposit, payments, the
figures `deposits_due` and `income_for_month`) · cancellation (policy, cancel, release,
no-show) · reminders (the late deposit's reminder through the outbox).
"""

from app.services.booking_money.cancellation import (
    DEFAULT_REFUND_RULES,
    cancel,
    cancel_quote,
    no_show,
    refund_percent,
    refund_rules,
    release,
    save_refund_rules,
)
from app.services.booking_money.deposits import (
    booking_saved,
    deposits_due,
    deposits_past_due,
    income_for_month,
    method_words,
    money_state,
    payment_words,
    payments,
    record_payment,
    save_terms,
    terms,
)
from app.services.booking_money.rates import (
    MoneyError,
    Quote,
    add_holiday,
    delete_holiday,
    holidays,
    quote,
    rate_for,
    rates_by_room,
    save_rate,
)
from app.services.booking_money.reminders import channel_words, remind, reminder_delivery

__all__ = [
    "DEFAULT_REFUND_RULES",
    "MoneyError",
    "Quote",
    "add_holiday",
    "booking_saved",
    "cancel",
    "cancel_quote",
    "channel_words",
    "delete_holiday",
    "deposits_due",
    "deposits_past_due",
    "holidays",
    "income_for_month",
    "method_words",
    "money_state",
    "no_show",
    "payment_words",
    "payments",
    "quote",
    "rate_for",
    "rates_by_room",
    "record_payment",
    "refund_percent",
    "refund_rules",
    "release",
    "remind",
    "reminder_delivery",
    "save_rate",
    "save_refund_rules",
    "save_terms",
    "terms",
]
