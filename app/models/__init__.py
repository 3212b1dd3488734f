"""The domain model (DESIGN.md section 4). Import models from here."""

from app.models.audit import AuditEntry, AuditEntryIsAppendOnly
from app.models.event import Event
from app.models.feedback import (
    CaptureUpload,
    Feedback,
    FeedbackContact,
    feedback_outcome,
    feedback_priority,
)
from app.models.outbox import OutboxMessage
from app.models.partnership import Partnership
from app.models.privacy import PrivateTerm, TextCheckOverride
from app.models.safeguarding import SafeguardingDecision
from app.models.strategy import (
    Outcome,
    Principle,
    Priority,
    Strategy,
    SubGroup,
    priority_subgroup,
    subgroup_member,
)
from app.models.theme import Action, ProgressUpdate, Theme, theme_priority
from app.models.user import User, UserRole

__all__ = [
    "Action",
    "AuditEntry",
    "AuditEntryIsAppendOnly",
    "CaptureUpload",
    "Event",
    "Feedback",
    "FeedbackContact",
    "OutboxMessage",
    "Outcome",
    "Partnership",
    "Principle",
    "Priority",
    "PrivateTerm",
    "ProgressUpdate",
    "SafeguardingDecision",
    "Strategy",
    "SubGroup",
    "TextCheckOverride",
    "Theme",
    "User",
    "UserRole",
    "feedback_outcome",
    "feedback_priority",
    "priority_subgroup",
    "subgroup_member",
    "theme_priority",
]
