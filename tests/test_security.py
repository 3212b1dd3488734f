"""Security basics: headers on every response, CSRF on every form, cookies, production config."""

from __future__ import annotations

import re

import pytest

from app import create_app
from app.config import Config, TestConfig
from app.extensions import db
from app.models import AuditEntry, AuditEntryIsAppendOnly
from app.services import audit
from tests.conftest import csrf_token_from


def test_every_response_carries_the_security_headers(client):
    response = client.get("/sign-in")
    csp = response.headers["Content-Security-Policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    assert f'nonce="{nonce}"' in response.get_data(as_text=True)
    assert "script-src 'self' 'nonce-" in csp
    assert "'unsafe-inline'" not in csp
    assert "frame-ancestors 'none'" in csp
    assert "object-src 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_the_nonce_changes_on_every_request(client):
    first = client.get("/sign-in").headers["Content-Security-Policy"]
    second = client.get("/sign-in").headers["Content-Security-Policy"]
    assert first != second


def test_private_pages_are_not_cached(client, auth, world):
    auth.login(world.coordinator)
    assert client.get("/home").headers["Cache-Control"] == "no-store"


def test_errors_carry_the_headers_too(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    assert "Content-Security-Policy" in response.headers
    assert "Page not found" in response.get_data(as_text=True)


def test_production_refuses_to_start_without_a_secret_key(monkeypatch):
    monkeypatch.setattr(Config, "SECRET_KEY", None)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(Config)


def test_production_cookies_are_secure():
    assert Config.SESSION_COOKIE_SECURE is True
    assert Config.SESSION_COOKIE_HTTPONLY is True
    assert Config.SESSION_COOKIE_SAMESITE == "Lax"


def test_session_cookie_flags_in_a_response(client, world):
    response = client.post(
        "/sign-in",
        data={"email": world.coordinator.email, "password": "correct horse battery staple"},
    )
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie
    assert "SameSite=Lax" in cookie


def test_a_form_posted_without_its_csrf_token_is_refused(csrf_app):
    from tests import factories

    world = factories.make_world()
    client = csrf_app.test_client()
    response = client.post(
        "/sign-in", data={"email": world.coordinator.email, "password": factories.PASSWORD}
    )
    assert response.status_code == 400
    assert "Your form timed out" in response.get_data(as_text=True)
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={
            "email": world.coordinator.email,
            "password": factories.PASSWORD,
            "csrf_token": token,
        },
    )
    assert response.status_code == 302


def test_every_state_changing_route_refuses_a_post_without_csrf(csrf_app):
    """Walk every rule that accepts POST: without a token it must never succeed."""
    from tests import factories

    world = factories.make_world()
    # An open link for families, so its public form is reached rather than "not found".
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    event.self_submission_token = "csrf-test-link-0123456789"
    event.self_submission_open = True
    db.session.commit()
    values = {"token": event.self_submission_token}
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post(
        "/sign-in",
        data={"email": world.admin.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    checked = 0
    for rule in csrf_app.url_map.iter_rules():
        if "POST" not in (rule.methods or set()) or rule.endpoint == "auth.sign_in":
            continue
        args = {arg: values.get(arg, 1) for arg in rule.arguments}
        url = rule.build(args, append_unknown=False)[1]
        response = client.post(url, data={})
        assert response.status_code == 400, f"{rule.endpoint} accepted a POST without CSRF"
        checked += 1
    assert checked >= 1
    from sqlalchemy import func, select

    from app.models import Feedback

    assert db.session.scalar(select(func.count(Feedback.id))) == 0


def test_audit_entries_cannot_be_changed_or_deleted(app, world):
    entry = audit.record("test.thing", world.partnership, user=world.admin, note="x")
    db.session.commit()
    entry.verb = "changed"
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEntry, entry.id))
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEntry, entry.id).verb == "test.thing"


def test_test_config_is_explicit():
    assert TestConfig.TESTING is True


def test_repeated_failed_sign_ins_are_slowed_down(migrated):
    from tests import factories

    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=migrated,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=True,
        SIGN_IN_LIMITS="3 per minute",
    )
    with app.app_context():
        try:
            world = factories.make_world()
            client = app.test_client()
            for _ in range(3):
                page = client.post(
                    "/sign-in", data={"email": world.admin.email, "password": "guess"}
                )
                assert page.status_code == 200
            refused = client.post(
                "/sign-in", data={"email": world.admin.email, "password": factories.PASSWORD}
            )
            assert refused.status_code == 429
            assert "Too many attempts" in refused.get_data(as_text=True)
            assert "Content-Security-Policy" in refused.headers
            # Reading the form is never limited.
            assert client.get("/sign-in").status_code == 200
        finally:
            from app.extensions import limiter
            from tests.conftest import _empty_all_tables

            limiter.reset()
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


def test_pages_carry_no_inline_script(client, auth, world):
    from bs4 import BeautifulSoup

    for url in ("/sign-in", "/you-said-we-did"):
        page = BeautifulSoup(client.get(url).data, "html.parser")
        scripts = page.find_all("script")
        assert scripts, url
        assert all(s.get("src") and not s.string for s in scripts), url
        assert not page.select("[style]"), url
