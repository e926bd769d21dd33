"""Issue 6's figures: the owner's summary page at scale, and one run of the reminder rules."""

import time


def dashboard(app, client, baseline, results) -> None:
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import ReminderRule, Tag
    from app.services import reminders
    from app.services.shop import shop_context

    with app.app_context():
        if not db.session.scalar(sa.select(sa.func.count()).select_from(ReminderRule)):
            vip = db.session.scalar(sa.select(Tag).where(Tag.name == "VIP"))
            db.session.add_all(
                [
                    ReminderRule(
                        name="Birthday card", kind="birthday", days=7, include_family=True
                    ),
                    ReminderRule(
                        name="VIP not contacted",
                        kind="no_contact",
                        days=15,
                        tag_id=vip.id if vip else None,
                    ),
                    ReminderRule(name="We miss you", kind="lapsed", days=180, levels=["A", "B"]),
                    ReminderRule(name="Repurchase", kind="return", days=60, entry_kind="purchase"),
                ]  # fmt: skip
            )
            db.session.commit()
        context = shop_context(db.session)
        started = time.perf_counter()
        first = reminders.run_rules(db.session, context)
        first_seconds = time.perf_counter() - started
        started = time.perf_counter()
        again = reminders.run_rules(db.session, context)
        again_seconds = time.perf_counter() - started
    results.value(
        "reminder_rules_run_s",
        round(first_seconds, 2),
        rerun_s=round(again_seconds, 2),
        created=first.created,
        created_on_rerun=again.created,
    )
    results.timing("dashboard", measure_owner_home(client), baseline, target_p95_ms=150)


def measure_owner_home(client) -> list[float]:
    from bench.run import measure

    return measure(client, ["/"], 40)
