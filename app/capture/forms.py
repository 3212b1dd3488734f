"""Forms for events and feedback items: GOV.UK widgets and wording, one column for phones."""

from __future__ import annotations

import re
from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxesInput,
    GovCheckboxInput,
    GovPasswordInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    PasswordField,
    RadioField,
    SelectChoice,
    SelectMultipleField,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import (
    DataRequired,
    Length,
    Optional,
    StopValidation,
    ValidationError,
)

from app.forms import BaseForm, GovukDateField, vocab_choices
from app.models import Priority
from app.models.vocab import AgePhase, EventKind, NeedType, Respondent, Sentiment
from app.services import capture as svc
from app.services import consent

# Negative numbers parse, so that the message can say what range is allowed.
_WHOLE_NUMBER = re.compile(r"^-?[0-9]+$")


class WholeNumberField(Field):
    """A count typed on a phone's number pad. Blank counts as 0: nobody was counted."""

    widget = GovTextInput()
    data: int | None

    def __init__(
        self, label: str | None = None, validators: Any = None, *, field_key: str, **kwargs: Any
    ):
        self.field_key = field_key
        kwargs.setdefault("default", 0)
        super().__init__(label, validators, **kwargs)

    def _value(self) -> str:
        if self.raw_data:
            return self.raw_data[0]
        return "" if self.data is None else str(self.data)

    def process_formdata(self, valuelist: list[str]) -> None:
        raw = (valuelist[0] if valuelist else "").strip().replace(",", "")
        if not raw:
            self.data = 0
            return
        if not _WHOLE_NUMBER.match(raw):
            self.data = None
            raise ValueError(svc.whole_number_message(self.field_key))
        self.data = int(raw)

    def pre_validate(self, form: Any) -> None:
        if self.process_errors:
            raise StopValidation()
        if self.data is not None and not 0 <= self.data <= svc.MAX_HEADCOUNT:
            raise StopValidation(svc.headcount_range_message(self.field_key))


class EventForm(BaseForm):
    name = StringField(
        "Event name",
        widget=GovTextInput(),
        description="For example, Coffee morning at Marple Library",
        validators=[
            DataRequired(message=svc.ENTER_NAME),
            Length(max=200, message="Event name must be 200 characters or fewer"),
        ],
    )
    kind = RadioField(
        "What kind of event was it?",
        widget=GovRadioInput(),
        choices=vocab_choices(EventKind),
        invalid_choice_message=svc.SELECT_KIND,
    )
    held_on = GovukDateField(
        "Date of the event",
        what="The date of the event",
        missing_message=svc.ENTER_DATE,
        description="For example, 27 3 2026",
    )
    place = StringField(
        "Where did it take place?",
        widget=GovTextInput(),
        description="For example, Marple Library, or Online",
        validators=[
            DataRequired(message=svc.ENTER_PLACE),
            Length(max=200, message="Place must be 200 characters or fewer"),
        ],
    )
    partner = StringField(
        "Partner organisation (optional)",
        widget=GovTextInput(),
        description="An organisation you ran the event with, such as a school or charity",
        validators=[
            Optional(),
            Length(max=200, message="Partner organisation must be 200 characters or fewer"),
        ],
    )
    facilitators = TextAreaField(
        "Who ran it (optional)",
        widget=GovTextArea(),
        description="Only people signed in to this service can see this. It is never published.",
        validators=[
            Optional(),
            Length(max=2000, message="Who ran it must be 2,000 characters or fewer"),
        ],
    )
    adults_count = WholeNumberField(
        "Adults", field_key="adults_count", description="Parents, carers and other adults"
    )
    young_people_count = WholeNumberField(
        "Young people", field_key="young_people_count", description="Aged 16 to 25"
    )
    children_count = WholeNumberField(
        "Children", field_key="children_count", description="Under 16"
    )
    submit = SubmitField("Save and log feedback", widget=GovSubmitInput())

    def event_fields(self) -> dict[str, Any]:
        return {name: getattr(self, name).data for name in svc.EVENT_FIELDS}


class OptionalRadioField(RadioField):
    """Radios where choosing none is allowed; a value that is not offered is still refused."""

    data: str | None

    def pre_validate(self, form: Any) -> None:
        if self.data in (None, ""):
            self.data = None
            return
        super().pre_validate(form)


class FeedbackForm(BaseForm):
    text = TextAreaField(
        "What did they say?",
        widget=GovTextArea(),
        description="Use their words if you can. One item for each thing someone said.",
        validators=[
            DataRequired(message=svc.ENTER_TEXT),
            Length(max=svc.MAX_TEXT_LENGTH, message=svc.TEXT_TOO_LONG),
        ],
    )
    respondent = RadioField(
        "Who said it?",
        widget=GovRadioInput(),
        choices=vocab_choices(Respondent),
        invalid_choice_message=svc.SELECT_RESPONDENT,
    )
    sentiment = RadioField(
        "What kind of feedback is it?",
        widget=GovRadioInput(),
        choices=vocab_choices(Sentiment),
        invalid_choice_message=svc.SELECT_SENTIMENT,
    )
    priorities = SelectMultipleField(
        "Which priorities is it about? (optional)",
        widget=GovCheckboxesInput(),
        coerce=int,
        choices=[],
        description="Select all that apply. If you are not sure, leave them: a coordinator will.",
        invalid_choice_message=svc.SELECT_PRIORITIES,
        invalid_value_message=svc.SELECT_PRIORITIES,
    )
    age_phase = OptionalRadioField(
        "Age or stage of the child or young person (optional)",
        widget=GovRadioInput(),
        # "Not known" lets a wrong choice be taken back; radios cannot be unticked.
        choices=[*vocab_choices(AgePhase), SelectChoice("", "Not known")],
        invalid_choice_message=svc.SELECT_AGE_PHASE,
    )
    need_types = SelectMultipleField(
        "Type of need (optional)",
        widget=GovCheckboxesInput(),
        choices=vocab_choices(NeedType),
        description="The areas of need in the SEND Code of Practice. Select all that apply.",
        invalid_choice_message=svc.SELECT_NEED_TYPES,
        invalid_value_message=svc.SELECT_NEED_TYPES,
    )
    setting = StringField(
        "Setting (optional)",
        widget=GovTextInput(),
        description="The kind of place, like mainstream secondary school or special school. "
        "Do not name it if that could identify the family.",
        validators=[
            Optional(),
            Length(max=svc.MAX_SETTING_LENGTH, message=svc.SETTING_TOO_LONG),
        ],
    )
    may_quote = BooleanField(
        "They agree we may quote what they said, without their name",
        widget=GovCheckboxInput(),
    )
    wants_reply = BooleanField("They want to hear what happens", widget=GovCheckboxInput())
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=320, message=consent.EMAIL_INVALID)],
    )
    phone = StringField(
        "Phone number for text messages",
        widget=GovTextInput(),
        validators=[Optional(), Length(max=40, message=consent.PHONE_INVALID)],
    )

    # Each contact field is checked on its own, so a bad email and a bad number are both
    # shown at once; the service still decides that at least one is needed.
    def validate_email(self, field: Field) -> None:
        self._check_contact(field, consent.clean_email)

    def validate_phone(self, field: Field) -> None:
        self._check_contact(field, consent.clean_phone)

    def _check_contact(self, field: Field, clean: Any) -> None:
        if not self.wants_reply.data or not field.data:
            return
        try:
            clean(field.data)
        except consent.ContactError as error:
            raise ValidationError(error.message) from error

    idempotency_key = HiddenField()
    submit = SubmitField("Save item", widget=GovSubmitInput())

    def set_priority_options(self, options: list[Priority]) -> None:
        self.priorities.choices = [SelectChoice(p.id, f"{p.code}: {p.title}") for p in options]

    def details(self) -> svc.ItemDetails:
        return svc.ItemDetails(
            text=self.text.data,
            respondent=self.respondent.data,
            sentiment=self.sentiment.data,
            priorities=self.priorities.data or [],
            age_phase=self.age_phase.data,
            need_types=self.need_types.data or [],
            setting=self.setting.data,
            may_quote=bool(self.may_quote.data),
            wants_reply=bool(self.wants_reply.data),
            email=self.email.data,
            phone=self.phone.data,
        )


class ResumeForm(BaseForm):
    """Sign in again on the "you have been signed out" page. The names carry a prefix because
    the item's own fields, posted alongside, include an email address too."""

    email = StringField(
        "Email address",
        name="signin-email",
        widget=GovTextInput(),
        validators=[DataRequired(message="Enter your email address")],
    )
    password = PasswordField(
        "Password",
        name="signin-password",
        widget=GovPasswordInput(),
        validators=[DataRequired(message="Enter your password")],
    )
    resume = HiddenField()
    submit = SubmitField("Sign in and save", widget=GovSubmitInput())
