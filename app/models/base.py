"""Shared column helpers for the domain models."""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class PartnershipScoped:
    """Every row of partnership data names its partnership; app.services.scoping reads this."""

    @declared_attr
    def partnership_id(cls) -> Mapped[int]:
        return mapped_column(
            sa.ForeignKey("partnership.id", ondelete="CASCADE"), index=True, nullable=False
        )


class Timestamped:
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)
