"""The after-school Today board: which groups a staff member sees (chosen, their own, or the
first), and those children's roll (grouped by class, with a live tally), alerts, notes,
families and who may mark them."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app.models import Attendance, Customer, Shop, User
from app.services import attendance
from app.services import groups as group_service
from app.services import segments as seg

SHOWN = ("present", "absent", "missing")  # the owner's home links to these lists


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
class Tally:
    """The roll's counts: arrived of expected, absent, and expected but not here yet."""

    present: int
    expected: int
    absent: int
    missing: int


def tally_of(board: attendance.TodayBoard) -> Tally:
    return Tally(len(board.present), len(board.expected), len(board.absent), len(board.missing))


AVATAR_COLOURS = 8


def avatar_colours(children: list[Customer]) -> dict[int, int]:
    """Each child's avatar colour, from the id; children who share a name get different
    colours, so two 梁雅婷 never look alike."""
    colours: dict[int, int] = {}
    taken: dict[str, set[int]] = {}
    for child in sorted(children, key=lambda c: c.id):
        used = taken.setdefault(child.display_name, set())
        colour = child.id % AVATAR_COLOURS
        while colour in used and len(used) < AVATAR_COLOURS:
            colour = (colour + 1) % AVATAR_COLOURS
        used.add(colour)
        colours[child.id] = colour
    return colours


@dataclass
class TodayPage:
    groups: GroupsShown
    board: attendance.TodayBoard
    family: dict
    markable: set[int]
    classes: dict[int, str]
    roll_groups: list[tuple[str, list[Customer]]]
    tally: Tally
    show: str
    avatars: dict[int, int]


def _by_class(selected: list[str], children: list[Customer], classes: dict[int, str]):
    """The compact roll's sections: each selected class with its children by name; a child
    whose first class is not shown goes under the first class shown."""
    sections: dict[str, list[Customer]] = {name: [] for name in selected}
    for child in sorted(children, key=lambda c: (c.display_name, c.id)):
        name = classes.get(child.id)
        sections[name if name in sections else selected[0]].append(child)
    return [(name, people) for name, people in sections.items() if people]


def today_page(
    session: Session, shop: Shop, user: User, context: seg.Context, *,
    chosen: list[str], alerts_only: bool, show: str = "",
) -> TodayPage:  # fmt: skip
    """The Today page of the signed-in staff member's group(s) (or the groups chosen); `show`
    keeps only the children here, absent or still expected."""
    groups = groups_shown(session, shop, user, chosen)
    members = group_service.members(session, shop, groups.selected)
    board = attendance.today_board(
        session, members, context.today,
        since=context.start_of(context.today), alerts_only=alerts_only,
    )  # fmt: skip
    show = show if show in SHOWN else ""
    if show:
        wanted = {child.id for child in getattr(board, show)}
        board.children = [child for child in board.children if child.id in wanted]
    classes = group_service.class_of(session, shop, board.ids)
    return TodayPage(
        groups=groups,
        board=board,
        family=attendance.families(session, board.ids),
        markable=attendance.markable(session, shop, user, board.ids),
        classes=classes,
        roll_groups=_by_class(groups.selected, board.children, classes) if groups.selected else [],
        tally=tally_of(board),
        show=show,
        avatars=avatar_colours(members),
    )


@dataclass
class Marked:
    """What a tap changes on the page: the child's tile and card, and the tally."""

    row: Attendance | None
    family: dict
    expected: set[int]
    class_name: str
    tally: Tally
    avatar: int


def after_mark(
    session: Session, shop: Shop, user: User, customer: Customer, *, chosen: list[str], day: date,
) -> Marked:  # fmt: skip
    """The child's day and the roll's tally (of the groups on the page) after a tap."""
    groups = groups_shown(session, shop, user, chosen)
    members = group_service.members(session, shop, groups.selected)
    ids = [child.id for child in members]
    roll = attendance.day_rows(session, ids, day)
    expected = attendance.expected_today(session, ids, day)
    present = sum(1 for row in roll.values() if row.status == "present")
    absent = sum(1 for row in roll.values() if row.status == "absent")
    own_row = roll.get(customer.id) or attendance.day_rows(session, [customer.id], day).get(
        customer.id
    )
    return Marked(
        row=own_row,
        family=attendance.families(session, [customer.id]),
        expected=expected
        if customer.id in ids
        else attendance.expected_today(session, [customer.id], day),
        class_name=group_service.class_of(session, shop, [customer.id]).get(customer.id, ""),
        tally=Tally(present, len(expected), absent, len(expected - set(roll))),
        avatar=avatar_colours([*members, customer]
                              if customer.id not in ids else members)[customer.id],
    )  # fmt: skip


def child_card(session: Session, shop: Shop, customer: Customer) -> dict:
    """What the child's page shows beside the timeline: the class, the guardians and who
    else may pick the child up (and the rest of the family)."""
    family = attendance.families(session, [customer.id]).get(customer.id, [])
    return {
        "class_name": group_service.class_of(session, shop, [customer.id]).get(customer.id, ""),
        "guardians": [member for member in family if member.is_guardian],
        "pickup": [member for member in family if member.can_pick_up and not member.is_guardian],
        "others": [member for member in family if not member.picks_up],
        "avatar": customer.id % AVATAR_COLOURS,
    }
