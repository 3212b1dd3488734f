from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovPasswordInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextInput,
)
from wtforms import (
    EmailField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
)
from wtforms.validators import InputRequired, Length, ValidationError

from app.forms import BaseForm, GovukDateField
from app.models.vocab import Role
from app.services.users import MIN_PASSWORD_LENGTH

ROLE_HINTS = {
    Role.VOLUNTEER.value: "Creates events and logs what people said",
    Role.COORDINATOR.value: "Triages feedback, writes themes, approves publication",
    Role.SAFEGUARDING_LEAD.value: "Sees feedback flagged as a safeguarding concern",
    Role.SUBGROUP_LEAD.value: "Answers the themes their sub-groups own",
    Role.BOARD_VIEWER.value: "Reads dashboards and reports",
    Role.ADMIN.value: "Manages users and the strategy",
}


# Made per form, so that each form lists its fields (and its error summary) in page order.
def _roles_field() -> Any:
    return SelectMultipleField(
        "Roles",
        choices=[SelectChoice(value, label) for value, label in Role.choices()],
        # Choices are checked by the service, with GOV.UK wording.
        validate_choice=False,
        widget=GovCheckboxesInput(),
        description="Select all that apply.",
        validators=[InputRequired(message="Select at least one role")],
    )


def _subgroups_field() -> Any:
    return SelectMultipleField(
        "Sub-groups",
        coerce=int,
        choices=[],
        validate_choice=False,
        invalid_value_message="Select sub-groups from the list",
        widget=GovCheckboxesInput(),
        description="Sub-group leads see and answer the themes their sub-groups own.",
    )


class UserCreateForm(BaseForm):
    name = StringField(
        "Full name",
        widget=GovTextInput(),
        validators=[
            InputRequired(message="Enter the person's full name"),
            Length(max=200, message="Full name must be 200 characters or fewer"),
        ],
    )
    email = EmailField(
        "Email address",
        widget=GovTextInput(),
        description="They use this to sign in.",
        validators=[
            InputRequired(message="Enter their email address"),
            Length(max=320, message="Email address must be 320 characters or fewer"),
        ],
    )
    roles = _roles_field()
    subgroups = _subgroups_field()
    password = PasswordField(
        "Initial password",
        widget=GovPasswordInput(),
        description=(
            f"At least {MIN_PASSWORD_LENGTH} characters. Give it to them in person or by "
            "phone, not in the same message as their email address."
        ),
        validators=[InputRequired(message="Enter an initial password")],
    )
    submit = SubmitField("Create account", widget=GovSubmitInput())


class UserEditForm(BaseForm):
    roles = _roles_field()
    subgroups = _subgroups_field()
    active = RadioField(
        "Can they sign in?",
        choices=[
            SelectChoice("yes", "Yes, the account is active"),
            SelectChoice("no", "No, deactivate the account and sign them out"),
        ],
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select whether they can sign in")],
    )
    submit = SubmitField("Save changes", widget=GovSubmitInput())


class AuditFilterForm(BaseForm):
    """Filters read from the query string: a GET form, so no CSRF token (it would leak into
    URLs and logs, and a GET changes nothing)."""

    class Meta:
        csrf = False

    verb = SelectField("Action", choices=[], validate_choice=False, widget=GovSelect())
    actor = SelectField("Who", choices=[], validate_choice=False, widget=GovSelect())
    object_type = SelectField("Object", choices=[], validate_choice=False, widget=GovSelect())
    date_from = GovukDateField("From", what="The start date", description="For example, 27 3 2026")
    date_to = GovukDateField("To", what="The end date", description="For example, 27 3 2026")

    def validate_date_to(self, field: Any) -> None:
        start = self.date_from.data
        if start and field.data and field.data < start:
            raise ValidationError("The end date must be the same as or after the start date")
