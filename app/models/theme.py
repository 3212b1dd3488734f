from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from app.extensions import Model, db
from app.models.base import PartnershipScoped, Timestamped
from app.models.vocab import ActionStatus, Publication, ThemeStatus

if TYPE_CHECKING:
    from app.models.feedback import Feedback
    from app.models.strategy import Priority, SubGroup
    from app.models.user import User

theme_priority = sa.Table(
    "theme_priority",
    db.metadata,
    sa.Column("theme_id", sa.ForeignKey("theme.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("priority_id", sa.ForeignKey("priority.id", ondelete="CASCADE"), primary_key=True),
)


class Publishable:
    """Public text goes out only through a coordinator's approval, and comes back with a reason."""

    publication: Mapped[str] = mapped_column(
        sa.String(20), default=Publication.DRAFT.value, index=True
    )
    published_at: Mapped[datetime | None]
    withdrawn_at: Mapped[datetime | None]
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.Text)

    @declared_attr
    def created_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    @declared_attr
    def approved_by_id(cls) -> Mapped[int | None]:
        return mapped_column(sa.ForeignKey("user_account.id", ondelete="SET NULL"))

    @property
    def is_published(self) -> bool:
        return self.publication == Publication.PUBLISHED.value


class Theme(Publishable, PartnershipScoped, Timestamped, Model):
    """The public "You said": a statement in the partnership's words, from many feedback items."""

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(sa.String(120))
    title: Mapped[str] = mapped_column(sa.String(200))
    statement: Mapped[str] = mapped_column(sa.Text)
    easy_read: Mapped[str | None] = mapped_column(sa.Text)
    subgroup_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subgroup.id", ondelete="SET NULL"), index=True
    )
    status: Mapped[str] = mapped_column(sa.String(20), default=ThemeStatus.OPEN.value)
    # When anything public about the theme last changed; drives "last updated" and feeds.
    public_updated_at: Mapped[datetime | None]

    subgroup: Mapped[SubGroup | None] = relationship()
    priorities: Mapped[list[Priority]] = relationship(
        secondary=theme_priority, order_by="Priority.position"
    )
    feedback: Mapped[list[Feedback]] = relationship(back_populates="theme")
    actions: Mapped[list[Action]] = relationship(
        back_populates="theme", order_by="Action.id", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("partnership_id", "slug"),)

    def __repr__(self) -> str:
        return f"<Theme {self.slug}>"


class Action(Publishable, PartnershipScoped, Timestamped, Model):
    """The "We did / We will / We can't" answer to a theme."""

    id: Mapped[int] = mapped_column(primary_key=True)
    theme_id: Mapped[int] = mapped_column(sa.ForeignKey("theme.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(sa.String(20))
    text: Mapped[str] = mapped_column(sa.Text)
    # For "We can't": why not, in plain words.
    reason: Mapped[str | None] = mapped_column(sa.Text)
    subgroup_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subgroup.id", ondelete="SET NULL"), index=True
    )
    owner_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    target_date: Mapped[date | None]
    done_date: Mapped[date | None]
    status: Mapped[str] = mapped_column(sa.String(20), default=ActionStatus.PLANNED.value)
    evidence_url: Mapped[str | None] = mapped_column(sa.String(500))

    theme: Mapped[Theme] = relationship(back_populates="actions")
    subgroup: Mapped[SubGroup | None] = relationship()
    owner: Mapped[User | None] = relationship(foreign_keys=[owner_id])
    updates: Mapped[list[ProgressUpdate]] = relationship(
        back_populates="action",
        order_by="(ProgressUpdate.happened_on, ProgressUpdate.id)",
        cascade="all, delete-orphan",
    )

    def __repr__(self) -> str:
        return f"<Action {self.id} {self.kind}>"


class ProgressUpdate(Publishable, PartnershipScoped, Timestamped, Model):
    """A dated step on an action; a status change takes effect when the update is published."""

    id: Mapped[int] = mapped_column(primary_key=True)
    action_id: Mapped[int] = mapped_column(
        sa.ForeignKey("action.id", ondelete="CASCADE"), index=True
    )
    happened_on: Mapped[date]
    text: Mapped[str] = mapped_column(sa.Text)
    new_status: Mapped[str | None] = mapped_column(sa.String(20))

    action: Mapped[Action] = relationship(back_populates="updates")
