"""What is waiting for a signed-in person, by role, for their home page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa

from app.extensions import db
from app.models import Action, Event, Feedback, ProgressUpdate, Theme, User
from app.models.vocab import ActionStatus, FeedbackStatus, Publication, Role
from app.services import permissions


@dataclass(frozen=True)
class Task:
    title: str
    count: int
    one: str
    many: str
    endpoint: str

    @property
    def description(self) -> str:
        return self.one if self.count == 1 else self.many


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.subquery())) or 0


def summary_for(user: User) -> list[Task]:
    pid = user.partnership_id
    tasks: list[Task] = []
    if permissions.can(user, "capture"):
        events = _count(
            sa.select(Event.id).where(Event.partnership_id == pid, Event.created_by_id == user.id)
        )
        tasks.append(
            Task(
                "Log feedback",
                events,
                "event you have created",
                "events you have created",
                "capture.index",
            )
        )
    if permissions.can(user, "triage"):
        waiting = _count(
            sa.select(Feedback.id).where(
                Feedback.partnership_id == pid,
                Feedback.status == FeedbackStatus.NEW.value,
                Feedback.safeguarding_flag.is_(False),
            )
        )
        tasks.append(
            Task(
                "Triage",
                waiting,
                "new feedback item waiting",
                "new feedback items waiting",
                "triage.index",
            )
        )
    if permissions.can(user, "safeguarding"):
        flagged = _count(
            sa.select(Feedback.id).where(
                Feedback.partnership_id == pid, Feedback.safeguarding_flag.is_(True)
            )
        )
        tasks.append(
            Task(
                "Safeguarding",
                flagged,
                "feedback item flagged as a safeguarding concern",
                "feedback items flagged as a safeguarding concern",
                "triage.safeguarding",
            )
        )
    if permissions.can(user, "respond"):
        stmt = sa.select(Theme.id).where(Theme.partnership_id == pid, ~Theme.actions.any())
        if not user.has_role(Role.COORDINATOR, Role.ADMIN):
            stmt = stmt.where(Theme.subgroup_id.in_([sg.id for sg in user.subgroups]))
        tasks.append(
            Task(
                "Respond",
                _count(stmt),
                "theme with no action yet",
                "themes with no action yet",
                "respond.index",
            )
        )
    if permissions.can(user, "publish"):
        draft = Publication.DRAFT.value
        pending = _count(
            sa.select(Theme.id).where(
                Theme.partnership_id == pid,
                sa.or_(
                    Theme.publication == draft,
                    Theme.actions.any(Action.publication == draft),
                    Theme.actions.any(Action.updates.any(ProgressUpdate.publication == draft)),
                ),
            )
        )
        tasks.append(
            Task(
                "Approve",
                pending,
                "theme with something waiting for approval",
                "themes with something waiting for approval",
                "triage.approvals",
            )
        )
    if permissions.can(user, "administer"):
        users = _count(sa.select(User.id).where(User.partnership_id == pid))
        tasks.append(Task("Admin", users, "user account", "user accounts", "admin.index"))
    return tasks


@dataclass(frozen=True)
class Evidence:
    """The numbers a SEND Board asks for: voices heard, what was answered, what is overdue."""

    events: int
    people_taking_part: int
    feedback_items: int
    themes_published: int
    themes_waiting_for_response: int
    actions_by_status: dict[str, int]
    actions_overdue: int


def evidence_for(user: User, today: date | None = None) -> Evidence:
    """Counts only; safeguarding-flagged items are never counted."""
    pid = user.partnership_id
    today = today or date.today()
    events, people = db.session.execute(
        sa.select(
            sa.func.count(Event.id),
            sa.func.coalesce(
                sa.func.sum(Event.adults_count + Event.young_people_count + Event.children_count),
                0,
            ),
        ).where(Event.partnership_id == pid)
    ).one()
    feedback_items = _count(
        sa.select(Feedback.id).where(
            Feedback.partnership_id == pid, Feedback.safeguarding_flag.is_(False)
        )
    )
    published = Publication.PUBLISHED.value
    themes_published = _count(
        sa.select(Theme.id).where(Theme.partnership_id == pid, Theme.publication == published)
    )
    waiting = _count(
        sa.select(Theme.id).where(
            Theme.partnership_id == pid,
            Theme.publication == published,
            ~Theme.actions.any(Action.publication == published),
        )
    )
    is_public = (
        Action.partnership_id == pid,
        Action.publication == published,
        Action.theme.has(Theme.publication == published),
    )
    by_status = dict(
        db.session.execute(
            sa.select(Action.status, sa.func.count(Action.id))
            .where(*is_public)
            .group_by(Action.status)
        ).all()
    )
    overdue = _count(
        sa.select(Action.id).where(
            *is_public,
            Action.target_date < today,
            Action.status.in_([ActionStatus.PLANNED.value, ActionStatus.IN_PROGRESS.value]),
        )
    )
    return Evidence(
        events=events,
        people_taking_part=int(people),
        feedback_items=feedback_items,
        themes_published=themes_published,
        themes_waiting_for_response=waiting,
        actions_by_status={s.value: by_status.get(s.value, 0) for s in ActionStatus},
        actions_overdue=overdue,
    )
