from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.extensions import Model
from app.models.base import PartnershipScoped, Timestamped, utcnow
from app.models.vocab import OutboxStatus


class OutboxMessage(PartnershipScoped, Timestamped, Model):
    """An e-mail or text message written in the same transaction as the change that causes it."""

    id: Mapped[int] = mapped_column(primary_key=True)
    # Unique, so a worker that crashed between sending and recording never sends twice.
    reference: Mapped[str] = mapped_column(sa.String(64), unique=True)
    to: Mapped[str] = mapped_column(sa.String(320))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text)
    template: Mapped[str | None] = mapped_column(sa.String(80))
    status: Mapped[str] = mapped_column(
        sa.String(20), default=OutboxStatus.PENDING.value, index=True
    )
    send_after: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    sent_at: Mapped[datetime | None]
