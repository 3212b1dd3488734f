"""What keeps personal details off public pages: the partnership's own list of words to look
for, and the written reasons a coordinator gave for publishing a text despite a finding."""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import PartnershipScoped, Timestamped

if TYPE_CHECKING:
    from app.models.user import User


class PrivateTerm(PartnershipScoped, Timestamped, Model):
    """A name the checker must treat as identifying: a school, a member of staff, a setting."""

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    term: Mapped[str] = mapped_column(sa.String(200))

    __table_args__ = (sa.UniqueConstraint("partnership_id", "term"),)


class TextCheckOverride(PartnershipScoped, Timestamped, Model):
    """A coordinator's decision to publish one exact text despite the checker's findings.

    Keyed by a hash of the text: once the words change, the override no longer applies and the
    new words are checked afresh.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    object_type: Mapped[str] = mapped_column(sa.String(60))
    object_id: Mapped[int]
    field: Mapped[str] = mapped_column(sa.String(60))
    text_sha256: Mapped[str] = mapped_column(sa.String(64))
    reason: Mapped[str] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )

    created_by: Mapped[User | None] = relationship()

    __table_args__ = (sa.UniqueConstraint("object_type", "object_id", "field", "text_sha256"),)
