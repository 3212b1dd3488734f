"""The open data outputs: JSON, CSV and an Atom feed, built from app.services.public_content.

The field lists here are the documentation too: the open data page renders them, so the page
and the files cannot drift apart. Change SCHEMA_VERSION when a field is renamed or removed
(adding a field is not a breaking change).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

from feedgen.feed import FeedGenerator

from app.services.public_content import (
    PublicAction,
    PublicPage,
    PublicTheme,
    public_count,
)
from app.templating import govuk_date

SCHEMA_VERSION = 1
LICENCE = "OGL-UK-3.0"
LICENCE_NAME = "Open Government Licence v3.0"
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."

ThemeUrl = Callable[[str], str]

# (field, what it holds): rendered on the open data page.
JSON_TOP_FIELDS: list[tuple[str, str]] = [
    (
        "schema_version",
        "The version of this structure, now 1. It changes only when a field is "
        "renamed or removed; new fields can be added without changing it.",
    ),
    ("partnership", "The local area SEND partnership: name, slug, page_url and local_offer_url."),
    (
        "strategy",
        "The partnership's active SEND strategy (title, slug, starts, ends and its "
        "priorities with code and title), or null if none is active.",
    ),
    ("licence", 'The licence identifier, "OGL-UK-3.0".'),
    ("licence_url", "The address of the Open Government Licence v3.0."),
    ("attribution", "The attribution statement to use when you reuse the data."),
    ("generated_at", "When the file was made, in UTC (ISO 8601)."),
    ("themes", "The published themes, most recently updated first."),
]
JSON_THEME_FIELDS: list[tuple[str, str]] = [
    ("slug", "The theme's identifier, also the last part of its page address."),
    ("url", "The theme's page."),
    ("title", "A short title."),
    ("statement", 'The "You said": what families told us, in the partnership\'s words.'),
    ("status", "open (waiting for a response), responded or closed; status_label gives the words."),
    (
        "priorities",
        "The strategy priorities the theme is about (code and title). The first is "
        "the one it is listed under.",
    ),
    ("subgroup", "The partnership sub-group that answers it (code and title), or null."),
    (
        "voices",
        "total: how many things people said that the theme was written from; events: at "
        "how many events; by_respondent and by_place: the same total split by who said it and "
        'where. Each count is a number, or the text "fewer than 5".',
    ),
    ("first_heard", "The date the first of those things was said."),
    ("published_at", "When the theme was first published, in UTC."),
    ("last_updated", "When anything published about the theme last changed, in UTC."),
    ("actions", "The published answers (below)."),
]
JSON_ACTION_FIELDS: list[tuple[str, str]] = [
    ("id", "The action's identifier."),
    ("kind", "we_did, we_will or we_cant; kind_label gives the words."),
    (
        "headline",
        'The answer in a few words, as the page shows it: "We did, on 3 November 2026", '
        '"We will, by 31 March 2027" or "We can\'t" (the why is in reason).',
    ),
    ("text", "What was done or will be done."),
    ("reason", "For we_cant: why not. Otherwise null."),
    ("status", "planned, in_progress, done or not_possible; status_label gives the words."),
    ("target_date", "For we_will: when it should be done."),
    ("done_date", "For we_did: when it was done."),
    ("evidence_url", "A link to evidence, or null."),
    ("subgroup", "The sub-group responsible (code and title), or null."),
    ("published_at", "When the action was published, in UTC."),
    ("updates", "Published progress updates, oldest first: date, text and new_status."),
]
CSV_FIELDS: list[tuple[str, str]] = [
    ("theme_slug", "The theme's identifier."),
    ("theme_url", "The theme's page."),
    ("theme_title", "A short title."),
    ("you_said", "What families told us, in the partnership's words."),
    ("theme_status", "Waiting for a response, Responded or Closed."),
    ("priority_codes", "Codes of the strategy priorities, separated by semicolons."),
    ("priorities", "Titles of the strategy priorities, separated by semicolons."),
    ("subgroup", "The sub-group that answers the theme."),
    ("voices", 'How many things people said that the theme was written from, or "fewer than 5".'),
    ("first_heard", "The date the first of those things was said (YYYY-MM-DD)."),
    ("theme_published", "When the theme was first published (YYYY-MM-DD)."),
    ("theme_last_updated", "When anything published about the theme last changed (YYYY-MM-DD)."),
    ("action_kind", "We did, We will or We can't. Empty if there is no published action yet."),
    (
        "action_headline",
        'For example "We will, by 31 March 2027" or "We can\'t" (the why is in action_reason).',
    ),
    ("action_text", "What was done or will be done."),
    ("action_reason", "For We can't: why not."),
    ("action_status", "Planned, In progress, Done or Not possible."),
    ("action_target_date", "For We will: when it should be done (YYYY-MM-DD)."),
    ("action_done_date", "For We did: when it was done (YYYY-MM-DD)."),
    ("action_evidence_url", "A link to evidence."),
    ("action_progress", "Published progress updates, oldest first, one per line: date, then text."),
]

# Spreadsheet programs run a cell that starts with one of these as a formula.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _iso_date(value: date | datetime | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    return value.isoformat()


def _utc(value: datetime | None) -> datetime | None:
    """Stored times are naive UTC; outputs say so."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _iso_time(value: datetime | None) -> str | None:
    aware = _utc(value)
    return aware.isoformat(timespec="seconds").replace("+00:00", "Z") if aware else None


def _subgroup(theme_or_action: PublicTheme | PublicAction) -> dict[str, str] | None:
    sg = theme_or_action.subgroup
    return {"code": sg.code, "title": sg.title} if sg else None


# -- JSON -----------------------------------------------------------------------------------


def json_document(
    page: PublicPage, *, page_url: str, theme_url: ThemeUrl, generated_at: datetime
) -> dict[str, Any]:
    p = page.partnership
    strategy = page.strategy
    return {
        "schema_version": SCHEMA_VERSION,
        "partnership": {
            "name": p.name,
            "slug": p.slug,
            "page_url": page_url,
            "local_offer_url": p.local_offer_url,
        },
        "strategy": (
            {
                "title": strategy.title,
                "slug": strategy.slug,
                "starts": _iso_date(strategy.starts),
                "ends": _iso_date(strategy.ends),
                "priorities": [{"code": pr.code, "title": pr.title} for pr in strategy.priorities],
            }
            if strategy
            else None
        ),
        "licence": LICENCE,
        "licence_url": LICENCE_URL,
        "attribution": ATTRIBUTION,
        "generated_at": _iso_time(generated_at),
        "themes": [_theme_json(t, theme_url) for t in page.themes],
    }


def _theme_json(theme: PublicTheme, theme_url: ThemeUrl) -> dict[str, Any]:
    v = theme.voices
    return {
        "slug": theme.slug,
        "url": theme_url(theme.slug),
        "title": theme.title,
        "statement": theme.statement,
        "status": theme.status,
        "status_label": theme.status_label,
        "priorities": [{"code": pr.code, "title": pr.title} for pr in theme.priorities],
        "subgroup": _subgroup(theme),
        "voices": {
            "total": public_count(v.total),
            "events": v.events,
            "by_respondent": [
                {"respondent": r.value, "label": r.label, "count": r.public}
                for r in v.by_respondent
            ],
            "by_place": [
                {"kind": r.value, "label": r.label, "count": r.public} for r in v.by_place
            ],
        },
        "first_heard": _iso_date(v.first_heard),
        "published_at": _iso_time(theme.published_at),
        "last_updated": _iso_time(theme.last_updated),
        "actions": [_action_json(a) for a in theme.actions],
    }


def _action_json(action: PublicAction) -> dict[str, Any]:
    return {
        "id": action.id,
        "kind": action.kind,
        "kind_label": action.kind_label,
        "headline": action.headline,
        "text": action.text,
        "reason": action.reason,
        "status": action.status,
        "status_label": action.status_label,
        "target_date": _iso_date(action.target_date),
        "done_date": _iso_date(action.done_date),
        "evidence_url": action.evidence_url,
        "subgroup": _subgroup(action),
        "published_at": _iso_time(action.published_at),
        "updates": [
            {
                "date": _iso_date(u.happened_on),
                "text": u.text,
                "new_status": u.new_status,
                "new_status_label": u.new_status_label,
            }
            for u in action.updates
        ],
    }


# -- CSV ------------------------------------------------------------------------------------


def csv_safe(value: Any) -> str:
    """A cell that a spreadsheet shows as text, never runs as a formula (CSV injection)."""
    text = "" if value is None else str(value)
    if text.startswith(_FORMULA_STARTS):
        return "'" + text
    return text


def csv_rows(page: PublicPage, theme_url: ThemeUrl) -> list[dict[str, str]]:
    """One row per published action; a theme with no published action still gets a row."""
    rows: list[dict[str, str]] = []
    for theme in page.themes:
        theme_cells = {
            "theme_slug": theme.slug,
            "theme_url": theme_url(theme.slug),
            "theme_title": theme.title,
            "you_said": theme.statement,
            "theme_status": theme.status_label,
            "priority_codes": "; ".join(pr.code for pr in theme.priorities),
            "priorities": "; ".join(pr.title for pr in theme.priorities),
            "subgroup": theme.subgroup.title if theme.subgroup else "",
            "voices": str(public_count(theme.voices.total)),
            "first_heard": _iso_date(theme.voices.first_heard) or "",
            "theme_published": _iso_date(theme.published_at) or "",
            "theme_last_updated": _iso_date(theme.last_updated) or "",
        }
        for action in theme.actions or (None,):
            row: dict[str, Any] = dict(theme_cells)
            if action is not None:
                row.update(
                    {
                        "action_kind": action.kind_label,
                        "action_headline": action.headline,
                        "action_text": action.text,
                        "action_reason": action.reason,
                        "action_status": action.status_label,
                        "action_target_date": _iso_date(action.target_date),
                        "action_done_date": _iso_date(action.done_date),
                        "action_evidence_url": action.evidence_url,
                        "action_progress": "\n".join(
                            f"{_iso_date(u.happened_on)}: {u.text}" for u in action.updates
                        ),
                    }
                )
            rows.append({name: csv_safe(row.get(name)) for name, _ in CSV_FIELDS})
    return rows


def csv_text(page: PublicPage, theme_url: ThemeUrl) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=[name for name, _ in CSV_FIELDS])
    writer.writeheader()
    writer.writerows(csv_rows(page, theme_url))
    return buffer.getvalue()


# -- Atom -----------------------------------------------------------------------------------


def theme_as_text(theme: PublicTheme) -> str:
    """The theme as plain text for a feed reader: what was said and every published answer."""
    lines = ["You said", theme.statement, "", "What we are doing"]
    if not theme.actions:
        who = theme.subgroup.phrase if theme.subgroup else "the partnership"
        lines.append(f"We have not published a response from {who} yet.")
    for action in theme.actions:
        lines.append(f"{action.headline} ({action.status_label}): {action.text}")
        if action.because:
            lines.append(action.because)
        for update in action.updates:
            lines.append(f"  Progress, {govuk_date(update.happened_on)}: {update.text}")
    return "\n".join(lines)


def atom_feed(
    page: PublicPage, *, page_url: str, feed_url: str, theme_url: ThemeUrl, now: datetime
) -> bytes:
    name = page.partnership.name
    fg = FeedGenerator()
    fg.id(page_url)
    fg.title(f"You said, we did: {name}")
    fg.subtitle(f"What families told the {name}, and what was done about it.")
    fg.author({"name": name})
    fg.link(href=page_url, rel="alternate", type="text/html")
    fg.link(href=feed_url, rel="self", type="application/atom+xml")
    fg.language("en-GB")
    fg.rights(f"{LICENCE_NAME}: {LICENCE_URL}")
    fg.updated(_utc(page.last_updated) or _utc(now))
    for theme in page.themes:
        url = theme_url(theme.slug)
        entry = fg.add_entry(order="append")
        entry.id(url)
        entry.title(theme.title)
        entry.link(href=url, rel="alternate", type="text/html")
        entry.updated(_utc(theme.last_updated) or _utc(now))
        if theme.published_at:
            entry.published(_utc(theme.published_at))
        entry.summary(theme.statement)
        entry.content(theme_as_text(theme), type="text")
        for pr in theme.priorities:
            entry.category(term=pr.code, label=pr.title)
    return fg.atom_str(pretty=True)
