"""The domain model: one module per aggregate, all imported here for Alembic."""

from app.models.audit import AuditEvent
from app.models.shop import Shop
from app.models.user import LoginAttempt, Role, StaffSession, User

__all__ = ["AuditEvent", "LoginAttempt", "Role", "Shop", "StaffSession", "User"]
