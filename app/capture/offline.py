"""Capture that never loses a word: the JSON save that a phone's queue of items uses, a fresh
CSRF token for it, and the service worker and web app manifest that let the capture pages open
without a signal.

The queue (static/js/capture-offline.js) keeps every item on the phone until the server has
answered for it. Each item carries a key the phone made, so sending it again after a dropped
answer, a double tap or a second tab never makes a second row: a repeat answers as if it were
the first.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from flask import current_app, jsonify, render_template, request, session, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from werkzeug.wrappers import Response

from app.capture import bp
from app.capture.forms import FeedbackForm
from app.capture.routes import RESPONDENT_SESSION_KEY
from app.config import BASE_DIR
from app.extensions import db
from app.models import Event
from app.models.vocab import Respondent
from app.services import capture as svc
from app.services import consent
from app.services.permissions import can_manage_event, public, requires
from app.services.scoping import current_partnership, get_scoped

STATIC_DIR = BASE_DIR / "static"
SERVICE_WORKER = STATIC_DIR / "js" / "capture-sw.js"
# What the capture pages need to draw and work offline. Fonts are not here: app.css swaps GDS
# Transport for the phone's own Arial, so no font file is ever fetched.
SHELL_FILES = (
    "govuk/govuk-frontend.min.css",
    "govuk/govuk-frontend.min.js",
    "css/app.css",
    "js/js-enabled.js",
    "js/app.js",
    "js/capture-offline.js",
    "images/favicon.svg",
    "images/app-icon-192.png",
)
# Pages cached for offline use: the newest this many, so a phone used for a year does not
# carry every event page it ever opened.
MAX_CACHED_PAGES = 40
THEME_COLOUR = "#0b0c0c"

_TEXT_FIELDS = ("text", "respondent", "sentiment", "age_phase", "setting", "email", "phone")
_BAD_REQUEST = "Send the item as a JSON object with an idempotency_key"
_OTHER_ITEM = "That key belongs to another item"


def _json(payload: dict[str, Any], status: int = 200) -> Response:
    # Answers are about private items: never kept by the browser, a proxy or the service worker.
    response = jsonify(payload)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response


def _formdata(data: dict[str, Any]) -> MultiDict[str, str]:
    """The JSON item as the fields the volunteer's form posts, so both are checked by the same
    form with the same messages. Values of the wrong type are left out, and the form says what
    is missing."""
    fields: MultiDict[str, str] = MultiDict()
    for name in _TEXT_FIELDS:
        value = data.get(name)
        if isinstance(value, str):
            fields.add(name, value)
    for name in ("priorities", "need_types"):
        values = data.get(name) or []
        if not isinstance(values, list):
            values = [values]
        for value in values:
            # bool is an int: true is not priority 1.
            if isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool)):
                fields.add(name, str(value))
            else:
                # Still posted, so the form refuses it rather than quietly dropping a choice.
                fields.add(name, "not-a-choice")
    for name in ("may_quote", "wants_reply"):
        if data.get(name) is True:
            fields.add(name, "y")
    return fields


def _errors(form: FeedbackForm) -> dict[str, str]:
    return {name: messages[0] for name, messages in form.errors.items() if messages}


@bp.route("/events/<int:event_id>/items.json", methods=["POST"])
@requires("capture")
def save_item_json(event_id: int) -> Response:
    """Save one item sent by the phone's queue.

    201 {"id", "created": true, "count"} the first time; 200 with "created": false when the key
    was seen before (a retry); 422 {"errors": {field: message}} if it can never be saved as it
    is; 401 {"signed_out": true} and 400 {"csrf_expired": true} come from the guards before
    this view, so the phone keeps the item and asks again.
    """
    event = get_scoped(Event, event_id)
    if event is None:
        return _json({"error": "not_found"}, 404)
    if not can_manage_event(current_user, event):
        return _json({"error": "forbidden"}, 403)
    data = request.get_json(silent=True)
    key = data.get("idempotency_key") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(key, str) or not svc.valid_key(key):
        return _json({"error": _BAD_REQUEST}, 400)

    # A repeat answers as the first did, even if the item would not pass today's checks (a
    # priority retired since): it is already saved.
    existing = svc.find_by_idempotency_key(event.partnership_id, key)
    if existing is not None:
        return _answer(event, existing.id, existing.event_id, existing.entered_by_id, False)

    form = FeedbackForm(formdata=_formdata(data), meta={"csrf": False})
    form.set_priority_options(svc.priority_options(current_partnership()))
    if not form.validate():
        return _json({"errors": _errors(form)}, 422)
    try:
        item, created = svc.record_feedback(event, current_user, form.details(), key)
    except svc.CaptureError as error:
        db.session.rollback()
        return _json({"errors": {error.field: error.message}}, 422)
    answer = _answer(event, item.id, item.event_id, item.entered_by_id, created)
    if answer.status_code >= 400:
        db.session.rollback()
        return answer
    db.session.commit()
    if form.respondent.data in Respondent._value2member_map_:
        # The next page load remembers "who said it", as the form's own save does.
        session[RESPONDENT_SESSION_KEY] = form.respondent.data
    return answer


def _answer(
    event: Event, item_id: int, item_event_id: int | None, author_id: int | None, created: bool
) -> Response:
    # Keys are random UUIDs: one that names someone else's item, or another event's, is not a
    # retry of this one, and must not be told that it was saved.
    if item_event_id != event.id or author_id != current_user.id:
        return _json({"error": _OTHER_ITEM}, 409)
    body = {"id": item_id, "created": created, "count": svc.item_count(event)}
    return _json(body, 201 if created else 200)


@bp.route("/csrf-token.json")
@requires("capture")
def csrf_token_json() -> Response:
    """A fresh token for a page left open so long that its own one expired."""
    return _json({"csrf_token": generate_csrf()})


@bp.app_context_processor
def offline_capture_context() -> dict[str, Any]:
    """What the capture script checks before it keeps an item on the phone: the server's own
    messages, so that an item that could never be saved is not queued and both say the same.
    App-wide, so the add-item form works whichever view draws it."""
    return {
        "offline_capture_messages": {
            "text": svc.ENTER_TEXT,
            "text_too_long": svc.TEXT_TOO_LONG,
            "text_max": svc.MAX_TEXT_LENGTH,
            "respondent": svc.SELECT_RESPONDENT,
            "sentiment": svc.SELECT_SENTIMENT,
            "contact": consent.ENTER_CONTACT,
            "email": consent.EMAIL_INVALID,
            "phone": consent.PHONE_INVALID,
        }
    }


# The app shell: service worker, manifest and the page shown offline


def _shell_version() -> str:
    """Changes whenever the worker or anything it precaches changes, so the browser installs
    the new worker and it replaces the old copies. Hashing a few hundred kilobytes on each
    update check costs less than a millisecond."""
    digest = hashlib.sha256(SERVICE_WORKER.read_bytes())
    for name in SHELL_FILES:
        digest.update(name.encode())
        digest.update((STATIC_DIR / name).read_bytes())
    return digest.hexdigest()[:16]


@bp.route("/sw.js")
@public
def service_worker() -> Response:
    """The service worker, served from /capture/ so that it controls the capture pages only."""
    config = {
        "version": _shell_version(),
        "scope": url_for("capture.index"),
        "offlinePage": url_for("capture.offline"),
        "shell": [url_for("static", filename=name) for name in SHELL_FILES],
        "staticPrefixes": [f"{current_app.static_url_path}/", "/assets/"],
        "maxPages": MAX_CACHED_PAGES,
    }
    body = f"self.CAPTURE_SW = {json.dumps(config)};\n{SERVICE_WORKER.read_text()}"
    response = current_app.response_class(body, mimetype="application/javascript")
    # Checked on every visit, so a new version of the capture pages reaches phones at once.
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
@public
def manifest() -> Response:
    """Lets a volunteer add "Log feedback" to their phone's home screen."""
    png = "images/app-icon-{}.png"
    icons = [
        {"src": url_for("static", filename=png.format(192)), "sizes": "192x192"},
        {"src": url_for("static", filename=png.format(512)), "sizes": "512x512"},
        # The same picture: it is drawn inside the middle 80%, so a phone may crop it to any shape.
        {
            "src": url_for("static", filename=png.format(512)),
            "sizes": "512x512",
            "purpose": "maskable",
        },
    ]
    for icon in icons:
        icon["type"] = "image/png"
    icons.append(
        {
            "src": url_for("static", filename="images/app-icon.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
        }
    )
    data = {
        "name": f"{current_app.config['SERVICE_NAME']}: log feedback",
        "short_name": "Log feedback",
        "description": "Log what parents, carers and young people say at events, even offline.",
        "start_url": url_for("capture.index"),
        "scope": url_for("capture.index"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": THEME_COLOUR,
        "icons": icons,
    }
    response = current_app.response_class(
        json.dumps(data, indent=2), mimetype="application/manifest+json"
    )
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/offline")
@public
def offline() -> str:
    """What the service worker shows for a capture page that was never opened on this phone."""
    return render_template("capture/offline.html")
