"""The after-school Today board: which groups a staff member sees (chosen, their own, or the
first), and those children's roll, alerts, notes, families and who may mark them."""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app.models import Shop, User
from app.services import attendance
from app.services import groups as group_service
from app.services import segments as seg


@dataclass
class GroupsShown:
    all: list[str]
    selected: list[str]
    mine: list[str]


def groups_shown(session: Session, shop: Shop, user: User, chosen: list[str]) -> GroupsShown:
    all_groups = group_service.group_names(session, shop)
    chosen = [name for name in chosen if name in all_groups]
    mine = [name for name in user.groups if name in all_groups]
    return GroupsShown(all_groups, chosen or mine or all_groups[:1], mine)


@dataclass
class TodayPage:
    groups: GroupsShown
    board: attendance.TodayBoard
    family: dict
    markable: set[int]


def today_page(
    session: Session, shop: Shop, user: User, context: seg.Context, *,
    chosen: list[str], alerts_only: bool,
) -> TodayPage:  # fmt: skip
    """The Today page of the signed-in staff member's group(s) (or the groups chosen)."""
    groups = groups_shown(session, shop, user, chosen)
    board = attendance.today_board(
        session, group_service.members(session, shop, groups.selected), context.today,
        since=context.start_of(context.today), alerts_only=alerts_only,
    )  # fmt: skip
    return TodayPage(
        groups=groups,
        board=board,
        family=attendance.families(session, board.ids),
        markable=attendance.markable(session, shop, user, board.ids),
    )
