"""Consent at capture: the privacy notice people were shown, and how to reach those who want
to hear back. Contact details are kept apart from what was said and have a deletion date."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from email_validator import EmailNotValidError, validate_email

from app.models import Feedback, FeedbackContact, Partnership


@dataclass(frozen=True)
class PrivacyNotice:
    """One published wording of the privacy notice. A changed wording is a new version: the
    old one stays here, so every consent can still be read against the words that were shown."""

    version: str
    published_on: date
    template: str


NOTICES: tuple[PrivacyNotice, ...] = (
    PrivacyNotice("2026-11", date(2026, 11, 23), "privacy/notice_2026_11.html"),
)
CURRENT_NOTICE = NOTICES[-1]


def notice(version: str) -> PrivacyNotice | None:
    return next((n for n in NOTICES if n.version == version), None)


# Messages, shared with the forms.
ENTER_CONTACT = "Enter an email address or a phone number, so we can tell them what happened"
EMAIL_INVALID = "Enter an email address in the correct format, like name@example.com"
PHONE_INVALID = "Enter a UK phone number, like 07700 900 982 or 0161 496 0000"

# UK numbers: 0 and ten more digits, or +44 and the same without the 0.
_PHONE = re.compile(r"^(?:0|\+44)\d{9,10}$")


class ContactError(ValueError):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field
        self.message = message


def clean_email(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        raise ContactError("email", EMAIL_INVALID) from error


def clean_phone(value: str | None) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    digits = re.sub(r"[\s().-]", "", value)
    if not _PHONE.match(digits):
        raise ContactError("phone", PHONE_INVALID)
    if digits.startswith("+44"):
        digits = "0" + digits[3:]
    return digits


def clean_contact(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """(email, phone), at least one given; raises ContactError naming the field to fix."""
    cleaned_email = clean_email(email)
    cleaned_phone = clean_phone(phone)
    if not cleaned_email and not cleaned_phone:
        raise ContactError("email", ENTER_CONTACT)
    return cleaned_email, cleaned_phone


def deletion_date(partnership: Partnership, today: date) -> date:
    return today + timedelta(days=partnership.contact_retention_days)


def set_contact(
    item: Feedback,
    partnership: Partnership,
    email: str | None,
    phone: str | None,
    *,
    today: date,
    notice_version: str,
) -> FeedbackContact:
    """Attach (or replace) the contact row; values must already be cleaned."""
    contact = item.contact or FeedbackContact(partnership_id=partnership.id)
    contact.email = email
    contact.phone = phone
    contact.delete_after = deletion_date(partnership, today)
    contact.notice_version = notice_version
    item.contact = contact
    return contact
