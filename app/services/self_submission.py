"""Families' and young people's own link to an event's form: opening it, closing it, finding
the event behind a link, and saving what they send.

Functions add to the session and flush; the caller commits.
"""

from __future__ import annotations

import dataclasses
import re
import secrets
from enum import StrEnum

import sqlalchemy as sa

from app.extensions import db
from app.models import Event, Feedback, User
from app.models.vocab import Channel, Respondent
from app.services import audit, capture
from app.services.permissions import can_manage_event

# Twelve characters in three groups ("k7m2-p9qx-w4rt"): typed by hand from a poster on a phone,
# so lower case, and none of the look-alikes (0/o, 1/l/i). 31^12 is about 8 x 10^17 links:
# with the per-address rate limit, far too many to guess.
TOKEN_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # noqa: S105 (letters to draw from, no secret)
TOKEN_GROUPS = 3
TOKEN_GROUP_LENGTH = 4
# Anything else is not looked up at all.
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def new_token() -> str:
    return "-".join(
        "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_GROUP_LENGTH))
        for _ in range(TOKEN_GROUPS)
    )


# Who can say they are, on the public form. A professional uses "Someone else": the form is
# for families, and the triage team can correct it.
PUBLIC_RESPONDENTS: tuple[str, ...] = (
    Respondent.PARENT_CARER.value,
    Respondent.YOUNG_PERSON.value,
    Respondent.CHILD.value,
    Respondent.OTHER.value,
)

SELECT_WHO = "Select who you are"


class LinkState(StrEnum):
    NOT_OPENED = "not_opened"
    OPEN = "open"
    CLOSED = "closed"


class LinkClosed(Exception):
    """The event's link was closed (or never opened): nothing may be saved through it."""


def link_state(event: Event) -> LinkState:
    if event.self_submission_token is None:
        return LinkState.NOT_OPENED
    return LinkState.OPEN if event.self_submission_open else LinkState.CLOSED


def _check_may_manage(event: Event, user: User) -> None:
    if not can_manage_event(user, event) or user.partnership_id != event.partnership_id:
        raise PermissionError("Only the event's volunteer or a coordinator can change its link")


def open_link(event: Event, user: User) -> Event:
    """Open the event's link, making it on first use. Reopening keeps the same link, so posters
    already printed work again."""
    _check_may_manage(event, user)
    if event.self_submission_open:
        return event
    first = event.self_submission_token is None
    if first:
        event.self_submission_token = new_token()
    event.self_submission_open = True
    db.session.flush()
    audit.record(
        "self_submission.opened" if first else "self_submission.reopened", event, user=user
    )
    return event


def close_link(event: Event, user: User) -> Event:
    """Stop the link taking new messages. The link is kept for reopening."""
    _check_may_manage(event, user)
    if not event.self_submission_open:
        return event
    event.self_submission_open = False
    db.session.flush()
    audit.record("self_submission.closed", event, user=user)
    return event


def find_event(token: str | None) -> Event | None:
    """The event behind a link, open or closed.

    Not limited to one partnership, unlike every other read: the unguessable link is what
    names the event (and so its partnership) to someone who is not signed in. The caller then
    speaks for that event's partnership only.
    """
    if not token:
        return None
    token = token.strip()
    if not _TOKEN.match(token):
        return None
    # Typed from a poster, capitals and all: links are made lower case, so match either way.
    candidates = {token, token.lower()}
    return db.session.scalars(
        sa.select(Event).where(Event.self_submission_token.in_(candidates)).limit(1)
    ).first()


def find_open_event(token: str | None) -> Event | None:
    event = find_event(token)
    return event if event is not None and event.self_submission_open else None


def submit(
    event: Event, details: capture.ItemDetails, idempotency_key: str | None = None
) -> tuple[Feedback, bool]:
    """Save what a family or young person sent through the event's link. Returns (item,
    created); a repeat of the same send (a double tap, the back button) returns the first item.

    It arrives as a new item like any other: private, and public only if a coordinator later
    uses it in a theme and approves that.
    """
    if not event.self_submission_open:
        raise LinkClosed()
    if details.respondent not in PUBLIC_RESPONDENTS:
        raise capture.CaptureError("respondent", SELECT_WHO)
    # Tagging is the triage team's work: nothing from the public form chooses priorities.
    details = dataclasses.replace(details, priorities=())
    return capture.record_feedback(
        event,
        None,
        details,
        idempotency_key=idempotency_key,
        channel=Channel.SELF_SUBMISSION.value,
    )
