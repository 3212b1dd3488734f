"""Triage: tagging feedback to the strategy, routing, redaction and the safeguarding flag.

Plain functions on models. They add to the session and never commit: the caller commits the
change and its audit entry together, or rolls both back.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Event,
    Feedback,
    OutboxMessage,
    Outcome,
    Partnership,
    Priority,
    Strategy,
    SubGroup,
    Theme,
    User,
    UserRole,
)
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, Role, StrategyStatus, ThemeStatus
from app.services import audit
from app.services.scoping import scoped
from app.services.text import clean_text

PAGE_SIZE = 50
# What the queue can show; "all" is every status, still without safeguarding-flagged items.
QUEUE_FILTERS = ("new", "triaged", "themed", "all")
REDACTED_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = 1000


class TriageError(Exception):
    """A triage rule was broken. The message is written to be shown to the coordinator."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class TriageQueue:
    items: list[Feedback]
    # Items matching the filter, across every page.
    total: int
    # New items waiting for triage, whatever the filter shows.
    waiting: int
    oldest_waiting_since: datetime | None
    page: int
    pages: int
    now: datetime

    @property
    def oldest_waiting_days(self) -> int | None:
        if self.oldest_waiting_since is None:
            return None
        return max((self.now - self.oldest_waiting_since).days, 0)


def active_strategy(partnership: Partnership) -> Strategy | None:
    """The strategy feedback is tagged against: the active one (the newest if data disagrees)."""
    return db.session.scalars(
        scoped(Strategy, Strategy.status == StrategyStatus.ACTIVE.value, partnership=partnership)
        .options(
            selectinload(Strategy.priorities).selectinload(Priority.subgroups),
            selectinload(Strategy.subgroups),
            selectinload(Strategy.outcomes),
        )
        .order_by(Strategy.id.desc())
        .limit(1)
    ).first()


def _queue_criteria(status: str, event_id: int | None) -> list[sa.ColumnElement[bool]]:
    criteria: list[sa.ColumnElement[bool]] = [Feedback.safeguarding_flag.is_(False)]
    if status != "all":
        criteria.append(Feedback.status == status)
    if event_id is not None:
        criteria.append(Feedback.event_id == event_id)
    return criteria


def triage_queue(
    partnership: Partnership,
    *,
    status: str = FeedbackStatus.NEW.value,
    event_id: int | None = None,
    page: int = 1,
    per_page: int = PAGE_SIZE,
    now: datetime | None = None,
) -> TriageQueue:
    """One page of the queue, newest first, and how much is waiting. A fixed number of queries."""
    if status not in QUEUE_FILTERS:
        raise TriageError(f"Unknown status filter {status!r}", field="status")
    now = now or utcnow()
    criteria = _queue_criteria(status, event_id)

    total = (
        db.session.scalar(
            scoped(Feedback, *criteria, partnership=partnership)
            .with_only_columns(sa.func.count(Feedback.id))
            .order_by(None)
        )
        or 0
    )
    pages = max(math.ceil(total / per_page), 1)
    page = min(max(page, 1), pages)

    items = list(
        db.session.scalars(
            scoped(Feedback, *criteria, partnership=partnership)
            .options(
                joinedload(Feedback.event),
                joinedload(Feedback.theme),
                selectinload(Feedback.priorities),
            )
            .order_by(Feedback.received_on.desc(), Feedback.id.desc())
            .limit(per_page)
            .offset((page - 1) * per_page)
        ).unique()
    )

    waiting_row = db.session.execute(
        scoped(Feedback, *_queue_criteria(FeedbackStatus.NEW.value, None), partnership=partnership)
        .with_only_columns(sa.func.count(Feedback.id), sa.func.min(Feedback.created_at))
        .order_by(None)
    ).one()
    return TriageQueue(
        items=items,
        total=total,
        waiting=waiting_row[0] or 0,
        oldest_waiting_since=waiting_row[1],
        page=page,
        pages=pages,
        now=now,
    )


def queue_events(partnership: Partnership) -> list[Event]:
    """Events to filter the queue by, newest first."""
    return list(
        db.session.scalars(
            scoped(Event, partnership=partnership).order_by(Event.held_on.desc(), Event.id.desc())
        )
    )


def suggest_subgroup(priorities: Iterable[Priority]) -> SubGroup | None:
    """Route to the sub-group that owns the first priority (by strategy order) that has one."""
    for priority in sorted(priorities, key=lambda p: p.position):
        if priority.subgroups:
            return priority.subgroups[0]
    return None


def _same_partnership(item: Feedback, rows: Iterable[object], what: str, field: str) -> None:
    for row in rows:
        if getattr(row, "partnership_id", None) != item.partnership_id:
            raise TriageError(f"Select {what} from the list", field=field)  # noqa: S608 (not SQL)


def _refuse_flagged(item: Feedback) -> None:
    if item.safeguarding_flag:
        raise TriageError(
            "This item was flagged as a safeguarding concern. Only the safeguarding lead can "
            "deal with it."
        )


def redact(item: Feedback, user: User, text: str | None) -> bool:
    """Set the wording without personal details. Returns whether it changed.

    The audit entry says that it changed and how, never the words themselves.
    """
    _refuse_flagged(item)
    new = clean_text(text) or None
    if new is not None and len(new) > REDACTED_MAX_LENGTH:
        raise TriageError(
            f"The rewritten wording must be {REDACTED_MAX_LENGTH} characters or fewer",
            field="redacted_text",
        )
    old = item.redacted_text
    if new == old:
        return False
    item.redacted_text = new
    change = "added" if old is None else ("removed" if new is None else "changed")
    audit.record("feedback.redacted", item, user=user, change=change)
    return True


def tag_feedback(
    item: Feedback,
    user: User,
    *,
    priorities: Sequence[Priority],
    outcomes: Sequence[Outcome],
    routed_subgroup: SubGroup | None,
    redacted_text: str | None,
    contains_personal_details: bool,
    not_for_publication: bool,
) -> Feedback:
    """Save the coordinator's triage of one item and mark it triaged.

    With no sub-group chosen, the item goes to the one its priorities suggest, so that nothing
    tagged is left without an owner. An item already in a theme keeps its later status.
    """
    _refuse_flagged(item)
    _same_partnership(item, priorities, "priorities", "priorities")
    _same_partnership(item, outcomes, "outcomes", "outcomes")
    if routed_subgroup is not None:
        _same_partnership(item, [routed_subgroup], "a sub-group", "routed_subgroup")

    redact(item, user, redacted_text)
    item.priorities = list(priorities)
    item.outcomes = list(outcomes)
    item.routed_subgroup = routed_subgroup or suggest_subgroup(priorities)
    item.contains_personal_details = contains_personal_details
    item.not_for_publication = not_for_publication
    if item.status == FeedbackStatus.NEW.value:
        item.status = FeedbackStatus.TRIAGED.value
    if item.triaged_at is None:
        item.triaged_at = utcnow()
    return item


def flag_safeguarding(item: Feedback, user: User, note: str | None) -> None:
    """Take an item out of the normal flow and hand it to the safeguarding lead.

    It leaves any theme it was in, so that nothing it said is counted or published. The audit
    entry and the e-mails say that an item was flagged, never what it says or the note.
    """
    _refuse_flagged(item)
    note = clean_text(note)
    if not note:
        raise TriageError("Enter a short note about the concern", field="note")
    if len(note) > NOTE_MAX_LENGTH:
        raise TriageError(f"The note must be {NOTE_MAX_LENGTH} characters or fewer", field="note")
    theme_id = item.theme_id
    item.safeguarding_flag = True
    item.safeguarding_note = note
    if theme_id is not None:
        item.theme = None
        if item.status == FeedbackStatus.THEMED.value:
            item.status = FeedbackStatus.TRIAGED.value
    audit.record(
        "feedback.safeguarding_flagged",
        item,
        user=user,
        removed_from_theme_id=theme_id,
    )
    _tell_safeguarding_leads(item)


def _tell_safeguarding_leads(item: Feedback) -> None:
    """Queue an e-mail to the safeguarding contact and leads; the outbox worker sends it."""
    partnership = db.session.get(Partnership, item.partnership_id)
    if partnership is None:
        return
    recipients: list[str] = []
    if partnership.safeguarding_contact_email:
        recipients.append(partnership.safeguarding_contact_email.strip().lower())
    leads = db.session.scalars(
        scoped(User, User.active.is_(True), partnership=partnership)
        .join(UserRole)
        .where(UserRole.role == Role.SAFEGUARDING_LEAD.value)
        .order_by(User.id)
    )
    for lead in leads:
        if lead.email.lower() not in recipients:
            recipients.append(lead.email.lower())
    for address in recipients:
        db.session.add(
            OutboxMessage(
                partnership_id=item.partnership_id,
                reference=f"safeguarding-{item.id}-{secrets.token_hex(8)}",
                to=address,
                subject="A feedback item was flagged as a safeguarding concern",
                body=(
                    f"A coordinator flagged feedback item {item.id} as a safeguarding concern.\n\n"
                    "Sign in to read it and the coordinator's note. For privacy, this e-mail "
                    "does not include what was said."
                ),
                template="safeguarding_flagged",
            )
        )


def themes_to_add_to(partnership: Partnership) -> list[Theme]:
    """Themes an item can join: every theme but closed ones, newest first."""
    return list(
        db.session.scalars(
            scoped(
                Theme, Theme.status != ThemeStatus.CLOSED.value, partnership=partnership
            ).order_by(Theme.created_at.desc(), Theme.id.desc())
        )
    )
