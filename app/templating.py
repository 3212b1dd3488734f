"""Template filters and globals shared by every page."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask, request, url_for
from flask_login import current_user

from app.models import vocab
from app.services import consent, permissions
from app.services.scoping import optional_partnership

_VOCABS: dict[str, type[vocab.Labelled]] = {
    "role": vocab.Role,
    "event_kind": vocab.EventKind,
    "respondent": vocab.Respondent,
    "sentiment": vocab.Sentiment,
    "age_phase": vocab.AgePhase,
    "need_type": vocab.NeedType,
    "channel": vocab.Channel,
    "feedback_status": vocab.FeedbackStatus,
    "theme_status": vocab.ThemeStatus,
    "publication": vocab.Publication,
    "action_kind": vocab.ActionKind,
    "action_status": vocab.ActionStatus,
    "strategy_status": vocab.StrategyStatus,
    "outbox_status": vocab.OutboxStatus,
}

# GOV.UK tag colours for statuses people scan for.
_TAG_CLASSES = {
    "planned": "govuk-tag--grey",
    "in_progress": "govuk-tag--blue",
    "done": "govuk-tag--green",
    "not_possible": "govuk-tag--orange",
    "draft": "govuk-tag--grey",
    "published": "govuk-tag--green",
    "withdrawn": "govuk-tag--red",
    "new": "govuk-tag--blue",
    "triaged": "govuk-tag--light-blue",
    "themed": "govuk-tag--purple",
    "answered": "govuk-tag--green",
    "closed": "govuk-tag--grey",
    "open": "govuk-tag--yellow",
    "responded": "govuk-tag--green",
}


def label(value: str | None, vocabulary: str) -> str:
    if value is None:
        return ""
    try:
        return _VOCABS[vocabulary](value).label
    except ValueError:
        return value


def tag_class(value: str | None) -> str:
    return _TAG_CLASSES.get(value or "", "")


def govuk_date(value: date | datetime | None) -> str:
    """23 November 2026, as GOV.UK writes dates."""
    if value is None:
        return ""
    return f"{value.day} {value:%B %Y}"


def count_or_fewer(value: int) -> str:
    """A public count on a page, by the same rule as the open data."""
    # Imported here: public_content uses this module's govuk_date for its own wording.
    from app.services.public_content import public_count

    return str(public_count(value))


def init_app(app: Flask) -> None:
    app.add_template_filter(label)
    app.add_template_filter(govuk_date)
    app.add_template_filter(tag_class)
    app.add_template_filter(count_or_fewer)
    app.add_template_global(permissions.can, "can")
    # The notice people are shown when they give consent; old versions stay readable.
    app.jinja_env.globals["privacy_notice"] = consent.CURRENT_NOTICE
    # Not a GOV.UK service: no crown, no GOV.UK rebrand assets.
    app.jinja_env.globals["govukRebrand"] = False

    @app.context_processor
    def layout_context() -> dict[str, Any]:
        nav: list[dict[str, Any]] = []
        if current_user.is_authenticated:
            here = request.endpoint or ""
            items = [
                ("signed_in", "auth.home", "Your work", ("auth.home",)),
                ("capture", "capture.index", "Log feedback", ("capture.",)),
                (
                    "triage",
                    "triage.index",
                    "Triage",
                    ("triage.index", "triage.feedback", "triage.theme"),
                ),
                ("safeguarding", "triage.safeguarding", "Safeguarding", ("triage.safeguarding",)),
                ("respond", "respond.index", "Respond", ("respond.",)),
                ("publish", "triage.approvals", "Approve", ("triage.approv", "triage.withdraw")),
                ("administer", "admin.index", "Admin", ("admin.",)),
            ]
            for permission, endpoint, text, prefixes in items:
                if permissions.can(current_user, permission):
                    nav.append(
                        {
                            "href": url_for(endpoint),
                            "text": text,
                            "active": here.startswith(prefixes),
                        }
                    )
        return {
            "service_name": app.config["SERVICE_NAME"],
            "partnership": optional_partnership(),
            "nav_items": nav,
            "assetPath": url_for("static", filename="govuk/assets"),
        }
