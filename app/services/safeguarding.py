"""The safeguarding queue: feedback flagged as a concern, for the safeguarding lead to read.

Flagged items have left every other list and count; only here are they read again, and only
through these functions, which return nothing but flagged items of one partnership.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import AuditEntry, Feedback, Partnership, User
from app.services.capture import LOCAL_TIMEZONE
from app.services.scoping import scoped

FLAGGED_VERB = "feedback.safeguarding_flagged"


@dataclass(frozen=True)
class FlaggedItem:
    item: Feedback
    # From the audit entry the flag wrote; None for an item flagged without one (an import).
    flagged_at: datetime | None
    flagged_by: str | None


def _local(at: datetime | None) -> datetime | None:
    """Audit times are stored in UTC; the people reading them are in England."""
    if at is None:
        return None
    return at.replace(tzinfo=UTC).astimezone(LOCAL_TIMEZONE)


def _flagged(partnership: Partnership, *criteria: sa.ColumnElement[bool]) -> sa.Select:
    """Flagged items with the latest flag entry and its author, newest flag first."""
    latest = (
        scoped(
            AuditEntry,
            AuditEntry.verb == FLAGGED_VERB,
            AuditEntry.object_type == Feedback.__name__,
            partnership=partnership,
        )
        .with_only_columns(
            AuditEntry.object_id.label("feedback_id"),
            sa.func.max(AuditEntry.id).label("entry_id"),
        )
        .group_by(AuditEntry.object_id)
        .subquery()
    )
    flagger = aliased(User)
    flagged_at = sa.func.coalesce(AuditEntry.at, Feedback.updated_at)
    return (
        scoped(Feedback, Feedback.safeguarding_flag.is_(True), *criteria, partnership=partnership)
        .add_columns(AuditEntry.at, AuditEntry.actor, flagger.name)
        .outerjoin(latest, latest.c.feedback_id == Feedback.id)
        .outerjoin(AuditEntry, AuditEntry.id == latest.c.entry_id)
        .outerjoin(
            flagger,
            sa.and_(flagger.id == AuditEntry.user_id, flagger.partnership_id == partnership.id),
        )
        .order_by(flagged_at.desc(), Feedback.id.desc())
    )


def _rows(stmt: sa.Select) -> list[FlaggedItem]:
    return [
        FlaggedItem(item=item, flagged_at=_local(at), flagged_by=name or actor)
        for item, at, actor, name in db.session.execute(stmt).all()
    ]


def flagged_items(partnership: Partnership) -> list[FlaggedItem]:
    """Every flagged item of the partnership, newest flag first."""
    return _rows(_flagged(partnership).options(joinedload(Feedback.event)))


def flagged_item(partnership: Partnership, feedback_id: int) -> FlaggedItem | None:
    """One flagged item in full; None if it is not flagged or not this partnership's."""
    found = _rows(
        _flagged(partnership, Feedback.id == feedback_id).options(
            joinedload(Feedback.event),
            joinedload(Feedback.entered_by),
            selectinload(Feedback.priorities),
            selectinload(Feedback.outcomes),
        )
    )
    return found[0] if found else None
