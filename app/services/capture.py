"""Capture: events, and logging what people said at them. Plain functions over models.

Functions add to the session and flush; the caller commits, so a page either saves everything
it was asked to or nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import Event, Feedback, Partnership, Priority, Strategy, User
from app.models.base import utcnow
from app.models.vocab import (
    AgePhase,
    Channel,
    EventKind,
    FeedbackStatus,
    NeedType,
    Respondent,
    Sentiment,
    StrategyStatus,
)
from app.services import audit, consent
from app.services.permissions import SEE_ALL_FEEDBACK, can_see_feedback
from app.services.text import clean_text

# Events happen in England: "today" is the date on a clock in London, not the server's UTC one.
LOCAL_TIMEZONE = ZoneInfo("Europe/London")

MAX_HEADCOUNT = 10_000
MAX_TEXT_LENGTH = 10_000
# A client-made key: uuid4 hex (or with hyphens). Anything else is ignored rather than stored.
_IDEMPOTENCY_KEY = re.compile(r"^[A-Za-z0-9-]{8,64}$")

HEADCOUNT_LABELS = {
    "adults_count": "adults",
    "young_people_count": "young people",
    "children_count": "children",
}

EVENT_FIELDS = (
    "name",
    "kind",
    "held_on",
    "place",
    "partner",
    "facilitators",
    "adults_count",
    "young_people_count",
    "children_count",
)

# Messages people read, shared with the forms so both say the same thing.
ENTER_NAME = "Enter the name of the event"
SELECT_KIND = "Select what kind of event it was"
ENTER_DATE = "Enter the date of the event"
DATE_IN_FUTURE = "The date of the event must be today or in the past"
ENTER_PLACE = "Enter where the event took place"


def whole_number_message(field: str) -> str:
    return f"Number of {HEADCOUNT_LABELS[field]} must be a whole number, like 12"


ENTER_TEXT = "Enter what they said"
TEXT_TOO_LONG = f"What they said must be {MAX_TEXT_LENGTH:,} characters or fewer"
SELECT_RESPONDENT = "Select who said it"
SELECT_SENTIMENT = "Select whether it is working well, needs to change or an idea"
SELECT_PRIORITIES = "Select priorities from the list"
SELECT_AGE_PHASE = "Select an age or stage from the list"
SELECT_NEED_TYPES = "Select types of need from the list"
MAX_SETTING_LENGTH = 200
SETTING_TOO_LONG = f"Setting must be {MAX_SETTING_LENGTH} characters or fewer"


class CaptureError(ValueError):
    """A rule was broken; `field` names the form field the message belongs next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def today() -> date:
    return datetime.now(LOCAL_TIMEZONE).date()


def headcount_range_message(field: str) -> str:
    return f"Number of {HEADCOUNT_LABELS[field]} must be between 0 and {MAX_HEADCOUNT:,}"


# Events


def _optional_text(value: Any, limit: int) -> str | None:
    text = clean_text(value)
    return text[:limit] if text else None


def _clean_event_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EVENT_FIELDS)
    if unknown:
        raise TypeError(f"Unknown event fields: {', '.join(sorted(unknown))}")
    cleaned: dict[str, Any] = {}
    if "name" in fields:
        name = clean_text(fields["name"])
        if not name:
            raise CaptureError("name", ENTER_NAME)
        cleaned["name"] = name[:200]
    if "kind" in fields:
        if fields["kind"] not in EventKind._value2member_map_:
            raise CaptureError("kind", SELECT_KIND)
        cleaned["kind"] = fields["kind"]
    if "held_on" in fields:
        held_on = fields["held_on"]
        if not isinstance(held_on, date):
            raise CaptureError("held_on", ENTER_DATE)
        if held_on > today():
            raise CaptureError("held_on", DATE_IN_FUTURE)
        cleaned["held_on"] = held_on
    if "place" in fields:
        place = clean_text(fields["place"])
        if not place:
            raise CaptureError("place", ENTER_PLACE)
        cleaned["place"] = place[:200]
    if "partner" in fields:
        cleaned["partner"] = _optional_text(fields["partner"], 200)
    if "facilitators" in fields:
        cleaned["facilitators"] = _optional_text(fields["facilitators"], 2000)
    for field in HEADCOUNT_LABELS:
        if field in fields:
            value = fields[field]
            if value is None:
                value = 0
            if isinstance(value, bool) or not isinstance(value, int):
                raise CaptureError(field, whole_number_message(field))
            if not 0 <= value <= MAX_HEADCOUNT:
                raise CaptureError(field, headcount_range_message(field))
            cleaned[field] = value
    return cleaned


def create_event(partnership: Partnership, user: User, **fields: Any) -> Event:
    """A new event created by `user`; name, kind, held_on and place are required."""
    if user.partnership_id != partnership.id:
        raise PermissionError("A user can only create events in their own partnership")
    for required, message in (
        ("name", ENTER_NAME),
        ("kind", SELECT_KIND),
        ("held_on", ENTER_DATE),
        ("place", ENTER_PLACE),
    ):
        if fields.get(required) in (None, ""):
            raise CaptureError(required, message)
    values = _clean_event_fields(fields)
    event = Event(partnership_id=partnership.id, created_by_id=user.id, **values)
    db.session.add(event)
    db.session.flush()
    audit.record("event.created", event, user=user)
    return event


def update_event(event: Event, user: User, **fields: Any) -> Event:
    """Change an event's details or headcounts; headcounts may be corrected at any time."""
    values = _clean_event_fields(fields)
    old_date = event.held_on
    changed = sorted(k for k, v in values.items() if getattr(event, k) != v)
    for key in changed:
        setattr(event, key, values[key])
    if "held_on" in changed:
        # Items logged at the event took the event's date; a corrected date corrects them too.
        items = db.session.scalars(
            sa.select(Feedback).where(
                Feedback.partnership_id == event.partnership_id,
                Feedback.event_id == event.id,
                Feedback.received_on == old_date,
            )
        ).all()
        for item in items:
            item.received_on = event.held_on
    if changed:
        db.session.flush()
        audit.record("event.changed", event, user=user, fields=changed)
    return event


# Priorities


def active_strategy(partnership: Partnership) -> Strategy | None:
    return db.session.scalars(
        sa.select(Strategy)
        .where(
            Strategy.partnership_id == partnership.id,
            Strategy.status == StrategyStatus.ACTIVE.value,
        )
        .order_by(Strategy.id.desc())
        .limit(1)
    ).first()


def priority_options(partnership: Partnership, keep: Iterable[Priority] = ()) -> list[Priority]:
    """The active strategy's priorities, plus any already on an item (so editing keeps them)."""
    strategy = active_strategy(partnership)
    options = list(strategy.priorities) if strategy else []
    known = {p.id for p in options}
    options.extend(p for p in keep if p.id not in known)
    return options


def _resolve_priorities(
    partnership_id: int, wanted: Iterable[Priority | int], already: Iterable[Priority] = ()
) -> list[Priority]:
    ids = list(dict.fromkeys(p.id if isinstance(p, Priority) else int(p) for p in wanted))
    if not ids:
        return []
    keep_ids = {p.id for p in already}
    found = db.session.scalars(
        sa.select(Priority)
        .join(Strategy, Priority.strategy_id == Strategy.id)
        .where(
            Priority.partnership_id == partnership_id,
            Priority.id.in_(ids),
            sa.or_(
                Strategy.status == StrategyStatus.ACTIVE.value,
                Priority.id.in_(keep_ids) if keep_ids else sa.false(),
            ),
        )
    ).all()
    by_id = {p.id: p for p in found}
    if len(by_id) != len(ids):
        raise CaptureError("priorities", SELECT_PRIORITIES)
    return sorted((by_id[i] for i in ids), key=lambda p: (p.strategy_id, p.position))


# Feedback


@dataclass
class ItemDetails:
    """Everything about one item apart from its event, author and key.

    `email`/`phone` are read only when `wants_reply` is set; they are stored apart from the
    text, with a deletion date.
    """

    text: str | None
    respondent: str | None
    sentiment: str | None
    priorities: Sequence[Priority | int] = ()
    age_phase: str | None = None
    need_types: Sequence[str] = ()
    setting: str | None = None
    may_quote: bool = False
    wants_reply: bool = False
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class _Cleaned:
    text: str
    respondent: str
    sentiment: str
    age_phase: str | None
    need_types: list[str]
    setting: str | None
    may_quote: bool
    wants_reply: bool
    email: str | None
    phone: str | None


def _clean_details(details: ItemDetails) -> _Cleaned:
    cleaned = clean_text(details.text)
    if not cleaned:
        raise CaptureError("text", ENTER_TEXT)
    if len(cleaned) > MAX_TEXT_LENGTH:
        raise CaptureError("text", TEXT_TOO_LONG)
    respondent, sentiment = details.respondent, details.sentiment
    if respondent is None or respondent not in Respondent._value2member_map_:
        raise CaptureError("respondent", SELECT_RESPONDENT)
    if sentiment is None or sentiment not in Sentiment._value2member_map_:
        raise CaptureError("sentiment", SELECT_SENTIMENT)
    age_phase = details.age_phase or None
    if age_phase is not None and age_phase not in AgePhase._value2member_map_:
        raise CaptureError("age_phase", SELECT_AGE_PHASE)
    need_types = list(dict.fromkeys(details.need_types or ()))
    if any(n not in NeedType._value2member_map_ for n in need_types):
        raise CaptureError("need_types", SELECT_NEED_TYPES)
    setting = clean_text(details.setting) or None
    if setting is not None and len(setting) > MAX_SETTING_LENGTH:
        raise CaptureError("setting", SETTING_TOO_LONG)
    email = phone = None
    if details.wants_reply:
        try:
            email, phone = consent.clean_contact(details.email, details.phone)
        except consent.ContactError as error:
            raise CaptureError(error.field, error.message) from error
    return _Cleaned(
        text=cleaned,
        respondent=respondent,
        sentiment=sentiment,
        age_phase=age_phase,
        need_types=sorted(need_types, key=list(NeedType._value2member_map_).index),
        setting=setting,
        may_quote=bool(details.may_quote),
        wants_reply=bool(details.wants_reply),
        email=email,
        phone=phone,
    )


def validate_details(details: ItemDetails) -> None:
    """Raise CaptureError if the item could not be saved (used to check a batch first)."""
    _clean_details(details)


def valid_key(idempotency_key: str | None) -> str | None:
    if idempotency_key and _IDEMPOTENCY_KEY.match(idempotency_key):
        return idempotency_key
    return None


def find_by_idempotency_key(partnership_id: int, key: str) -> Feedback | None:
    return db.session.scalars(
        sa.select(Feedback).where(
            Feedback.partnership_id == partnership_id, Feedback.idempotency_key == key
        )
    ).first()


# Where consent was given, when it was not given to us directly (a spreadsheet import).
CONSENT_FROM_IMPORT = "import"


def _record_consent(
    item: Feedback,
    partnership: Partnership,
    values: _Cleaned,
    *,
    consent_channel: str | None = None,
) -> None:
    """The notice version, time and channel travel with every consent given or changed.

    Consent carried in from a spreadsheet or a Forms export was given under that form's own
    notice, not ours: it is recorded with no notice version and the channel "import".
    """
    imported = consent_channel == CONSENT_FROM_IMPORT
    item.may_quote = values.may_quote
    item.wants_reply = values.wants_reply
    item.consent_notice_version = None if imported else consent.CURRENT_NOTICE.version
    item.consent_recorded_at = utcnow()
    item.consent_channel = consent_channel or item.channel
    if values.wants_reply:
        consent.set_contact(
            item,
            partnership,
            values.email,
            values.phone,
            today=today(),
            notice_version=consent.CURRENT_NOTICE.version,
        )
    elif item.contact is not None:
        item.contact = None


def record_feedback(
    event: Event,
    user: User | None,
    details: ItemDetails,
    idempotency_key: str | None = None,
    *,
    channel: str = Channel.EVENT.value,
    consent_channel: str | None = None,
) -> tuple[Feedback, bool]:
    """Log one thing one person said at `event`. Returns (item, created).

    `user` is the volunteer who typed it, or None when a family used the event's own link.
    A save sent twice (a double tap, a retry on a bad signal, an offline phone catching up)
    carries the same idempotency key; the repeat returns the first item instead of making a
    duplicate.
    """
    if user is not None and user.partnership_id != event.partnership_id:
        raise PermissionError("A user can only log feedback in their own partnership")
    key = valid_key(idempotency_key)
    if key:
        existing = find_by_idempotency_key(event.partnership_id, key)
        if existing is not None:
            return existing, False
    values = _clean_details(details)
    tagged = _resolve_priorities(event.partnership_id, details.priorities)
    partnership = db.session.get(Partnership, event.partnership_id)
    assert partnership is not None
    item = Feedback(
        partnership_id=event.partnership_id,
        event_id=event.id,
        channel=channel,
        raw_text=values.text,
        respondent=values.respondent,
        sentiment=values.sentiment,
        age_phase=values.age_phase,
        need_types=values.need_types,
        setting=values.setting,
        # Said at the event, or sent later through the event's own link: the day it arrived.
        received_on=event.held_on if channel == Channel.EVENT.value else today(),
        status=FeedbackStatus.NEW.value,
        entered_by_id=user.id if user else None,
        idempotency_key=key,
    )
    item.priorities = tagged
    _record_consent(item, partnership, values, consent_channel=consent_channel)
    db.session.add(item)
    try:
        db.session.flush()
    except IntegrityError:
        # Another request with the same key won the race between our check and our insert.
        # The whole transaction goes: callers that batch items give each its own fresh key.
        db.session.rollback()
        existing = find_by_idempotency_key(event.partnership_id, key) if key else None
        if existing is None:
            raise
        return existing, False
    return item, True


def update_feedback(item: Feedback, user: User, details: ItemDetails) -> Feedback:
    """Correct an item. Priorities already on it stay allowed, even from an older strategy."""
    values = _clean_details(details)
    tagged = _resolve_priorities(item.partnership_id, details.priorities, already=item.priorities)
    changed = [
        name
        for name, new in (
            ("text", values.text),
            ("respondent", values.respondent),
            ("sentiment", values.sentiment),
            ("age_phase", values.age_phase),
            ("need_types", values.need_types),
            ("setting", values.setting),
        )
        if getattr(item, "raw_text" if name == "text" else name) != new
    ]
    item.raw_text = values.text
    item.respondent = values.respondent
    item.sentiment = values.sentiment
    item.age_phase = values.age_phase
    item.need_types = values.need_types
    item.setting = values.setting
    if {p.id for p in item.priorities} != {p.id for p in tagged}:
        item.priorities = tagged
        changed.append("priorities")
    contact = item.contact
    consent_changed = (
        item.may_quote != values.may_quote
        or item.wants_reply != values.wants_reply
        or (
            values.wants_reply
            and (contact is None or (contact.email, contact.phone) != (values.email, values.phone))
        )
    )
    if consent_changed:
        partnership = db.session.get(Partnership, item.partnership_id)
        assert partnership is not None
        _record_consent(item, partnership, values)
        changed.append("consent")
    if changed:
        db.session.flush()
        # Field names only: the audit log must not become a second copy of private text.
        audit.record("feedback.changed", item, user=user, fields=changed)
    return item


# Reading


@dataclass(frozen=True)
class EventRow:
    event: Event
    item_count: int
    is_today: bool


def _item_count_subquery() -> sa.ScalarSelect[int]:
    # Safeguarding-flagged items leave every normal list and count.
    return (
        sa.select(sa.func.count(Feedback.id))
        .where(Feedback.event_id == Event.id, Feedback.safeguarding_flag.is_(False))
        .correlate(Event)
        .scalar_subquery()
    )


def sees_all_events(user: User) -> bool:
    return user.has_role(*SEE_ALL_FEEDBACK)


def _events_stmt(partnership: Partnership, user: User) -> sa.Select:
    stmt = sa.select(Event, _item_count_subquery()).where(Event.partnership_id == partnership.id)
    if not sees_all_events(user):
        stmt = stmt.where(Event.created_by_id == user.id)
    return stmt


def events_for(
    partnership: Partnership, user: User, *, page: int = 1, per_page: int = 25
) -> tuple[list[EventRow], list[EventRow], int]:
    """(today's events, a page of the others newest first, how many others in all)."""
    on_day = today()
    base = _events_stmt(partnership, user).options(selectinload(Event.created_by))
    order = (Event.held_on.desc(), Event.id.desc())
    todays = [
        EventRow(event, count, True)
        for event, count in db.session.execute(
            base.where(Event.held_on == on_day).order_by(*order)
        ).all()
    ]
    others_stmt = base.where(Event.held_on != on_day)
    total = (
        db.session.scalar(
            sa.select(sa.func.count()).select_from(
                others_stmt.with_only_columns(Event.id).order_by(None).subquery()
            )
        )
        or 0
    )
    others = [
        EventRow(event, count, False)
        for event, count in db.session.execute(
            others_stmt.order_by(*order).limit(per_page).offset((page - 1) * per_page)
        ).all()
    ]
    return todays, others, total


def item_count(event: Event) -> int:
    return (
        db.session.scalar(
            sa.select(sa.func.count(Feedback.id)).where(
                Feedback.partnership_id == event.partnership_id,
                Feedback.event_id == event.id,
                Feedback.safeguarding_flag.is_(False),
            )
        )
        or 0
    )


def items_for(event: Event, user: User) -> list[Feedback]:
    """Items at the event this person may read: their own and those sent through the event's
    link, or all for coordinators and admins."""
    stmt = (
        sa.select(Feedback)
        .where(
            Feedback.partnership_id == event.partnership_id,
            Feedback.event_id == event.id,
            Feedback.safeguarding_flag.is_(False),
        )
        .options(
            selectinload(Feedback.priorities),
            selectinload(Feedback.entered_by),
            # can_see_feedback reads the theme's sub-group for sub-group leads.
            selectinload(Feedback.theme),
        )
        .order_by(Feedback.id.desc())
    )
    if not user.has_role(*SEE_ALL_FEEDBACK):
        # Their own items, and what families sent through the event's own link: the event is
        # theirs, so those come to them as they would to a volunteer holding a clipboard.
        visible = Feedback.entered_by_id == user.id
        if event.created_by_id == user.id:
            visible = sa.or_(
                visible,
                sa.and_(
                    Feedback.channel == Channel.SELF_SUBMISSION.value,
                    Feedback.entered_by_id.is_(None),
                ),
            )
        stmt = stmt.where(visible)
    return [item for item in db.session.scalars(stmt).all() if can_see_feedback(user, item)]
