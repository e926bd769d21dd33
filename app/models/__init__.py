"""The domain model: one module per aggregate, all imported here for Alembic."""

from app.models.audit import AuditEvent
from app.models.booking_money import (
    PAYMENT_KINDS,
    PAYMENT_METHODS,
    BookingTerms,
    Holiday,
    RefundRule,
    RoomRate,
    StayMoney,
    StayPayment,
)
from app.models.campaign import Campaign, CampaignChannel, Delivery
from app.models.customer import (
    Customer,
    CustomField,
    CustomFieldValue,
    FamilyMember,
    ImportantDate,
)
from app.models.enquiry import (
    ENQUIRY_SOURCES,
    ENQUIRY_STAGES,
    OPEN_STAGES,
    Enquiry,
    EnquiryContact,
    LostReason,
)
from app.models.importing import ImportBatch, ImportChange
from app.models.line import LineCode, LineCodeFailure, LineEvent, LineLink
from app.models.merging import CustomerMerge, NotDuplicate
from app.models.page_version import page_version
from app.models.privacy import ConsentEvent, CustomerConsent
from app.models.purchase import (
    Attendance,
    Enrolment,
    Product,
    Purchase,
)
from app.models.reminder import Reminder, ReminderRule
from app.models.room_block import BLOCK_KINDS, RoomBlock, RoomExport, RoomFeed
from app.models.segment import Segment
from app.models.shop import Shop
from app.models.stay import (
    ACTIVE_STAY_STATUSES,
    OCCASIONS,
    STAY_STATUSES,
    Room,
    Stay,
    begins_a_stay,
)
from app.models.tag import Tag, TagMerge, customer_tag
from app.models.timeline import TimelineEntry, TimelineRevision
from app.models.user import LoginAttempt, Role, StaffSession, User, UserGroup

__all__ = [
    "PAYMENT_KINDS",
    "PAYMENT_METHODS",
    "BookingTerms",
    "Holiday",
    "RefundRule",
    "RoomRate",
    "StayMoney",
    "StayPayment",
    "Attendance",
    "Enrolment",
    "Product",
    "Purchase",
    "Room",
    "BLOCK_KINDS",
    "RoomBlock",
    "RoomExport",
    "RoomFeed",
    "STAY_STATUSES",
    "ACTIVE_STAY_STATUSES",
    "OCCASIONS",
    "Stay",
    "begins_a_stay",
    "page_version",
    "ENQUIRY_SOURCES",
    "ENQUIRY_STAGES",
    "OPEN_STAGES",
    "Enquiry",
    "EnquiryContact",
    "LostReason",
    "LineCode",
    "LineCodeFailure",
    "LineEvent",
    "LineLink",
    "AuditEvent",
    "Campaign",
    "CampaignChannel",
    "ConsentEvent",
    "CustomerConsent",
    "Delivery",
    "CustomField",
    "CustomerMerge",
    "NotDuplicate",
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
