"""The safeguarding pages: where the safeguarding leads read flagged feedback and record what
they did about it. Nobody else can reach them (the "safeguarding" permission), and an item that
is not flagged, or is another partnership's, is not found here."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from werkzeug.wrappers import Response
from wtforms import RadioField, StringField, SubmitField, TextAreaField
from wtforms.validators import Length, StopValidation, ValidationError

from app.extensions import db
from app.forms import BaseForm, GovukDateField, vocab_choices
from app.models.vocab import SafeguardingOutcome
from app.services import safeguarding as safeguarding_service
from app.services.permissions import can_see_feedback, requires
from app.services.scoping import current_partnership
from app.triage import bp

ENTER_TIME = "Enter the time it was done"
REAL_TIME = "Enter a real time, like 2:30pm or 14:30"

_TWELVE_HOUR = re.compile(r"(\d{1,2})(?:[:.](\d{2}))?\s*([ap])\.?m\.?")
_TWENTY_FOUR_HOUR = re.compile(r"(\d{1,2})[:.](\d{2})")


def parse_time(text: str | None) -> time | None:
    """A time as people type it: 2:30pm, 2pm, 9.15am, 14:30, midday, midnight. None if not."""
    typed = " ".join((text or "").lower().split())
    if typed in ("midday", "noon", "12 noon"):
        return time(12, 0)
    if typed == "midnight":
        return time(0, 0)
    if match := _TWELVE_HOUR.fullmatch(typed):
        hour, minute = int(match[1]), int(match[2] or 0)
        if not 1 <= hour <= 12 or minute > 59:
            return None
        return time(hour % 12 + (12 if match[3] == "p" else 0), minute)
    if match := _TWENTY_FOUR_HOUR.fullmatch(typed):
        hour, minute = int(match[1]), int(match[2])
        if hour > 23 or minute > 59:
            return None
        return time(hour, minute)
    return None


class DecisionForm(BaseForm):
    outcome = RadioField(
        "What was done?",
        widget=GovRadioInput(),
        choices=vocab_choices(SafeguardingOutcome),
        invalid_choice_message=safeguarding_service.SELECT_OUTCOME,
    )
    acted_on = GovukDateField(
        "Date it was done",
        what="The date it was done",
        missing_message=safeguarding_service.ENTER_DATE,
        description="For example, 24 11 2026",
    )
    acted_time = StringField(
        "Time it was done",
        widget=GovTextInput(),
        description="For example, 2:30pm or 14:30",
    )
    reason = TextAreaField(
        "Reason",
        widget=GovTextArea(),
        description=(
            "Why this was the right thing to do, and anything the next person should know. "
            "Only safeguarding leads can read it."
        ),
        validators=[
            Length(
                max=safeguarding_service.REASON_MAX_LENGTH,
                message=safeguarding_service.REASON_TOO_LONG,
            )
        ],
    )
    submit = SubmitField("Save the record", widget=GovSubmitInput())

    def validate_acted_time(self, field: StringField) -> None:
        if not field.data:
            raise StopValidation(ENTER_TIME)
        if parse_time(field.data) is None:
            raise ValidationError(REAL_TIME)

    def validate_reason(self, field: TextAreaField) -> None:
        if not field.data:
            raise StopValidation(safeguarding_service.ENTER_REASON)

    def acted_at(self) -> datetime | None:
        """When it was done, in UK time as typed; the service stores it in UTC."""
        day, at = self.acted_on.data, parse_time(self.acted_time.data)
        if day is None or at is None:
            return None
        return datetime.combine(day, at)


def _flagged_or_404(feedback_id: int) -> safeguarding_service.FlaggedItem:
    # Unflagged and other partnerships' items are not in this queue: their existence is private.
    found = safeguarding_service.flagged_item(current_partnership(), feedback_id)
    if found is None or not can_see_feedback(current_user, found.item):
        abort(404)
    return found


def _render_item(found: safeguarding_service.FlaggedItem, form: DecisionForm | None = None) -> str:
    return render_template(
        "triage/safeguarding_item.html",
        flagged=found,
        item=found.item,
        decisions=safeguarding_service.decisions_for(current_partnership(), found.item),
        decision_form=form or DecisionForm(formdata=None),
        # base.html shows the error summary and "Error:" title for the form passed as `form`.
        form=form if form is not None and form.errors else None,
    )


@bp.route("/safeguarding")
@requires("safeguarding")
def safeguarding() -> str:
    flagged = safeguarding_service.flagged_items(current_partnership())
    return render_template("triage/safeguarding.html", flagged=flagged)


@bp.route("/safeguarding/<int:feedback_id>")
@requires("safeguarding")
def safeguarding_item(feedback_id: int) -> str:
    found = _flagged_or_404(feedback_id)
    # A lead has it now, so the alert is not escalated.
    if safeguarding_service.mark_opened(found.item, current_user):
        db.session.commit()
    return _render_item(found)


@bp.route("/safeguarding/<int:feedback_id>/decisions", methods=["POST"])
@requires("safeguarding")
def safeguarding_decision(feedback_id: int) -> str | Response:
    found = _flagged_or_404(feedback_id)
    form = DecisionForm()
    if form.validate():
        try:
            safeguarding_service.record_decision(
                found.item,
                current_user,
                outcome=form.outcome.data,
                acted_at=form.acted_at(),
                reason=form.reason.data,
            )
        except safeguarding_service.SafeguardingError as error:
            db.session.rollback()
            _attach(form, error)
        else:
            db.session.commit()
            flash("The decision is recorded.", "success")
            return redirect(
                url_for("triage.safeguarding_item", feedback_id=feedback_id, _anchor="decisions")
            )
    return _render_item(found, form)


def _attach(form: DecisionForm, error: safeguarding_service.SafeguardingError) -> None:
    field: Any = getattr(form, error.field or "", None)
    if field is None:
        abort(409, description=error.message)
    field.errors = [*field.errors, error.message]
