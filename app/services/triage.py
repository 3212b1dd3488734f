"""Triage: tagging feedback to the strategy, routing, redaction and the safeguarding flag.

Plain functions on models. They add to the session and never commit: the caller commits the
change and its audit entry together, or rolls both back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, selectinload

from app.extensions import db
from app.models import (
    Event,
    Feedback,
    Outcome,
    Partnership,
    Priority,
    Strategy,
    SubGroup,
    Theme,
    User,
)
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, NeedType, StrategyStatus, ThemeStatus
from app.services import audit, safeguarding
from app.services import themes as theme_service
from app.services.scoping import scoped
from app.services.text import clean_text

PAGE_SIZE = 50
# The statuses the queue can show, in the words its filter uses. "all" is every status, still
# without safeguarding-flagged items; "new" is what is waiting for triage, the default.
QUEUE_STATUSES: dict[str, str] = {
    FeedbackStatus.NEW.value: "Waiting for triage",
    FeedbackStatus.TRIAGED.value: "Triaged, not in a theme",
    FeedbackStatus.THEMED.value: "In a theme",
    FeedbackStatus.ANSWERED.value: "Answered",
    FeedbackStatus.CLOSED.value: "Closed",
    "all": "Any status",
}
QUEUE_FILTERS = tuple(QUEUE_STATUSES)
# The priority filter's value for items not tagged to any priority yet.
NO_PRIORITY = "none"
REDACTED_MAX_LENGTH = 5000
NOTE_MAX_LENGTH = safeguarding.NOTE_MAX_LENGTH


class TriageError(Exception):
    """A triage rule was broken. The message is written to be shown to the coordinator."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class QueueFilters:
    """What the coordinator narrowed the queue to. The defaults show what is waiting."""

    status: str = FeedbackStatus.NEW.value
    event_id: int | None = None
    received_from: date | None = None
    received_to: date | None = None
    respondent: str | None = None
    sentiment: str | None = None
    priority_id: int | None = None
    # Items with no priority yet: the ones a coordinator has not tagged.
    untagged: bool = False

    @property
    def is_default(self) -> bool:
        return self == QueueFilters()

    def criteria(self) -> list[sa.ColumnElement[bool]]:
        if self.status not in QUEUE_STATUSES:
            raise TriageError(f"Unknown status filter {self.status!r}", field="status")
        # Flagged items have left the normal flow: no filter can bring them back.
        criteria: list[sa.ColumnElement[bool]] = [Feedback.safeguarding_flag.is_(False)]
        if self.status != "all":
            criteria.append(Feedback.status == self.status)
        if self.event_id is not None:
            criteria.append(Feedback.event_id == self.event_id)
        if self.received_from is not None:
            criteria.append(Feedback.received_on >= self.received_from)
        if self.received_to is not None:
            criteria.append(Feedback.received_on <= self.received_to)
        if self.respondent is not None:
            criteria.append(Feedback.respondent == self.respondent)
        if self.sentiment is not None:
            criteria.append(Feedback.sentiment == self.sentiment)
        if self.priority_id is not None:
            criteria.append(Feedback.priorities.any(Priority.id == self.priority_id))
        if self.untagged:
            criteria.append(~Feedback.priorities.any())
        return criteria


@dataclass(frozen=True)
class QueueCursor:
    """A place in the queue's order (newest received first, then newest id): the keyset.

    Pages start after a row, not at a row number, so items arriving or leaving while someone
    reads never shift a page under them: nothing is shown twice or skipped.
    """

    received_on: date
    id: int

    @classmethod
    def of(cls, item: Feedback) -> QueueCursor:
        return cls(item.received_on, item.id)

    @classmethod
    def parse(cls, value: str | None) -> QueueCursor | None:
        """From the query string: 2026-11-02.123. Anything else is no cursor, not an error."""
        if not value:
            return None
        day, _, ident = value.partition(".")
        try:
            return cls(date.fromisoformat(day), int(ident))
        except ValueError:
            return None

    def __str__(self) -> str:
        return f"{self.received_on.isoformat()}.{self.id}"

    def older(self) -> sa.ColumnElement[bool]:
        """Rows after this one in queue order. Spelled out, not a row value, for every database."""
        return sa.or_(
            Feedback.received_on < self.received_on,
            sa.and_(Feedback.received_on == self.received_on, Feedback.id < self.id),
        )

    def newer(self) -> sa.ColumnElement[bool]:
        return sa.or_(
            Feedback.received_on > self.received_on,
            sa.and_(Feedback.received_on == self.received_on, Feedback.id > self.id),
        )


NEWEST_FIRST = (Feedback.received_on.desc(), Feedback.id.desc())
OLDEST_FIRST = (Feedback.received_on.asc(), Feedback.id.asc())


@dataclass(frozen=True)
class TriageQueue:
    items: list[Feedback]
    # Items matching the filters, across every page.
    total: int
    # New items waiting for triage, whatever the filters show.
    waiting: int
    oldest_waiting_since: datetime | None
    # Where the "Older items" and "Newer items" links start; None where there are none.
    older: QueueCursor | None
    newer: QueueCursor | None
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


def _queue_rows(stmt: sa.Select, limit: int) -> list[Feedback]:
    """One page of rows with everything a queue row shows, in a fixed number of queries."""
    return list(
        db.session.scalars(
            stmt.options(
                joinedload(Feedback.event),
                joinedload(Feedback.theme),
                joinedload(Feedback.routed_subgroup),
                selectinload(Feedback.priorities),
            ).limit(limit)
        ).unique()
    )


def _exists(partnership: Partnership, criteria: list[sa.ColumnElement[bool]]) -> bool:
    found = db.session.scalar(
        scoped(Feedback, *criteria, partnership=partnership)
        .with_only_columns(Feedback.id)
        .order_by(None)
        .limit(1)
    )
    return found is not None


def triage_queue(
    partnership: Partnership,
    filters: QueueFilters | None = None,
    *,
    older: QueueCursor | None = None,
    newer: QueueCursor | None = None,
    per_page: int = PAGE_SIZE,
    now: datetime | None = None,
) -> TriageQueue:
    """One page of the queue, newest first, and how much is waiting.

    `older` gives the page after that row, `newer` the page before it; with neither, the
    newest page. The number of queries does not grow with the number of rows.
    """
    filters = filters or QueueFilters()
    now = now or utcnow()
    criteria = filters.criteria()

    def page(*where: sa.ColumnElement[bool], order: tuple[Any, ...]) -> list[Feedback]:
        stmt = scoped(Feedback, *criteria, *where, partnership=partnership).order_by(*order)
        return _queue_rows(stmt, per_page + 1)

    items: list[Feedback]
    more_newer = more_older = False
    if newer is not None:
        items = page(newer.newer(), order=OLDEST_FIRST)
        more_newer = len(items) > per_page
        items = list(reversed(items[:per_page]))
        if not more_newer:
            # Back at the top: show the newest page whole, as if arriving fresh.
            newer = None
    if newer is None:
        items = page(*([older.older()] if older else []), order=NEWEST_FIRST)
        more_older = len(items) > per_page
        items = items[:per_page]
        more_newer = older is not None and _exists(
            partnership, [*criteria, (QueueCursor.of(items[0]) if items else older).newer()]
        )
    else:
        more_older = bool(items) and _exists(
            partnership, [*criteria, QueueCursor.of(items[-1]).older()]
        )

    total = (
        db.session.scalar(
            scoped(Feedback, *criteria, partnership=partnership)
            .with_only_columns(sa.func.count(Feedback.id))
            .order_by(None)
        )
        or 0
    )
    waiting_count, oldest = db.session.execute(
        scoped(Feedback, *QueueFilters().criteria(), partnership=partnership)
        .with_only_columns(sa.func.count(Feedback.id), sa.func.min(Feedback.created_at))
        .order_by(None)
    ).one()
    return TriageQueue(
        items=items,
        total=total,
        waiting=waiting_count or 0,
        oldest_waiting_since=oldest,
        older=QueueCursor.of(items[-1]) if more_older and items else None,
        newer=QueueCursor.of(items[0]) if more_newer and items else None,
        now=now,
    )


def next_waiting(partnership: Partnership, current: Feedback) -> Feedback | None:
    """The item waiting for triage that comes after this one in the queue's order.

    From the last, it goes round to the newest, so items skipped on the way come back. None
    when nothing else is waiting.
    """
    criteria = [*QueueFilters().criteria(), Feedback.id != current.id]
    after = db.session.scalars(
        scoped(Feedback, *criteria, QueueCursor.of(current).older(), partnership=partnership)
        .order_by(*NEWEST_FIRST)
        .limit(1)
    ).first()
    if after is not None:
        return after
    return db.session.scalars(
        scoped(Feedback, *criteria, partnership=partnership).order_by(*NEWEST_FIRST).limit(1)
    ).first()


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


def _mark_triaged(item: Feedback) -> bool:
    """A new item that a coordinator has tagged or routed is triaged. Returns whether it was new.

    An item already further on (in a theme, answered) keeps its later status.
    """
    if item.triaged_at is None:
        item.triaged_at = utcnow()
    if item.status != FeedbackStatus.NEW.value:
        return False
    item.status = FeedbackStatus.TRIAGED.value
    return True


def _tags(item: Feedback) -> dict[str, object]:
    """What a coordinator sets on an item, comparable before and after a change."""
    return {
        "priorities": sorted(p.id for p in item.priorities),
        "outcomes": sorted(o.id for o in item.outcomes),
        "subgroup": item.routed_subgroup.id if item.routed_subgroup is not None else None,
        "need_types": sorted(item.need_types or []),
        "contains_personal_details": bool(item.contains_personal_details),
        "not_for_publication": bool(item.not_for_publication),
        "status": item.status,
    }


def _record_triage(item: Feedback, user: User, fields: Sequence[str], **details: Any) -> None:
    """One audit entry per item changed: the names of what changed, never anyone's words."""
    if fields:
        audit.record("feedback.triaged", item, user=user, fields=list(fields), **details)


def _need_types(values: Iterable[str]) -> list[str]:
    """The item's need types in the Code of Practice's order; an unknown one is refused."""
    chosen = set(values)
    known = [need.value for need in NeedType]
    if chosen - set(known):
        raise TriageError("Select needs from the list", field="need_types")
    return [value for value in known if value in chosen]


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
    need_types: Iterable[str] | None = None,
) -> Feedback:
    """Save the coordinator's triage of one item and mark it triaged.

    With no sub-group chosen, the item goes to the one its priorities suggest, so that nothing
    tagged is left without an owner. need_types None leaves them as they are.
    """
    _refuse_flagged(item)
    _same_partnership(item, priorities, "priorities", "priorities")
    _same_partnership(item, outcomes, "outcomes", "outcomes")
    if routed_subgroup is not None:
        _same_partnership(item, [routed_subgroup], "a sub-group", "routed_subgroup")
    needs = _need_types(need_types) if need_types is not None else list(item.need_types or [])

    before = _tags(item)
    redact(item, user, redacted_text)
    item.priorities = list(priorities)
    item.outcomes = list(outcomes)
    item.routed_subgroup = routed_subgroup or suggest_subgroup(priorities)
    # A new list, so the JSON column knows it changed.
    item.need_types = needs
    item.contains_personal_details = contains_personal_details
    item.not_for_publication = not_for_publication
    _mark_triaged(item)
    after = _tags(item)
    changed = [name for name in before if before[name] != after[name]]
    subgroup = {"subgroup_id": after["subgroup"]} if "subgroup" in changed else {}
    _record_triage(item, user, changed, **subgroup)
    return item


# ---------------------------------------------------------------------------------------------
# Bulk actions on items selected in the queue. Each checks everything before changing anything,
# so a refusal leaves every item as it was; the caller commits or rolls back the lot.


@dataclass(frozen=True)
class BulkResult:
    # Items the action changed, and items that already had what was asked.
    changed: int
    unchanged: int
    # Items that had no sub-group and were routed by the priorities they were given.
    routed: int = 0


def _check_bulk(items: Sequence[Feedback], rows: Iterable[object], what: str, field: str) -> None:
    if not items:
        raise TriageError("Select at least one feedback item", field="feedback")
    for item in items:
        _refuse_flagged(item)
        _same_partnership(item, rows, what, field)


def add_priorities(
    items: Iterable[Feedback], priorities: Iterable[Priority], user: User
) -> BulkResult:
    """Tag every item with these priorities as well as the ones it has.

    An item with no sub-group yet is routed by its priorities, as saving it on its own page
    would, so that nothing tagged is left without an owner.
    """
    items, priorities = list(items), list(priorities)
    if not priorities:
        raise TriageError("Select priorities to add to the selected items", field="priorities")
    _check_bulk(items, priorities, "priorities", "priorities")
    changed = unchanged = routed = 0
    for item in items:
        have = {p.id for p in item.priorities}
        adding = [p for p in priorities if p.id not in have]
        fields: list[str] = []
        if adding:
            item.priorities = sorted([*item.priorities, *adding], key=lambda p: p.position)
            fields.append("priorities")
            changed += 1
        else:
            unchanged += 1
        details: dict[str, Any] = {}
        if item.routed_subgroup is None:
            suggestion = suggest_subgroup(item.priorities)
            if suggestion is not None:
                item.routed_subgroup = suggestion
                fields.append("subgroup")
                details["subgroup_id"] = suggestion.id
                routed += 1
        if _mark_triaged(item):
            fields.append("status")
        _record_triage(item, user, fields, **details)
    return BulkResult(changed=changed, unchanged=unchanged, routed=routed)


def route_items(items: Iterable[Feedback], subgroup: SubGroup | None, user: User) -> BulkResult:
    """Send every item to one sub-group, whatever its priorities suggest."""
    items = list(items)
    if subgroup is None:
        raise TriageError("Select a sub-group to route the selected items to", field="subgroup")
    _check_bulk(items, [subgroup], "a sub-group", "subgroup")
    changed = unchanged = 0
    for item in items:
        fields: list[str] = []
        if item.routed_subgroup is None or item.routed_subgroup.id != subgroup.id:
            item.routed_subgroup = subgroup
            fields.append("subgroup")
            changed += 1
        else:
            unchanged += 1
        if _mark_triaged(item):
            fields.append("status")
        _record_triage(item, user, fields, subgroup_id=subgroup.id)
    return BulkResult(changed=changed, unchanged=unchanged)


def mark_not_for_publication(items: Iterable[Feedback], user: User) -> BulkResult:
    """Keep every item off the public pages: never quoted, never counted there."""
    items = list(items)
    _check_bulk(items, [], "", "feedback")
    changed = unchanged = 0
    for item in items:
        if item.not_for_publication:
            unchanged += 1
            continue
        item.not_for_publication = True
        _record_triage(item, user, ["not_for_publication"])
        changed += 1
    return BulkResult(changed=changed, unchanged=unchanged)


def add_to_theme(items: Iterable[Feedback], theme: Theme, user: User) -> theme_service.ItemsAdded:
    """Put the items in a theme (moving any from another), with an audit entry for each."""
    items = list(items)
    if not items:
        raise TriageError("Select at least one feedback item", field="feedback")
    before = {id(item): (item.theme_id, item.status) for item in items}
    result = theme_service.add_items(theme, items, user)
    for item in items:
        theme_before, status_before = before[id(item)]
        if theme_before == theme.id:
            continue
        fields = ["theme"] + (["status"] if item.status != status_before else [])
        details: dict[str, Any] = {"theme_id": theme.id}
        if theme_before is not None:
            details["removed_from_theme_id"] = theme_before
        audit.record("feedback.themed", item, user=user, fields=fields, **details)
    return result


def flag_safeguarding(
    item: Feedback, user: User, note: str | None, *, now: datetime | None = None
) -> int:
    """Take an item out of the normal flow and hand it to the safeguarding leads.

    The rules are app.services.safeguarding.flag's, the same from capture as from triage: it
    leaves any theme it was in, and the audit entry and e-mails never hold what it says or the
    note. Returns how many people were e-mailed.
    """
    _refuse_flagged(item)
    try:
        return safeguarding.flag(item, user, note, now=now)
    except safeguarding.SafeguardingError as error:
        raise TriageError(error.message, field=error.field) from error


def themes_to_add_to(partnership: Partnership) -> list[Theme]:
    """Themes an item can join: every theme but closed ones, newest first."""
    return list(
        db.session.scalars(
            scoped(
                Theme, Theme.status != ThemeStatus.CLOSED.value, partnership=partnership
            ).order_by(Theme.created_at.desc(), Theme.id.desc())
        )
    )
