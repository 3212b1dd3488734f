"""The safeguarding queue: where the safeguarding lead reads what coordinators flagged."""

from __future__ import annotations

from flask import abort, render_template
from flask_login import current_user

from app.services import safeguarding as safeguarding_service
from app.services.permissions import can_see_feedback, requires
from app.services.scoping import current_partnership
from app.triage import bp


@bp.route("/safeguarding")
@requires("safeguarding")
def safeguarding() -> str:
    flagged = safeguarding_service.flagged_items(current_partnership())
    return render_template("triage/safeguarding.html", flagged=flagged)


@bp.route("/safeguarding/<int:feedback_id>")
@requires("safeguarding")
def safeguarding_item(feedback_id: int) -> str:
    # Unflagged and other partnerships' items are not in this queue: their existence is private.
    found = safeguarding_service.flagged_item(current_partnership(), feedback_id)
    if found is None or not can_see_feedback(current_user, found.item):
        abort(404)
    return render_template("triage/safeguarding_item.html", flagged=found, item=found.item)
