from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from app.extensions import Model
from app.models.base import utcnow


class AuditEntry(Model):
    """Append-only record of who changed what. Rows are never updated or deleted.

    The session listeners below refuse changes early with a clear error; the database triggers
    (migration 0002_audit_entry_append_only) refuse them whatever issues the SQL.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    # Nullable only for installation-wide events (a partnership being created).
    partnership_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partnership.id", ondelete="RESTRICT"), index=True
    )
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # Who, in words, kept even if the user is later deleted.
    actor: Mapped[str] = mapped_column(sa.String(320))
    verb: Mapped[str] = mapped_column(sa.String(60), index=True)
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[int | None]
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)


class AuditEntryIsAppendOnly(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context: Any, instances: Any) -> None:
    for obj in list(session.dirty) + list(session.deleted):
        if isinstance(obj, AuditEntry) and (obj in session.deleted or session.is_modified(obj)):
            raise AuditEntryIsAppendOnly("Audit entries cannot be changed or deleted")


@event.listens_for(Session, "do_orm_execute")
def _refuse_audit_bulk_changes(state: ORMExecuteState) -> None:
    # Bulk statements skip the flush, so before_flush never sees them.
    if not (state.is_update or state.is_delete):
        return
    table = getattr(state.statement, "table", None)
    if getattr(table, "name", None) == AuditEntry.__tablename__:
        raise AuditEntryIsAppendOnly("Audit entries cannot be changed or deleted")
