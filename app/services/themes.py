"""Themes: the public "You said", written in the partnership's words from many feedback items.

Plain functions on models. They add to the session and never commit: the caller commits the
change and its audit entries together, or rolls both back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from app.extensions import db
from app.models import Action, Feedback, Partnership, Priority, SubGroup, Theme, User
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, Publication, Respondent, ThemeStatus
from app.services import audit, permissions, publishing, search
from app.services.scoping import scoped
from app.services.text import clean_text, slugify

TITLE_MAX_LENGTH = 200
STATEMENT_MAX_LENGTH = 5000
PUBLISHED_MESSAGE = "This theme is published. Withdraw it before changing its wording."


class ThemeError(Exception):
    """A theme rule was broken. The message is written to be shown; field names the form field."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class ThemeIsPublished(ThemeError):
    """Public wording changes only through withdrawal and a fresh approval."""


class SafeguardingItem(ThemeError):
    """A safeguarding-flagged item left the normal flow and can never join a theme."""


class MergeChanged(ThemeError):
    """One of the themes changed after the person checked what merging would do."""

    def __init__(self) -> None:
        super().__init__(
            "One of these themes changed since you opened this page. Check what will happen "
            "again before you merge them."
        )


@dataclass(frozen=True)
class VoiceCount:
    items: int = 0
    events: int = 0
    # The kinds of respondent who said something (Respondent values), in vocabulary order.
    respondents: tuple[str, ...] = ()

    @property
    def kinds(self) -> int:
        return len(self.respondents)


@dataclass(frozen=True)
class ItemsAdded:
    added: int
    # How many of those were taken out of another theme.
    moved: int


def unique_slug(partnership_id: int, title: str, *, exclude_theme_id: int | None = None) -> str:
    """A slug from the title, unique in the partnership: waiting-times, waiting-times-2, ..."""
    base = slugify(title)
    # Slugs hold only a-z, 0-9 and "-", so LIKE has no wildcards to escape in them.
    stmt = sa.select(Theme.slug).where(
        Theme.partnership_id == partnership_id,
        sa.or_(Theme.slug == base, Theme.slug.like(f"{base}-%")),
    )
    if exclude_theme_id is not None:
        stmt = stmt.where(Theme.id != exclude_theme_id)
    taken = set(db.session.scalars(stmt))
    if base not in taken:
        return base
    n = 2
    while f"{base}-{n}" in taken:
        n += 1
    return f"{base}-{n}"


def _clean_wording(title: str | None, statement: str | None) -> tuple[str, str]:
    # A title is one line; the statement may keep its paragraphs.
    clean_title = " ".join(clean_text(title).split())
    clean_statement = clean_text(statement)
    if not clean_title:
        raise ThemeError("Enter a title", field="title")
    if len(clean_title) > TITLE_MAX_LENGTH:
        raise ThemeError(f"The title must be {TITLE_MAX_LENGTH} characters or fewer", field="title")
    if not clean_statement:
        raise ThemeError('Enter the "You said" statement', field="statement")
    if len(clean_statement) > STATEMENT_MAX_LENGTH:
        raise ThemeError(
            f'The "You said" statement must be {STATEMENT_MAX_LENGTH} characters or fewer',
            field="statement",
        )
    return clean_title, clean_statement


def _check_ownership(
    partnership_id: int, priorities: Sequence[Priority], subgroup: SubGroup | None
) -> None:
    if subgroup is None:
        raise ThemeError("Select the sub-group that owns this theme", field="subgroup")
    if subgroup.partnership_id != partnership_id:
        raise ThemeError("Select a sub-group from the list", field="subgroup")
    if any(p.partnership_id != partnership_id for p in priorities):
        raise ThemeError("Select priorities from the list", field="priorities")


def check_can_theme(items: Iterable[Feedback]) -> None:
    """Refuse safeguarding-flagged items: they never join a theme, whoever asks."""
    if any(item.safeguarding_flag for item in items):
        raise SafeguardingItem(
            "A feedback item flagged as a safeguarding concern cannot be added to a theme."
        )


def create_theme(
    partnership: Partnership,
    user: User,
    *,
    title: str | None,
    statement: str | None,
    priorities: Sequence[Priority],
    subgroup: SubGroup | None,
    items: Sequence[Feedback] = (),
) -> Theme:
    """A draft theme, with the items it was written from. It is public only once approved."""
    clean_title, clean_statement = _clean_wording(title, statement)
    _check_ownership(partnership.id, priorities, subgroup)
    check_can_theme(items)
    theme = Theme(
        partnership_id=partnership.id,
        title=clean_title,
        slug=unique_slug(partnership.id, clean_title),
        statement=clean_statement,
        subgroup=subgroup,
        status=ThemeStatus.OPEN.value,
        publication=Publication.DRAFT.value,
        created_by_id=user.id,
    )
    theme.priorities = list(priorities)
    db.session.add(theme)
    db.session.flush()
    add_items(theme, items, user)
    audit.record("theme.created", theme, user=user, slug=theme.slug, items=len(items))
    return theme


def update_theme(
    theme: Theme,
    user: User,
    *,
    title: str | None,
    statement: str | None,
    priorities: Sequence[Priority],
    subgroup: SubGroup | None,
) -> Theme:
    """Change a theme that is not public. The slug follows the title until first published."""
    if theme.is_published:
        raise ThemeIsPublished(PUBLISHED_MESSAGE)
    clean_title, clean_statement = _clean_wording(title, statement)
    _check_ownership(theme.partnership_id, priorities, subgroup)
    before = _wording(theme)
    # Once published, its address may be linked from anywhere: keep it even after withdrawal.
    if theme.published_at is None and clean_title != theme.title:
        theme.slug = unique_slug(theme.partnership_id, clean_title, exclude_theme_id=theme.id)
    theme.title = clean_title
    theme.statement = clean_statement
    theme.priorities = list(priorities)
    theme.subgroup = subgroup
    after = _wording(theme)
    changes = {
        name: {"from": before[name], "to": after[name]}
        for name in before
        if before[name] != after[name]
    }
    if changes:
        # Whoever changes the wording is one of its authors: publishing reads these entries to
        # keep four eyes on everything that goes public.
        audit.record("theme.updated", theme, user=user, slug=theme.slug, changes=changes)
    return theme


def _wording(theme: Theme) -> dict[str, object]:
    return {
        "title": theme.title,
        "statement": theme.statement,
        "priorities": sorted(p.code for p in theme.priorities),
        "subgroup": theme.subgroup.code if theme.subgroup is not None else None,
    }


def add_items(theme: Theme, items: Iterable[Feedback], user: User | None = None) -> ItemsAdded:
    """Put items in the theme. An item is in one theme at most, so it moves from any other."""
    items = list(items)
    check_can_theme(items)
    if any(item.partnership_id != theme.partnership_id for item in items):
        raise ThemeError("Select feedback items from the list", field="feedback")
    added = moved = 0
    now = utcnow()
    for item in items:
        if item.theme_id == theme.id or item.theme is theme:
            continue
        if item.theme_id is not None:
            moved += 1
        item.theme = theme
        item.status = FeedbackStatus.THEMED.value
        # Grouping an item into a theme is triaging it, even if it skipped the item page.
        if item.triaged_at is None:
            item.triaged_at = now
        added += 1
    return ItemsAdded(added=added, moved=moved)


def remove_items(theme: Theme, items: Iterable[Feedback], user: User | None = None) -> int:
    """Take items out of the theme; they go back to triaged. Returns how many were removed."""
    removed = 0
    for item in items:
        if item.theme_id != theme.id:
            continue
        item.theme = None
        item.status = FeedbackStatus.TRIAGED.value
        removed += 1
    return removed


def voice_counts(partnership: Partnership, theme_ids: Iterable[int]) -> dict[int, VoiceCount]:
    """Distinct feedback items, events and kinds of respondent behind each theme, in two queries.

    Computed, never stored, so it is right however items move. Safeguarding-flagged items do
    not count.
    """
    ids = list(set(theme_ids))
    counts = {theme_id: VoiceCount() for theme_id in ids}
    if not ids:
        return counts
    criteria = (Feedback.theme_id.in_(ids), Feedback.safeguarding_flag.is_(False))
    rows = db.session.execute(
        scoped(Feedback, *criteria, partnership=partnership)
        .with_only_columns(
            Feedback.theme_id,
            sa.func.count(sa.distinct(Feedback.id)),
            sa.func.count(sa.distinct(Feedback.event_id)),
        )
        .group_by(Feedback.theme_id)
    )
    kinds: dict[int | None, set[str]] = {}
    for theme_id, respondent in db.session.execute(
        scoped(Feedback, *criteria, partnership=partnership)
        .with_only_columns(Feedback.theme_id, Feedback.respondent)
        .distinct()
    ):
        kinds.setdefault(theme_id, set()).add(respondent)
    for theme_id, items, events in rows:
        if theme_id is not None:
            counts[theme_id] = VoiceCount(
                items=items, events=events, respondents=_in_vocabulary_order(kinds.get(theme_id))
            )
    return counts


def combined_voice_count(partnership: Partnership, theme_ids: Iterable[int]) -> VoiceCount:
    """The voice count the themes would have as one: an event or kind shared counts once."""
    ids = list(set(theme_ids))
    if not ids:
        return VoiceCount()
    criteria = (Feedback.theme_id.in_(ids), Feedback.safeguarding_flag.is_(False))
    items, events = db.session.execute(
        scoped(Feedback, *criteria, partnership=partnership)
        .with_only_columns(
            sa.func.count(sa.distinct(Feedback.id)), sa.func.count(sa.distinct(Feedback.event_id))
        )
        .order_by(None)
    ).one()
    kinds = set(
        db.session.scalars(
            scoped(Feedback, *criteria, partnership=partnership)
            .with_only_columns(Feedback.respondent)
            .distinct()
        )
    )
    return VoiceCount(items=items or 0, events=events or 0, respondents=_in_vocabulary_order(kinds))


def _in_vocabulary_order(kinds: set[str] | None) -> tuple[str, ...]:
    if not kinds:
        return ()
    order = {str(value): i for i, value in enumerate(Respondent)}
    return tuple(sorted(kinds, key=lambda k: (order.get(k, len(order)), k)))


def action_counts(partnership: Partnership, theme_ids: Iterable[int]) -> dict[int, int]:
    """How many actions answer each theme, in one query."""
    ids = list(set(theme_ids))
    counts = dict.fromkeys(ids, 0)
    if not ids:
        return counts
    rows = db.session.execute(
        scoped(Action, Action.theme_id.in_(ids), partnership=partnership)
        .with_only_columns(Action.theme_id, sa.func.count(Action.id))
        .group_by(Action.theme_id)
    )
    for theme_id, n in rows:
        counts[theme_id] = n
    return counts


# ---------------------------------------------------------------------------------------------
# Moving items, merging and splitting themes


def _items_in(theme: Theme) -> list[Feedback]:
    return list(
        db.session.scalars(
            sa.select(Feedback)
            .where(Feedback.theme_id == theme.id, Feedback.safeguarding_flag.is_(False))
            .order_by(Feedback.id)
        )
    )


def _has_public_answer(theme: Theme) -> bool:
    return theme.is_published and any(a.is_published for a in theme.actions)


def _settle_status(items: Iterable[Feedback], theme: Theme) -> None:
    """An item is answered when its theme has a published answer, and only then.

    A closed item stays closed wherever it goes.
    """
    answered = _has_public_answer(theme)
    for item in items:
        if item.status in (FeedbackStatus.THEMED.value, FeedbackStatus.ANSWERED.value):
            item.status = FeedbackStatus.ANSWERED.value if answered else FeedbackStatus.THEMED.value


def move_items(source: Theme, target: Theme | None, items: Sequence[Feedback], user: User) -> int:
    """Move items from one theme to another; returns how many moved. Both voice counts follow."""
    if target is None:
        raise ThemeError("Select the theme to move them to", field="target")
    if target.id == source.id:
        raise ThemeError("Select a different theme to move them to", field="target")
    if target.partnership_id != source.partnership_id:
        raise ThemeError("Select a theme from the list", field="target")
    if target.status == ThemeStatus.CLOSED.value:
        raise ThemeError(f'"{target.title}" is closed. Select an open theme', field="target")
    if not items:
        raise ThemeError("Select the items to move", field="feedback")
    check_can_theme(items)
    if any(item.theme_id != source.id for item in items):
        raise ThemeError("Select items that are in this theme", field="feedback")
    for item in items:
        item.theme = target
    _settle_status(items, target)
    audit.record(
        "theme.items_moved",
        source,
        user=user,
        theme_id=target.id,
        title=target.title,
        feedback_ids=sorted(item.id for item in items),
    )
    db.session.flush()
    return len(items)


@dataclass(frozen=True)
class MergePlan:
    """What merging `source` into `target` will do, worked out before anything changes.

    The check page shows it; merge_themes() does exactly it, or refuses if it has changed.
    """

    target: Theme
    source: Theme
    items: list[Feedback]
    actions: list[Action]
    # Published actions that would become visible, or stop being visible, somewhere new: they
    # go back to waiting for approval in their new theme rather than go public unseen.
    actions_to_draft: list[Action]
    priorities_added: list[Priority]
    # A published target's wording (its priorities too) changes only through withdrawal.
    priorities_not_added: list[Priority]
    subgroup_taken: SubGroup | None
    # "withdrawn" (it was published), "deleted" (never published) or "kept" (already withdrawn)
    source_outcome: str
    voices_after: VoiceCount

    @property
    def fingerprint(self) -> str:
        """Changes whenever what the plan would do changes; the check page carries it."""

        def theme(t: Theme) -> dict[str, object]:
            return {
                "id": t.id,
                "title": t.title,
                "publication": t.publication,
                "partnership": t.partnership_id,
            }

        content = {
            "target": theme(self.target),
            "source": theme(self.source),
            "items": sorted(i.id for i in self.items),
            "actions": sorted([a.id, a.publication] for a in self.actions),
            "to_draft": sorted(a.id for a in self.actions_to_draft),
            "priorities": sorted(p.id for p in self.priorities_added),
            "not_added": sorted(p.id for p in self.priorities_not_added),
            "subgroup": self.subgroup_taken.id if self.subgroup_taken else None,
            "outcome": self.source_outcome,
        }
        text = json.dumps(content, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def plan_merge(target: Theme, source: Theme | None) -> MergePlan:
    """Work out what merging `source` into `target` would do; ThemeError if it may not."""
    if source is None:
        raise ThemeError("Select the theme to merge into this one", field="source")
    if source.id == target.id:
        raise ThemeError("Select a different theme to merge into this one", field="source")
    if source.partnership_id != target.partnership_id:
        raise ThemeError("Select a theme from the list", field="source")
    items = _items_in(source)
    check_can_theme(items)
    actions = list(source.actions)
    # An action is public only while it and its theme are published. It keeps that only if it
    # was public before and will be after: anything else needs a fresh approval in context.
    stays_public = source.is_published and target.is_published
    to_draft = [a for a in actions if a.is_published and not stays_public]
    new_priorities = [p for p in source.priorities if p not in target.priorities]
    if target.is_published:
        added, not_added = [], new_priorities
        subgroup = None
    else:
        added, not_added = new_priorities, []
        subgroup = source.subgroup if target.subgroup is None else None
    if source.is_published:
        outcome = "withdrawn"
    elif source.publication == Publication.DRAFT.value and source.published_at is None:
        outcome = "deleted"
    else:
        # Withdrawn already: it keeps its address and its history, with nothing left in it.
        outcome = "kept"
    partnership = db.session.get(Partnership, target.partnership_id)
    assert partnership is not None
    return MergePlan(
        target=target,
        source=source,
        items=items,
        actions=actions,
        actions_to_draft=to_draft,
        priorities_added=added,
        priorities_not_added=not_added,
        subgroup_taken=subgroup,
        source_outcome=outcome,
        voices_after=combined_voice_count(partnership, [target.id, source.id]),
    )


def merge_themes(
    target: Theme, source: Theme | None, user: User, *, seen: str | None = None
) -> MergePlan:
    """Merge `source` into `target`: its items, actions and priorities move into `target`.

    `target` keeps its wording and its publication: nothing becomes public that was not
    approved where it now stands (see MergePlan.actions_to_draft). `source` is withdrawn if it
    was published, deleted if it never was, and audited either way. `seen` is the fingerprint
    of the plan the person checked; anything different is refused with MergeChanged.
    """
    plan = plan_merge(target, source)
    if seen is not None and seen != plan.fingerprint:
        raise MergeChanged()
    if plan.source_outcome == "withdrawn" and not permissions.can(user, "publish"):
        raise ThemeError(
            f'"{plan.source.title}" is published. Only someone who can withdraw it can merge it.'
        )
    source = plan.source
    now = utcnow()
    before = _wording(target)

    for item in plan.items:
        item.theme = target
    for action in plan.actions:
        action.theme = target
        if action in plan.actions_to_draft:
            action.publication = Publication.DRAFT.value
    if plan.priorities_added:
        target.priorities = [*target.priorities, *plan.priorities_added]
    if plan.subgroup_taken is not None:
        target.subgroup = plan.subgroup_taken
    if plan.actions and target.status == ThemeStatus.OPEN.value:
        target.status = ThemeStatus.RESPONDED.value
    db.session.flush()
    _settle_status(plan.items, target)
    if target.is_published and any(a.is_published for a in plan.actions):
        target.public_updated_at = now

    after = _wording(target)
    changes = {
        name: {"from": before[name], "to": after[name]}
        for name in before
        if before[name] != after[name]
    }
    if changes:
        # The person merging changed the wording, so four eyes counts them as one of its authors.
        audit.record("theme.updated", target, user=user, slug=target.slug, changes=changes)

    details: dict[str, Any] = {
        "slug": source.slug,
        "title": source.title,
        "feedback_ids": sorted(i.id for i in plan.items),
        "action_ids": sorted(a.id for a in plan.actions),
        "actions_back_to_draft": sorted(a.id for a in plan.actions_to_draft),
        "priorities_added": sorted(p.code for p in plan.priorities_added),
        "priorities_not_added": sorted(p.code for p in plan.priorities_not_added),
        "outcome": plan.source_outcome,
    }
    audit.record("theme.merged", target, user=user, merged_theme_id=source.id, **details)
    audit.record(
        "theme.merged_into",
        source,
        user=user,
        theme_id=target.id,
        into_title=target.title,
        into_slug=target.slug,
        outcome=plan.source_outcome,
    )
    if plan.source_outcome == "withdrawn":
        publishing.withdraw_theme(source, user, f'Merged into "{target.title}"')
    elif plan.source_outcome == "deleted":
        db.session.delete(source)
    db.session.flush()
    return plan


def split_theme(
    source: Theme,
    user: User,
    *,
    title: str | None,
    statement: str | None,
    priorities: Sequence[Priority],
    subgroup: SubGroup | None,
    items: Sequence[Feedback],
) -> Theme:
    """Take some of a theme's items into a new draft theme with its own wording and owner."""
    if not items:
        raise ThemeError("Select the items to take into the new theme", field="feedback")
    if any(item.theme_id != source.id for item in items):
        raise ThemeError("Select items that are in this theme", field="feedback")
    if len({item.id for item in items}) >= len(_items_in(source)):
        raise ThemeError(
            f'Leave at least one item in "{source.title}". To move every item, merge the '
            "themes instead.",
            field="feedback",
        )
    partnership = db.session.get(Partnership, source.partnership_id)
    assert partnership is not None
    theme = create_theme(
        partnership,
        user,
        title=title,
        statement=statement,
        priorities=priorities,
        subgroup=subgroup,
        items=items,
    )
    audit.record(
        "theme.split",
        source,
        user=user,
        theme_id=theme.id,
        title=theme.title,
        feedback_ids=sorted(item.id for item in items),
    )
    db.session.flush()
    return theme


# ---------------------------------------------------------------------------------------------
# Suggestions


SUGGESTIONS = 3


def suggest_themes(item: Feedback, limit: int = SUGGESTIONS) -> list[Theme]:
    """Existing themes most like what the item says, best first: at most `limit`.

    Only the item's own partnership's themes, never withdrawn or closed ones, and not the theme
    it is already in. A safeguarding-flagged item is never searched with.
    """
    if item.safeguarding_flag:
        return []
    partnership = db.session.get(Partnership, item.partnership_id)
    if partnership is None:
        return []
    criteria = [
        Theme.publication != Publication.WITHDRAWN.value,
        Theme.status != ThemeStatus.CLOSED.value,
    ]
    if item.theme_id is not None:
        criteria.append(Theme.id != item.theme_id)
    # The coordinator's rewording where there is one: the raw text may be gone (retention).
    text = item.redacted_text or item.raw_text
    hits = search.search(search.THEMES, partnership, text, *criteria, limit=limit)
    return [hit.row for hit in hits]
