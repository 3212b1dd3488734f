"""Administering a partnership: user accounts, and reading its strategy and audit log.

Plain functions over models. They add to the session and never commit: the view commits.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditEntry, Partnership, Priority, Strategy, SubGroup, User, UserRole
from app.models.vocab import Role, StrategyStatus
from app.services import audit, users
from app.services.scoping import scoped
from app.templating import govuk_date, label

AUDIT_PAGE_SIZE = 50


class AdminError(ValueError):
    """A change to an account breaks a rule; field names the form field to show it next to."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


# ---------------------------------------------------------------------------------------------
# The strategy


@dataclass(frozen=True)
class StrategyCounts:
    priorities: int
    subgroups: int
    outcomes: int
    principles: int


@dataclass(frozen=True)
class Overview:
    partnership: Partnership
    strategy: Strategy | None
    counts: StrategyCounts | None
    users_total: int
    users_active: int
    other_strategies: list[Strategy]


def active_strategy(partnership: Partnership) -> Strategy | None:
    """The partnership's active strategy, with everything the admin pages show loaded."""
    stmt = (
        scoped(Strategy, Strategy.status == StrategyStatus.ACTIVE.value, partnership=partnership)
        .order_by(Strategy.id.desc())
        .options(
            selectinload(Strategy.priorities).selectinload(Priority.subgroups),
            selectinload(Strategy.subgroups).selectinload(SubGroup.priorities),
            selectinload(Strategy.subgroups).selectinload(SubGroup.members),
            selectinload(Strategy.outcomes),
            selectinload(Strategy.principles),
        )
        .limit(1)
    )
    return db.session.scalars(stmt).first()


def overview(partnership: Partnership) -> Overview:
    strategy = active_strategy(partnership)
    counts = None
    if strategy is not None:
        counts = StrategyCounts(
            priorities=len(strategy.priorities),
            subgroups=len(strategy.subgroups),
            outcomes=len(strategy.outcomes),
            principles=len(strategy.principles),
        )
    total, active = db.session.execute(
        sa.select(
            sa.func.count(User.id),
            sa.func.count(User.id).filter(User.active.is_(True)),
        ).where(User.partnership_id == partnership.id)
    ).one()
    others = db.session.scalars(
        scoped(Strategy, partnership=partnership)
        .where(Strategy.id != (strategy.id if strategy else -1))
        .order_by(Strategy.starts.desc(), Strategy.id.desc())
    ).all()
    return Overview(partnership, strategy, counts, total or 0, active or 0, list(others))


# ---------------------------------------------------------------------------------------------
# Users


def list_users(partnership: Partnership) -> Sequence[User]:
    return db.session.scalars(
        scoped(User, partnership=partnership)
        .options(selectinload(User.role_rows), selectinload(User.subgroups))
        .order_by(User.active.desc(), sa.func.lower(User.name), User.id)
    ).all()


def subgroup_choices(partnership: Partnership, user: User | None = None) -> list[SubGroup]:
    """Sub-groups of the active strategy, plus any the user already belongs to (so that saving
    the form never silently drops a membership of an older strategy's sub-group)."""
    strategy = active_strategy(partnership)
    choices = list(strategy.subgroups) if strategy else []
    if user is not None:
        choices += [sg for sg in user.subgroups if sg not in choices]
    return choices


def _subgroups_by_id(partnership: Partnership, ids: Iterable[int]) -> list[SubGroup]:
    wanted = list(dict.fromkeys(ids))
    if not wanted:
        return []
    found = {
        sg.id: sg
        for sg in db.session.scalars(
            scoped(SubGroup, SubGroup.id.in_(wanted), partnership=partnership)
        )
    }
    if len(found) != len(wanted):
        raise AdminError("subgroups", "Select sub-groups from the list")
    return [found[i] for i in wanted]


def _check_roles(roles: Sequence[str], subgroups: Sequence[SubGroup]) -> None:
    if not roles:
        raise AdminError("roles", "Select at least one role")
    unknown = [r for r in roles if r not in Role._value2member_map_]
    if unknown:
        raise AdminError("roles", "Select roles from the list")
    # A sub-group lead with no sub-group would see nothing to answer.
    if Role.SUBGROUP_LEAD.value in roles and not subgroups:
        raise AdminError("subgroups", "Select the sub-groups this sub-group lead works in")


def create_account(
    partnership: Partnership,
    *,
    actor: User,
    name: str,
    email: str,
    password: str,
    roles: Sequence[str],
    subgroup_ids: Iterable[int] = (),
) -> User:
    """Create an account from the admin form. Raises AdminError or users.UserError."""
    subgroups = _subgroups_by_id(partnership, subgroup_ids)
    role_values = list(dict.fromkeys(roles))
    _check_roles(role_values, subgroups)
    user = users.create_user(
        partnership,
        email=email,
        name=name,
        password=password,
        roles=role_values,
        subgroup_codes=[sg.code for sg in subgroups],
        actor=actor,
    )
    # create_user finds sub-groups by code; keep exactly the ones chosen.
    user.subgroups = subgroups
    return user


@dataclass(frozen=True)
class AccountChanges:
    roles_added: list[str]
    roles_removed: list[str]
    subgroups_changed: bool
    activated: bool | None

    @property
    def any(self) -> bool:
        return bool(
            self.roles_added
            or self.roles_removed
            or self.subgroups_changed
            or self.activated is not None
        )


def update_account(
    user: User,
    *,
    actor: User,
    roles: Sequence[str],
    subgroup_ids: Iterable[int],
    active: bool,
) -> AccountChanges:
    """Change roles, sub-groups and the active flag; every change writes an audit entry."""
    subgroups = _subgroups_by_id(user.partnership, subgroup_ids)
    role_values = list(dict.fromkeys(roles))
    _check_roles(role_values, subgroups)
    if user.id == actor.id:
        # Otherwise a partnership could be left with nobody able to administer it.
        if Role.ADMIN.value in user.roles and Role.ADMIN.value not in role_values:
            raise AdminError(
                "roles", "You cannot remove your own admin role. Ask another admin to do it"
            )
        if not active:
            raise AdminError("active", "You cannot deactivate your own account")

    before_roles = sorted(user.roles)
    added = sorted(set(role_values) - set(before_roles))
    removed = sorted(set(before_roles) - set(role_values))
    if added or removed:
        user.role_rows = [r for r in user.role_rows if r.role not in removed] + [
            UserRole(role=r) for r in added
        ]
        audit.record(
            "user.roles_changed",
            user,
            user=actor,
            email=user.email,
            before=before_roles,
            after=sorted(role_values),
            added=added,
            removed=removed,
        )

    before_codes = sorted(sg.code for sg in user.subgroups)
    subgroups_changed = {sg.id for sg in user.subgroups} != {sg.id for sg in subgroups}
    if subgroups_changed:
        user.subgroups = subgroups
        audit.record(
            "user.subgroups_changed",
            user,
            user=actor,
            email=user.email,
            before=before_codes,
            after=sorted(sg.code for sg in subgroups),
        )

    activated: bool | None = None
    if active != user.active:
        activated = active
        user.active = active
        if not active:
            # A new token ends every session the account has open.
            user.session_token = secrets.token_hex(16)
        audit.record(
            "user.reactivated" if active else "user.deactivated",
            user,
            user=actor,
            email=user.email,
        )
    return AccountChanges(added, removed, subgroups_changed, activated)


# ---------------------------------------------------------------------------------------------
# The audit log


# Every verb written by audit.record, in words. A verb missing here still reads sensibly
# (see verb_label), but add new verbs so the log says exactly what happened.
VERB_LABELS: dict[str, str] = {
    "theme.created": "Theme created",
    "theme.updated": "Theme changed",
    "theme.published": "Theme published",
    "theme.withdrawn": "Theme withdrawn from the public pages",
    "theme.items_moved": "Feedback items moved to another theme",
    "theme.split": "Theme split: some items taken into a new theme",
    "theme.merged": "Another theme merged into this one",
    "theme.merged_into": "Theme merged into another",
    "action.created": "Action created",
    "action.updated": "Action changed",
    "action.published": "Action published",
    "action.withdrawn": "Action withdrawn from the public pages",
    "progress_update.created": "Progress update written",
    "progress_update.published": "Progress update published",
    "feedback.changed": "Feedback item corrected",
    "feedback.imported": "Feedback items pasted or imported",
    "feedback.redacted": "Feedback item reworded to remove personal details",
    "feedback.triaged": "Feedback item tagged or routed",
    "feedback.themed": "Feedback item added to a theme",
    "text_check.overridden": "Personal-details check overridden for a text",
    "private_term.added": "Word added to the personal-details check",
    "private_term.deleted": "Word taken off the personal-details check",
    "feedback.safeguarding_flagged": "Item flagged as a safeguarding concern",
    "feedback.safeguarding_opened": "Flagged item first opened by a safeguarding lead",
    "feedback.safeguarding_escalated": "Unopened safeguarding alert sent again and escalated",
    "feedback.safeguarding_decision_recorded": "Safeguarding decision recorded",
    "event.created": "Event added",
    "event.changed": "Event details changed",
    "self_submission.opened": "Link for families opened",
    "self_submission.closed": "Link for families closed",
    "self_submission.reopened": "Link for families opened again",
    "user.created": "User account created",
    "user.roles_changed": "Roles changed",
    "user.subgroups_changed": "Sub-groups changed",
    "user.deactivated": "User account deactivated",
    "user.reactivated": "User account reactivated",
    "strategy.imported": "Strategy imported",
    "retention.contacts_deleted": "Contact details deleted by the daily retention purge",
    "retention.raw_text_deleted": "Words of closed items deleted by the daily retention purge",
    "subject_access.searched": "Contact's details looked up (subject access)",
    "subject_access.exported": "Contact's details exported (subject access)",
    "subject_access.erased": "Contact's details erased",
}

OBJECT_LABELS: dict[str, str] = {
    "Action": "Action",
    "Event": "Event",
    "Feedback": "Feedback item",
    "Partnership": "Partnership",
    "ProgressUpdate": "Progress update",
    "Strategy": "Strategy",
    "Theme": "Theme",
    "User": "User",
}

# Detail keys in words, in the order they are shown. Keys not listed come after, in
# alphabetical order, with their underscores turned into spaces.
_DETAIL_LABELS: dict[str, str] = {
    "email": "Email address",
    "title": "Title",
    "slug": "Page address ending",
    "theme_id": "Theme",
    "action_id": "Action",
    "removed_from_theme_id": "Taken out of theme",
    "kind": "Answer",
    "text": "Text",
    "statement": "Statement",
    "reason": "Reason",
    "status": "Status",
    "happened_on": "Date",
    "new_status": "New status",
    "action_status_before": "Action status before",
    "action_status_after": "Action status after",
    "target_date": "Target date",
    "done_date": "Done on",
    "evidence_url": "Evidence link",
    "subgroup_id": "Sub-group",
    "items": "Feedback items",
    "republished": "Published before",
    "resubmitted": "Sent back after being withdrawn",
    "change": "Reworded text",
    "fields": "What changed",
    "changes": "What changed",
    "changed": "What changed",
    "roles": "Roles",
    "subgroups": "Sub-groups",
    "before": "Before",
    "after": "After",
    "added": "Added",
    "removed": "Removed",
    "source": "File",
    "created": "New strategy",
    "partnership_created": "New partnership",
    "counts": "Contents",
    "archived": "Strategies archived",
    "subject": "Reference",
    "searched_by": "Looked up by",
    "format": "Format",
    "contacts": "Contact records",
    "told": "Contributor told what happened",
    "expired": "Past their deletion date",
    "mentions": "Other items mentioning them",
    "messages": "Messages to them",
    "reworded_deleted": "Reworded text deleted too",
    "reworded_kept": "Reworded text kept (quoted on a public page)",
    "months": "Retention period (months)",
    "feedback_ids": "Feedback items",
    "action_ids": "Actions",
    "actions_back_to_draft": "Published actions back to waiting for approval",
    "priorities_added": "Priorities added",
    "priorities_not_added": "Priorities not added (published theme)",
    "merged_theme_id": "Merged theme",
    "into_title": "Merged into",
    "into_slug": "Merged into (page address ending)",
    "outcome": "What happened to it",
}

# Where a key means something different for one verb.
_VERB_DETAIL_LABELS: dict[str, dict[str, str]] = {
    "user.roles_changed": {
        "before": "Roles before",
        "after": "Roles after",
        "added": "Roles added",
        "removed": "Roles removed",
    },
    "user.subgroups_changed": {"before": "Sub-groups before", "after": "Sub-groups after"},
    "strategy.imported": {"changes": "Rows"},
    "theme.items_moved": {"theme_id": "Moved to theme", "title": "Moved to"},
    "theme.split": {"theme_id": "New theme", "title": "New theme's title"},
    "theme.merged_into": {"theme_id": "Merged into theme"},
}

# Which vocabulary (app.templating.label) a detail's values come from.
_DETAIL_VOCABS: dict[str, str] = {
    "kind": "action_kind",
    "status": "action_status",
    "new_status": "action_status",
    "action_status_before": "action_status",
    "action_status_after": "action_status",
    "roles": "role",
}
_VERB_DETAIL_VOCABS: dict[str, dict[str, str]] = {
    "user.roles_changed": {k: "role" for k in ("before", "after", "added", "removed")},
    "event.created": {"kind": "event_kind"},
}

# Details that hold a sub-group's id: shown as its code ("CCE"), which people know it by.
_SUBGROUP_KEYS = frozenset({"subgroup_id"})

# Names of changed fields, for "What changed: text, who said it".
_FIELD_NAMES: dict[str, str] = {
    "text": "text",
    "respondent": "who said it",
    "sentiment": "how they felt",
    "priorities": "priorities",
    "name": "name",
    "kind": "kind of event",
    "held_on": "date",
    "place": "place",
    "partner": "partner",
    "facilitators": "facilitators",
    "adults_count": "number of adults",
    "young_people_count": "number of young people",
    "children_count": "number of children",
    "title": "title",
    "statement": "statement",
    "subgroup": "sub-group",
    "subgroup_id": "sub-group",
    "reason": "reason",
    "status": "status",
    "target_date": "target date",
    "done_date": "done date",
    "evidence_url": "evidence link",
    "subgroups": "sub-groups",
    "outcomes": "outcomes",
    "principles": "principles",
}

_CHANGE_WORDS = {"added": "Added", "removed": "Removed", "changed": "Changed"}

# Longer wording is cut short: the log says what happened, the page holds the words.
_DETAIL_MAX = 120
# A change from one long text to another is summarised as "Changed".
_CHANGE_MAX = 60
# Keys that could hold people's words on a feedback item. No audit entry writes them (the log
# must never become a second copy of private text); this stops one being shown if it did.
_FEEDBACK_TEXT_KEYS = frozenset(
    {"text", "raw_text", "redacted_text", "note", "notes", "safeguarding_note"}
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _readable(code: str) -> str:
    """A code in words, for codes without a label: progress_update.created, ProgressUpdate."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", code).replace(".", " ").replace("_", " ")
    words = " ".join(words.split()).lower()
    return words[:1].upper() + words[1:]


def verb_label(verb: str) -> str:
    return VERB_LABELS.get(verb) or _readable(verb)


def object_type_label(object_type: str) -> str:
    return OBJECT_LABELS.get(object_type) or _readable(object_type)


def object_label(object_type: str, object_id: int | None) -> str:
    """The object in words, "Progress update 2"; the type alone when the entry names no row."""
    name = object_type_label(object_type)
    return name if object_id is None else f"{name} {object_id}"


@dataclass(frozen=True)
class AuditDetail:
    label: str
    value: str


@dataclass(frozen=True)
class AuditRow:
    """One log entry in words, as the audit page shows it."""

    entry: AuditEntry
    action: str
    object: str
    details: tuple[AuditDetail, ...]

    @property
    def who(self) -> str:
        return actor_label(self.entry.actor)


def _shorten(text: str, limit: int = _DETAIL_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _value_text(value: Any, vocabulary: str | None = None) -> str:
    """A stored detail value as words: never JSON."""
    if value is None or value == "":
        return "none"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        if vocabulary:
            return label(value, vocabulary)
        if _ISO_DATE.match(value):
            try:
                return govuk_date(date.fromisoformat(value))
            except ValueError:
                pass
        return _shorten(value)
    if isinstance(value, dict):
        return (
            _shorten(
                ", ".join(
                    f"{_readable(str(k)).lower()}: {_value_text(v)}" for k, v in value.items()
                )
            )
            or "none"
        )
    if isinstance(value, list | tuple | set):
        return _shorten(", ".join(_value_text(v, vocabulary) for v in value)) or "none"
    return _shorten(str(value))


def _field_names(names: Any) -> str:
    if not isinstance(names, list | tuple):
        return _value_text(names)
    words = [_FIELD_NAMES.get(str(n), _readable(str(n)).lower()) for n in names]
    return ", ".join(words) or "none"


def _from_to(
    key: str, change: dict[str, Any], vocabulary: str | None, subgroups: Mapping[int, str]
) -> str:
    before, after = change.get("from"), change.get("to")
    if key in _SUBGROUP_KEYS:
        before, after = (subgroups.get(v, v) if isinstance(v, int) else v for v in (before, after))
    old, new = _value_text(before, vocabulary), _value_text(after, vocabulary)
    if max(len(old), len(new)) > _CHANGE_MAX:
        return "Changed"
    if before in (None, "", []):
        return f"Added: {new}"
    if after in (None, "", []):
        return f"Removed (was {old})"
    return f"Changed from {old} to {new}"


def _counts(value: Any) -> str:
    """{"added": 24, "changed": 0} -> "24 added, 0 changed"."""
    if not isinstance(value, dict):
        return _value_text(value)
    return ", ".join(
        f"{_value_text(n)} {_FIELD_NAMES.get(str(k), _readable(str(k)).lower())}"
        for k, n in value.items()
    )


def describe_details(
    verb: str,
    object_type: str,
    details: dict[str, Any] | None,
    subgroups: Mapping[int, str] | None = None,
) -> tuple[AuditDetail, ...]:
    """A short summary of an entry's details: labelled values, lists joined with commas.

    subgroups maps sub-group ids to codes, so "subgroup_id: 3" reads "Sub-group: CCE".
    """
    if not isinstance(details, dict):
        return ()
    subgroups = subgroups or {}
    labels = {**_DETAIL_LABELS, **_VERB_DETAIL_LABELS.get(verb, {})}
    vocabs = {**_DETAIL_VOCABS, **_VERB_DETAIL_VOCABS.get(verb, {})}
    order = list(_DETAIL_LABELS)
    keys = sorted(details, key=lambda k: (order.index(k) if k in order else len(order), k))
    shown: list[AuditDetail] = []
    for key in keys:
        value = details[key]
        if value is None or (object_type == "Feedback" and key in _FEEDBACK_TEXT_KEYS):
            continue
        name = labels.get(key) or _readable(key)
        vocabulary = vocabs.get(key)
        if (
            key in ("changes", "changed")
            and isinstance(value, dict)
            and all(isinstance(v, dict) and ("from" in v or "to" in v) for v in value.values())
        ):
            # One line per changed field: "Title: Changed from A to B".
            if not value:
                shown.append(AuditDetail(name, "nothing"))
            for raw_field, change in value.items():
                changed = str(raw_field)
                if object_type == "Feedback" and changed in _FEEDBACK_TEXT_KEYS:
                    continue
                field_label = labels.get(changed) or _readable(_FIELD_NAMES.get(changed) or changed)
                shown.append(
                    AuditDetail(
                        field_label, _from_to(changed, change, vocabs.get(changed), subgroups)
                    )
                )
            continue
        if key in ("changes", "counts"):
            text = _counts(value)
        elif key == "fields":
            text = _field_names(value)
        elif key == "change":
            text = _CHANGE_WORDS.get(str(value), _value_text(value))
        elif key in _SUBGROUP_KEYS and isinstance(value, int):
            text = subgroups.get(value, str(value))
        else:
            text = _value_text(value, vocabulary)
        shown.append(AuditDetail(name, text))
    return tuple(shown)


def describe_entry(entry: AuditEntry, subgroups: Mapping[int, str] | None = None) -> AuditRow:
    return AuditRow(
        entry=entry,
        action=verb_label(entry.verb),
        object=object_label(entry.object_type, entry.object_id),
        details=describe_details(entry.verb, entry.object_type, entry.details, subgroups),
    )


def _subgroup_ids(entries: Iterable[AuditEntry]) -> set[int]:
    """Sub-group ids the entries' details mention, directly or in a from/to change."""
    ids: set[int] = set()
    for entry in entries:
        details = entry.details if isinstance(entry.details, dict) else {}
        values: list[Any] = [details.get(k) for k in _SUBGROUP_KEYS]
        for key in ("changes", "changed"):
            change_set = details.get(key)
            if isinstance(change_set, dict):
                for k in _SUBGROUP_KEYS:
                    change = change_set.get(k)
                    if isinstance(change, dict):
                        values += [change.get("from"), change.get("to")]
        ids.update(v for v in values if isinstance(v, int) and not isinstance(v, bool))
    return ids


# Who made automatic entries (the daily retention purge, imports from the command line).
SYSTEM_ACTOR = "system"
SYSTEM_ACTOR_LABEL = "The system (automatic)"


@dataclass(frozen=True)
class AuditFilters:
    """What the audit page is narrowed to; every part optional. Dates are UTC days, as shown."""

    verb: str | None = None
    object_type: str | None = None
    actor: str | None = None
    date_from: date | None = None
    date_to: date | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.verb, self.object_type, self.actor, self.date_from, self.date_to)
        )

    def criteria(self) -> list[sa.ColumnElement[bool]]:
        found: list[sa.ColumnElement[bool]] = []
        if self.verb:
            found.append(AuditEntry.verb == self.verb)
        if self.object_type:
            found.append(AuditEntry.object_type == self.object_type)
        if self.actor:
            found.append(AuditEntry.actor == self.actor)
        if self.date_from:
            found.append(AuditEntry.at >= datetime.combine(self.date_from, time.min))
        if self.date_to:
            # The whole of the last day: before midnight at its end.
            found.append(
                AuditEntry.at < datetime.combine(self.date_to + timedelta(days=1), time.min)
            )
        return found

    def query_args(self) -> list[tuple[str, str]]:
        """The filters as the GET form sends them, for links that keep them (dates as three
        boxes: day, month, year)."""
        args: list[tuple[str, str]] = []
        for name in ("verb", "actor", "object_type"):
            value = getattr(self, name)
            if value:
                args.append((name, value))
        for name in ("date_from", "date_to"):
            value = getattr(self, name)
            if value:
                args += [(name, str(value.day)), (name, str(value.month)), (name, str(value.year))]
        return args


@dataclass(frozen=True)
class AuditActor:
    actor: str
    label: str


@dataclass(frozen=True)
class AuditFilterOptions:
    """The values that occur in this partnership's log, for the filters, in the order shown."""

    verbs: list[str]
    object_types: list[str]
    actors: list[AuditActor]


def actor_label(actor: str, names: Mapping[str, str] | None = None) -> str:
    if actor == SYSTEM_ACTOR:
        return SYSTEM_ACTOR_LABEL
    name = (names or {}).get(actor.lower())
    return f"{name} ({actor})" if name else actor


def audit_filter_options(partnership: Partnership) -> AuditFilterOptions:
    def distinct(column: Any) -> list[str]:
        return list(
            db.session.scalars(
                sa.select(column)
                .where(AuditEntry.partnership_id == partnership.id)
                .distinct()
                .order_by(column)
            )
        )

    verbs, types, actors = (
        distinct(AuditEntry.verb),
        distinct(AuditEntry.object_type),
        distinct(AuditEntry.actor),
    )
    # Entries keep the e-mail address the person had; the name is today's, from their account.
    names = {
        email.lower(): name
        for email, name in db.session.execute(
            scoped(User, partnership=partnership).with_only_columns(User.email, User.name)
        )
    }
    people = sorted(
        (AuditActor(a, actor_label(a, names)) for a in actors),
        key=lambda a: (a.actor == SYSTEM_ACTOR, a.label.lower()),
    )
    return AuditFilterOptions(
        verbs=sorted(verbs, key=verb_label),
        object_types=sorted(types, key=object_type_label),
        actors=people,
    )


@dataclass(frozen=True)
class AuditPage:
    """One page of the log, newest first, reached by keyset cursors rather than page numbers:
    an entry written while someone reads never shifts what the next page shows."""

    entries: list[AuditEntry]
    # Entries matching the filters, and the position of this page's first one among them.
    total: int
    first_number: int
    per_page: int
    # Entry ids to pass as ?newer= and ?older= for the neighbouring pages; None at either end.
    newer_cursor: int | None
    older_cursor: int | None
    # Codes of the sub-groups the entries mention, by id.
    subgroup_codes: dict[int, str] = field(default_factory=dict)

    @property
    def rows(self) -> list[AuditRow]:
        return [describe_entry(e, self.subgroup_codes) for e in self.entries]

    @property
    def last_number(self) -> int:
        return self.first_number + len(self.entries) - 1 if self.entries else 0

    @property
    def is_whole_log(self) -> bool:
        """Everything that matches fits on this one page."""
        return self.newer_cursor is None and self.older_cursor is None


_NEWEST_FIRST = (AuditEntry.at.desc(), AuditEntry.id.desc())
_OLDEST_FIRST = (AuditEntry.at.asc(), AuditEntry.id.asc())


def _newer_than(at: datetime, entry_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(AuditEntry.at > at, sa.and_(AuditEntry.at == at, AuditEntry.id > entry_id))


def _older_than(at: datetime, entry_id: int) -> sa.ColumnElement[bool]:
    return sa.or_(AuditEntry.at < at, sa.and_(AuditEntry.at == at, AuditEntry.id < entry_id))


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def _exists(stmt: sa.Select) -> bool:
    return db.session.scalar(sa.select(stmt.exists())) or False


def audit_log(
    partnership: Partnership,
    filters: AuditFilters | None = None,
    *,
    older: int | None = None,
    newer: int | None = None,
    per_page: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """One page of the log, newest first.

    `older` (an entry id) asks for the entries after it in the list, `newer` for those before
    it. An unknown cursor, or one past either end, shows the nearest full page instead of an
    empty one.
    """
    filters = filters or AuditFilters()
    base = scoped(AuditEntry, *filters.criteria(), partnership=partnership)
    total = _count(base)
    cursor_id = older if older is not None else newer
    anchor = None
    if cursor_id is not None:
        # Scoped: another partnership's entry is no cursor here.
        anchor = db.session.execute(
            scoped(
                AuditEntry, AuditEntry.id == cursor_id, partnership=partnership
            ).with_only_columns(AuditEntry.at, AuditEntry.id)
        ).first()

    def newest(stmt: sa.Select) -> list[AuditEntry]:
        return list(db.session.scalars(stmt.order_by(*_NEWEST_FIRST).limit(per_page)))

    def oldest(stmt: sa.Select) -> list[AuditEntry]:
        return list(
            reversed(db.session.scalars(stmt.order_by(*_OLDEST_FIRST).limit(per_page)).all())
        )

    entries: list[AuditEntry] = []
    if anchor is not None and older is not None:
        entries = newest(base.where(_older_than(*anchor)))
        if not entries:
            entries = oldest(base)
    elif anchor is not None:
        entries = oldest(base.where(_newer_than(*anchor)))
        if len(entries) < per_page:
            # Near the top, a short page would repeat some of the first page: show the first.
            entries = newest(base)
    else:
        entries = newest(base)

    newer_cursor = older_cursor = None
    first_number = 0
    if entries:
        top, bottom = entries[0], entries[-1]
        newer_count = _count(base.where(_newer_than(top.at, top.id)))
        first_number = newer_count + 1
        newer_cursor = top.id if newer_count else None
        older_cursor = bottom.id if _exists(base.where(_older_than(bottom.at, bottom.id))) else None

    ids = _subgroup_ids(entries)
    # One query for the page, and scoped: another partnership's sub-group stays a number.
    codes: dict[int, str] = {}
    if ids:
        rows = db.session.execute(
            scoped(SubGroup, SubGroup.id.in_(ids), partnership=partnership).with_only_columns(
                SubGroup.id, SubGroup.code
            )
        )
        codes = {sg_id: code for sg_id, code in rows}
    return AuditPage(
        entries=entries,
        total=total,
        first_number=first_number,
        per_page=per_page,
        newer_cursor=newer_cursor,
        older_cursor=older_cursor,
        subgroup_codes=codes,
    )
