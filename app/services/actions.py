"""Sub-groups answer themes with actions ("We did / We will / We can't") and progress updates.

Everything written here starts as a draft: it reaches the public pages only through a
coordinator's approval (app.services.publishing), so these functions never publish.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

import sqlalchemy as sa

from app.extensions import db
from app.models import Action, Feedback, ProgressUpdate, SubGroup, Theme, User
from app.models.base import utcnow
from app.models.vocab import ActionKind, ActionStatus, Publication, ThemeStatus
from app.services import audit
from app.services.text import clean_text

DRAFT = Publication.DRAFT.value
PUBLISHED = Publication.PUBLISHED.value
WITHDRAWN = Publication.WITHDRAWN.value

# What an action's status is when the person writing it does not choose one.
DEFAULT_STATUS = {
    ActionKind.WE_DID.value: ActionStatus.DONE.value,
    ActionKind.WE_WILL.value: ActionStatus.PLANNED.value,
    ActionKind.WE_CANT.value: ActionStatus.NOT_POSSIBLE.value,
}

MAX_URL_LENGTH = 500


class ActionError(ValueError):
    """A rule was broken; `field` names the form field the message belongs next to."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def default_status(kind: str) -> str:
    return DEFAULT_STATUS.get(kind, ActionStatus.PLANNED.value)


def check_evidence_url(url: str | None) -> str | None:
    """A web address families can open: http or https with a host, nothing else."""
    if url is None or not url.strip():
        return None
    url = url.strip()
    message = "Enter a web address that starts with https:// or http://"
    if len(url) > MAX_URL_LENGTH:
        raise ActionError(
            f"Web address must be {MAX_URL_LENGTH} characters or fewer", "evidence_url"
        )
    if any(ch.isspace() for ch in url):
        raise ActionError(message, "evidence_url")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        raise ActionError(message, "evidence_url")
    return url


@dataclass
class _Checked:
    kind: str
    text: str
    reason: str | None
    status: str
    target_date: date | None
    done_date: date | None
    evidence_url: str | None


def _check(
    *,
    kind: str,
    text: str | None,
    status: str | None,
    reason: str | None,
    target_date: date | None,
    done_date: date | None,
    evidence_url: str | None,
    today: date,
) -> _Checked:
    if kind not in DEFAULT_STATUS:
        raise ActionError("Select whether you did it, will do it or cannot do it", "kind")
    body = clean_text(text)
    if not body:
        raise ActionError("Enter what was done or what will be done", "text")
    if status is not None and status not in ActionStatus._value2member_map_:
        raise ActionError("Select the status", "status")
    why = clean_text(reason) or None
    if kind == ActionKind.WE_WILL.value and target_date is None:
        raise ActionError("Enter the date you expect it to be done", "target_date")
    if kind == ActionKind.WE_CANT.value and not why:
        raise ActionError("Enter why it cannot be done", "reason")
    if done_date is not None and done_date > today:
        raise ActionError("The date it was done must be today or in the past", "done_date")
    # Only the fields that belong to the chosen kind are kept, so a "We did" never carries a
    # stale reason typed while "We can't" was selected.
    return _Checked(
        kind=kind,
        text=body,
        reason=why if kind == ActionKind.WE_CANT.value else None,
        status=status or default_status(kind),
        target_date=target_date if kind == ActionKind.WE_WILL.value else None,
        done_date=done_date if kind == ActionKind.WE_DID.value else None,
        evidence_url=check_evidence_url(evidence_url),
    )


def _check_subgroup(theme: Theme, subgroup: SubGroup | None) -> SubGroup | None:
    if subgroup is not None and subgroup.partnership_id != theme.partnership_id:
        raise ActionError("Select a sub-group", "subgroup_id")
    return subgroup if subgroup is not None else theme.subgroup


def _mark_theme_responded(theme: Theme) -> None:
    if theme.status == ThemeStatus.OPEN.value:
        theme.status = ThemeStatus.RESPONDED.value


def create_action(
    theme: Theme,
    user: User,
    *,
    kind: str,
    text: str | None,
    status: str | None = None,
    reason: str | None = None,
    target_date: date | None = None,
    done_date: date | None = None,
    evidence_url: str | None = None,
    subgroup: SubGroup | None = None,
    today: date | None = None,
) -> Action:
    """A draft action on a theme; the theme counts as responded from now on."""
    checked = _check(
        kind=kind,
        text=text,
        status=status,
        reason=reason,
        target_date=target_date,
        done_date=done_date,
        evidence_url=evidence_url,
        today=today or date.today(),
    )
    owner_group = _check_subgroup(theme, subgroup)
    action = Action(
        partnership_id=theme.partnership_id,
        theme=theme,
        kind=checked.kind,
        text=checked.text,
        reason=checked.reason,
        status=checked.status,
        target_date=checked.target_date,
        done_date=checked.done_date,
        evidence_url=checked.evidence_url,
        subgroup=owner_group,
        owner_id=user.id,
        created_by_id=user.id,
        publication=DRAFT,
    )
    db.session.add(action)
    _mark_theme_responded(theme)
    db.session.flush()
    audit.record(
        "action.created",
        action,
        user=user,
        theme_id=theme.id,
        kind=action.kind,
        status=action.status,
        text=action.text,
    )
    return action


def update_action(
    action: Action,
    user: User,
    *,
    kind: str,
    text: str | None,
    status: str | None = None,
    reason: str | None = None,
    target_date: date | None = None,
    done_date: date | None = None,
    evidence_url: str | None = None,
    subgroup: SubGroup | None = None,
    today: date | None = None,
) -> Action:
    """Change a draft (or withdrawn) action. Published wording changes only through approval."""
    if action.publication == PUBLISHED:
        raise ActionError(
            "This action is published, so it cannot be changed here. Add a progress update "
            "instead: changes to public text are approved before they appear."
        )
    checked = _check(
        kind=kind,
        text=text,
        status=status,
        reason=reason,
        target_date=target_date,
        done_date=done_date,
        evidence_url=evidence_url,
        today=today or date.today(),
    )
    owner_group = _check_subgroup(action.theme, subgroup)
    before = _snapshot(action)
    action.kind = checked.kind
    action.text = checked.text
    action.reason = checked.reason
    action.status = checked.status
    action.target_date = checked.target_date
    action.done_date = checked.done_date
    action.evidence_url = checked.evidence_url
    action.subgroup = owner_group
    # Editing a withdrawn action is how it is put right and sent back for approval.
    was_withdrawn = action.publication == WITHDRAWN
    action.publication = DRAFT
    after = _snapshot(action)
    changed = {k: {"from": before[k], "to": after[k]} for k in after if before[k] != after[k]}
    if changed or was_withdrawn:
        audit.record(
            "action.updated", action, user=user, changed=changed, resubmitted=was_withdrawn
        )
    return action


def _snapshot(action: Action) -> dict[str, str | int | None]:
    return {
        "kind": action.kind,
        "text": action.text,
        "reason": action.reason,
        "status": action.status,
        "target_date": action.target_date.isoformat() if action.target_date else None,
        "done_date": action.done_date.isoformat() if action.done_date else None,
        "evidence_url": action.evidence_url,
        "subgroup_id": action.subgroup.id if action.subgroup else None,
    }


def add_progress_update(
    action: Action,
    user: User,
    *,
    happened_on: date | None,
    text: str | None,
    new_status: str | None = None,
    today: date | None = None,
) -> ProgressUpdate:
    """A dated draft step on an action. Its status change waits for publication."""
    if action.publication == WITHDRAWN:
        raise ActionError(
            "This action has been withdrawn. Change it and send it for approval again before "
            "adding progress."
        )
    if happened_on is None:
        raise ActionError("Enter the date it happened", "happened_on")
    if happened_on > (today or date.today()):
        raise ActionError("The date it happened must be today or in the past", "happened_on")
    body = clean_text(text)
    if not body:
        raise ActionError("Enter what happened", "text")
    if new_status is not None and new_status not in ActionStatus._value2member_map_:
        raise ActionError("Select the new status", "new_status")
    update = ProgressUpdate(
        partnership_id=action.partnership_id,
        action=action,
        happened_on=happened_on,
        text=body,
        new_status=new_status or None,
        created_by_id=user.id,
        publication=DRAFT,
    )
    db.session.add(update)
    db.session.flush()
    audit.record(
        "progress_update.created",
        update,
        user=user,
        action_id=action.id,
        happened_on=happened_on.isoformat(),
        new_status=update.new_status,
        text=body,
    )
    return update


def apply_update_status(update: ProgressUpdate) -> None:
    """A published update's new status becomes the action's status (done sets the done date)."""
    if not update.new_status:
        return
    action = update.action
    action.status = update.new_status
    if update.new_status == ActionStatus.DONE.value and action.done_date is None:
        action.done_date = update.happened_on
    action.updated_at = utcnow()


# --- reading, for the respond pages -------------------------------------------------------


@dataclass(frozen=True)
class ThemeProgress:
    """What a sub-group lead needs to know about a theme at a glance."""

    actions: int
    statuses: dict[str, int]
    pending_approval: bool
    needs: str


def draft_updates(action: Action) -> list[ProgressUpdate]:
    return [u for u in action.updates if u.publication == DRAFT]


def is_waiting_for_approval(theme: Theme) -> bool:
    """Anything written that a coordinator has not yet approved."""
    if theme.publication == DRAFT and theme.statement.strip():
        return True
    for action in theme.actions:
        if action.publication == DRAFT:
            return True
        if action.publication == PUBLISHED and draft_updates(action):
            return True
    return False


def theme_progress(theme: Theme) -> ThemeProgress:
    statuses: dict[str, int] = {}
    for action in theme.actions:
        statuses[action.status] = statuses.get(action.status, 0) + 1
    waiting = is_waiting_for_approval(theme)
    if not theme.actions:
        needs = "No response yet"
    elif waiting:
        needs = "Waiting for approval"
    elif theme.publication == WITHDRAWN:
        needs = "Withdrawn"
    elif all(
        a.status in (ActionStatus.DONE.value, ActionStatus.NOT_POSSIBLE.value)
        for a in theme.actions
        if a.publication != WITHDRAWN
    ):
        needs = "Nothing to do"
    else:
        needs = "Keep progress up to date"
    return ThemeProgress(
        actions=len(theme.actions), statuses=statuses, pending_approval=waiting, needs=needs
    )


def voice_counts(theme_ids: Iterable[int]) -> dict[int, int]:
    """Feedback items per theme in one query, leaving out safeguarding-flagged items."""
    ids = list(theme_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(Feedback.theme_id, sa.func.count(Feedback.id))
        .where(Feedback.theme_id.in_(ids), Feedback.safeguarding_flag.is_(False))
        .group_by(Feedback.theme_id)
    ).all()
    return {theme_id: count for theme_id, count in rows if theme_id is not None}
