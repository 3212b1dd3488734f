"""Triage: the personal-details check on what people said, and its suggested redactions.

The item page shows the raw text with the checker's findings marked (templates/triage/
_highlighted_text.html, through the template helpers registered here), and one button fills
the rewritten wording with every finding replaced ("[name]", "[school]"), for the coordinator
to read and edit before saving.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import abort, flash, redirect, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.extensions import db
from app.models import Feedback
from app.services import personal_details
from app.services.permissions import can_see_feedback, requires
from app.services.personal_details import Finding, PersonalDetailsError, Segment
from app.services.scoping import current_partnership, get_scoped_or_404
from app.triage import bp


@dataclass(frozen=True)
class CheckedText:
    """A text with what the checker found in it, ready for the page."""

    findings: list[Finding]
    paragraphs: list[list[list[Segment]]]

    @property
    def summary(self) -> str:
        return personal_details.summary_text(self.findings)


@bp.app_template_global("personal_details_of")
def personal_details_of(text: str | None) -> CheckedText:
    """What the checker finds in a text, with the current partnership's own private words."""
    findings = personal_details.find(text, current_partnership())
    return CheckedText(findings, personal_details.highlight(text, findings))


@bp.app_template_filter("highlight_findings")
def highlight_findings(text: str | None, findings: list[Finding]) -> list[list[list[Segment]]]:
    """Findings already made (the approval page's checks), as paragraphs to mark up."""
    return personal_details.highlight(text, findings)


@bp.route("/feedback/<int:feedback_id>/suggested-redactions", methods=["POST"])
@requires("triage")
def apply_redactions(feedback_id: int) -> Response:
    item = get_scoped_or_404(Feedback, feedback_id)
    # A flagged item's existence is private, as on the item page itself.
    if not can_see_feedback(current_user, item):
        abort(404)
    try:
        findings = personal_details.apply_suggested_redactions(item, current_user)
    except PersonalDetailsError as error:
        db.session.rollback()
        abort(409, description=error.message)
    if not findings:
        flash(
            "The check found nothing to take out, so the rewritten wording is unchanged. Read "
            "what they said yourself as well: the check cannot find everything.",
            "info",
        )
        return redirect(url_for("triage.feedback", feedback_id=item.id, _anchor="raw-text"))
    db.session.commit()
    flash(
        f"The rewritten wording is filled in with {personal_details.summary_text(findings)} "
        "taken out. Read it, change anything else that could identify someone, then save.",
        "success",
    )
    return redirect(url_for("triage.feedback", feedback_id=item.id, _anchor="redacted_text"))
