"""no room booked twice: the party, occasions, room changes, room capacity; double bookings
already made lose their room (pinned note + audit line); PostgreSQL's exclusion constraint

Revision ID: 5a7e1c3d9b20
Revises: c8e2f3a4b5d6
Create Date: 2026-12-07 15:50:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa

revision = '5a7e1c3d9b20'
down_revision = 'c8e2f3a4b5d6'
branch_labels = None
depends_on = None

ACTIVE = ("booked", "stayed")
CONSTRAINT = "stay_no_double_booking"

_stay = sa.table(
    "stay",
    sa.column("id", sa.Integer), sa.column("customer_id", sa.Integer),
    sa.column("room_id", sa.Integer), sa.column("check_in", sa.Date),
    sa.column("check_out", sa.Date), sa.column("status", sa.String),
    sa.column("created_at", sa.DateTime),
)
_room = sa.table("room", sa.column("id", sa.Integer), sa.column("name", sa.String))
_customer = sa.table("customer", sa.column("id", sa.Integer), sa.column("display_name", sa.String))
_entry = sa.table(
    "timeline_entry",
    sa.column("customer_id", sa.Integer), sa.column("kind", sa.String),
    sa.column("body", sa.Text), sa.column("created_at", sa.DateTime),
    sa.column("pinned", sa.Boolean), sa.column("action", sa.String),
)
_audit = sa.table(
    "audit_event",
    sa.column("at", sa.DateTime), sa.column("action", sa.String),
    sa.column("target_type", sa.String), sa.column("target_id", sa.Integer),
    sa.column("detail", sa.Text),
)
_shop = sa.table("shop", sa.column("default_locale", sa.String))


def _clashes(bind) -> list[tuple]:
    """(stay, the stay that keeps the room) for every active stay overlapping another one in
    its room. A stay already stayed keeps its room before a booking; then the first made."""
    rows = bind.execute(
        sa.select(_stay.c.id, _stay.c.customer_id, _stay.c.room_id, _stay.c.check_in,
                  _stay.c.check_out, _stay.c.status)
        .where(_stay.c.room_id.is_not(None), _stay.c.status.in_(ACTIVE))
        .order_by(sa.case((_stay.c.status == "stayed", 0), else_=1), _stay.c.created_at,
                  _stay.c.id)
    ).all()
    kept: dict[int, list] = {}
    found = []
    for row in rows:
        others = kept.setdefault(row.room_id, [])
        clash = next((o for o in others
                      if o.check_in < row.check_out and row.check_in < o.check_out), None)
        if clash is None:
            others.append(row)
        else:
            found.append((row, clash))
    return found


def _release_double_bookings(bind) -> None:
    found = _clashes(bind)
    if not found:
        return
    locale = bind.execute(sa.select(_shop.c.default_locale)).scalar() or "zh_Hant"
    rooms = dict(bind.execute(sa.select(_room.c.id, _room.c.name)).all())
    names = dict(bind.execute(sa.select(_customer.c.id, _customer.c.display_name)).all())
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    for row, clash in found:
        room = rooms.get(row.room_id, "")
        other = (f"{names.get(clash.customer_id, '')} {clash.check_in.isoformat()} → "
                 f"{clash.check_out.isoformat()}")
        dates = f"{row.check_in.isoformat()} → {row.check_out.isoformat()}"
        if locale.startswith("zh"):
            body = (f"需要安排房間：{dates} 的住宿原本在「{room}」，與 {other} 的訂房重疊，"
                    "已移出該房間（資料保留），請重新安排房間。")
        else:
            body = (f"Needs a room: the stay {dates} was in {room}, which {other} had booked "
                    "for the same nights; it keeps its details but lost the room. "
                    "Choose another room.")
        bind.execute(sa.update(_stay).where(_stay.c.id == row.id).values(room_id=None))
        bind.execute(sa.insert(_entry).values(
            customer_id=row.customer_id, kind="note", body=body, created_at=now, pinned=True,
            action="stay",
        ))
        bind.execute(sa.insert(_audit).values(
            at=now, action="stay.lost_room", target_type="customer",
            target_id=row.customer_id,
            detail=f"stay {row.id} {dates} {room}: clashed with stay {clash.id} ({other})",
        ))


def upgrade():
    # Plain ADD COLUMNs (no table rebuild on SQLite: the page-version triggers stay).
    op.add_column("room", sa.Column("capacity", sa.Integer(), server_default="2", nullable=False))
    for name, length in (("children_ages", 60), ("preferences", 500), ("occasion", 20),
                         ("occasion_label", 60), ("occasion_who", 60)):
        op.add_column("stay", sa.Column(name, sa.String(length=length), server_default="",
                                        nullable=False))
    op.add_column("stay", sa.Column("occasion_on", sa.Date(), nullable=True))
    op.add_column("stay", sa.Column("moved_from_id", sa.Integer(), nullable=True))
    op.create_index("ix_stay_moved_from_id", "stay", ["moved_from_id"])
    op.create_index("ix_stay_room_nights", "stay", ["room_id", "check_in", "check_out"])
    bind = op.get_bind()
    _release_double_bookings(bind)
    if bind.dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
        op.execute(
            f"ALTER TABLE stay ADD CONSTRAINT {CONSTRAINT} EXCLUDE USING gist "
            "(room_id WITH =, daterange(check_in, check_out) WITH &&) "
            "WHERE (status IN ('booked', 'stayed') AND room_id IS NOT NULL)"
        )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE stay DROP CONSTRAINT IF EXISTS {CONSTRAINT}")
    op.drop_index("ix_stay_room_nights", table_name="stay")
    op.drop_index("ix_stay_moved_from_id", table_name="stay")
    # Plain DROP COLUMNs (SQLite 3.35+): no table rebuild, the triggers stay.
    for name in ("moved_from_id", "occasion_on", "occasion_who", "occasion_label", "occasion",
                 "preferences", "children_ages"):
        op.drop_column("stay", name)
    op.drop_column("room", "capacity")
