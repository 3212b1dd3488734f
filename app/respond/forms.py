"""Forms for answering themes: actions and progress updates."""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    RadioField,
    SelectChoice,
    SelectField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm, GovukDateField, vocab_choices
from app.models.vocab import ActionKind, ActionStatus

_KIND_CHOICES = [
    SelectChoice(ActionKind.WE_DID.value, "We did"),
    SelectChoice(ActionKind.WE_WILL.value, "We will"),
    SelectChoice(ActionKind.WE_CANT.value, "We can't"),
]


def _status_choices() -> list[SelectChoice]:
    return vocab_choices(ActionStatus)


class ActionForm(BaseForm):
    kind = RadioField(
        "What kind of answer is this?",
        choices=_KIND_CHOICES,
        widget=GovRadioInput(),
        validators=[DataRequired(message="Select whether you did it, will do it or cannot do it")],
    )
    done_date = GovukDateField(
        "When was it done? (optional)",
        what="The date it was done",
        description="For example, 27 3 2026",
    )
    target_date = GovukDateField(
        "When do you expect it to be done?",
        what="The date you expect it to be done",
        description="For example, 31 3 2027",
    )
    reason = TextAreaField(
        "Why can it not be done?",
        widget=GovTextArea(),
        description="Explain plainly, so that families understand the reason.",
        validators=[
            Optional(),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
    )
    text = TextAreaField(
        "What was done, or what will be done?",
        widget=GovTextArea(),
        description=(
            "Write for families, in plain English. This text is public once a coordinator "
            "approves it: do not name anyone."
        ),
        validators=[
            DataRequired(message="Enter what was done or what will be done"),
            Length(max=4000, message="Action must be 4,000 characters or fewer"),
        ],
    )
    status = RadioField(
        "Status (optional)",
        choices=_status_choices(),
        widget=GovRadioInput(),
        description=(
            "If you leave this, it will be Done for We did, Planned for We will and "
            "Not possible for We can't."
        ),
        validators=[Optional()],
    )
    evidence_url = StringField(
        "Link to evidence (optional)",
        widget=GovTextInput(),
        description="A public web page that shows what was done, for example a report or a "
        "new leaflet. Starts with https://",
        validators=[Optional()],
    )
    subgroup_id = SelectField(
        "Which sub-group owns this action?",
        coerce=int,
        widget=GovSelect(),
        validators=[DataRequired(message="Select the sub-group that owns this action")],
    )
    submit = SubmitField("Save action", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        # Conditional questions: each kind of answer needs its own detail.
        if (
            self.kind.data == ActionKind.WE_WILL.value
            and not self.target_date.errors
            and (self.target_date.data is None)
        ):
            self.target_date.errors = ["Enter the date you expect it to be done"]
            ok = False
        if self.kind.data == ActionKind.WE_CANT.value and not self.reason.data:
            self.reason.errors = ["Enter why it cannot be done"]
            ok = False
        return ok


class ProgressUpdateForm(BaseForm):
    happened_on = GovukDateField(
        "When did it happen?",
        what="The date it happened",
        description="For example, 14 11 2026",
    )
    text = TextAreaField(
        "What happened?",
        widget=GovTextArea(),
        description=(
            "Write for families, in plain English. This is public once a coordinator approves "
            "it: do not name anyone."
        ),
        validators=[
            DataRequired(message="Enter what happened"),
            Length(max=4000, message="Update must be 4,000 characters or fewer"),
        ],
    )
    new_status = RadioField(
        "Has the status changed? (optional)",
        choices=_status_choices(),
        widget=GovRadioInput(),
        description="Only choose one if it has changed. The new status shows once the update "
        "is approved.",
        validators=[Optional()],
    )
    submit = SubmitField("Save progress update", widget=GovSubmitInput())

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        if not self.happened_on.errors and self.happened_on.data is None:
            self.happened_on.errors = ["Enter the date it happened"]
            ok = False
        return ok
