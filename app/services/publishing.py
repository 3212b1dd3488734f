"""Approval for publication, and withdrawal: the only way text reaches the public pages.

Rules (DESIGN.md sections 4-6):
- four eyes: the approver did not write anything being published, unless the partnership
  allows self-approval;
- a theme needs a statement and an owning sub-group; it may be published with no actions;
- an action is public only under a published theme, so approving publishes the theme too;
- a theme holding any safeguarding-flagged feedback is never published;
- withdrawing needs a reason; a withdrawn theme can be approved again;
- every text about to become public passes the personal-details check, or a coordinator has
  overridden the check for that exact text with a written reason (a changed text is checked
  afresh).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import (
    Action,
    AuditEntry,
    Feedback,
    Partnership,
    ProgressUpdate,
    TextCheckOverride,
    Theme,
    User,
)
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, Publication
from app.services import audit, permissions, personal_details
from app.services.actions import apply_update_status
from app.services.scoping import scoped
from app.services.text import clean_text

DRAFT = Publication.DRAFT.value
PUBLISHED = Publication.PUBLISHED.value
WITHDRAWN = Publication.WITHDRAWN.value

Publishable = Theme | Action | ProgressUpdate


CHANGED_MESSAGE = "Something changed since you opened this page. Check it again before you approve."


class PublishingError(Exception):
    """A publishing rule was broken. The message is written for the person who tried."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class PendingChanged(PublishingError):
    """What is waiting is no longer what the approver was shown, so they have not seen it."""

    def __init__(self) -> None:
        super().__init__(CHANGED_MESSAGE)


@dataclass
class Pending:
    """What approving a theme would publish now."""

    theme: Theme
    theme_text: bool = False
    actions: list[Action] = field(default_factory=list)
    updates: list[ProgressUpdate] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return self.theme_text or bool(self.actions) or bool(self.updates)

    @property
    def republishing(self) -> bool:
        return self.theme.publication == WITHDRAWN

    def describe(self) -> list[str]:
        parts = []
        if self.theme_text:
            parts.append("theme wording, published again" if self.republishing else "theme wording")
        if self.actions:
            n = len(self.actions)
            parts.append(f"{n} action" if n == 1 else f"{n} actions")
        if self.updates:
            n = len(self.updates)
            parts.append(f"{n} progress update" if n == 1 else f"{n} progress updates")
        return parts


def pending_for(theme: Theme) -> Pending:
    pending = Pending(theme=theme)
    for action in theme.actions:
        # A withdrawn action comes back only after someone changes it (it becomes a draft).
        if action.publication == WITHDRAWN:
            continue
        if action.publication == DRAFT:
            pending.actions.append(action)
        pending.updates.extend(u for u in action.updates if u.publication == DRAFT)
    # A draft theme goes out for the first time; a withdrawn one can be approved again.
    pending.theme_text = theme.publication != PUBLISHED and bool(theme.statement.strip())
    pending.updates.sort(key=lambda u: (u.happened_on, u.id or 0))
    return pending


def digest(pending: Pending) -> str:
    """A fingerprint of the public text approving would publish now.

    The approval page carries it, so approving publishes only what the approver was shown: any
    change to the wording, the owner, or what is waiting in between gives a different digest.
    """
    theme = pending.theme

    def day(value: date | None) -> str | None:
        return value.isoformat() if value else None

    def subgroup(obj: Theme | Action) -> list[str] | None:
        return [obj.subgroup.code, obj.subgroup.title] if obj.subgroup is not None else None

    content: dict[str, Any] = {
        "theme": {
            "id": theme.id,
            "publication": theme.publication,
            "wording": pending.theme_text,
            "slug": theme.slug,
            "title": theme.title,
            "statement": theme.statement,
            "easy_read": theme.easy_read,
            "subgroup": subgroup(theme),
            "priorities": sorted([p.code, p.title] for p in theme.priorities),
        },
        "actions": [
            {
                "id": a.id,
                "kind": a.kind,
                "text": a.text,
                "reason": a.reason,
                "status": a.status,
                "target_date": day(a.target_date),
                "done_date": day(a.done_date),
                "evidence_url": a.evidence_url,
                "subgroup": subgroup(a),
            }
            for a in sorted(pending.actions, key=lambda a: a.id or 0)
        ],
        "updates": [
            {
                "id": u.id,
                "action_id": u.action_id,
                "happened_on": day(u.happened_on),
                "text": u.text,
                "new_status": u.new_status,
            }
            for u in sorted(pending.updates, key=lambda u: u.id or 0)
        ],
    }
    text = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _has_safeguarding_feedback(theme: Theme) -> bool:
    return bool(
        db.session.scalar(
            sa.select(sa.func.count(Feedback.id)).where(
                Feedback.theme_id == theme.id, Feedback.safeguarding_flag.is_(True)
            )
        )
    )


# --- the personal-details check on what is about to become public ---------------------------

OVERRIDE_REASON_MAX_LENGTH = 2000


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass
class TextCheck:
    """One text about to become public, what the checker found in it, and any override."""

    obj: Publishable
    field: str
    # What the text is, to go mid-sentence: "the theme title", "the progress update".
    label: str
    text: str
    findings: list[personal_details.Finding]
    override: TextCheckOverride | None = None

    @property
    def object_type(self) -> str:
        return type(self.obj).__name__

    @property
    def key(self) -> str:
        """Names the text in a page: "theme-3-statement", "progressupdate-12-text"."""
        return f"{self.object_type.lower()}-{self.obj.id}-{self.field}"

    @property
    def sha256(self) -> str:
        return text_sha256(self.text)

    @property
    def blocking(self) -> bool:
        return bool(self.findings) and self.override is None

    @property
    def summary(self) -> str:
        return personal_details.summary_text(self.findings)


def _public_texts(pending: Pending) -> list[tuple[Publishable, str, str, str]]:
    """(object, field, label, text) for every text approving would make public.

    A published theme's wording cannot change without withdrawing it, so it is checked only
    when it is about to go out. Nothing in the app publishes a quote of feedback yet; when
    something does, its text belongs in this list.
    """
    texts: list[tuple[Publishable, str, str, str]] = []
    theme = pending.theme
    if pending.theme_text:
        texts.append((theme, "title", "theme title", theme.title))
        texts.append((theme, "statement", "“You said” statement", theme.statement))
        if theme.easy_read and theme.easy_read.strip():
            texts.append((theme, "easy_read", "easy read version", theme.easy_read))
    for action in sorted(pending.actions, key=lambda a: a.id or 0):
        texts.append((action, "text", "action", action.text))
        if action.reason and action.reason.strip():
            texts.append((action, "reason", "reason we can't", action.reason))
    for update in pending.updates:
        texts.append((update, "text", "progress update", update.text))
    return texts


def text_checks(pending: Pending) -> list[TextCheck]:
    """The personal-details check of every text approving would publish, in page order.

    One query for the partnership's private terms and one for the overrides, however many
    texts there are.
    """
    partnership = _partnership(pending.theme)
    checker = personal_details.checker_for(partnership)
    checks = [
        TextCheck(obj, field, label, text, checker.find(text))
        for obj, field, label, text in _public_texts(pending)
    ]
    flagged = [c for c in checks if c.findings]
    if flagged:
        overrides = db.session.scalars(
            sa.select(TextCheckOverride)
            .options(selectinload(TextCheckOverride.created_by))
            .where(
                TextCheckOverride.partnership_id == partnership.id,
                TextCheckOverride.text_sha256.in_({c.sha256 for c in flagged}),
            )
        )
        by_key = {(o.object_type, o.object_id, o.field, o.text_sha256): o for o in overrides}
        for check in flagged:
            check.override = by_key.get(
                (check.object_type, check.obj.id, check.field, check.sha256)
            )
    return checks


def _checks_message(blocking: list[TextCheck]) -> str:
    n = len(blocking)
    which = "a text" if n == 1 else f"{n} texts"
    return (
        f"The personal-details check found something that could identify someone in {which} "
        "waiting for approval. Change the wording, or override the check for that text with "
        "a reason."
    )


def override_check(
    theme: Theme, user: User, *, key: str, seen_sha256: str | None, reason: str | None
) -> TextCheckOverride:
    """Let one exact text be published despite the checker's findings, for a written reason.

    `seen_sha256` is the hash of the text the coordinator was shown: a text changed since is
    refused with PendingChanged, so an override never covers words nobody read.
    """
    if not permissions.can(user, "publish"):
        raise PublishingError("You do not have permission to override the check.")
    checks = {c.key: c for c in text_checks(pending_for(theme))}
    check = checks.get(key)
    if check is None:
        raise PublishingError("That text is no longer waiting for approval.")
    if seen_sha256 != check.sha256:
        raise PendingChanged()
    if not check.findings:
        raise PublishingError(
            "The check found nothing in that text, so there is nothing to override."
        )
    why = clean_text(reason)
    if not why:
        raise PublishingError("Enter why this text is safe to publish as it is", field="reason")
    if len(why) > OVERRIDE_REASON_MAX_LENGTH:
        raise PublishingError(
            f"The reason must be {OVERRIDE_REASON_MAX_LENGTH:,} characters or fewer",
            field="reason",
        )
    if check.override is not None:
        return check.override
    override = TextCheckOverride(
        partnership_id=theme.partnership_id,
        object_type=check.object_type,
        object_id=check.obj.id,
        field=check.field,
        text_sha256=check.sha256,
        reason=why,
        created_by_id=user.id,
    )
    db.session.add(override)
    # The entry says what kinds of detail were found and why they may stand, never the words.
    audit.record(
        "text_check.overridden",
        check.obj,
        user=user,
        theme_id=theme.id,
        which_text=check.label,
        found=check.summary,
        reason=why,
    )
    db.session.flush()
    return override


def problems(
    theme: Theme,
    user: User,
    pending: Pending | None = None,
    checks: list[TextCheck] | None = None,
) -> list[str]:
    """Why this person cannot approve this theme now; empty when they can."""
    pending = pending or pending_for(theme)
    found: list[str] = []
    if not permissions.can(user, "publish"):
        found.append("You do not have permission to approve publication.")
    if not theme.statement.strip():
        found.append("Write the theme's “You said” statement before it can be published.")
    if theme.subgroup_id is None:
        found.append("Choose the sub-group that owns this theme before it can be published.")
    if _has_safeguarding_feedback(theme):
        found.append(
            "This theme includes feedback flagged as a safeguarding concern. It cannot be "
            "published until that item is taken out of the theme."
        )
    if not pending.anything:
        found.append("There is nothing on this theme waiting for approval.")
    blocking = [c for c in (checks if checks is not None else text_checks(pending)) if c.blocking]
    if blocking:
        found.append(_checks_message(blocking))
    allow_self = _partnership(theme).allow_self_approval
    authors: list[int | None] = []
    if pending.theme_text:
        authors.append(theme.created_by_id)
        authors += _editors("theme.updated", "Theme", [theme.id])
    authors += [a.created_by_id for a in pending.actions]
    authors += _editors("action.updated", "Action", [a.id for a in pending.actions])
    authors += [u.created_by_id for u in pending.updates]
    if any(not permissions.can_approve(user, author, allow_self) for author in authors):
        found.append(
            "You wrote some of what is waiting, so someone else must approve it: another "
            "coordinator or an admin."
        )
    return found


def _editors(verb: str, object_type: str, object_ids: list[int | None]) -> list[int | None]:
    """Whoever changed the wording wrote it too, as far as four eyes are concerned.

    Every edit ever counts, not only those since the last approval, the same as the creator does.
    """
    ids = [i for i in object_ids if i is not None]
    if not ids:
        return []
    return list(
        db.session.scalars(
            sa.select(AuditEntry.user_id)
            .where(
                AuditEntry.verb == verb,
                AuditEntry.object_type == object_type,
                AuditEntry.object_id.in_(ids),
            )
            .distinct()
        )
    )


def _partnership(theme: Theme) -> Partnership:
    partnership = db.session.get(Partnership, theme.partnership_id)
    assert partnership is not None
    return partnership


def _publish(obj: Publishable, user: User, now: object) -> None:
    obj.publication = PUBLISHED
    obj.published_at = now  # type: ignore[assignment]
    obj.approved_by_id = user.id
    obj.withdrawn_at = None
    obj.withdrawn_reason = None


def approve_theme(theme: Theme, user: User, *, seen: str | None = None) -> list[Publishable]:
    """Publish the theme and everything on it waiting for approval; returns what was published.

    `seen` is the digest() of what the approver was shown; when given, anything different is
    refused with PendingChanged rather than published unseen.
    """
    pending = pending_for(theme)
    found = problems(theme, user, pending)
    if found:
        raise PublishingError(found[0])
    if seen is not None and seen != digest(pending):
        raise PendingChanged()

    now = utcnow()
    published: list[Publishable] = []
    if theme.publication != PUBLISHED:
        republished = theme.publication == WITHDRAWN
        _publish(theme, user, now)
        published.append(theme)
        audit.record(
            "theme.published",
            theme,
            user=user,
            republished=republished,
            slug=theme.slug,
            title=theme.title,
            statement=theme.statement,
            subgroup_id=theme.subgroup_id,
        )
    for action in pending.actions:
        _publish(action, user, now)
        published.append(action)
        audit.record(
            "action.published",
            action,
            user=user,
            theme_id=theme.id,
            kind=action.kind,
            text=action.text,
            reason=action.reason,
            status=action.status,
            target_date=action.target_date.isoformat() if action.target_date else None,
            done_date=action.done_date.isoformat() if action.done_date else None,
            evidence_url=action.evidence_url,
        )
    for update in pending.updates:
        _publish(update, user, now)
        status_before = update.action.status
        apply_update_status(update)
        published.append(update)
        audit.record(
            "progress_update.published",
            update,
            user=user,
            theme_id=theme.id,
            action_id=update.action_id,
            happened_on=update.happened_on.isoformat(),
            text=update.text,
            new_status=update.new_status,
            action_status_before=status_before,
            action_status_after=update.action.status,
        )
    theme.public_updated_at = now
    if any(a.publication == PUBLISHED for a in theme.actions):
        _mark_feedback_answered(theme)
    db.session.flush()
    return published


def _mark_feedback_answered(theme: Theme) -> None:
    """Feedback in a theme with a published answer has been answered."""
    db.session.execute(
        sa.update(Feedback)
        .where(
            Feedback.theme_id == theme.id,
            Feedback.status == FeedbackStatus.THEMED.value,
            Feedback.safeguarding_flag.is_(False),
        )
        .values(status=FeedbackStatus.ANSWERED.value)
        .execution_options(synchronize_session="fetch")
    )


def _reason(reason: str | None) -> str:
    text = clean_text(reason)
    if not text:
        raise PublishingError("Enter why you are withdrawing it", field="reason")
    return text


def _check_may_withdraw(user: User) -> None:
    if not permissions.can(user, "publish"):
        raise PublishingError("You do not have permission to withdraw published text.")


def withdraw_theme(theme: Theme, user: User, reason: str | None) -> Theme:
    """Take a theme (and with it all its actions) off the public pages."""
    _check_may_withdraw(user)
    why = _reason(reason)
    if theme.publication != PUBLISHED:
        raise PublishingError("This theme is not published, so there is nothing to withdraw.")
    now = utcnow()
    theme.publication = WITHDRAWN
    theme.withdrawn_at = now
    theme.withdrawn_reason = why
    theme.public_updated_at = now
    audit.record(
        "theme.withdrawn", theme, user=user, reason=why, slug=theme.slug, title=theme.title
    )
    db.session.flush()
    return theme


def withdraw_action(action: Action, user: User, reason: str | None) -> Action:
    """Take one action off the public pages; its theme stays published."""
    _check_may_withdraw(user)
    why = _reason(reason)
    if action.publication != PUBLISHED:
        raise PublishingError("This action is not published, so there is nothing to withdraw.")
    now = utcnow()
    action.publication = WITHDRAWN
    action.withdrawn_at = now
    action.withdrawn_reason = why
    action.theme.public_updated_at = now
    audit.record(
        "action.withdrawn",
        action,
        user=user,
        reason=why,
        theme_id=action.theme_id,
        kind=action.kind,
        text=action.text,
    )
    db.session.flush()
    return action


# --- the approvals list ----------------------------------------------------------------------


@dataclass
class Overview:
    waiting: list[Pending]
    published: list[Theme]
    withdrawn: list[Theme]


def overview(partnership: Partnership) -> Overview:
    """Themes with something waiting, published themes and withdrawn ones, in three queries."""
    themes = db.session.scalars(
        scoped(Theme, partnership=partnership)
        .options(
            selectinload(Theme.subgroup),
            selectinload(Theme.actions).selectinload(Action.updates),
        )
        .order_by(Theme.updated_at.desc(), Theme.id.desc())
    ).all()
    result = Overview(waiting=[], published=[], withdrawn=[])
    for theme in themes:
        pending = pending_for(theme)
        new_answers = bool(pending.actions or pending.updates)
        if new_answers or (theme.publication == DRAFT and pending.theme_text):
            result.waiting.append(pending)
        elif theme.publication == WITHDRAWN:
            # Withdrawn on purpose: listed apart, so it is not mistaken for new work.
            result.withdrawn.append(theme)
        if theme.publication == PUBLISHED:
            result.published.append(theme)
    result.published.sort(key=lambda t: t.public_updated_at or t.updated_at, reverse=True)
    return result
