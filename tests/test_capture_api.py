"""The save that a phone's offline queue uses, and the pieces that make capture work offline:
exactly once per key, answers a script can act on (never a sign-in page it would take for
success), the service worker and the web app manifest."""

from __future__ import annotations

import http.client
import json
import re
import socket
import threading
import uuid
from collections.abc import Iterator
from http.cookies import SimpleCookie

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.serving import make_server

from app.extensions import db
from app.models import Feedback
from app.services import capture as svc
from app.services import consent
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import soup


def item(**overrides) -> dict:
    data = {
        "idempotency_key": str(uuid.uuid4()),
        "text": "The wait for an autism assessment is far too long.",
        "respondent": "parent_carer",
        "sentiment": "needs_change",
    }
    data.update(overrides)
    return data


def save(client: FlaskClient, event_id: int, data: dict, **headers: str):
    return client.post(f"/capture/events/{event_id}/items.json", json=data, headers=headers)


def rows() -> list[Feedback]:
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all())


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


# Saving once, and again


def test_the_first_save_creates_the_item_and_a_repeat_answers_the_same(client, auth, world, event):
    auth.login(world.volunteer)
    data = item(
        priorities=[world.priorities["SEMH"].id],
        age_phase="secondary",
        need_types=["semh", "cognition_learning"],
        setting="Mainstream secondary school",
        may_quote=True,
        wants_reply=True,
        email="parent@example.org",
    )

    first = save(client, event.id, data)
    assert first.status_code == 201
    assert first.get_json() == {"id": rows()[0].id, "created": True, "count": 1}
    assert first.headers["Cache-Control"] == "no-store"

    again = save(client, event.id, data)
    assert again.status_code == 200
    assert again.get_json() == {"id": rows()[0].id, "created": False, "count": 1}
    assert again.headers["Cache-Control"] == "no-store"

    (saved,) = rows()
    assert saved.raw_text == data["text"]
    assert (saved.respondent, saved.sentiment) == ("parent_carer", "needs_change")
    assert [p.code for p in saved.priorities] == ["SEMH"]
    assert saved.age_phase == "secondary"
    assert sorted(saved.need_types) == ["cognition_learning", "semh"]
    assert saved.setting == "Mainstream secondary school"
    assert saved.event_id == event.id
    assert saved.entered_by_id == world.volunteer.id
    assert saved.idempotency_key == data["idempotency_key"]
    assert saved.may_quote and saved.wants_reply
    assert saved.contact.email == "parent@example.org"
    assert saved.consent_notice_version == consent.CURRENT_NOTICE.version


def test_a_repeat_answers_as_the_first_even_if_what_was_sent_changed(client, auth, world, event):
    auth.login(world.volunteer)
    data = item()
    assert save(client, event.id, data).status_code == 201
    # A retry is the same item: its key decides, and nothing it carries changes the saved row.
    again = save(client, event.id, {**data, "text": "", "respondent": "nobody"})
    assert again.status_code == 200
    assert again.get_json()["created"] is False
    assert [r.raw_text for r in rows()] == [data["text"]]


def test_the_count_is_the_events_count(client, auth, world, event):
    auth.login(world.volunteer)
    for number in range(1, 4):
        response = save(client, event.id, item(text=f"Item {number}"))
        assert response.get_json()["count"] == number


def test_the_next_page_remembers_who_said_it(client, auth, world, event):
    auth.login(world.volunteer)
    save(client, event.id, item(respondent="young_person"))
    page = soup(client.get(f"/capture/events/{event.id}"))
    assert page.select_one('input[name="respondent"][value="young_person"]').has_attr("checked")


# Items that can never be saved as they are


def test_missing_answers_get_the_forms_own_messages(client, auth, world, event):
    auth.login(world.volunteer)
    response = save(client, event.id, item(text="   ", respondent=None, sentiment="meh"))
    assert response.status_code == 422
    assert response.headers["Cache-Control"] == "no-store"
    assert response.get_json() == {
        "errors": {
            "text": svc.ENTER_TEXT,
            "respondent": svc.SELECT_RESPONDENT,
            "sentiment": svc.SELECT_SENTIMENT,
        }
    }
    assert rows() == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": "x" * (svc.MAX_TEXT_LENGTH + 1)}, "text", svc.TEXT_TOO_LONG),
        ({"priorities": [999_999]}, "priorities", svc.SELECT_PRIORITIES),
        ({"priorities": [True]}, "priorities", svc.SELECT_PRIORITIES),
        ({"priorities": "SEMH"}, "priorities", svc.SELECT_PRIORITIES),
        ({"need_types": ["astrology"]}, "need_types", svc.SELECT_NEED_TYPES),
        ({"age_phase": "retired"}, "age_phase", svc.SELECT_AGE_PHASE),
        ({"wants_reply": True}, "email", consent.ENTER_CONTACT),
        ({"wants_reply": True, "email": "not an address"}, "email", consent.EMAIL_INVALID),
        ({"wants_reply": True, "phone": "12"}, "phone", consent.PHONE_INVALID),
    ],
)
def test_bad_answers_are_refused_with_a_message_for_the_field(
    client, auth, world, event, overrides, field, message
):
    auth.login(world.volunteer)
    response = save(client, event.id, item(**overrides))
    assert response.status_code == 422
    assert response.get_json()["errors"][field] == message
    assert rows() == []


@pytest.mark.parametrize(
    "body",
    [
        item(idempotency_key=None),
        item(idempotency_key="short"),
        item(idempotency_key="has spaces in it"),
        ["not", "an", "object"],
    ],
)
def test_a_save_without_a_proper_key_is_a_bad_request(client, auth, world, event, body):
    auth.login(world.volunteer)
    response = save(client, event.id, body)
    assert response.status_code == 400
    assert "idempotency_key" in response.get_json()["error"]
    assert rows() == []


def test_a_key_that_belongs_to_someone_elses_item_is_refused(client, auth, world, event):
    volunteer2 = factories.make_user(world.partnership, "volunteer")
    theirs = factories.make_event(world.partnership, created_by=volunteer2)
    auth.login(volunteer2)
    data = item(text="Theirs")
    assert save(client, theirs.id, data).status_code == 201
    auth.logout()

    auth.login(world.volunteer)
    response = save(client, event.id, {**data, "text": "Mine"})
    assert response.status_code == 409
    assert [(r.raw_text, r.event_id) for r in rows()] == [("Theirs", theirs.id)]


# Who may save where


def test_a_board_viewer_may_not_save_items(client, auth, world, event):
    auth.login(world.board_viewer)
    assert save(client, event.id, item()).status_code == 403
    assert rows() == []


def test_a_volunteer_may_not_save_to_another_volunteers_event(client, auth, world):
    volunteer2 = factories.make_user(world.partnership, "volunteer")
    theirs = factories.make_event(world.partnership, created_by=volunteer2)
    auth.login(world.volunteer)
    response = save(client, theirs.id, item())
    assert response.status_code == 403
    assert response.get_json() == {"error": "forbidden"}
    assert rows() == []


def test_a_coordinator_may_save_to_a_volunteers_event(client, auth, world, event):
    auth.login(world.coordinator)
    assert save(client, event.id, item()).status_code == 201
    assert rows()[0].entered_by_id == world.coordinator.id


def test_another_partnerships_event_is_not_found(client, auth, world):
    theirs = factories.make_world("theirs")
    their_event = factories.make_event(theirs.partnership, created_by=theirs.volunteer)
    auth.login(world.coordinator)
    response = save(client, their_event.id, item())
    assert response.status_code == 404
    assert response.get_json() == {"error": "not_found"}
    assert save(client, 987_654, item()).status_code == 404
    assert rows() == []


# Signed out and stale tokens: the script is told, in a way it can act on


def test_a_signed_out_script_gets_401_json_not_the_sign_in_page(client, world, event):
    response = save(client, event.id, item())
    assert response.status_code == 401
    assert response.get_json() == {"signed_out": True, "sign_in_url": "/sign-in"}
    assert response.headers["Cache-Control"] == "no-store"
    token = client.get("/capture/csrf-token.json", headers={"Accept": "application/json"})
    assert token.status_code == 401
    assert token.get_json()["signed_out"] is True
    assert rows() == []


def test_a_browser_tab_that_is_signed_out_still_goes_to_sign_in(client, world, event):
    response = client.get("/capture/csrf-token.json", headers={"Accept": "text/html"})
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_signing_out_in_another_tab_answers_401_here(client, auth, world, event):
    auth.login(world.volunteer)
    # Signing out anywhere gives the account a new session token: this cookie stops working.
    world.volunteer.session_token = "signed-out-elsewhere"
    db.session.commit()
    response = save(client, event.id, item())
    assert response.status_code == 401
    assert response.get_json()["signed_out"] is True


def _csrf_client(csrf_app: Flask, user) -> tuple[FlaskClient, str]:
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    signed_in = client.post(
        "/sign-in",
        data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert signed_in.status_code == 302
    token = client.get("/capture/csrf-token.json", headers={"Accept": "application/json"})
    return client, token.get_json()["csrf_token"]


def test_a_stale_csrf_token_gets_json_and_a_fresh_token_works(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client, _ = _csrf_client(csrf_app, world.volunteer)

    stale = save(client, event.id, item(), **{"X-CSRFToken": "left-open-since-yesterday"})
    assert stale.status_code == 400
    assert stale.get_json() == {"csrf_expired": True}
    assert stale.headers["Cache-Control"] == "no-store"
    missing = save(client, event.id, item())
    assert missing.get_json() == {"csrf_expired": True}
    assert rows() == []

    fresh = client.get("/capture/csrf-token.json", headers={"Accept": "application/json"})
    assert fresh.status_code == 200
    assert fresh.headers["Cache-Control"] == "no-store"
    saved = save(client, event.id, item(), **{"X-CSRFToken": fresh.get_json()["csrf_token"]})
    assert saved.status_code == 201
    assert len(rows()) == 1


def test_a_stale_token_after_the_session_ended_says_sign_in(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client = csrf_app.test_client()
    response = save(client, event.id, item(), **{"X-CSRFToken": "from-an-old-session"})
    assert response.status_code == 401
    assert response.get_json()["signed_out"] is True


def test_a_form_post_with_a_stale_token_still_gets_the_html_page(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client, _ = _csrf_client(csrf_app, world.volunteer)
    response = client.post(f"/capture/events/{event.id}/edit", data={"csrf_token": "stale"})
    assert response.status_code == 400
    assert response.mimetype == "text/html"


def test_a_board_viewer_gets_no_token(client, auth, world):
    auth.login(world.board_viewer)
    response = client.get("/capture/csrf-token.json", headers={"Accept": "application/json"})
    assert response.status_code == 403


# The service worker, the manifest and the offline page


def test_the_service_worker_is_served_from_capture_and_checked_each_visit(client, world):
    response = client.get("/capture/sw.js")
    assert response.status_code == 200
    assert response.mimetype == "application/javascript"
    assert response.headers["Cache-Control"] == "no-cache"
    body = response.get_data(as_text=True)
    config = json.loads(re.match(r"self\.CAPTURE_SW = (\{.*\});\n", body).group(1))
    assert config["scope"] == "/capture/"
    assert config["offlinePage"] == "/capture/offline"
    assert 'addEventListener("fetch"' in body
    # Every file it precaches is there, or installing the worker would fail.
    assert "/static/govuk/govuk-frontend.min.css" in config["shell"]
    assert "/static/js/capture-offline.js" in config["shell"]
    for url in config["shell"]:
        with client.get(url) as response:
            assert response.status_code == 200, url
    assert re.fullmatch(r"[0-9a-f]{16}", config["version"])
    assert client.get("/capture/sw.js").get_data(as_text=True) == body


def test_the_manifest_starts_the_app_at_capture(client, world):
    response = client.get("/capture/manifest.webmanifest")
    assert response.status_code == 200
    assert response.mimetype == "application/manifest+json"
    manifest = json.loads(response.get_data(as_text=True))
    assert manifest["start_url"] == "/capture/"
    assert manifest["scope"] == "/capture/"
    assert manifest["display"] == "standalone"
    assert manifest["short_name"] == "Log feedback"
    assert manifest["theme_color"].startswith("#")
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    assert any(icon.get("purpose") == "maskable" for icon in manifest["icons"])
    for icon in manifest["icons"]:
        with client.get(icon["src"]) as image:
            assert image.status_code == 200, icon["src"]
            assert image.mimetype == icon["type"]


def test_the_offline_page_says_what_still_works(client, world):
    response = client.get("/capture/offline")
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(strip=True) == "You are offline"
    assert "kept on this phone" in page.get_text(" ")


def test_the_capture_pages_load_the_offline_script_for_volunteers_only(client, auth, world, event):
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{event.id}"))
    script = page.select_one("script[data-capture-offline]")
    assert script["src"] == "/static/js/capture-offline.js"
    assert script["type"] == "module"
    assert script["nonce"]
    assert script["data-user"] == str(world.volunteer.id)
    assert script["data-sw-url"] == "/capture/sw.js"
    assert page.select_one('link[rel="manifest"]')["href"] == "/capture/manifest.webmanifest"

    form = page.select_one("form[data-offline-capture]")
    assert form["data-endpoint"] == f"/capture/events/{event.id}/items.json"
    assert form["data-event-id"] == str(event.id)
    messages = json.loads(form["data-messages"])
    assert messages["text"] == svc.ENTER_TEXT
    assert messages["respondent"] == svc.SELECT_RESPONDENT
    assert messages["sentiment"] == svc.SELECT_SENTIMENT
    # Without JavaScript the same form posts to the page's own handler.
    assert form["action"] == f"/capture/events/{event.id}/feedback"
    status = page.select_one("[data-capture-status]")
    assert status["role"] == "status"
    assert status["aria-live"] == "polite"
    assert page.select_one("[data-capture-waiting]") is not None

    auth.logout()
    auth.login(world.board_viewer)
    home = soup(client.get("/home"))
    assert home.select_one("script[data-capture-offline]") is None
    assert home.select_one('link[rel="manifest"]') is None


# Five saves of one item at the same moment, against a real threaded server


@pytest.fixture
def threaded_server(csrf_app: Flask) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = make_server("127.0.0.1", port, csrf_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)


def _request(host: str, method: str, path: str, body: str | None = None, headers=None):
    connection = http.client.HTTPConnection(host, timeout=30)
    try:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.getheaders(), response.read().decode()
    finally:
        connection.close()


def _cookies(headers, jar: dict[str, str]) -> None:
    for name, value in headers:
        if name.lower() == "set-cookie":
            cookie = SimpleCookie()
            cookie.load(value)
            for key, morsel in cookie.items():
                jar[key] = morsel.value


def _cookie_header(jar: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in jar.items())


def sign_in_over_http(host: str, user) -> tuple[dict[str, str], str]:
    """A session cookie and CSRF token, got the way a browser gets them."""
    jar: dict[str, str] = {}
    _, headers, html = _request(host, "GET", "/sign-in")
    _cookies(headers, jar)
    form = f"email={user.email}&password={factories.PASSWORD}&csrf_token={csrf_token_from(html)}"
    status, headers, _ = _request(
        host,
        "POST",
        "/sign-in",
        body=form.replace("@", "%40"),
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": _cookie_header(jar),
        },
    )
    assert status == 302
    _cookies(headers, jar)
    status, headers, body = _request(
        host,
        "GET",
        "/capture/csrf-token.json",
        headers={"Accept": "application/json", "Cookie": _cookie_header(jar)},
    )
    assert status == 200, body
    _cookies(headers, jar)
    return jar, json.loads(body)["csrf_token"]


def test_five_saves_of_one_item_at_once_make_one_row_and_five_successes(threaded_server):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    jar, token = sign_in_over_http(threaded_server, world.volunteer)
    body = json.dumps(item())
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token,
        "Cookie": _cookie_header(jar),
    }
    path = f"/capture/events/{event.id}/items.json"
    start = threading.Barrier(5)
    answers: list[tuple[int, dict]] = []
    lock = threading.Lock()

    def send() -> None:
        start.wait()
        status, _, text = _request(threaded_server, "POST", path, body, headers)
        with lock:
            answers.append((status, json.loads(text)))

    threads = [threading.Thread(target=send) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(answers) == 5
    assert sorted(status for status, _ in answers) == [200, 200, 200, 200, 201], answers
    assert [answer["created"] for _, answer in answers].count(True) == 1
    db.session.expire_all()
    saved = rows()
    assert len(saved) == 1
    assert {answer["id"] for _, answer in answers} == {saved[0].id}
    assert {answer["count"] for _, answer in answers} == {1}
