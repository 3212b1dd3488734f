from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model
from app.models.base import PartnershipScoped, Timestamped

if TYPE_CHECKING:
    from app.models.feedback import Feedback
    from app.models.user import User


class Event(PartnershipScoped, Timestamped, Model):
    """Where voices were heard: a coffee morning, drop-in, survey and so on."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(30))
    held_on: Mapped[date]
    place: Mapped[str | None] = mapped_column(sa.String(200))
    partner: Mapped[str | None] = mapped_column(sa.String(200))
    # Private: who ran it. Never shown on a public page.
    facilitators: Mapped[str | None] = mapped_column(sa.Text)
    # Voices heard count even where nobody left a comment.
    adults_count: Mapped[int] = mapped_column(default=0)
    young_people_count: Mapped[int] = mapped_column(default=0)
    children_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    # Families' own link to the event's form (/say/<token>): made when first opened, kept when
    # closed so a printed poster works again if the link is reopened.
    self_submission_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True)
    self_submission_open: Mapped[bool] = mapped_column(default=False)

    created_by: Mapped[User | None] = relationship()
    feedback: Mapped[list[Feedback]] = relationship(back_populates="event")

    @property
    def people_count(self) -> int:
        return self.adults_count + self.young_people_count + self.children_count

    def __repr__(self) -> str:
        return f"<Event {self.id} {self.name}>"
