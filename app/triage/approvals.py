"""Approving themes, actions and progress updates for publication, and withdrawing them."""

from app.services.permissions import requires
from app.triage import bp


@bp.route("/approvals")
@requires("publish")
def approvals() -> str:
    return "approvals"
