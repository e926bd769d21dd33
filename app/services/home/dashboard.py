"""The owner's summary: what the shop's data says this week and this month, with the
filter behind every number (so a click shows exactly the people or entries counted)."""

from dataclasses import dataclass, field
from datetime import date, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.db import month_day
from app.models import Campaign, Customer, ReminderRule, TimelineEntry, User
from app.models.customer import LEVELS
from app.services import alert_synonyms
from app.services import campaigns as campaign_service
from app.services import reminders as reminder_service
from app.services import segments as seg
from app.services.home.centre_today import most_urgent
from app.services.home.homestay_day import OwnerFigures, owner_figures
from app.services.shop import get_shop

LAPSED_DEFAULT = ("A,B", 180)  # levels, days: when the owner has no "lapsed" rule yet
TOP_KEYWORDS = 8


@dataclass
class AlertTrend:
    keyword: str
    this_month: int
    last_month: int
    also: list[str] = field(default_factory=list)  # the owner's synonyms counted with it

    @property
    def match(self) -> str:
        """What the shop feed filters on: the keyword and its synonyms."""
        return " = ".join([self.keyword, *self.also])

    @property
    def change(self) -> int:
        return self.this_month - self.last_month


@dataclass
class Birthday:
    customer_id: int
    name: str
    on: date


@dataclass
class Summary:
    today: date
    week_start: date
    month_start: date
    last_month_start: date
    customers_total: int = 0
    new_this_month: int = 0
    new_expression: str = ""
    activity_by_kind: dict[str, int] = field(default_factory=dict)
    activity_by_author: list[tuple[int | None, str, int]] = field(default_factory=list)
    alert_keywords: list[AlertTrend] = field(default_factory=list)
    alert_categories: list[AlertTrend] = field(default_factory=list)
    birthdays_count: int = 0
    birthdays: list["Birthday"] = field(default_factory=list)
    birthdays_expression: str = "birthday:within 30d"
    reminders: dict[str, int] = field(default_factory=dict)
    urgent: list = field(default_factory=list)  # open reminders due by today, most urgent first
    lapsed_count: int = 0
    lapsed_expression: str = ""
    lapsed_words: list | None = None  # the expression as the builder's parts, said in words
    campaigns: list[tuple[Campaign, dict]] = field(default_factory=list)
    levels: dict[str, int] = field(default_factory=dict)
    homestay: OwnerFigures | None = None  # a homestay's guests, occupancy and income

    @property
    def last_month_end(self) -> date:
        return self.month_start - timedelta(days=1)

    @property
    def activity_total(self) -> int:
        return sum(self.activity_by_kind.values())


def _lapsed_expression(session: Session) -> str:
    rule = session.scalar(
        sa.select(ReminderRule)
        .where(ReminderRule.kind == "lapsed", ReminderRule.active.is_(True))
        .order_by(ReminderRule.id)
        .limit(1)
    )
    levels, days = (",".join(rule.levels or ["A", "B"]), rule.days) if rule else LAPSED_DEFAULT
    return f"level:{levels} and visited > {days}d"


def _alert_trends(
    session: Session, context: seg.Context, last_start, this_start, next_start, synonyms=None
):
    """New alerts by keyword (and category), last month and this; keywords the owner lists
    as meaning the same ("花生 = peanut") are one row, an alert with both counted once."""
    synonyms = synonyms or {}
    rows = session.execute(
        sa.select(
            TimelineEntry.alert_keywords,
            TimelineEntry.alert_category,
            TimelineEntry.created_at >= this_start,
        ).where(
            TimelineEntry.kind == "alert",
            TimelineEntry.created_at >= last_start,
            TimelineEntry.created_at < next_start,
        )
    ).all()
    keywords: dict[str, list[int]] = {}
    categories: dict[str, list[int]] = {}
    for keywords_of_entry, category, is_this_month in rows:
        slot = 0 if is_this_month else 1
        named = {synonyms.get(keyword, [keyword])[0] for keyword in keywords_of_entry or []}
        for keyword in named:
            keywords.setdefault(keyword, [0, 0])[slot] += 1
        if category:
            categories.setdefault(category, [0, 0])[slot] += 1

    def ordered(counts: dict[str, list[int]]) -> list[AlertTrend]:
        trends = [
            AlertTrend(key, now, before, synonyms.get(key, [key])[1:])
            for key, (now, before) in counts.items()
        ]
        return sorted(trends, key=lambda t: (-t.this_month, -t.change, t.keyword))

    return ordered(keywords)[:TOP_KEYWORDS], ordered(categories)


def summary(session: Session, context: seg.Context, *, kind: str = "afterschool") -> Summary:
    today = context.today
    month_start = today.replace(day=1)
    last_month_start = (month_start - timedelta(days=1)).replace(day=1)
    next_month_start = (month_start + timedelta(days=32)).replace(day=1)
    week_start = today - timedelta(days=today.weekday())
    result = Summary(today, week_start, month_start, last_month_start)
    this_start = context.start_of(month_start)

    live = Customer.archived_at.is_(None)
    result.levels = {level: 0 for level in LEVELS}
    for level, number in session.execute(
        sa.select(Customer.level, sa.func.count()).where(live).group_by(Customer.level)
    ):
        result.levels[level] = number
    result.customers_total = sum(result.levels.values())
    result.new_expression = f"created >= {month_start.isoformat()}"
    result.new_this_month = session.scalar(
        sa.select(sa.func.count()).where(live, Customer.created_at >= this_start)
    )

    # One pass over this week's entries through the covering (created_at, id, kind, author)
    # index. Grouping by an expression rather than the bare column stops SQLite from
    # choosing the kind index for the GROUP BY, which reads the whole table.
    kind_expression = sa.func.coalesce(TimelineEntry.kind, "")
    by_kind: dict[str, int] = {}
    by_author: dict[int, int] = {}
    for entry_kind, author_id, number in session.execute(
        sa.select(kind_expression, TimelineEntry.author_id, sa.func.count())
        .where(TimelineEntry.created_at >= context.start_of(week_start))
        .group_by(kind_expression, TimelineEntry.author_id)
    ):
        if entry_kind == "tag":
            continue
        by_kind[entry_kind] = by_kind.get(entry_kind, 0) + number
        if author_id is not None:
            by_author[author_id] = by_author.get(author_id, 0) + number
    result.activity_by_kind = dict(sorted(by_kind.items(), key=lambda item: -item[1]))
    names = dict(
        session.execute(sa.select(User.id, User.name).where(User.id.in_(list(by_author)))).all()
    )
    result.activity_by_author = [
        (author_id, names.get(author_id, ""), number)
        for author_id, number in sorted(by_author.items(), key=lambda item: -item[1])
    ]

    result.alert_keywords, result.alert_categories = _alert_trends(
        session,
        context,
        context.start_of(last_month_start),
        this_start,
        context.start_of(next_month_start),
        alert_synonyms.canonical_names(get_shop(session)),
    )

    birthdays = seg.customers_query(session, result.birthdays_expression, context)
    result.birthdays_count = session.scalar(birthdays.with_only_columns(sa.func.count()))
    upcoming = reminder_service.upcoming_days(today, 30)
    day = month_day(Customer.birthday)
    soonest = birthdays.with_only_columns(Customer.id, Customer.display_name, Customer.birthday)
    # This year's dates first (month-day from today on), then January's after a December.
    soonest = soonest.order_by((day >= today.strftime("%m-%d")).desc(), day, Customer.id).limit(8)
    result.birthdays = [
        Birthday(row.id, row.display_name, upcoming[row.birthday.strftime("%m-%d")])
        for row in session.execute(soonest)
    ]

    result.reminders = reminder_service.count_open(session, today)
    result.urgent = most_urgent(session, today)
    result.lapsed_expression = _lapsed_expression(session)
    result.lapsed_words = seg.describe(result.lapsed_expression)
    result.lapsed_count = seg.count(session, result.lapsed_expression, context)

    recent = session.scalars(
        sa.select(Campaign)
        .where(Campaign.status != "draft", Campaign.kind == "blast")
        .order_by(Campaign.created_at.desc())
        .limit(5)
    ).all()
    result.campaigns = [(c, campaign_service.counts(session, c.id)) for c in recent]
    if kind == "homestay":
        result.homestay = owner_figures(session, today)
    return result


def todays_birthdays(session: Session, context: seg.Context) -> list[Birthday]:
    """Customers and their family members whose birthday is today (29 Feb on 28 Feb)."""
    from app.models import FamilyMember

    days = sorted(seg.birthday_month_days(seg.BirthdayAtom("within", 0), context.today))
    live = Customer.archived_at.is_(None)
    people = [
        Birthday(row.id, row.display_name, context.today)
        for row in session.execute(
            sa.select(Customer.id, Customer.display_name).where(
                live, month_day(Customer.birthday).in_(days)
            )
        )
    ]
    for customer_id, customer_name, name, relation in session.execute(
        sa.select(Customer.id, Customer.display_name, FamilyMember.name, FamilyMember.relation)
        .join(Customer, Customer.id == FamilyMember.customer_id)
        .where(live, month_day(FamilyMember.birthday).in_(days))
    ):
        label = f"{name} ({relation + ', ' if relation else ''}{customer_name})"
        people.append(Birthday(customer_id, label, context.today))
    return people


def deposits_due(session, context) -> list:
    """A homestay's unpaid deposits, soonest first (the booking money's own list)."""
    from app.services.booking_money import deposits_due as unpaid

    return unpaid(session, context.today)
