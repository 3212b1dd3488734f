"""Form helpers shared by every blueprint: GOV.UK wording, whitespace stripped."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_wtf import FlaskForm
from govuk_frontend_wtf.wtforms_widgets import GovDateInput
from wtforms import Field, SelectChoice
from wtforms.validators import StopValidation

from app.models.vocab import Labelled
from app.services.text import clean_text


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class BaseForm(FlaskForm):
    """Strips whitespace from every text field, as GOV.UK Notify's forms do."""

    class Meta:
        def bind_field(self, form: Any, unbound_field: Any, options: dict[str, Any]) -> Any:
            filters = list(unbound_field.kwargs.get("filters", []))
            if _strip not in filters:
                filters.append(_strip)
            return unbound_field.bind(form=form, filters=filters, **options)


def cleaned(value: str | None) -> str | None:
    """Form filter: plain text through bleach; empty becomes None."""
    text = clean_text(value)
    return text or None


def vocab_choices(vocabulary: type[Labelled]) -> list[SelectChoice]:
    """A vocabulary's stored values and plain-English labels, for radios and checkboxes."""
    return [SelectChoice(value, label) for value, label in vocabulary.choices()]


_DATE_PARTS = ("day", "month", "year")


class GovukDateField(Field):
    """Day, month and year boxes, checked and worded as GOV.UK date inputs are.

    Empty boxes give None. With a missing_message the date is required; without one, each form
    decides. A partly filled or impossible date is an error that names what the date is.
    """

    widget = GovDateInput()

    def __init__(
        self,
        label: str | None = None,
        validators: Any = None,
        *,
        what: str = "The date",
        missing_message: str | None = None,
        **kwargs: Any,
    ):
        super().__init__(label, validators, **kwargs)
        self.what = what
        self.missing_message = missing_message

    def _value(self) -> str:
        return self.data.strftime("%d %m %Y") if isinstance(self.data, date) else ""

    def process_formdata(self, valuelist: list[str]) -> None:
        parts = [str(v or "").strip() for v in valuelist[:3]]
        parts += [""] * (3 - len(parts))
        # The widget unpacks three boxes from raw_data to show what was typed.
        self.raw_data = parts
        self.data = None
        if not any(parts):
            return
        missing = [name for name, value in zip(_DATE_PARTS, parts, strict=True) if not value]
        if missing:
            raise ValueError(f"{self.what} must include a {' and '.join(missing)}")
        if not all(p.isdigit() for p in parts):
            raise ValueError(f"{self.what} must be a real date")
        day, month, year = parts
        if len(year) != 4:
            raise ValueError("Year must include 4 numbers")
        try:
            self.data = date(int(year), int(month), int(day))
        except ValueError as exc:
            raise ValueError(f"{self.what} must be a real date") from exc

    def pre_validate(self, form: Any) -> None:
        # A date that could not be read has its message already; do not add another.
        if self.process_errors:
            raise StopValidation()
        # Checked here, not with DataRequired, whose "required" flag would land on the <div>.
        if self.data is None and self.missing_message:
            raise StopValidation(self.missing_message)
