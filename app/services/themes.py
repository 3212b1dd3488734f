"""Themes: the public "You said", written in the partnership's words from many feedback items.

Plain functions on models. They add to the session and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from app.extensions import db
from app.models import Action, Feedback, Partnership, Priority, SubGroup, Theme, User
from app.models.base import utcnow
from app.models.vocab import FeedbackStatus, Publication, ThemeStatus
from app.services import audit
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


@dataclass(frozen=True)
class VoiceCount:
    items: int = 0
    events: int = 0


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
    """Distinct feedback items and events behind each theme, in one query.

    Computed, never stored, so it is right however items move. Safeguarding-flagged items do
    not count.
    """
    ids = list(set(theme_ids))
    counts = {theme_id: VoiceCount() for theme_id in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        scoped(
            Feedback,
            Feedback.theme_id.in_(ids),
            Feedback.safeguarding_flag.is_(False),
            partnership=partnership,
        )
        .with_only_columns(
            Feedback.theme_id,
            sa.func.count(sa.distinct(Feedback.id)),
            sa.func.count(sa.distinct(Feedback.event_id)),
        )
        .group_by(Feedback.theme_id)
    )
    for theme_id, items, events in rows:
        if theme_id is not None:
            counts[theme_id] = VoiceCount(items=items, events=events)
    return counts


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
