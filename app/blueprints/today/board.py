"""The Today page itself (a teacher's home page too): the chosen group's children with their
alerts, today's notes and the roll; each child's family for pick-up."""

from flask import render_template, request
from flask_login import current_user

from app.extensions import db
from app.services import attendance
from app.services import groups as group_service
from app.services.shop import get_shop, shop_context


def initials(name: str) -> str:
    """Two letters for a Latin name ("Amy Chen" → "AC"), the given name for a Chinese one."""
    parts = name.split()
    if len(parts) > 1 and all(part[:1].isascii() for part in parts):
        return (parts[0][0] + parts[-1][0]).upper()
    name = name.strip()
    if name[:1].isascii():
        return name[:2].upper()
    return name[-2:] if len(name) >= 3 else name


def today_page():
    """The Today page of the signed-in staff member's group(s) (or the groups chosen)."""
    shop = get_shop(db.session)
    all_groups = group_service.group_names(db.session, shop)
    chosen = [name for name in request.args.getlist("group") if name in all_groups]
    mine = [name for name in current_user.groups if name in all_groups]
    selected = chosen or mine or all_groups[:1]
    context = shop_context(db.session)
    board = attendance.today_board(
        db.session, group_service.members(db.session, shop, selected), context.today,
        since=context.start_of(context.today), alerts_only=request.args.get("alerts") == "1",
    )  # fmt: skip
    return render_template(
        "today/index.html",
        children=board.children,
        total=len(board.ids),
        with_alerts=board.with_alerts,
        alerts_only=board.alerts_only,
        alerts=board.alerts,
        notes=board.notes,
        groups=all_groups,
        selected=selected,
        mine=mine,
        initials=initials,
        roll=board.roll,
        expected=board.expected,
        present=board.present,
        missing=board.missing,
        family=family_of(board.ids),
        markable=attendance.markable(db.session, shop, current_user, board.ids),
    )


def family_of(ids: list[int]) -> dict[int, list]:
    """Each child's family, guardians first: who may pick the child up."""
    return attendance.families(db.session, ids)
