"""Every permission decision lives here: the role matrix (DESIGN.md section 5) and object rules.

Views declare what they need with @requires(...) or @public; the route-matrix test reads those
markers, so a route without a rule fails the suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

from flask import abort, jsonify, request, url_for
from flask_login import current_user

from app.models import Action, CaptureUpload, Event, Feedback, Theme, User
from app.models.vocab import Role

F = TypeVar("F", bound=Callable[..., Any])

R = Role
# permission -> roles that hold it
MATRIX: dict[str, frozenset[str]] = {
    # log feedback and manage one's own events
    "capture": frozenset({R.VOLUNTEER, R.COORDINATOR, R.SUBGROUP_LEAD, R.ADMIN}),
    # the triage queue: tag, redact, group into themes
    "triage": frozenset({R.COORDINATOR, R.ADMIN}),
    # the safeguarding queue
    "safeguarding": frozenset({R.SAFEGUARDING_LEAD}),
    # write actions and progress updates
    "respond": frozenset({R.COORDINATOR, R.SUBGROUP_LEAD, R.ADMIN}),
    # approve for publication and withdraw
    "publish": frozenset({R.COORDINATOR, R.ADMIN}),
    # dashboards and reports
    "reports": frozenset({R.COORDINATOR, R.SUBGROUP_LEAD, R.BOARD_VIEWER, R.ADMIN}),
    # strategy, users and settings
    "administer": frozenset({R.ADMIN}),
    # any signed-in person: their own home page, signing out
    "signed_in": frozenset(R),
}

SEE_ALL_FEEDBACK = frozenset({R.COORDINATOR, R.ADMIN})


def can(user: Any, permission: str) -> bool:
    if permission not in MATRIX:
        raise KeyError(f"Unknown permission {permission!r}")
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    return bool(user.roles & MATRIX[permission])


def requires(permission: str, *, signed_out: Callable[..., Any] | None = None) -> Callable[[F], F]:
    """Guard a view: anonymous people go to sign in, a wrong role gets 403.

    `signed_out` answers a POST from someone whose session ended while the form was open, so
    a view can keep what they typed instead of losing it in the redirect to sign in.
    """
    if permission not in MATRIX:
        raise KeyError(f"Unknown permission {permission!r}")

    def decorate(view: F) -> F:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            from app.extensions import login_manager

            if not current_user.is_authenticated:
                if wants_json():
                    return signed_out_json()
                if signed_out is not None and request.method == "POST":
                    return signed_out(*args, **kwargs)
                return login_manager.unauthorized()
            if not can(current_user, permission):
                abort(403)
            return view(*args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        wrapped.keeps_typed_when_signed_out = signed_out is not None  # type: ignore[attr-defined]
        return wrapped  # type: ignore[return-value]

    return decorate


def wants_json() -> bool:
    """A script asked (the offline capture queue), not a browser tab: it needs an answer it
    can read, never a redirect to an HTML sign-in page it would take for success."""
    return request.is_json or request.accept_mimetypes.best == "application/json"


def signed_out_json() -> Any:
    """401 for a script whose session ended: it keeps its work and tells the person to sign in."""
    from app.extensions import login_manager

    response = jsonify(signed_out=True, sign_in_url=url_for(str(login_manager.login_view)))
    response.status_code = 401
    response.headers["Cache-Control"] = "no-store"
    return response


def public(view: F) -> F:
    """Mark a view as open to everyone, so the route-matrix test knows it was meant."""
    view.is_public = True  # type: ignore[attr-defined]
    return view


def _subgroup_ids(user: User) -> set[int]:
    return {sg.id for sg in user.subgroups}


def can_see_feedback(user: User, item: Feedback) -> bool:
    if item.safeguarding_flag:
        return user.has_role(R.SAFEGUARDING_LEAD)
    if user.has_role(*SEE_ALL_FEEDBACK):
        return True
    if user.has_role(R.SUBGROUP_LEAD):
        owners = {item.routed_subgroup_id, item.theme.subgroup_id if item.theme else None}
        if owners & _subgroup_ids(user):
            return True
    if not user.has_role(R.VOLUNTEER, R.SUBGROUP_LEAD):
        return False
    if item.entered_by_id == user.id:
        return True
    # A family's words sent through the event's own link reach whoever runs the event.
    return (
        item.entered_by_id is None
        and item.channel == "self_submission"
        and item.event is not None
        and item.event.created_by_id == user.id
    )


def can_edit_feedback(user: User, item: Feedback) -> bool:
    """Volunteers correct their own items until a coordinator has triaged them."""
    if item.safeguarding_flag:
        return False
    if user.has_role(*SEE_ALL_FEEDBACK):
        return True
    return can(user, "capture") and item.entered_by_id == user.id and item.status == "new"


def can_manage_event(user: User, event: Event) -> bool:
    if user.has_role(*SEE_ALL_FEEDBACK):
        return True
    return can(user, "capture") and event.created_by_id == user.id


def can_use_upload(user: User, upload: CaptureUpload) -> bool:
    """A pasted or uploaded batch waiting for confirmation is private to the person who made it,
    coordinators included: it may hold what families said and, before its columns are chosen,
    a Forms export's names and e-mail addresses."""
    return can(user, "capture") and upload.created_by_id == user.id


def can_respond_to_theme(user: User, theme: Theme) -> bool:
    if user.has_role(R.COORDINATOR, R.ADMIN):
        return True
    return user.has_role(R.SUBGROUP_LEAD) and theme.subgroup_id in _subgroup_ids(user)


def can_edit_action(user: User, action: Action) -> bool:
    return can_respond_to_theme(user, action.theme)


def can_approve(user: User, author_id: int | None, allow_self_approval: bool) -> bool:
    """Four eyes: the approver is not the author, unless the partnership relaxed that."""
    if not can(user, "publish"):
        return False
    return allow_self_approval or author_id != user.id
