"""Issue 23's figure: the room calendar's month (20 rooms × 31 nights, the large shop's stays,
bars with the guests' alerts) rendered in-process, as the desk opens it."""

from datetime import timedelta


def calendar_month(app, client, baseline, results) -> None:
    import sqlalchemy as sa

    from app.extensions import db
    from app.models import Room, Stay
    from app.services.shop import shop_context
    from bench.run import measure

    with app.app_context():
        today = shop_context(db.session).today
        rooms = db.session.scalar(
            sa.select(sa.func.count()).select_from(Room).where(Room.active.is_(True))
        )
        end = today + timedelta(days=31)
        bars = db.session.scalar(
            sa.select(sa.func.count())
            .select_from(Stay)
            .where(
                Stay.status.in_(("booked", "stayed")), Stay.check_in < end, Stay.check_out > today
            )
        )
        db.session.remove()
    url = f"/calendar?start={today.isoformat()}&days=31"
    # A month from today, and the month before (in-house and past stays): both kinds of rows.
    earlier = f"/calendar?start={(today - timedelta(days=31)).isoformat()}&days=31"
    results.timing(
        "calendar_month",
        measure(client, [url, earlier], 30),
        baseline,
        rooms=rooms,
        days=31,
        bars_this_month=bars,
        target_p95_ms=50,
    )
