"""Form helpers shared by every blueprint: GOV.UK wording, whitespace stripped."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm

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
