from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.extensions import Model, db
from app.models.base import PartnershipScoped, Timestamped
from app.models.vocab import Channel, FeedbackStatus

if TYPE_CHECKING:
    from app.models.event import Event
    from app.models.strategy import Outcome, Priority, SubGroup
    from app.models.theme import Theme
    from app.models.user import User

feedback_priority = sa.Table(
    "feedback_priority",
    db.metadata,
    sa.Column("feedback_id", sa.ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("priority_id", sa.ForeignKey("priority.id", ondelete="CASCADE"), primary_key=True),
)

feedback_outcome = sa.Table(
    "feedback_outcome",
    db.metadata,
    sa.Column("feedback_id", sa.ForeignKey("feedback.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("outcome_id", sa.ForeignKey("outcome.id", ondelete="CASCADE"), primary_key=True),
)


class Feedback(PartnershipScoped, Timestamped, Model):
    """One thing one person said. raw_text is private and never leaves the private pages."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="SET NULL"), index=True
    )
    channel: Mapped[str] = mapped_column(sa.String(30), default=Channel.EVENT.value)
    raw_text: Mapped[str] = mapped_column(sa.Text)
    redacted_text: Mapped[str | None] = mapped_column(sa.Text)
    respondent: Mapped[str] = mapped_column(sa.String(30))
    sentiment: Mapped[str] = mapped_column(sa.String(30))
    age_phase: Mapped[str | None] = mapped_column(sa.String(30))
    need_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    setting: Mapped[str | None] = mapped_column(sa.String(200))
    received_on: Mapped[date]
    may_quote: Mapped[bool] = mapped_column(default=False)
    wants_reply: Mapped[bool] = mapped_column(default=False)
    # What the person agreed to was shown in this version of the privacy notice, at this time,
    # through this channel (a volunteer at an event, the family's own form, an import).
    consent_notice_version: Mapped[str | None] = mapped_column(sa.String(20))
    consent_recorded_at: Mapped[datetime | None]
    consent_channel: Mapped[str | None] = mapped_column(sa.String(30))
    contains_personal_details: Mapped[bool] = mapped_column(default=False)
    not_for_publication: Mapped[bool] = mapped_column(default=False)
    # A safeguarding-flagged item leaves every normal queue, list and count.
    safeguarding_flag: Mapped[bool] = mapped_column(default=False, index=True)
    safeguarding_note: Mapped[str | None] = mapped_column(sa.Text)
    safeguarding_flagged_at: Mapped[datetime | None]
    safeguarding_flagged_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL")
    )
    # First opened by a safeguarding lead; unopened after the partnership's set time, the
    # alert is sent again and escalated to the partnership's safeguarding contact.
    safeguarding_opened_at: Mapped[datetime | None]
    safeguarding_escalated_at: Mapped[datetime | None]
    status: Mapped[str] = mapped_column(sa.String(20), default=FeedbackStatus.NEW.value, index=True)
    routed_subgroup_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("subgroup.id", ondelete="SET NULL"), index=True
    )
    theme_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("theme.id", ondelete="SET NULL"), index=True
    )
    entered_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="SET NULL"), index=True
    )
    triaged_at: Mapped[datetime | None]
    # Set when retention removed the raw text; counts, tags and themes stay.
    raw_text_deleted_at: Mapped[datetime | None]
    # Client-generated, so a retried or double-tapped save never makes a duplicate.
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(64))

    event: Mapped[Event | None] = relationship(back_populates="feedback")
    theme: Mapped[Theme | None] = relationship(back_populates="feedback")
    entered_by: Mapped[User | None] = relationship(foreign_keys=[entered_by_id])
    routed_subgroup: Mapped[SubGroup | None] = relationship()
    priorities: Mapped[list[Priority]] = relationship(
        secondary=feedback_priority, order_by="Priority.position"
    )
    outcomes: Mapped[list[Outcome]] = relationship(
        secondary=feedback_outcome, order_by="Outcome.position"
    )
    contact: Mapped[FeedbackContact | None] = relationship(
        back_populates="feedback", cascade="all, delete-orphan", uselist=False
    )

    __table_args__ = (sa.UniqueConstraint("partnership_id", "idempotency_key"),)

    def __repr__(self) -> str:
        return f"<Feedback {self.id}>"


class FeedbackContact(PartnershipScoped, Timestamped, Model):
    """How to reach someone who asked to hear back: kept apart from what they said."""

    id: Mapped[int] = mapped_column(primary_key=True)
    feedback_id: Mapped[int] = mapped_column(
        sa.ForeignKey("feedback.id", ondelete="CASCADE"), unique=True
    )
    email: Mapped[str | None] = mapped_column(sa.String(320))
    phone: Mapped[str | None] = mapped_column(sa.String(40))
    delete_after: Mapped[date]
    notice_version: Mapped[str | None] = mapped_column(sa.String(20))
    # When the contributor was sent the last message they asked for: then the row can go.
    told_at: Mapped[datetime | None]

    feedback: Mapped[Feedback] = relationship(back_populates="contact")


class CaptureUpload(PartnershipScoped, Timestamped, Model):
    """A pasted or uploaded batch of items waiting for its column mapping and confirmation.

    Rows stay here, private to the person who uploaded them, until they are saved as feedback
    or thrown away; nothing becomes feedback before the person confirms.
    """

    id: Mapped[int] = mapped_column(primary_key=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    event_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("event.id", ondelete="CASCADE"), index=True
    )
    # "paste", "csv" or "xlsx"
    source: Mapped[str] = mapped_column(sa.String(10))
    filename: Mapped[str | None] = mapped_column(sa.String(255))
    # The header row as read, and every data row as a list of cell texts.
    columns: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    rows: Mapped[list[list[str]]] = mapped_column(sa.JSON, default=list)
    # Which column feeds which field, once the person has chosen: {"text": 2, ...}.
    mapping: Mapped[dict[str, int]] = mapped_column(sa.JSON, default=dict)

    created_by: Mapped[User | None] = relationship()
    event: Mapped[Event | None] = relationship()
