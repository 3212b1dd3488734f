"""Forms for adding many items at once: pasted notes, their preview, a file and its columns."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovFileInput,
    GovRadioInput,
    GovSelect,
    GovSubmitInput,
    GovTextArea,
)
from wtforms import (
    BooleanField,
    FieldList,
    Form,
    FormField,
    RadioField,
    SelectChoice,
    SelectField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm, vocab_choices
from app.models.vocab import Respondent, Sentiment
from app.services import bulk_import as bulk
from app.services import capture as svc

ENTER_NOTES = "Enter or paste your notes"
NOTES_TOO_LONG = (
    f"Your notes must be {bulk.MAX_PASTE_LENGTH:,} characters or fewer. Paste them in smaller parts"
)
SELECT_FILE = "Select a CSV or Excel file"
SELECT_TEXT_COLUMN = "Select the column that has what they said"
SELECT_DEFAULT_RESPONDENT = "Select who said them, as no column in the file says"
SELECT_DEFAULT_SENTIMENT = "Select what kind of feedback they are, as no column in the file says"
NOT_IN_FILE = "Not in this file"

SPLIT_CHOICES = [
    SelectChoice("auto", "Work it out for me"),
    SelectChoice("lines", "One item on each line"),
    SelectChoice("blocks", "A blank line between items"),
]


class PasteForm(BaseForm):
    notes = TextAreaField(
        "Your notes",
        widget=GovTextArea(),
        description=(
            "Paste or type what people said: each thing on its own line, or with a blank line "
            "between them. Bullet points and numbers at the start of lines are removed."
        ),
        validators=[
            DataRequired(message=ENTER_NOTES),
            Length(max=bulk.MAX_PASTE_LENGTH, message=NOTES_TOO_LONG),
        ],
    )
    split = RadioField(
        "How are the items separated?",
        widget=GovRadioInput(),
        choices=SPLIT_CHOICES,
        default="auto",
        validators=[Optional()],
    )
    respondent = RadioField(
        "Who said most of them? (optional)",
        widget=GovRadioInput(),
        choices=vocab_choices(Respondent),
        description="You can change it for each item on the next page.",
        validators=[Optional()],
        invalid_choice_message=svc.SELECT_RESPONDENT,
    )
    sentiment = RadioField(
        "What kind of feedback are most of them? (optional)",
        widget=GovRadioInput(),
        choices=vocab_choices(Sentiment),
        description="You can change it for each item on the next page.",
        validators=[Optional()],
        invalid_choice_message=svc.SELECT_SENTIMENT,
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class PreviewItemForm(Form):
    """One pasted item. A plain Form: the CSRF token belongs to the page's form, not each item."""

    text = TextAreaField("What they said", widget=GovTextArea(), filters=[_strip])
    respondent = SelectField(
        "Who said it",
        widget=GovSelect(),
        choices=[SelectChoice("", "Select who said it"), *vocab_choices(Respondent)],
        validate_choice=False,
    )
    sentiment = SelectField(
        "What kind of feedback",
        widget=GovSelect(),
        choices=[SelectChoice("", "Select the kind of feedback"), *vocab_choices(Sentiment)],
        validate_choice=False,
    )
    remove = BooleanField("Remove this item", widget=GovCheckboxInput())


# What the preview says next to an item, by the capture service's message for the problem.
_ITEM_MESSAGES = {
    svc.ENTER_TEXT: "Enter what they said in item {n}, or remove it",
    svc.TEXT_TOO_LONG: (
        f"What they said in item {{n}} must be {svc.MAX_TEXT_LENGTH:,} characters or fewer"
    ),
    svc.SELECT_RESPONDENT: "Select who said item {n}",
    svc.SELECT_SENTIMENT: "Select whether item {n} is working well, needs to change or an idea",
}


class PreviewForm(FlaskForm):
    """FlaskForm, not BaseForm: a FieldList takes no filters; each item strips its own text."""

    items = FieldList(FormField(PreviewItemForm), min_entries=0)
    save = SubmitField("Save all items", widget=GovSubmitInput())
    update = SubmitField("Update the list", widget=GovSubmitInput())

    def kept(self) -> list[tuple[int, Any]]:
        """(item number, entry) for every item not ticked for removal."""
        return [
            (number, entry.form)
            for number, entry in enumerate(self.items.entries, start=1)
            if not entry.form.remove.data
        ]

    def item_values(self) -> list[tuple[str, str, str]]:
        """What the person has on the page now, for the kept items."""
        return [
            (f.text.data or "", f.respondent.data or "", f.sentiment.data or "")
            for _, f in self.kept()
        ]

    def check_items(self) -> list[tuple[int, svc.ItemDetails]]:
        """The kept items as ItemDetails, with an error next to each item that cannot be saved.

        Called after validate(); the errors it adds are shown and summarised like any other.
        """
        ready: list[tuple[int, svc.ItemDetails]] = []
        for number, f in self.kept():
            details = svc.ItemDetails(
                text=f.text.data,
                respondent=f.respondent.data or None,
                sentiment=f.sentiment.data or None,
            )
            problems = bulk.item_problems(details)
            for field, message in problems.items():
                template = _ITEM_MESSAGES.get(message, "Item {n}: " + message)
                getattr(f, field).errors = [template.format(n=number)]
            if not problems:
                ready.append((number, details))
        if not self.kept() and self.items.entries:
            first = self.items.entries[0].form.remove
            first.errors = ["Keep at least one item to save, or cancel"]
        # FieldList gathers its entries' errors during validate(): gather the ones added here.
        errors = [entry.errors for entry in self.items.entries]
        self.items.errors = errors if any(errors) else []
        return ready


class UploadForm(BaseForm):
    file = FileField(
        "Upload a file",
        widget=GovFileInput(),
        description="A CSV or Excel (.xlsx) file, up to 5MB and 5,000 rows",
        validators=[FileRequired(message=SELECT_FILE)],
    )
    submit = SubmitField("Upload and continue", widget=GovSubmitInput())


class ColumnsForm(BaseForm):
    text = SelectField(
        "What they said",
        widget=GovSelect(),
        validate_choice=False,
        description="Required. The words each person used.",
    )
    respondent = SelectField("Who said it", widget=GovSelect(), validate_choice=False)
    sentiment = SelectField(
        "Kind of feedback",
        widget=GovSelect(),
        validate_choice=False,
        description="Working well, needs to change or an idea",
    )
    age_phase = SelectField(
        "Age phase",
        widget=GovSelect(),
        validate_choice=False,
        description="Early years, primary, secondary, post-16 or 19 to 25",
    )
    setting = SelectField(
        "Setting",
        widget=GovSelect(),
        validate_choice=False,
        description="For example, the name or kind of school",
    )
    may_quote = SelectField(
        "May be quoted",
        widget=GovSelect(),
        validate_choice=False,
        description="Yes if the person agreed to be quoted anonymously",
    )
    default_respondent = RadioField(
        "Who said them, when the file does not say?",
        widget=GovRadioInput(),
        choices=vocab_choices(Respondent),
        validators=[Optional()],
        invalid_choice_message=svc.SELECT_RESPONDENT,
    )
    default_sentiment = RadioField(
        "What kind of feedback are they, when the file does not say?",
        widget=GovRadioInput(),
        choices=vocab_choices(Sentiment),
        validators=[Optional()],
        invalid_choice_message=svc.SELECT_SENTIMENT,
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def set_columns(self, columns: Sequence[str]) -> None:
        """Offer every column except personal details and a Forms export's own records:
        names and e-mail addresses are never imported as feedback."""
        self._allowed = {i for i, name in enumerate(columns) if not bulk.is_personal_column(name)}
        choices = [SelectChoice("", NOT_IN_FILE)] + [
            SelectChoice(str(i), f"{name} (column {bulk.column_letter(i)})")
            for i, name in enumerate(columns)
            if i in self._allowed
        ]
        for name in bulk.FIELDS:
            getattr(self, name).choices = choices

    def mapping(self) -> dict[str, int]:
        chosen: dict[str, int] = {}
        for name in bulk.FIELDS:
            value = getattr(self, name).data
            if value not in (None, "") and str(value).isdigit():
                chosen[name] = int(value)
        return chosen

    def defaults(self) -> dict[str, str]:
        return {
            "respondent": self.default_respondent.data or "",
            "sentiment": self.default_sentiment.data or "",
        }

    def validate(self, extra_validators: Any = None) -> bool:
        ok = super().validate(extra_validators)
        used: dict[int, str] = {}
        for name, label in bulk.FIELDS.items():
            field = getattr(self, name)
            value = field.data or ""
            if value == "":
                continue
            if not value.isdigit() or int(value) not in self._allowed:
                field.errors = [f"Select a column in the list for {label}"]
                ok = False
            elif int(value) in used:
                field.errors = [
                    f"Select a different column for {label}: that one is already "
                    f"chosen for {used[int(value)]}"
                ]
                ok = False
            else:
                used[int(value)] = label
        if not self.text.data:
            self.text.errors = [SELECT_TEXT_COLUMN]
            ok = False
        if not self.respondent.data and not self.default_respondent.data:
            self.default_respondent.errors = [SELECT_DEFAULT_RESPONDENT]
            ok = False
        if not self.sentiment.data and not self.default_sentiment.data:
            self.default_sentiment.errors = [SELECT_DEFAULT_SENTIMENT]
            ok = False
        return ok
