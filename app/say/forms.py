"""The public form, in two wordings: one for parents and carers, one for young people.

CSRF is checked by the view itself (see routes.py), so that a form left open too long is shown
again with what was typed instead of an error page.
"""

from __future__ import annotations

from typing import Any

from govuk_frontend_wtf.wtforms_widgets import (
    GovCheckboxInput,
    GovRadioInput,
    GovSubmitInput,
    GovTextArea,
    GovTextInput,
)
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
    SubmitField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Length, Optional

from app.forms import BaseForm
from app.services import capture, consent
from app.services.capture import MAX_TEXT_LENGTH, ItemDetails

MAX_EMAIL_LENGTH = 320
MAX_PHONE_LENGTH = 40
YOUNG_EMAIL_INVALID = "Check your email. It should look like sam@example.com"
YOUNG_PHONE_INVALID = "Check your phone number. It should look like 07700 900 982"


class _SayFields(BaseForm):
    class Meta:
        csrf = False

    # Filled in only by programs that fill in every box; people never see it.
    website = StringField("Leave this empty")
    idempotency_key = HiddenField()

    enter_contact_message = ""

    def validate(self, extra_validators: Any = None) -> bool:
        valid = super().validate(extra_validators)
        if not self.wants_reply.data:
            return valid
        if not (self.email.data or self.phone.data):
            self.email.errors = [*self.email.errors, self.enter_contact_message]
            return False
        # Checked here as well as when saving, so that every mistake shows at once.
        for field, clean in ((self.email, consent.clean_email), (self.phone, consent.clean_phone)):
            if field.errors:
                continue
            try:
                clean(field.data)
            except consent.ContactError as error:
                field.errors = [*field.errors, self.contact_message(error.field, error.message)]
                valid = False
        return valid

    def contact_message(self, field: str, message: str) -> str:
        return message

    def is_spam(self) -> bool:
        return bool((self.website.data or "").strip())

    def details(self) -> ItemDetails:
        wants_reply = bool(self.wants_reply.data)
        return ItemDetails(
            text=self.text.data,
            respondent=self.respondent.data,
            sentiment=self.sentiment.data,
            may_quote=bool(self.may_quote.data),
            wants_reply=wants_reply,
            # Contact typed and then unticked is not kept.
            email=self.email.data if wants_reply else None,
            phone=self.phone.data if wants_reply else None,
        )


class SayForm(_SayFields):
    """For parents, carers and anyone else."""

    text = TextAreaField(
        "What do you want to tell us?",
        widget=GovTextArea(),
        description="Use your own words. Please do not write the names of children, staff or "
        "schools.",
        validators=[
            DataRequired(message="Enter what you want to tell us"),
            Length(
                max=MAX_TEXT_LENGTH,
                message=f"What you tell us must be {MAX_TEXT_LENGTH:,} characters or fewer",
            ),
        ],
    )
    respondent = RadioField(
        "Who are you?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("parent_carer", "A parent or carer"),
            SelectChoice("young_person", "A young person"),
            SelectChoice("child", "A child"),
            SelectChoice("other", "Someone else"),
        ],
        invalid_choice_message="Select who you are",
    )
    sentiment = RadioField(
        "What is it about?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("working_well", "Something that is working well"),
            SelectChoice("needs_change", "Something that needs to change"),
            SelectChoice("idea", "An idea"),
        ],
        invalid_choice_message="Select whether it is working well, needs to change or an idea",
    )
    may_quote = BooleanField("You may quote what I said without my name", widget=GovCheckboxInput())
    wants_reply = BooleanField("I want to hear what happens", widget=GovCheckboxInput())
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(
                max=MAX_EMAIL_LENGTH,
                message="Enter an email address in the correct format, like name@example.com",
            ),
        ],
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        description="For a text message or a call",
        validators=[
            Optional(),
            Length(
                max=MAX_PHONE_LENGTH,
                message="Enter a UK phone number, like 07700 900 982 or 0161 496 0000",
            ),
        ],
    )
    submit = SubmitField("Send", widget=GovSubmitInput())

    enter_contact_message = (
        "Enter an email address or a phone number, so we can tell you what happens"
    )


class YoungSayForm(_SayFields):
    """For young people: short questions in everyday words."""

    text = TextAreaField(
        "What do you want to tell us?",
        widget=GovTextArea(),
        description="Write it in your own words. Do not put anyone's name in it.",
        validators=[
            DataRequired(message="Write what you want to tell us"),
            Length(
                max=MAX_TEXT_LENGTH,
                message=f"That is too long. Use {MAX_TEXT_LENGTH:,} letters or less",
            ),
        ],
    )
    sentiment = RadioField(
        "How do you feel about it?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("working_well", "Good"),
            SelectChoice("needs_change", "Not good"),
            SelectChoice("idea", "I have an idea"),
        ],
        invalid_choice_message="Choose how you feel about it",
    )
    respondent = RadioField(
        "How old are you?",
        widget=GovRadioInput(),
        choices=[
            SelectChoice("child", "I am under 16"),
            SelectChoice("young_person", "I am 16 or older"),
            SelectChoice("other", "I am not a young person"),
        ],
        invalid_choice_message="Choose how old you are",
    )
    may_quote = BooleanField("Yes, you can use my words", widget=GovCheckboxInput())
    wants_reply = BooleanField("Yes, I want to know what happens", widget=GovCheckboxInput())
    email = StringField(
        "Email",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=MAX_EMAIL_LENGTH, message=YOUNG_EMAIL_INVALID),
        ],
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        validators=[
            Optional(),
            Length(max=MAX_PHONE_LENGTH, message=YOUNG_PHONE_INVALID),
        ],
    )
    submit = SubmitField("Send", widget=GovSubmitInput())

    enter_contact_message = "Give us an email or a phone number, so we can tell you"

    def contact_message(self, field: str, message: str) -> str:
        return YOUNG_EMAIL_INVALID if field == "email" else YOUNG_PHONE_INVALID


def message_for(form: _SayFields, error: capture.CaptureError) -> str:
    """The service's words, or the form's own when it says the same thing more plainly."""
    if error.field == "email" and not (form.email.data or form.phone.data):
        return form.enter_contact_message
    if error.field in ("email", "phone"):
        return form.contact_message(error.field, error.message)
    if isinstance(form, YoungSayForm) and error.field == "text":
        return "Write what you want to tell us"
    return error.message
