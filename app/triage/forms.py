"""Triage and theme forms. Choices come from the partnership's active strategy, set by the view."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, ValidationError

from app.forms import BaseForm, GovukDateField, vocab_choices
from app.models.vocab import NeedType
from app.services.themes import STATEMENT_MAX_LENGTH, TITLE_MAX_LENGTH
from app.services.triage import NOTE_MAX_LENGTH, REDACTED_MAX_LENGTH


def int_or_none(value: Any) -> int | None:
    """Coerce a submitted id; an empty choice means "none chosen"."""
    if value is None or value == "":
        return None
    return int(value)


def lenient_int(value: Any) -> int | None:
    """An id from a link's query string: anything that is not one means "any"."""
    try:
        return int_or_none(value)
    except (TypeError, ValueError):
        return None


class OptionalRadioField(RadioField):
    """Radios where choosing nothing is allowed; a value that is not offered is still refused."""

    def pre_validate(self, form: Any) -> None:
        if self.data is None:
            return
        super().pre_validate(form)


def _ids(message: str) -> dict[str, Any]:
    return {
        "coerce": int,
        "invalid_value_message": message,
        "invalid_choice_message": message,
    }


class QueueFilterForm(BaseForm):
    """The queue's filters, read from the query string (GET: no CSRF token needed).

    A value that is not offered falls back to "any", so an old or mistyped link still shows the
    queue; only a date that cannot be read is an error, shown next to its boxes.
    """

    class Meta:
        csrf = False

    status = SelectField("Status", default="new", widget=GovSelect(), validate_choice=False)
    event = SelectField(
        "Event", coerce=lenient_int, default=None, widget=GovSelect(), validate_choice=False
    )
    respondent = SelectField("Who said it", default="", widget=GovSelect(), validate_choice=False)
    sentiment = SelectField(
        "Kind of feedback", default="", widget=GovSelect(), validate_choice=False
    )
    priority = SelectField("Priority", default="", widget=GovSelect(), validate_choice=False)
    received_from = GovukDateField(
        "Received on or after", what="The first date", description="For example, 1 11 2026"
    )
    received_to = GovukDateField(
        "Received on or before", what="The last date", description="For example, 30 11 2026"
    )

    def validate_received_to(self, field: GovukDateField) -> None:
        start = self.received_from.data
        if field.data is not None and start is not None and field.data < start:
            raise ValidationError("The last date must be the same as or after the first date")


class BulkForm(BaseForm):
    """Works without JavaScript: the ticked rows go with whichever button was pressed."""

    # The buttons in the order the page shows them. A post naming none is treated as the first
    # one offered, as a browser's implicit submission (Enter) would send.
    ACTIONS = ("add_priorities", "route", "add_to_theme", "new_theme", "not_for_publication")

    feedback = SelectMultipleField(
        "Feedback items", validate_choice=False, **_ids("Select feedback items from the list")
    )
    priorities = SelectMultipleField(
        "Priorities to add",
        widget=GovCheckboxesInput(),
        **_ids("Select priorities from the list"),
    )
    subgroup = SelectField(
        "Sub-group to route them to",
        coerce=int_or_none,
        default=None,
        widget=GovSelect(),
        invalid_value_message="Select a sub-group from the list",
        invalid_choice_message="Select a sub-group from the list",
    )
    theme = SelectField(
        "Theme to add them to",
        coerce=int_or_none,
        default=None,
        widget=GovSelect(),
        invalid_value_message="Select a theme from the list",
        invalid_choice_message="Select a theme from the list",
    )
    add_priorities = SubmitField("Tag selected with these priorities", widget=GovSubmitInput())
    route = SubmitField("Route selected to this sub-group", widget=GovSubmitInput())
    add_to_theme = SubmitField("Add selected to this theme", widget=GovSubmitInput())
    new_theme = SubmitField("Group selected into a new theme", widget=GovSubmitInput())
    not_for_publication = SubmitField("Mark selected not for publication", widget=GovSubmitInput())

    def choose_action(self, offered: Sequence[str]) -> str:
        """The button pressed; with none, the first offered. Call before validate()."""
        pressed = [name for name in self.ACTIONS if self[name].data]
        self.action = pressed[0] if pressed else next(a for a in self.ACTIONS if a in offered)
        return self.action

    action: str = ""

    def validate_feedback(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select at least one feedback item")

    def validate_priorities(self, field: SelectMultipleField) -> None:
        if self.action == "add_priorities" and not field.data:
            raise ValidationError("Select priorities to add to the selected items")

    def validate_subgroup(self, field: SelectField) -> None:
        if self.action == "route" and field.data is None:
            raise ValidationError("Select a sub-group to route the selected items to")

    def validate_theme(self, field: SelectField) -> None:
        if self.action == "add_to_theme" and field.data is None:
            raise ValidationError("Select a theme to add the items to")


class TriageForm(BaseForm):
    """One item's triage, in the order a coordinator works through it with the keyboard."""

    priorities = SelectMultipleField(
        "Which priorities does it concern?",
        widget=GovCheckboxesInput(),
        **_ids("Select priorities from the list"),
    )
    outcomes = SelectMultipleField(
        'Which outcomes ("I statements") does it concern?',
        widget=GovCheckboxesInput(),
        **_ids("Select outcomes from the list"),
    )
    # The first choice, "", routes by the priorities ticked when the form is saved; the view
    # adds one choice per sub-group.
    routed_subgroup = OptionalRadioField(
        "Which sub-group should see it?",
        coerce=int_or_none,
        widget=GovRadioInput(),
        invalid_value_message="Select a sub-group from the list",
        invalid_choice_message="Select a sub-group from the list",
    )
    need_types = SelectMultipleField(
        "Which areas of need does it concern?",
        widget=GovCheckboxesInput(),
        choices=vocab_choices(NeedType),
        description="The broad areas of need in the SEND Code of Practice.",
        invalid_choice_message="Select areas of need from the list",
    )
    redacted_text = TextAreaField(
        "Rewrite without personal details",
        widget=GovTextArea(),
        description=(
            "Take out names, schools, ages, diagnoses and anything else that could identify a "
            "family. Leave it empty if nothing needs to change. The original stays private."
        ),
        validators=[
            Length(
                max=REDACTED_MAX_LENGTH,
                message=f"The rewritten wording must be {REDACTED_MAX_LENGTH} characters or fewer",
            )
        ],
    )
    contains_personal_details = BooleanField(
        "It contains personal details", widget=GovCheckboxInput()
    )
    not_for_publication = BooleanField(
        "Not for publication",
        widget=GovCheckboxInput(),
        description="It is never quoted or counted on the public pages.",
    )
    save_next = SubmitField("Save and go to the next item", widget=GovSubmitInput())
    submit = SubmitField("Save as triaged", widget=GovSubmitInput())


class AddToThemeForm(BaseForm):
    theme = SelectField(
        "Add it to a theme",
        coerce=int_or_none,
        default=None,
        widget=GovSelect(),
        invalid_value_message="Select a theme from the list",
        invalid_choice_message="Select a theme from the list",
    )
    add = SubmitField("Add to theme", widget=GovSubmitInput())

    def validate_theme(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError("Select a theme")


class SafeguardingForm(BaseForm):
    note = TextAreaField(
        "What is the concern?",
        widget=GovTextArea(),
        description=(
            "A short note for the safeguarding lead. The item will leave triage and only the "
            "safeguarding lead will see it."
        ),
        validators=[
            DataRequired(message="Enter a short note about the concern"),
            Length(
                max=NOTE_MAX_LENGTH,
                message=f"The note must be {NOTE_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    flag = SubmitField("Flag as a safeguarding concern", widget=GovSubmitInput())


class ThemeForm(BaseForm):
    title = StringField(
        "Title",
        widget=GovTextInput(),
        description="A few words people will scan for, like: Waiting times for autism assessments.",
        validators=[
            DataRequired(message="Enter a title"),
            Length(
                max=TITLE_MAX_LENGTH,
                message=f"The title must be {TITLE_MAX_LENGTH} characters or fewer",
            ),
        ],
    )
    statement = TextAreaField(
        '"You said" statement',
        widget=GovTextArea(),
        description=(
            "What families told us, in the partnership's own words. Do not copy what someone "
            "said, and leave out anything that could identify a family."
        ),
        validators=[
            DataRequired(message='Enter the "You said" statement'),
            Length(
                max=STATEMENT_MAX_LENGTH,
                message=(
                    f'The "You said" statement must be {STATEMENT_MAX_LENGTH} characters or fewer'
                ),
            ),
        ],
    )
    priorities = SelectMultipleField(
        "Which priorities is it about?",
        widget=GovCheckboxesInput(),
        **_ids("Select priorities from the list"),
    )
    subgroup = RadioField(
        "Which sub-group owns it?",
        coerce=int_or_none,
        widget=GovRadioInput(),
        description="The sub-group that will answer with what it did, or will do.",
        invalid_value_message="Select the sub-group that owns this theme",
        invalid_choice_message="Select the sub-group that owns this theme",
    )
    feedback = SelectMultipleField(
        "Feedback items in this theme",
        widget=GovCheckboxesInput(),
        description="Untick any item that does not belong.",
        **_ids("Select feedback items from the list"),
    )
    submit = SubmitField("Save theme", widget=GovSubmitInput())


class ItemsForm(BaseForm):
    """Add items to a theme or take them out, from the theme page."""

    feedback = SelectMultipleField(
        "Feedback items", validate_choice=False, **_ids("Select feedback items from the list")
    )
    add = SubmitField("Add selected to this theme", widget=GovSubmitInput())
    remove = SubmitField("Remove selected from this theme", widget=GovSubmitInput())

    def validate_feedback(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select at least one feedback item")
