"""Reading pages as a person does: parsed HTML, the words on it, a field's error message."""

from __future__ import annotations

from bs4 import BeautifulSoup


def soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(response) -> str:
    return " ".join(soup(response).get_text(" ").split())


def error_for(page: BeautifulSoup, field_id: str) -> str:
    """The GOV.UK error message inside the form group of a field (or fieldset)."""
    element = page.find(id=field_id)
    assert element is not None, f"no element #{field_id}"
    group = element.find_parent(class_="govuk-form-group")
    message = group.find(class_="govuk-error-message") if group else None
    assert message is not None, f"no error message next to #{field_id}"
    return " ".join(message.get_text(" ").split())
