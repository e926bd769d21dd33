"""The domain model: one module per aggregate, all imported here for Alembic."""

from app.models.audit import AuditEvent
from app.models.campaign import Campaign, Delivery
from app.models.customer import (
    Customer,
    CustomField,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
)
from app.models.importing import ImportBatch, ImportChange
from app.models.line import LineCode, LineCodeFailure, LineEvent, LineLink
from app.models.page_version import page_version
from app.models.privacy import ConsentEvent
from app.models.purchase import (
    STAY_STATUSES,
    Attendance,
    Enrolment,
    Product,
    Purchase,
    Room,
    Stay,
)
from app.models.reminder import Reminder, ReminderRule
from app.models.segment import Segment
from app.models.shop import Shop
from app.models.tag import Tag, TagMerge, customer_tag
from app.models.timeline import TimelineEntry, TimelineRevision
from app.models.user import LoginAttempt, Role, StaffSession, User, UserGroup

__all__ = [
    "Attendance",
    "Enrolment",
    "Product",
    "Purchase",
    "Room",
    "STAY_STATUSES",
    "Stay",
    "page_version",
    "LineCode",
    "LineCodeFailure",
    "LineEvent",
    "LineLink",
    "AuditEvent",
    "Campaign",
    "ConsentEvent",
    "Delivery",
    "CustomField",
    "CustomFieldValue",
    "Customer",
    "FamilyMember",
    "ImportBatch",
    "ImportChange",
    "ImportantDate",
    "LoginAttempt",
    "Reminder",
    "ReminderRule",
    "Role",
    "Segment",
    "Shop",
    "StaffSession",
    "Tag",
    "TagMerge",
    "TimelineEntry",
    "TimelineRevision",
    "User",
    "UserGroup",
    "customer_tag",
]
