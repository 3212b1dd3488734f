"""Administering a partnership: user accounts, and reading its strategy and audit log.

Plain functions over models. They add to the session and never commit: the view commits.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import selectinload

from app.extensions import db
from app.models import AuditEntry, Partnership, Priority, Strategy, SubGroup, User, UserRole
from app.models.vocab import Role, StrategyStatus
from app.services import audit, users
from app.services.scoping import scoped

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


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]
    total: int
    page: int
    pages: int
    per_page: int

    @property
    def first_number(self) -> int:
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last_number(self) -> int:
        return min(self.page * self.per_page, self.total)


def audit_filter_options(partnership: Partnership) -> tuple[list[str], list[str]]:
    """The verbs and object types that occur in this partnership's log, for the filters."""
    verbs = db.session.scalars(
        sa.select(AuditEntry.verb)
        .where(AuditEntry.partnership_id == partnership.id)
        .distinct()
        .order_by(AuditEntry.verb)
    ).all()
    types = db.session.scalars(
        sa.select(AuditEntry.object_type)
        .where(AuditEntry.partnership_id == partnership.id)
        .distinct()
        .order_by(AuditEntry.object_type)
    ).all()
    return list(verbs), list(types)


def audit_log(
    partnership: Partnership,
    *,
    verb: str | None = None,
    object_type: str | None = None,
    page: int = 1,
    per_page: int = AUDIT_PAGE_SIZE,
) -> AuditPage:
    """One page of the log, newest first. A page past the end shows the last page."""
    criteria = []
    if verb:
        criteria.append(AuditEntry.verb == verb)
    if object_type:
        criteria.append(AuditEntry.object_type == object_type)
    base = scoped(AuditEntry, *criteria, partnership=partnership)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(base.subquery())) or 0
    pages = max(1, math.ceil(total / per_page))
    page = min(max(1, page), pages)
    entries = db.session.scalars(
        base.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return AuditPage(list(entries), total, page, pages, per_page)
