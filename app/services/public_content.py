"""What the public "You said, we did" pages and open data show, read from published rows only.

This module is the public side of the privacy firewall (DESIGN.md section 6). It reads Themes,
Actions and Progress updates whose publication is "published", and numbers aggregated from
Feedback. It never selects Feedback text (raw or redacted), contacts, event facilitators or
names of users: every query names the columns or models it needs, and the ORM objects it loads
never leave this module (the pages get plain dataclasses), so no template can wander into a
lazy-loaded private relationship.

The number of queries is fixed however many themes are published: themes, their priorities,
actions, progress updates and one grouped count of feedback.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from urllib.parse import urlsplit

import sqlalchemy as sa
from sqlalchemy.orm import joinedload, load_only, selectinload

from app.extensions import db
from app.models import (
    Action,
    Event,
    Feedback,
    Partnership,
    Priority,
    ProgressUpdate,
    Strategy,
    SubGroup,
    Theme,
)
from app.models.vocab import (
    ActionKind,
    ActionStatus,
    Channel,
    EventKind,
    Publication,
    Respondent,
    StrategyStatus,
    ThemeStatus,
)
from app.services.scoping import current_partnership, scoped
from app.templating import govuk_date

PUBLISHED = Publication.PUBLISHED.value
# Counts of one category below this are shown as "fewer than 5" (DESIGN.md section 6).
SMALL_COUNT = 5
FEWER_THAN = "fewer than 5"

# The columns the public may read. Everything else (withdrawal reasons, who wrote or approved
# it, the owner) stays unloaded.
_THEME_COLUMNS = (
    Theme.slug,
    Theme.title,
    Theme.statement,
    Theme.status,
    Theme.subgroup_id,
    Theme.publication,
    Theme.published_at,
    Theme.public_updated_at,
)
_ACTION_COLUMNS = (
    Action.theme_id,
    Action.kind,
    Action.text,
    Action.reason,
    Action.status,
    Action.target_date,
    Action.done_date,
    Action.evidence_url,
    Action.subgroup_id,
    Action.publication,
    Action.published_at,
)
_PRIORITY_COLUMNS = (Priority.code, Priority.title, Priority.summary, Priority.position)
_SUBGROUP_COLUMNS = (SubGroup.code, SubGroup.title)


class PublicThemeNotFound(LookupError):
    """No published theme has that slug in this partnership."""


@dataclass(frozen=True)
class PublicPriority:
    id: int
    code: str
    title: str
    summary: str | None = None

    @property
    def anchor(self) -> str:
        return f"priority-{self.code.lower()}"


@dataclass(frozen=True)
class PublicSubGroup:
    code: str
    title: str

    @property
    def phrase(self) -> str:
        """A body, never a person: the Co-production, Communication and Engagement sub-group."""
        return subgroup_phrase(self.title)

    @property
    def sentence_start(self) -> str:
        return "T" + self.phrase[1:]


@dataclass(frozen=True)
class PublicUpdate:
    happened_on: date
    text: str
    new_status: str | None

    @property
    def new_status_label(self) -> str | None:
        return _label(ActionStatus, self.new_status)


@dataclass(frozen=True)
class PublicAction:
    id: int
    kind: str
    text: str
    reason: str | None
    status: str
    target_date: date | None
    done_date: date | None
    evidence_url: str | None
    subgroup: PublicSubGroup | None
    published_at: datetime | None
    updates: tuple[PublicUpdate, ...] = ()

    @property
    def kind_label(self) -> str:
        return _label(ActionKind, self.kind) or self.kind

    @property
    def status_label(self) -> str:
        return _label(ActionStatus, self.status) or self.status

    @property
    def headline(self) -> str:
        """The answer in a few words: "We did, on 3 November 2026", "We will, by 31 March 2027",
        "We can't".

        The reason a thing can't be done is often several sentences, so it is never part of
        the headline: pages and outputs show it after the action text (see because).
        """
        if self.kind == ActionKind.WE_WILL.value and self.target_date:
            return f"{self.kind_label}, by {govuk_date(self.target_date)}"
        if self.kind == ActionKind.WE_DID.value and self.done_date:
            return f"{self.kind_label}, on {govuk_date(self.done_date)}"
        return self.kind_label

    @property
    def because(self) -> str | None:
        """The reason of a we_cant answer as plain text, "Because: <reason>", or None."""
        reason = (self.reason or "").strip()
        return f"Because: {reason}" if reason else None


@dataclass(frozen=True)
class CountRow:
    """One category of a breakdown: the stored value, its words and how many."""

    value: str
    label: str
    count: int
    # Hidden as well, so that a small neighbour cannot be worked out from the total.
    also_suppressed: bool = False

    @property
    def public(self) -> int | str:
        """The count as it may be published: "fewer than 5" where it is small or shielding one."""
        if self.also_suppressed:
            return FEWER_THAN
        return public_count(self.count)


def suppress_breakdown(rows: list[CountRow]) -> tuple[CountRow, ...]:
    """Secondary suppression: a breakdown of a published total never leaves exactly one small
    category hidden, or subtracting the others from the total would reveal it. The smallest
    other category is hidden with it."""
    small = [r for r in rows if 0 < r.count < SMALL_COUNT]
    if len(small) != 1:
        return tuple(rows)
    others = [r for r in rows if r.count >= SMALL_COUNT]
    if not others:
        return tuple(rows)
    shield = min(others, key=lambda r: (r.count, r.label))
    return tuple(
        CountRow(r.value, r.label, r.count, also_suppressed=True) if r is shield else r
        for r in rows
    )


@dataclass(frozen=True)
class Voices:
    """How many feedback items a theme was written from, and of which kinds. Counts only."""

    total: int = 0
    events: int = 0
    first_heard: date | None = None
    by_respondent: tuple[CountRow, ...] = ()
    by_place: tuple[CountRow, ...] = ()


@dataclass(frozen=True)
class PublicTheme:
    id: int
    slug: str
    title: str
    statement: str
    status: str
    priorities: tuple[PublicPriority, ...]
    subgroup: PublicSubGroup | None
    published_at: datetime | None
    last_updated: datetime | None
    actions: tuple[PublicAction, ...]
    voices: Voices

    @property
    def status_label(self) -> str:
        return _label(ThemeStatus, self.status) or self.status


@dataclass(frozen=True)
class PriorityGroup:
    """A heading on the list page: a priority of the active strategy, or "Other things"."""

    priority: PublicPriority | None
    themes: tuple[PublicTheme, ...]

    @property
    def anchor(self) -> str:
        return self.priority.anchor if self.priority else "other-things-you-told-us"

    @property
    def title(self) -> str:
        return self.priority.title if self.priority else "Other things you told us"


@dataclass(frozen=True)
class PublicPartnership:
    name: str
    slug: str
    local_offer_url: str | None
    response_promise_days: int
    contact_email: str | None


@dataclass(frozen=True)
class PublicStrategy:
    title: str
    slug: str
    starts: date | None
    ends: date | None
    priorities: tuple[PublicPriority, ...]


@dataclass(frozen=True)
class PublicPage:
    """Everything the list page, the JSON, the CSV and the feed show."""

    partnership: PublicPartnership
    strategy: PublicStrategy | None
    themes: tuple[PublicTheme, ...]
    groups: tuple[PriorityGroup, ...] = field(default=())

    @property
    def is_empty(self) -> bool:
        return not self.themes

    @property
    def last_updated(self) -> datetime | None:
        stamps = [t.last_updated for t in self.themes if t.last_updated]
        return max(stamps) if stamps else None


# -- wording helpers ------------------------------------------------------------------------


def subgroup_phrase(title: str) -> str:
    title = title.strip()
    if "group" in title.lower():
        return f"the {title}"
    return f"the {title} sub-group"


def public_count(value: int) -> int | str:
    """A count as open data shows it: the number, or "fewer than 5" for 1 to 4."""
    return FEWER_THAN if 0 < value < SMALL_COUNT else value


def _label(vocabulary: type, value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return vocabulary(value).label
    except ValueError:
        return value


def _safe_url(url: str | None) -> str | None:
    """Only web addresses become links on a public page, never javascript: or data: URLs."""
    if not url:
        return None
    parts = urlsplit(url.strip())
    if parts.scheme.lower() in ("http", "https") and parts.hostname:
        return url.strip()
    return None


# -- reads ----------------------------------------------------------------------------------


def public_partnership(partnership: Partnership | None = None) -> PublicPartnership:
    p = partnership or current_partnership()
    settings = p.settings or {}
    contact = settings.get("accessibility_contact_email") or settings.get("contact_email")
    return PublicPartnership(
        name=p.public_name,
        slug=p.slug,
        local_offer_url=_safe_url(p.local_offer_url),
        response_promise_days=p.response_promise_days,
        contact_email=contact if isinstance(contact, str) and "@" in contact else None,
    )


def active_strategy(partnership: Partnership | None = None) -> PublicStrategy | None:
    p = partnership or current_partnership()
    strategy = db.session.scalars(
        scoped(Strategy, Strategy.status == StrategyStatus.ACTIVE.value, partnership=p)
        .options(
            load_only(Strategy.title, Strategy.slug, Strategy.starts, Strategy.ends),
            selectinload(Strategy.priorities).load_only(*_PRIORITY_COLUMNS),
        )
        .order_by(Strategy.id.desc())
        .limit(1)
    ).first()
    if strategy is None:
        return None
    return PublicStrategy(
        title=strategy.title,
        slug=strategy.slug,
        starts=strategy.starts,
        ends=strategy.ends,
        priorities=tuple(
            PublicPriority(id=pr.id, code=pr.code, title=pr.title, summary=pr.summary)
            for pr in strategy.priorities
        ),
    )


def published_page(partnership: Partnership | None = None) -> PublicPage:
    """Every published theme of the partnership, grouped by the active strategy's priorities."""
    p = partnership or current_partnership()
    strategy = active_strategy(p)
    themes = _published_themes(p)
    return PublicPage(
        partnership=public_partnership(p),
        strategy=strategy,
        themes=themes,
        groups=_group_by_priority(themes, strategy),
    )


def published_theme(slug: str, partnership: Partnership | None = None) -> PublicTheme:
    """One published theme by its slug; PublicThemeNotFound for unknown or unpublished slugs."""
    p = partnership or current_partnership()
    themes = _published_themes(p, slug=slug)
    if not themes:
        raise PublicThemeNotFound(slug)
    return themes[0]


def _published_themes(p: Partnership, slug: str | None = None) -> tuple[PublicTheme, ...]:
    criteria = [Theme.publication == PUBLISHED]
    if slug is not None:
        criteria.append(Theme.slug == slug)
    rows = db.session.scalars(
        scoped(Theme, *criteria, partnership=p)
        # Only public columns, and never Theme.feedback: its rows carry the private text.
        .options(
            load_only(*_THEME_COLUMNS),
            selectinload(Theme.priorities).load_only(*_PRIORITY_COLUMNS),
            joinedload(Theme.subgroup).load_only(*_SUBGROUP_COLUMNS),
        )
        .order_by(
            sa.func.coalesce(Theme.public_updated_at, Theme.published_at).desc(), Theme.id.desc()
        )
    ).all()
    if not rows:
        return ()
    actions = _published_actions(p, slug)
    voices = _voices(p, slug)
    return tuple(
        PublicTheme(
            id=t.id,
            slug=t.slug,
            title=t.title,
            statement=t.statement,
            status=_public_status(t, actions.get(t.id, ())),
            priorities=tuple(
                PublicPriority(id=pr.id, code=pr.code, title=pr.title, summary=pr.summary)
                for pr in t.priorities
            ),
            subgroup=PublicSubGroup(t.subgroup.code, t.subgroup.title) if t.subgroup else None,
            published_at=t.published_at,
            last_updated=t.public_updated_at or t.published_at,
            actions=actions.get(t.id, ()),
            voices=voices.get(t.id, Voices()),
        )
        for t in rows
    )


def _public_status(theme: Theme, actions: tuple[PublicAction, ...]) -> str:
    # A draft answer can move the private status to "responded"; the public only sees
    # "responded" once an answer is itself published.
    if theme.status == ThemeStatus.CLOSED.value:
        return ThemeStatus.CLOSED.value
    return ThemeStatus.RESPONDED.value if actions else ThemeStatus.OPEN.value


def _published_actions(p: Partnership, slug: str | None) -> dict[int, tuple[PublicAction, ...]]:
    """Published actions of published themes, with their published progress updates."""
    theme_criteria = [Theme.publication == PUBLISHED, Theme.partnership_id == p.id]
    if slug is not None:
        theme_criteria.append(Theme.slug == slug)
    actions = db.session.scalars(
        scoped(Action, Action.publication == PUBLISHED, partnership=p)
        .join(Theme, Action.theme_id == Theme.id)
        .where(*theme_criteria)
        # The owner is a person: only the sub-group is loaded.
        .options(
            load_only(*_ACTION_COLUMNS),
            joinedload(Action.subgroup).load_only(*_SUBGROUP_COLUMNS),
        )
        .order_by(Action.theme_id, Action.id)
    ).all()
    updates = db.session.execute(
        scoped(ProgressUpdate, ProgressUpdate.publication == PUBLISHED, partnership=p)
        .with_only_columns(
            ProgressUpdate.action_id,
            ProgressUpdate.happened_on,
            ProgressUpdate.text,
            ProgressUpdate.new_status,
        )
        .join(Action, ProgressUpdate.action_id == Action.id)
        .join(Theme, Action.theme_id == Theme.id)
        .where(Action.publication == PUBLISHED, *theme_criteria)
        .order_by(ProgressUpdate.happened_on, ProgressUpdate.id)
    ).all()
    by_action: dict[int, list[PublicUpdate]] = defaultdict(list)
    for action_id, happened_on, text, new_status in updates:
        by_action[action_id].append(PublicUpdate(happened_on, text, new_status))
    by_theme: dict[int, list[PublicAction]] = defaultdict(list)
    for a in actions:
        by_theme[a.theme_id].append(
            PublicAction(
                id=a.id,
                kind=a.kind,
                text=a.text,
                reason=a.reason if a.kind == ActionKind.WE_CANT.value else None,
                status=a.status,
                target_date=a.target_date,
                done_date=a.done_date,
                evidence_url=_safe_url(a.evidence_url),
                subgroup=PublicSubGroup(a.subgroup.code, a.subgroup.title) if a.subgroup else None,
                published_at=a.published_at,
                updates=tuple(by_action.get(a.id, ())),
            )
        )
    return {theme_id: tuple(items) for theme_id, items in by_theme.items()}


def _voices(p: Partnership, slug: str | None) -> dict[int, Voices]:
    """Counts of the feedback behind each published theme, in one grouped query.

    Safeguarding-flagged items and items marked not for publication are left out of every
    public number. Only ids, kinds and dates are selected: never any text.
    """
    stmt = (
        scoped(Feedback, partnership=p)
        .with_only_columns(
            Feedback.theme_id,
            Feedback.event_id,
            Event.kind,
            Feedback.channel,
            Feedback.respondent,
            sa.func.count(Feedback.id),
            sa.func.min(Feedback.received_on),
        )
        .join(Theme, Feedback.theme_id == Theme.id)
        .outerjoin(Event, sa.and_(Feedback.event_id == Event.id, Event.partnership_id == p.id))
        .where(
            Theme.partnership_id == p.id,
            Theme.publication == PUBLISHED,
            Feedback.safeguarding_flag.is_(False),
            Feedback.not_for_publication.is_(False),
        )
        .group_by(
            Feedback.theme_id, Feedback.event_id, Event.kind, Feedback.channel, Feedback.respondent
        )
    )
    if slug is not None:
        stmt = stmt.where(Theme.slug == slug)

    totals: dict[int, int] = defaultdict(int)
    events: dict[int, set[int]] = defaultdict(set)
    first: dict[int, date] = {}
    respondents: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    places: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    place_labels: dict[str, str] = {}
    for theme_id, event_id, event_kind, channel, respondent, count, earliest in db.session.execute(
        stmt
    ):
        if theme_id is None:  # the join makes this impossible; it narrows the type
            continue
        totals[theme_id] += count
        if event_id is not None:
            events[theme_id].add(event_id)
        if earliest is not None and (theme_id not in first or earliest < first[theme_id]):
            first[theme_id] = earliest
        respondents[theme_id][respondent] += count
        # Where it was heard: the kind of event, or for items sent in another way, the channel.
        if event_kind:
            place, label = event_kind, _label(EventKind, event_kind)
        else:
            place, label = channel, _label(Channel, channel)
        # "Survey" is both a kind of event and a channel: one row, not two.
        place_labels.setdefault(label or place, place)
        places[theme_id][label or place] += count

    respondent_order = {r.value: i for i, r in enumerate(Respondent)}
    result: dict[int, Voices] = {}
    for theme_id, total in totals.items():
        by_respondent = sorted(
            respondents[theme_id].items(),
            key=lambda kv: (-kv[1], respondent_order.get(kv[0], 99)),
        )
        by_place = sorted(places[theme_id].items(), key=lambda kv: (-kv[1], kv[0]))
        result[theme_id] = Voices(
            total=total,
            events=len(events[theme_id]),
            first_heard=first.get(theme_id),
            by_respondent=suppress_breakdown(
                [
                    CountRow(value, _label(Respondent, value) or value, n)
                    for value, n in by_respondent
                ]
            ),
            by_place=suppress_breakdown(
                [CountRow(place_labels[lbl], lbl, n) for lbl, n in by_place]
            ),
        )
    return result


def _group_by_priority(
    themes: tuple[PublicTheme, ...], strategy: PublicStrategy | None
) -> tuple[PriorityGroup, ...]:
    """Each theme under its first priority (by position) of the active strategy."""
    priorities = strategy.priorities if strategy else ()
    # By id, not code: an archived strategy may reuse a code for a different priority.
    buckets: dict[int, list[PublicTheme]] = {pr.id: [] for pr in priorities}
    other: list[PublicTheme] = []
    for theme in themes:
        home = next((pr.id for pr in theme.priorities if pr.id in buckets), None)
        if home is None:
            other.append(theme)
        else:
            buckets[home].append(theme)
    groups = [PriorityGroup(pr, tuple(buckets[pr.id])) for pr in priorities]
    if other:
        groups.append(PriorityGroup(None, tuple(other)))
    return tuple(groups)


def also_about(theme: PublicTheme, group: PriorityGroup) -> tuple[PublicPriority, ...]:
    """The theme's other priorities, for "Also about: ..." under the one it is listed under."""
    shown = group.priority.id if group.priority else None
    return tuple(pr for pr in theme.priorities if pr.id != shown)
