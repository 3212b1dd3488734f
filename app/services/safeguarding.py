"""Safeguarding: a concern about a feedback item reaches the safeguarding leads, and nobody else.

- flag(): anyone who sees an item (a volunteer at capture, a coordinator in triage) takes it out
  of the normal flow. The partnership's safeguarding leads are e-mailed, through the outbox, a
  link to it and nothing more: never what was said, never the note.
- escalate_unopened(): run by cron. An alert that no lead opened within the partnership's set
  time is sent again to the leads and escalated to the partnership's safeguarding contact.
- flagged_items() and flagged_item(): the only way flagged items are read again, and only for
  the safeguarding pages; every other list and count leaves them out.
- record_decision(): what the lead did about it. Decisions are append-only.
- refuse_flagged(): the check any path that publishes or exports feedback makes.

Plain functions on models. They add to the session and never commit: the caller commits the
change, its audit entry and its e-mails together, or rolls them all back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import sqlalchemy as sa
from flask import current_app, has_request_context, request
from sqlalchemy.orm import aliased, joinedload, selectinload

from app.extensions import db
from app.models import (
    Feedback,
    OutboxMessage,
    Partnership,
    SafeguardingDecision,
    User,
    UserRole,
)
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, Role, SafeguardingOutcome
from app.services import audit
from app.services.capture import LOCAL_TIMEZONE
from app.services.scoping import scoped
from app.services.text import clean_text

# The audit verbs; audit.record is called with the words themselves, so that the audit log's
# test finds every verb written and checks it has a label.
FLAGGED_VERB = "feedback.safeguarding_flagged"
OPENED_VERB = "feedback.safeguarding_opened"
ESCALATED_VERB = "feedback.safeguarding_escalated"
DECISION_VERB = "feedback.safeguarding_decision_recorded"

NOTE_MAX_LENGTH = 1000
REASON_MAX_LENGTH = 5000

ENTER_NOTE = "Enter a short note about the concern"
NOTE_TOO_LONG = f"The note must be {NOTE_MAX_LENGTH} characters or fewer"
SELECT_OUTCOME = "Select what was done"
ENTER_DATE = "Enter the date it was done"
DATE_IN_FUTURE = "The date and time it was done must be in the past"
ENTER_REASON = "Enter the reason for the decision"
REASON_TOO_LONG = f"The reason must be {REASON_MAX_LENGTH} characters or fewer"

# Neutral on purpose: the subject line shows in notification previews and shared inboxes.
ALERT_SUBJECT = "A safeguarding concern needs your attention"
_PRIVACY_LINE = "For privacy, this e-mail does not say what was said or what the concern is."


class SafeguardingError(Exception):
    """A safeguarding rule was broken. The message is written to be shown; field names the
    form field it concerns, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class FlaggedFeedbackRefused(Exception):
    """A flagged item was about to be published or exported. Whoever asks, the answer is no."""

    def __init__(self, doing: str):
        self.message = (
            f"Feedback flagged as a safeguarding concern can never be {doing}. Only the "
            "safeguarding lead can see it."
        )
        super().__init__(self.message)


class NoBaseUrl(RuntimeError):
    """An e-mail needs a link and nothing says where the service is."""


# --- Keeping flagged items out -----------------------------------------------------------------

# The criterion every query that publishes, counts or exports feedback includes.
NOT_FLAGGED = Feedback.safeguarding_flag.is_(False)


def refuse_flagged(items: Iterable[Feedback], doing: str) -> None:
    """Raise FlaggedFeedbackRefused if any item is flagged. `doing` completes "can never be
    ...": "published", "exported"."""
    if any(item.safeguarding_flag for item in items):
        raise FlaggedFeedbackRefused(doing)


# --- Flagging and alerting ---------------------------------------------------------------------


def flag(item: Feedback, user: User, note: str | None, *, now: datetime | None = None) -> int:
    """Take an item out of the normal flow and alert the safeguarding leads.

    It leaves any theme it was in, so nothing it said is counted or published. The audit entry
    and the e-mails say that an item was flagged, never what it says or the note. Returns how
    many people were e-mailed (0 when the partnership has nobody to tell).
    """
    if user.partnership_id != item.partnership_id:
        raise PermissionError("A user can only flag feedback of their own partnership")
    if item.safeguarding_flag:
        raise SafeguardingError("This item is already flagged as a safeguarding concern.")
    text = clean_text(note)
    if not text:
        raise SafeguardingError(ENTER_NOTE, field="note")
    if len(text) > NOTE_MAX_LENGTH:
        raise SafeguardingError(NOTE_TOO_LONG, field="note")
    now = now or utcnow()
    theme_id = item.theme_id
    item.safeguarding_flag = True
    item.safeguarding_note = text
    item.safeguarding_flagged_at = now
    item.safeguarding_flagged_by_id = user.id
    item.safeguarding_opened_at = None
    item.safeguarding_escalated_at = None
    if theme_id is not None:
        item.theme = None
        if item.status == FeedbackStatus.THEMED.value:
            item.status = FeedbackStatus.TRIAGED.value
    entry = audit.record(
        "feedback.safeguarding_flagged", item, user=user, removed_from_theme_id=theme_id
    )
    entry.at = now
    return len(alert_leads(item, now=now))


def item_link(feedback_id: int) -> str:
    """The absolute address of a flagged item's page, for an e-mail.

    BASE_URL when it is set; otherwise, inside a request, the address the request came to.
    """
    base = current_app.config.get("BASE_URL") or ""
    if not base and has_request_context():
        base = request.url_root
    if not base:
        raise NoBaseUrl(
            "Set BASE_URL to the address people reach the service at, like "
            "https://feedback.example.gov.uk, so that e-mails can link to it."
        )
    parts = urlsplit(base)
    adapter = current_app.url_map.bind(
        parts.netloc, script_name=parts.path or "/", url_scheme=parts.scheme or "https"
    )
    return adapter.build(
        "triage.safeguarding_item", {"feedback_id": feedback_id}, force_external=True
    )


def safeguarding_leads(partnership: Partnership) -> list[User]:
    """Active users with the safeguarding lead role, in a stable order."""
    return list(
        db.session.scalars(
            scoped(User, User.active.is_(True), partnership=partnership)
            .join(UserRole)
            .where(UserRole.role == Role.SAFEGUARDING_LEAD.value)
            .order_by(User.id)
        )
    )


def _contact(partnership: Partnership) -> str | None:
    return (partnership.safeguarding_contact_email or "").strip().lower() or None


def _write(
    item: Feedback, to: str, reference: str, template: str, body: str, now: datetime
) -> OutboxMessage:
    message = OutboxMessage(
        partnership_id=item.partnership_id,
        # One reference per item, kind and recipient: a second run that raced the first fails
        # on the unique reference instead of sending twice.
        reference=reference,
        to=to,
        subject=ALERT_SUBJECT,
        body=body,
        template=template,
        send_after=now,
    )
    db.session.add(message)
    return message


def _alert_body(link: str) -> str:
    return (
        "Someone has flagged a safeguarding concern about what was said to the partnership.\n\n"
        f"Sign in to read it:\n{link}\n\n{_PRIVACY_LINE}\n"
    )


def alert_leads(item: Feedback, *, now: datetime | None = None) -> list[OutboxMessage]:
    """E-mail each safeguarding lead a link to the item.

    With no lead to tell, the partnership's safeguarding contact is told at once rather than
    when the alert would have been escalated: a concern must never wait for nobody.
    """
    now = now or utcnow()
    partnership = db.session.get(Partnership, item.partnership_id)
    assert partnership is not None
    link = item_link(item.id)
    body = _alert_body(link)
    messages = [
        _write(
            item,
            lead.email.strip().lower(),
            f"safeguarding-{item.id}-alert-{lead.id}",
            "safeguarding_alert",
            body,
            now,
        )
        for lead in safeguarding_leads(partnership)
    ]
    contact = _contact(partnership)
    if not messages and contact:
        messages.append(
            _write(
                item,
                contact,
                f"safeguarding-{item.id}-alert-contact",
                "safeguarding_alert",
                body,
                now,
            )
        )
    return messages


def mark_opened(item: Feedback, user: User, *, now: datetime | None = None) -> bool:
    """Record the first time a safeguarding lead opened the item; True if this was it.

    An opened alert is not escalated: someone responsible has it.
    """
    if item.safeguarding_opened_at is not None or not item.safeguarding_flag:
        return False
    if not user.has_role(Role.SAFEGUARDING_LEAD) or user.partnership_id != item.partnership_id:
        return False
    now = now or utcnow()
    item.safeguarding_opened_at = now
    entry = audit.record("feedback.safeguarding_opened", item, user=user)
    entry.at = now
    return True


# --- Escalation --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Escalation:
    """One unopened alert sent again: to whom, in words for the command's output."""

    item_id: int
    partnership: Partnership
    hours: int
    leads: int
    contact: str | None
    # False when there was nobody at all to send it to: it stays due, and the command says so.
    sent: bool


def _flag_time() -> sa.ColumnElement[datetime]:
    # An item flagged before the flag's own time was kept (an import) counts from its creation.
    return sa.func.coalesce(Feedback.safeguarding_flagged_at, Feedback.created_at)


def due_for_escalation(partnership: Partnership, now: datetime) -> list[Feedback]:
    """Flagged more than the partnership's set hours ago, never opened, not yet escalated."""
    cutoff = now - timedelta(hours=partnership.safeguarding_escalation_hours)
    return list(
        db.session.scalars(
            scoped(
                Feedback,
                Feedback.safeguarding_flag.is_(True),
                Feedback.safeguarding_opened_at.is_(None),
                Feedback.safeguarding_escalated_at.is_(None),
                _flag_time() < cutoff,
                partnership=partnership,
            ).order_by(_flag_time(), Feedback.id)
        )
    )


def _escalation_body(link: str, hours: int, *, partnership: str | None, contact: bool) -> str:
    """For a lead (partnership None): a reminder; for the contact: why it came to them."""
    waited = f"{hours} hour{'' if hours == 1 else 's'}"
    if partnership is not None:
        opening = (
            f"A safeguarding concern was flagged more than {waited} ago and no safeguarding "
            f"lead has opened it yet, so it has been escalated to you as {partnership}'s "
            "safeguarding contact."
        )
    else:
        opening = (
            f"A safeguarding concern was flagged more than {waited} ago and nobody has opened "
            "it yet."
        )
        if contact:
            opening += " It has also been escalated to the partnership's safeguarding contact."
    return f"{opening}\n\nSign in to read it:\n{link}\n\n{_PRIVACY_LINE}\n"


def escalate_unopened(*, now: datetime | None = None) -> list[Escalation]:
    """Send again every alert nobody opened in time, to the leads and the safeguarding contact.

    Idempotent: an escalated item is marked and never escalated twice. An item whose
    partnership has neither a lead nor a contact is left due, so every run reports it until
    someone is set up to receive it.
    """
    now = now or utcnow()
    done: list[Escalation] = []
    partnerships = db.session.scalars(sa.select(Partnership).order_by(Partnership.id)).all()
    for partnership in partnerships:
        items = due_for_escalation(partnership, now)
        if not items:
            continue
        leads = safeguarding_leads(partnership)
        contact = _contact(partnership)
        hours = partnership.safeguarding_escalation_hours
        for item in items:
            if not leads and not contact:
                done.append(Escalation(item.id, partnership, hours, 0, None, sent=False))
                continue
            link = item_link(item.id)
            addresses = {lead.email.strip().lower() for lead in leads}
            for lead in leads:
                _write(
                    item,
                    lead.email.strip().lower(),
                    f"safeguarding-{item.id}-escalation-{lead.id}",
                    "safeguarding_escalation",
                    _escalation_body(link, hours, partnership=None, contact=bool(contact)),
                    now,
                )
            # A contact who is also a lead gets the one message, not two.
            if contact and contact not in addresses:
                _write(
                    item,
                    contact,
                    f"safeguarding-{item.id}-escalation-contact",
                    "safeguarding_escalation",
                    _escalation_body(link, hours, partnership=partnership.name, contact=True),
                    now,
                )
            item.safeguarding_escalated_at = now
            entry = audit.record(
                "feedback.safeguarding_escalated",
                item,
                user=None,
                sent_to_leads=len(leads),
                sent_to_contact=contact is not None,
            )
            entry.at = now
            done.append(Escalation(item.id, partnership, hours, len(leads), contact, sent=True))
    return done


# --- The safeguarding pages --------------------------------------------------------------------


def _in_uk(at: datetime) -> datetime:
    """Times are stored in UTC; the people reading them are in England."""
    return at.replace(tzinfo=UTC).astimezone(LOCAL_TIMEZONE)


def _local(at: datetime | None) -> datetime | None:
    return None if at is None else _in_uk(at)


@dataclass(frozen=True)
class FlaggedItem:
    item: Feedback
    # None for an item flagged without these being kept (an import).
    flagged_at: datetime | None
    flagged_by: str | None
    latest_outcome: str | None

    @property
    def opened_at(self) -> datetime | None:
        return _local(self.item.safeguarding_opened_at)

    @property
    def escalated_at(self) -> datetime | None:
        return _local(self.item.safeguarding_escalated_at)

    @property
    def status(self) -> str:
        """Where it stands, for the queue: the latest decision, or whether anyone opened it."""
        if self.latest_outcome:
            return SafeguardingOutcome(self.latest_outcome).label
        if self.item.safeguarding_opened_at is not None:
            return "Opened, no decision yet"
        if self.item.safeguarding_escalated_at is not None:
            return "Not opened, escalated"
        return "Not opened yet"


def _flagged(partnership: Partnership, *criteria: sa.ColumnElement[bool]) -> sa.Select:
    """Flagged items with who flagged them and their latest decision, newest flag first."""
    flagger = aliased(User)
    latest_outcome = (
        sa.select(SafeguardingDecision.outcome)
        .where(
            SafeguardingDecision.feedback_id == Feedback.id,
            SafeguardingDecision.partnership_id == partnership.id,
        )
        .order_by(SafeguardingDecision.acted_at.desc(), SafeguardingDecision.id.desc())
        .limit(1)
        .correlate(Feedback)
        .scalar_subquery()
    )
    return (
        scoped(Feedback, Feedback.safeguarding_flag.is_(True), *criteria, partnership=partnership)
        .add_columns(flagger.name, latest_outcome)
        .outerjoin(
            flagger,
            sa.and_(
                flagger.id == Feedback.safeguarding_flagged_by_id,
                flagger.partnership_id == partnership.id,
            ),
        )
        .order_by(_flag_time().desc(), Feedback.id.desc())
    )


def _rows(stmt: sa.Select) -> list[FlaggedItem]:
    return [
        FlaggedItem(
            item=item,
            flagged_at=_local(item.safeguarding_flagged_at),
            flagged_by=name,
            latest_outcome=outcome,
        )
        for item, name, outcome in db.session.execute(stmt).unique().all()
    ]


def flagged_items(partnership: Partnership) -> list[FlaggedItem]:
    """Every flagged item of the partnership, newest flag first."""
    return _rows(_flagged(partnership).options(joinedload(Feedback.event)))


def flagged_item(partnership: Partnership, feedback_id: int) -> FlaggedItem | None:
    """One flagged item in full; None if it is not flagged or not this partnership's."""
    found = _rows(
        _flagged(partnership, Feedback.id == feedback_id).options(
            joinedload(Feedback.event),
            joinedload(Feedback.entered_by),
            selectinload(Feedback.priorities),
            selectinload(Feedback.outcomes),
        )
    )
    return found[0] if found else None


def flagged_count(partnership: Partnership) -> int:
    return (
        db.session.scalar(
            scoped(Feedback, Feedback.safeguarding_flag.is_(True), partnership=partnership)
            .with_only_columns(sa.func.count(Feedback.id))
            .order_by(None)
        )
        or 0
    )


# --- Decisions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class DecisionRow:
    decision: SafeguardingDecision
    outcome: str
    acted_at: datetime
    recorded_at: datetime


def decisions_for(partnership: Partnership, item: Feedback) -> list[DecisionRow]:
    """The item's decision records, the most recently acted on first."""
    decisions = db.session.scalars(
        scoped(
            SafeguardingDecision,
            SafeguardingDecision.feedback_id == item.id,
            partnership=partnership,
        ).order_by(SafeguardingDecision.acted_at.desc(), SafeguardingDecision.id.desc())
    ).all()
    return [
        DecisionRow(
            decision=d,
            outcome=SafeguardingOutcome(d.outcome).label,
            acted_at=_in_uk(d.acted_at),
            recorded_at=_in_uk(d.recorded_at),
        )
        for d in decisions
    ]


def _as_utc(at: datetime) -> datetime:
    """Stored times are naive UTC; a time without a zone is taken to be UK time."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=LOCAL_TIMEZONE)
    return at.astimezone(UTC).replace(tzinfo=None)


def record_decision(
    item: Feedback,
    user: User,
    *,
    outcome: str | None,
    acted_at: datetime | None,
    reason: str | None,
    now: datetime | None = None,
) -> SafeguardingDecision:
    """Append what the safeguarding lead did about a flagged item, when, and why.

    Records are never changed: a later decision is a new record. The audit entry names the
    record, never the reason.
    """
    if not item.safeguarding_flag:
        raise SafeguardingError("Only feedback flagged as a safeguarding concern has decisions.")
    if not user.has_role(Role.SAFEGUARDING_LEAD) or user.partnership_id != item.partnership_id:
        raise PermissionError("Only the partnership's safeguarding leads record decisions")
    if outcome not in {o.value for o in SafeguardingOutcome}:
        raise SafeguardingError(SELECT_OUTCOME, field="outcome")
    if acted_at is None:
        raise SafeguardingError(ENTER_DATE, field="acted_on")
    now = now or utcnow()
    acted = _as_utc(acted_at)
    # The form is precise to the minute: "now" typed a moment ago is not in the future.
    if acted > now + timedelta(minutes=1):
        raise SafeguardingError(DATE_IN_FUTURE, field="acted_on")
    text = clean_text(reason)
    if not text:
        raise SafeguardingError(ENTER_REASON, field="reason")
    if len(text) > REASON_MAX_LENGTH:
        raise SafeguardingError(REASON_TOO_LONG, field="reason")
    decision = SafeguardingDecision(
        partnership_id=item.partnership_id,
        feedback_id=item.id,
        outcome=outcome,
        reason=text,
        acted_at=acted,
        recorded_at=now,
        recorded_by_id=user.id,
        recorded_by_name=user.name,
    )
    db.session.add(decision)
    db.session.flush()
    mark_opened(item, user, now=now)
    entry = audit.record(
        "feedback.safeguarding_decision_recorded", item, user=user, decision_id=decision.id
    )
    entry.at = now
    return decision
