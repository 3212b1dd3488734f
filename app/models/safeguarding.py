"""What a safeguarding lead recorded about a flagged item. Append-only, like the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column, relationship

from app.extensions import Model
from app.models.base import PartnershipScoped, utcnow

if TYPE_CHECKING:
    from app.models.user import User


class SafeguardingDecision(PartnershipScoped, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        sa.ForeignKey("feedback.id", ondelete="RESTRICT"), index=True
    )
    # A SafeguardingOutcome value.
    outcome: Mapped[str] = mapped_column(sa.String(30))
    reason: Mapped[str] = mapped_column(sa.Text)
    # When it was done (a referral made by phone yesterday), and when it was written down.
    acted_at: Mapped[datetime]
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    recorded_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Who, in words, kept if the account is later deleted.
    recorded_by_name: Mapped[str] = mapped_column(sa.String(200))

    recorded_by: Mapped[User | None] = relationship()


class SafeguardingDecisionIsAppendOnly(Exception):
    pass


# A decision record is evidence of what was done about a child at risk: once written it stands.
# These listeners refuse changes early with a clear error; the database triggers (migration
# 0003_safeguarding_append_only) refuse them whatever issues the SQL.
@event.listens_for(Session, "before_flush")
def _refuse_decision_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, SafeguardingDecision) and (
            obj in session.deleted or session.is_modified(obj)
        ):
            raise SafeguardingDecisionIsAppendOnly(
                "Safeguarding decisions cannot be changed or deleted"
            )


@event.listens_for(Session, "do_orm_execute")
def _refuse_decision_bulk_changes(state: ORMExecuteState) -> None:
    # Bulk statements skip the flush, so before_flush never sees them.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == SafeguardingDecision.__tablename__:
        raise SafeguardingDecisionIsAppendOnly(
            "Safeguarding decisions cannot be changed or deleted"
        )
