from __future__ import annotations

from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import Timestamped

if TYPE_CHECKING:
    from app.models.strategy import Strategy


class Partnership(Timestamped, Model):
    """A local area SEND partnership: the tenant every other row belongs to."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    slug: Mapped[str] = mapped_column(sa.String(80), unique=True)
    members: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    parent_carer_forum: Mapped[str | None] = mapped_column(sa.String(200))
    young_people_groups: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    local_offer_url: Mapped[str | None] = mapped_column(sa.String(500))
    # Branding: the name shown on public pages, a logo URL and a colour checked for contrast.
    display_name: Mapped[str | None] = mapped_column(sa.String(200))
    logo_url: Mapped[str | None] = mapped_column(sa.String(500))
    brand_colour: Mapped[str | None] = mapped_column(sa.String(7))
    response_promise_days: Mapped[int] = mapped_column(default=42)
    contact_retention_days: Mapped[int] = mapped_column(default=365)
    safeguarding_contact_email: Mapped[str | None] = mapped_column(sa.String(320))
    # An unopened safeguarding alert is sent again and escalated after this many hours.
    safeguarding_escalation_hours: Mapped[int] = mapped_column(default=24)
    # Raw text of closed items is deleted after this many months (counts and tags stay).
    raw_text_retention_months: Mapped[int] = mapped_column(default=24)
    # Four eyes on publishing: the approver may not be the author unless this is relaxed.
    allow_self_approval: Mapped[bool] = mapped_column(default=False)
    settings: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)

    strategies: Mapped[list[Strategy]] = relationship(
        back_populates="partnership", order_by="Strategy.id"
    )

    @property
    def public_name(self) -> str:
        return self.display_name or self.name

    def __repr__(self) -> str:
        return f"<Partnership {self.slug}>"
