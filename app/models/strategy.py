from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.base import PartnershipScoped, Timestamped
from app.models.vocab import StrategyStatus

if TYPE_CHECKING:
    from app.models.partnership import Partnership
    from app.models.user import User

# Which sub-groups a priority routes to (each priority to one or more).
priority_subgroup = sa.Table(
    "priority_subgroup",
    db.metadata,
    sa.Column("priority_id", sa.ForeignKey("priority.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("subgroup_id", sa.ForeignKey("subgroup.id", ondelete="CASCADE"), primary_key=True),
)


class Strategy(PartnershipScoped, Timestamped, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    slug: Mapped[str] = mapped_column(sa.String(120))
    starts: Mapped[date | None]
    ends: Mapped[date | None]
    vision: Mapped[str | None] = mapped_column(sa.Text)
    status: Mapped[str] = mapped_column(sa.String(20), default=StrategyStatus.ACTIVE.value)

    partnership: Mapped[Partnership] = relationship(back_populates="strategies")
    priorities: Mapped[list[Priority]] = relationship(
        back_populates="strategy", order_by="Priority.position", cascade="all, delete-orphan"
    )
    subgroups: Mapped[list[SubGroup]] = relationship(
        back_populates="strategy", order_by="SubGroup.position", cascade="all, delete-orphan"
    )
    outcomes: Mapped[list[Outcome]] = relationship(
        back_populates="strategy", order_by="Outcome.position", cascade="all, delete-orphan"
    )
    principles: Mapped[list[Principle]] = relationship(
        back_populates="strategy", order_by="Principle.position", cascade="all, delete-orphan"
    )

    __table_args__ = (sa.UniqueConstraint("partnership_id", "slug"),)

    def __repr__(self) -> str:
        return f"<Strategy {self.slug}>"


class Priority(PartnershipScoped, Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    summary: Mapped[str | None] = mapped_column(sa.Text)
    kind: Mapped[str | None] = mapped_column(sa.String(40))
    position: Mapped[int] = mapped_column(default=0)

    strategy: Mapped[Strategy] = relationship(back_populates="priorities")
    subgroups: Mapped[list[SubGroup]] = relationship(
        secondary=priority_subgroup, back_populates="priorities", order_by="SubGroup.position"
    )

    __table_args__ = (sa.UniqueConstraint("strategy_id", "code"),)

    @property
    def slug(self) -> str:
        return self.code.lower()

    def __repr__(self) -> str:
        return f"<Priority {self.code}>"


# Sub-group memberships of users (leads and members).
subgroup_member = sa.Table(
    "subgroup_member",
    db.metadata,
    sa.Column("subgroup_id", sa.ForeignKey("subgroup.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("user_id", sa.ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True),
)


class SubGroup(PartnershipScoped, Model):
    __tablename__ = "subgroup"

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(sa.String(40))
    title: Mapped[str] = mapped_column(sa.String(300))
    purpose: Mapped[str | None] = mapped_column(sa.Text)
    heard: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    focus: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    position: Mapped[int] = mapped_column(default=0)

    strategy: Mapped[Strategy] = relationship(back_populates="subgroups")
    priorities: Mapped[list[Priority]] = relationship(
        secondary=priority_subgroup, back_populates="subgroups", order_by="Priority.position"
    )
    members: Mapped[list[User]] = relationship(
        secondary=subgroup_member, back_populates="subgroups"
    )

    __table_args__ = (sa.UniqueConstraint("strategy_id", "code"),)

    def __repr__(self) -> str:
        return f"<SubGroup {self.code}>"


class Outcome(PartnershipScoped, Model):
    """An "I statement": an outcome co-designed with families."""

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.String(500))
    position: Mapped[int] = mapped_column(default=0)

    strategy: Mapped[Strategy] = relationship(back_populates="outcomes")


class Principle(PartnershipScoped, Model):
    """A principle of the partnership's co-production charter."""

    id: Mapped[int] = mapped_column(primary_key=True)
    strategy_id: Mapped[int] = mapped_column(
        sa.ForeignKey("strategy.id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(sa.String(500))
    position: Mapped[int] = mapped_column(default=0)

    strategy: Mapped[Strategy] = relationship(back_populates="principles")
