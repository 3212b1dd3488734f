"""Small factories for tests: real rows, committed, with sensible defaults."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from app.extensions import db
from app.models import (
    Action,
    Event,
    Feedback,
    Outcome,
    Partnership,
    Priority,
    ProgressUpdate,
    Strategy,
    SubGroup,
    Theme,
    User,
    UserRole,
)
from app.models.base import utcnow
from app.models.vocab import Publication, Role
from app.services.users import hash_password

PASSWORD = "correct horse battery staple"
_seq = itertools.count(1)
_HASH: dict[str, str] = {}


def _password_hash() -> str:
    if PASSWORD not in _HASH:
        _HASH[PASSWORD] = hash_password(PASSWORD)
    return _HASH[PASSWORD]


def make_partnership(slug: str | None = None, **kw: Any) -> Partnership:
    n = next(_seq)
    p = Partnership(
        name=kw.pop("name", f"Testshire SEND Partnership {n}"), slug=slug or f"testshire-{n}", **kw
    )
    db.session.add(p)
    db.session.commit()
    return p


def make_strategy(
    partnership: Partnership,
    priorities: tuple[str, ...] = ("SEMH", "AUTISM"),
    subgroups: tuple[str, ...] = ("CCE", "QPMI"),
) -> Strategy:
    s = Strategy(partnership=partnership, title="Testshire SEND Strategy", slug=f"s-{next(_seq)}")
    db.session.add(s)
    s.priorities = [
        Priority(partnership_id=partnership.id, code=c, title=f"Priority {c}", position=i)
        for i, c in enumerate(priorities)
    ]
    s.subgroups = [
        SubGroup(partnership_id=partnership.id, code=c, title=f"Sub-group {c}", position=i)
        for i, c in enumerate(subgroups)
    ]
    s.outcomes = [Outcome(partnership_id=partnership.id, text="My voice is heard", position=0)]
    db.session.commit()
    return s


def make_user(
    partnership: Partnership,
    *roles: str,
    subgroups: list[SubGroup] | None = None,
    email: str | None = None,
    name: str | None = None,
) -> User:
    n = next(_seq)
    user = User(
        partnership=partnership,
        email=email or f"user{n}@example.org",
        name=name or f"Test User {n}",
        password_hash=_password_hash(),
        session_token=secrets.token_hex(16),
    )
    user.role_rows = [UserRole(role=r) for r in roles]
    user.subgroups = subgroups or []
    db.session.add(user)
    db.session.commit()
    return user


def make_event(partnership: Partnership, created_by: User | None = None, **kw: Any) -> Event:
    defaults: dict[str, Any] = {
        "name": "Coffee morning",
        "kind": "coffee_morning",
        "held_on": date(2026, 11, 2),
        "place": "Family hub",
        "adults_count": 12,
        "young_people_count": 3,
        "children_count": 2,
    }
    defaults.update(kw)
    event = Event(partnership_id=partnership.id, created_by=created_by, **defaults)
    db.session.add(event)
    db.session.commit()
    return event


def make_feedback(
    partnership: Partnership,
    *,
    event: Event | None = None,
    entered_by: User | None = None,
    priorities: list[Priority] | None = None,
    **kw: Any,
) -> Feedback:
    defaults: dict[str, Any] = {
        "raw_text": "The wait for an assessment is far too long.",
        "respondent": "parent_carer",
        "sentiment": "needs_change",
        "received_on": event.held_on if event else date(2026, 11, 2),
    }
    defaults.update(kw)
    item = Feedback(partnership_id=partnership.id, event=event, entered_by=entered_by, **defaults)
    item.priorities = priorities or []
    db.session.add(item)
    db.session.commit()
    return item


def make_theme(
    partnership: Partnership,
    *,
    subgroup: SubGroup | None = None,
    priorities: list[Priority] | None = None,
    feedback: list[Feedback] | None = None,
    published: bool = False,
    created_by: User | None = None,
    **kw: Any,
) -> Theme:
    n = next(_seq)
    defaults: dict[str, Any] = {
        "title": f"Waiting times {n}",
        "slug": f"waiting-times-{n}",
        "statement": "Families told us they wait too long and are not kept informed.",
    }
    defaults.update(kw)
    theme = Theme(
        partnership_id=partnership.id,
        subgroup=subgroup,
        created_by_id=getattr(created_by, "id", None),
        **defaults,
    )
    theme.priorities = priorities or []
    theme.feedback = feedback or []
    for item in theme.feedback:
        item.status = "themed"
    if published:
        _publish(theme)
    db.session.add(theme)
    db.session.commit()
    return theme


def make_action(
    theme: Theme, *, published: bool = False, created_by: User | None = None, **kw: Any
) -> Action:
    defaults: dict[str, Any] = {
        "kind": "we_will",
        "text": "We will write to every family on the waiting list each month.",
        "status": "in_progress",
        "target_date": date(2027, 3, 31),
    }
    defaults.update(kw)
    action = Action(
        partnership_id=theme.partnership_id,
        theme=theme,
        subgroup_id=theme.subgroup_id,
        created_by_id=getattr(created_by, "id", None),
        **defaults,
    )
    if published:
        _publish(action)
    db.session.add(action)
    db.session.commit()
    return action


def make_update(action: Action, *, published: bool = False, **kw: Any) -> ProgressUpdate:
    defaults: dict[str, Any] = {
        "happened_on": date(2026, 11, 10),
        "text": "The first monthly letters went out.",
    }
    defaults.update(kw)
    update = ProgressUpdate(partnership_id=action.partnership_id, action=action, **defaults)
    if published:
        _publish(update)
    db.session.add(update)
    db.session.commit()
    return update


def _publish(obj: Theme | Action | ProgressUpdate) -> None:
    obj.publication = Publication.PUBLISHED.value
    obj.published_at = utcnow()
    if isinstance(obj, Theme):
        obj.public_updated_at = obj.published_at


@dataclass
class World:
    partnership: Partnership
    strategy: Strategy
    priorities: dict[str, Priority]
    subgroups: dict[str, SubGroup]
    users: dict[str, User] = field(default_factory=dict)

    def __getattr__(self, name: str) -> User:
        users = self.__dict__.get("users", {})
        if name in users:
            return users[name]
        raise AttributeError(name)


def make_world(slug: str | None = None) -> World:
    p = make_partnership(slug)
    s = make_strategy(p)
    priorities = {pr.code: pr for pr in s.priorities}
    subgroups = {sg.code: sg for sg in s.subgroups}
    world = World(p, s, priorities, subgroups)
    world.users = {
        "volunteer": make_user(p, Role.VOLUNTEER),
        "coordinator": make_user(p, Role.COORDINATOR),
        "coordinator2": make_user(p, Role.COORDINATOR),
        "safeguarding_lead": make_user(p, Role.SAFEGUARDING_LEAD),
        "subgroup_lead": make_user(p, Role.SUBGROUP_LEAD, subgroups=[subgroups["CCE"]]),
        "other_lead": make_user(p, Role.SUBGROUP_LEAD, subgroups=[subgroups["QPMI"]]),
        "board_viewer": make_user(p, Role.BOARD_VIEWER),
        "admin": make_user(p, Role.ADMIN),
    }
    return world
