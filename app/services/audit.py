"""Writing the append-only audit log."""

from __future__ import annotations

from typing import Any

from app.extensions import db
from app.models import AuditEntry, Partnership, User


def record(
    verb: str,
    obj: Any,
    *,
    user: User | None,
    partnership: Partnership | None = None,
    **details: Any,
) -> AuditEntry:
    """Add an audit entry to the session; it commits with the change it describes."""
    partnership_id = partnership.id if partnership else getattr(obj, "partnership_id", None)
    entry = AuditEntry(
        partnership_id=partnership_id,
        user_id=user.id if user else None,
        actor=user.email if user else "system",
        verb=verb,
        object_type=type(obj).__name__,
        object_id=getattr(obj, "id", None),
        details=details,
    )
    db.session.add(entry)
    return entry
