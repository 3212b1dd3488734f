"""Subject access and erasure: everything held about one contributor, found by the e-mail
address or phone number they gave, shown, exported and erased.

What is searched, in one partnership:
- contact details (FeedbackContact) with that address or number, and the feedback items they
  belong to: what was said, the reworded text, the consent record, the event, dates, tags and
  the theme each item is in;
- the words of other items that mention the address or number (someone wrote "ring me on ..."
  in what they said rather than in the contact boxes);
- messages to that address or number in the outbox (never safeguarding alerts, which go to
  staff and belong to the safeguarding record).

Items flagged as a safeguarding concern are never found here, not even as a count: only the
safeguarding lead may know they exist. The pages say so, every time, so that a subject access
request is checked with the safeguarding lead too. Once contact details have been deleted (the
contributor was told, or the retention period passed), what they said can no longer be linked
to them, and it is not found.

Erasure keeps every item, so counts stay the same: contact rows and messages are deleted, the
items' words, reworded text and setting are emptied, and in items that only mention the address
or number, just the address or number is replaced with "[email]" or "[phone]".

Audit entries name the person by a reference (an HMAC of the address under the app's secret
key) and hold counts, never the address itself.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import Feedback, FeedbackContact, OutboxMessage, Partnership, User
from app.models.base import utcnow
from app.models.vocab import (
    AgePhase,
    Channel,
    EventKind,
    FeedbackStatus,
    Labelled,
    NeedType,
    OutboxStatus,
    Publication,
    Respondent,
    Sentiment,
)
from app.services import audit
from app.services.consent import ContactError, clean_email, clean_phone
from app.services.retention import DELETED_TEXT
from app.services.scoping import scoped

ENTER_EMAIL_OR_PHONE = "Enter an email address or a phone number"

SEARCHED = "subject_access.searched"
EXPORTED = "subject_access.exported"
ERASED = "subject_access.erased"

EMAIL_PLACEHOLDER = "[email]"
PHONE_PLACEHOLDER = "[phone]"

# Messages whose template starts with this are safeguarding alerts to staff: never shown here.
_SAFEGUARDING_TEMPLATES = "safeguarding"


class SubjectAccessError(ValueError):
    """The search cannot run; field names the form field to show the message next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Subject:
    """The person asked about, by the address and number as the service stores them."""

    email: str | None
    phone: str | None

    @property
    def searched_by(self) -> str:
        """ "email address", "phone number" or both: which of them the search used."""
        parts = [("email address", self.email), ("phone number", self.phone)]
        return " and ".join(name for name, value in parts if value)

    def reference(self) -> str:
        """A short keyed hash: the same person gives the same reference in the audit log, and
        the reference alone does not give their address away."""
        key = str(current_app.config["SECRET_KEY"]).encode()
        value = f"{(self.email or '').lower()}|{self.phone or ''}".encode()
        return hmac.new(key, value, hashlib.sha256).hexdigest()[:16]

    def pattern(self) -> re.Pattern[str]:
        """The address or number as it may be written in someone's words."""
        parts = []
        if self.email:
            parts.append(rf"(?P<email>(?<![\w.+-]){re.escape(self.email)}(?!\.?[\w-]))")
        if self.phone:
            parts.append(rf"(?P<phone>{_phone_pattern(self.phone)})")
        return re.compile("|".join(parts), re.IGNORECASE)


def _phone_pattern(phone: str) -> str:
    """07700 900982 written any usual way: spaces, dashes, brackets, +44 or +44 (0)."""
    national = phone[1:] if phone.startswith("0") else phone
    gap = r"[\s().-]{0,3}"
    body = gap.join(re.escape(d) for d in national)
    return rf"(?<![\d+])(?:\+\s?44{gap}(?:0{gap})?|\(?0{gap}){body}(?!\d)"


def subject_from(email: str | None, phone: str | None) -> Subject:
    """Clean what the admin typed as the capture forms clean contact details, so that the
    search compares like with like. Raises SubjectAccessError."""
    try:
        cleaned_email = clean_email(email)
        cleaned_phone = clean_phone(phone)
    except ContactError as exc:
        raise SubjectAccessError(exc.field, exc.message) from exc
    if not cleaned_email and not cleaned_phone:
        raise SubjectAccessError("email", ENTER_EMAIL_OR_PHONE)
    return Subject(cleaned_email, cleaned_phone)


@dataclass(frozen=True)
class Mention:
    """An item that is not theirs by its contact details, but whose words name them."""

    item: Feedback
    in_words: bool
    in_reworded: bool


@dataclass(frozen=True)
class Held:
    """Everything found about one subject in one partnership."""

    subject: Subject
    partnership: Partnership
    # Their items (each with its contact row), oldest first.
    items: list[Feedback]
    mentions: list[Mention]
    messages: list[OutboxMessage]
    looked_up_at: datetime

    @property
    def contacts(self) -> list[FeedbackContact]:
        return [item.contact for item in self.items if item.contact is not None]

    @property
    def found(self) -> bool:
        return bool(self.items or self.mentions or self.messages)

    def counts(self) -> dict[str, int]:
        return {
            "contacts": len(self.contacts),
            "items": len(self.items),
            "mentions": len(self.mentions),
            "messages": len(self.messages),
        }

    def fingerprint(self) -> str:
        """Changes whenever what was found changes: the erasure checks it still matches what
        the admin confirmed."""
        ids = [
            ("c", [c.id for c in self.contacts]),
            ("i", [i.id for i in self.items]),
            ("m", [m.item.id for m in self.mentions]),
            ("o", [o.id for o in self.messages]),
        ]
        text = ";".join(f"{k}:{','.join(map(str, sorted(v)))}" for k, v in ids)
        return hashlib.sha256(text.encode()).hexdigest()[:32]


def _item_options() -> list[Any]:
    return [
        joinedload(Feedback.event),
        joinedload(Feedback.theme),
        joinedload(Feedback.routed_subgroup),
        selectinload(Feedback.priorities),
        selectinload(Feedback.outcomes),
    ]


def find(partnership: Partnership, subject: Subject) -> Held:
    """Everything held about the subject in the partnership (safeguarding records aside)."""
    not_flagged = Feedback.safeguarding_flag.is_(False)
    matches = []
    if subject.email:
        matches.append(sa.func.lower(FeedbackContact.email) == subject.email.lower())
    if subject.phone:
        matches.append(FeedbackContact.phone == subject.phone)
    items = list(
        db.session.scalars(
            scoped(Feedback, not_flagged, partnership=partnership)
            .join(FeedbackContact, FeedbackContact.feedback_id == Feedback.id)
            .where(FeedbackContact.partnership_id == partnership.id, sa.or_(*matches))
            .options(joinedload(Feedback.contact), *_item_options())
            .order_by(Feedback.received_on, Feedback.id)
        ).unique()
    )

    # Narrowed in SQL by a plain substring, then matched exactly: a number may be written
    # with spaces or dashes, which only the pattern allows for.
    hints = []
    if subject.email:
        needle = subject.email.lower()
        hints += [
            sa.func.lower(Feedback.raw_text).contains(needle, autoescape=True),
            sa.func.lower(Feedback.redacted_text).contains(needle, autoescape=True),
        ]
    if subject.phone:
        tail = subject.phone[-2:]
        hints += [Feedback.raw_text.contains(tail), Feedback.redacted_text.contains(tail)]
    pattern = subject.pattern()
    own = [item.id for item in items]
    candidates = db.session.scalars(
        scoped(Feedback, not_flagged, sa.or_(*hints), partnership=partnership)
        .where(Feedback.id.not_in(own) if own else sa.true())
        .options(*_item_options())
        .order_by(Feedback.received_on, Feedback.id)
    ).unique()
    mentions = []
    for item in candidates:
        in_words = bool(pattern.search(item.raw_text or ""))
        in_reworded = bool(pattern.search(item.redacted_text or ""))
        if in_words or in_reworded:
            mentions.append(Mention(item, in_words, in_reworded))

    to = []
    if subject.email:
        to.append(sa.func.lower(OutboxMessage.to) == subject.email.lower())
    if subject.phone:
        to.append(OutboxMessage.to == subject.phone)
    messages = list(
        db.session.scalars(
            scoped(OutboxMessage, sa.or_(*to), partnership=partnership)
            .where(
                sa.or_(
                    OutboxMessage.template.is_(None),
                    ~OutboxMessage.template.startswith(_SAFEGUARDING_TEMPLATES),
                )
            )
            .order_by(OutboxMessage.created_at, OutboxMessage.id)
        )
    )
    return Held(subject, partnership, items, mentions, messages, utcnow())


def _audit(verb: str, held: Held, user: User, **extra: Any) -> None:
    audit.record(
        verb,
        held.partnership,
        user=user,
        partnership=held.partnership,
        subject=held.subject.reference(),
        searched_by=held.subject.searched_by,
        **extra,
        **held.counts(),
    )


def record_search(held: Held, user: User) -> None:
    """Looking someone up reads personal data: the log says who did, and how much was found."""
    _audit(SEARCHED, held, user)


EXPORT_FORMATS = {"json": "JSON file", "page": "Readable page"}


def record_export(held: Held, user: User, export_format: str) -> None:
    _audit(EXPORTED, held, user, format=EXPORT_FORMATS[export_format])


# ---------------------------------------------------------------------------------------------
# The export


def _label(vocabulary: type[Labelled], value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return vocabulary(value).label
    except ValueError:
        return value


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _item_json(item: Feedback) -> dict[str, Any]:
    event = item.event
    theme = item.theme
    return {
        "id": item.id,
        "received_on": _iso(item.received_on),
        "how_it_reached_us": _label(Channel, item.channel),
        "event": (
            {
                "name": event.name,
                "kind": _label(EventKind, event.kind),
                "held_on": _iso(event.held_on),
                "place": event.place,
            }
            if event
            else None
        ),
        "who_said_it": _label(Respondent, item.respondent),
        "age_phase": _label(AgePhase, item.age_phase),
        "need_types": [_label(NeedType, n) for n in item.need_types or []],
        "setting": item.setting,
        "how_they_felt": _label(Sentiment, item.sentiment),
        "what_was_said": None if item.raw_text_deleted_at else item.raw_text,
        "what_was_said_deleted_at": _iso(item.raw_text_deleted_at),
        "reworded_without_personal_details": item.redacted_text,
        "status": _label(FeedbackStatus, item.status),
        "priorities": [f"{p.code}: {p.title}" for p in item.priorities],
        "outcomes": [o.text for o in item.outcomes],
        "sub_group": item.routed_subgroup.title if item.routed_subgroup else None,
        "theme": (
            {
                "title": theme.title,
                "published": theme.publication == Publication.PUBLISHED.value,
            }
            if theme
            else None
        ),
        "consent": {
            "may_quote_without_name": item.may_quote,
            "wants_to_hear_back": item.wants_reply,
            "privacy_notice_version": item.consent_notice_version,
            "recorded_at": _iso(item.consent_recorded_at),
        },
    }


def _contact_json(contact: FeedbackContact) -> dict[str, Any]:
    return {
        "feedback_id": contact.feedback_id,
        "email": contact.email,
        "phone": contact.phone,
        "given_on": _iso(contact.created_at),
        "delete_after": _iso(contact.delete_after),
        "told_what_happened_at": _iso(contact.told_at),
        "privacy_notice_version": contact.notice_version,
    }


def as_json(held: Held) -> dict[str, Any]:
    """Everything found, in words a person can read, for the JSON download."""
    return {
        "partnership": held.partnership.name,
        "looked_up_at": _iso(held.looked_up_at),
        "looked_up_by": {"email": held.subject.email, "phone": held.subject.phone},
        "reference": held.subject.reference(),
        "contact_details": [_contact_json(c) for c in held.contacts],
        "feedback": [_item_json(i) for i in held.items],
        "other_feedback_mentioning_them": [
            {
                **_item_json(m.item),
                "mentioned_in": [
                    where
                    for where, found in (
                        ("what was said", m.in_words),
                        ("reworded text", m.in_reworded),
                    )
                    if found
                ],
            }
            for m in held.mentions
        ],
        "messages": [
            {
                "to": m.to,
                "subject": m.subject,
                "body": m.body,
                "status": _label(OutboxStatus, m.status),
                "written_at": _iso(m.created_at),
                "sent_at": _iso(m.sent_at),
            }
            for m in held.messages
        ],
        "not_included": (
            "Items flagged as a safeguarding concern are not included: the safeguarding lead "
            "checks them separately."
        ),
    }


# ---------------------------------------------------------------------------------------------
# Erasure


@dataclass(frozen=True)
class Erasure:
    reference: str
    contacts: int
    items: int
    mentions: int
    messages: int


def erase(held: Held, user: User, now: datetime | None = None) -> Erasure:
    """Erase what find() found, keeping every item so that counts stay the same.

    Adds to the session and never commits.
    """
    now = now or utcnow()
    # Counted and audited before anything is taken away.
    counts = held.counts()
    _audit(ERASED, held, user)
    for item in held.items:
        if item.contact is not None:
            # delete-orphan: taking the row off the item deletes it.
            item.contact = None
        item.raw_text = DELETED_TEXT
        item.redacted_text = None
        item.setting = None
        if item.raw_text_deleted_at is None:
            item.raw_text_deleted_at = now
    pattern = held.subject.pattern()
    for mention in held.mentions:
        item = mention.item
        item.raw_text = pattern.sub(_placeholder, item.raw_text or "")
        if item.redacted_text:
            item.redacted_text = pattern.sub(_placeholder, item.redacted_text)
    for message in held.messages:
        db.session.delete(message)
    db.session.flush()
    return Erasure(
        reference=held.subject.reference(),
        contacts=counts["contacts"],
        items=counts["items"],
        mentions=counts["mentions"],
        messages=counts["messages"],
    )


def _placeholder(match: re.Match[str]) -> str:
    return EMAIL_PLACEHOLDER if match.lastgroup == "email" else PHONE_PLACEHOLDER
