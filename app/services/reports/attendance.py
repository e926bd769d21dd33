"""An after-school centre's month: days present and absent per child."""

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Session

from app.models import Attendance, Customer


@dataclass
class MonthRow:
    customer_id: int
    name: str
    present: int
    absent: int


def month_report(session: Session, first: date, last: date) -> list[MonthRow]:
    """Days present and absent per child in [first, last]."""
    rows = session.execute(
        sa.select(
            Customer.id,
            Customer.display_name,
            sa.func.sum(sa.case((Attendance.status == "present", 1), else_=0)),
            sa.func.sum(sa.case((Attendance.status == "absent", 1), else_=0)),
        )
        .join(Attendance, Attendance.customer_id == Customer.id)
        .where(Attendance.day >= first, Attendance.day <= last)
        .group_by(Customer.id, Customer.display_name)
        .order_by(Customer.display_name)
    ).all()
    return [MonthRow(*row) for row in rows]
