"""The front desk's day (My day): due and overdue reminders grouped by rule, today's
birthdays, my customers' open alerts and, at a homestay, its guests' day (arrivals, departures, in house, rooms to prepare)."""

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy.orm import Session

from app.services import customers as customer_service
from app.services import enquiries as enquiry_service
from app.services import reminders as reminder_service
from app.services import segments as seg
from app.services import timeline as timeline_service
from app.services.home.dashboard import todays_birthdays
from app.services.home.homestay_day import HomestayDay, homestay_day

MY_DAY_GROUP_SIZE = 20


@dataclass
class MyDay:
    today: date
    # ReminderGroup: assigned to me by name first, then due today, then overdue by rule.
    reminder_groups: list = field(default_factory=list)
    birthdays: list = field(default_factory=list)
    alert_customers: list = field(default_factory=list)
    alerts: dict = field(default_factory=dict)
    homestay: HomestayDay | None = None  # a homestay's arrivals, departures, in house…
    deposits_past_due: list = field(default_factory=list)  # booking_money.DueDeposit
    room_clashes: list = field(default_factory=list)  # booking sites' blocks over our stays
    enquiries: list = field(default_factory=list)  # (Enquiry, "quiet" | "due") to get back to

    @property
    def due_today_count(self) -> int:
        return sum(group.today_count for group in self.reminder_groups)

    @property
    def overdue_count(self) -> int:
        return sum(group.count for group in self.reminder_groups) - self.due_today_count


def my_day(session: Session, context: seg.Context, user_id: int, *, kind: str) -> MyDay:
    """Reminders due and overdue (mine and unassigned), grouped so that many are a few lines:
    those assigned to me by name first, then today's, then overdue ones by the rule that made
    them; counted in full, each group showing its first MY_DAY_GROUP_SIZE, most mine first
    (the reminders page lists them all)."""
    mine_with_alerts = customer_service.with_open_alerts_assigned_to(session, user_id)
    day = MyDay(
        today=context.today,
        reminder_groups=reminder_service.my_day_groups(
            session, context.today, user_id, limit=MY_DAY_GROUP_SIZE
        ),
        birthdays=todays_birthdays(session, context),
        alert_customers=mine_with_alerts,
        alerts=timeline_service.open_alerts_by_customer(
            session, [customer.id for customer in mine_with_alerts]
        ),
    )
    day.enquiries = enquiry_service.to_follow_up(session, user_id, context.today)
    if kind == "homestay":
        from app.services.booking_money import deposits_past_due
        from app.services.rooms.blocks import clashes

        day.homestay = homestay_day(session, context.today)
        day.deposits_past_due = deposits_past_due(session, context.today)
        day.room_clashes = clashes(session, context.today)
    return day
