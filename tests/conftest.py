"""Fixtures: the app on SQLite or PostgreSQL (--db), a client, and sign-in helpers."""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import Flask, g
from flask.testing import FlaskClient
from flask_migrate import upgrade

from app import create_app
from app.config import TestConfig
from app.extensions import db
from tests import factories
from tests.postgres import postgres_server

os.environ.setdefault("APP_ENV", "development")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--db",
        choices=["sqlite", "postgresql"],
        default="sqlite",
        help="Database to run the suite on (PostgreSQL: a throwaway server the tests start).",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"database: {config.getoption('--db')}"


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Figures a test records with record_property("summary", ...), such as the personal-details
    checker's precision and recall: shown at the end of every run, with xdist workers too."""
    for report in terminalreporter.stats.get("passed", []):
        for name, value in getattr(report, "user_properties", []):
            if name == "summary":
                terminalreporter.write_line(str(value))


@pytest.fixture(scope="session")
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    if request.config.getoption("--db") == "postgresql":
        with postgres_server() as url:
            yield url
    else:
        # A file, not :memory:, so the browser tests' server thread sees the same data.
        folder = tempfile.mkdtemp(prefix="ysyd-sqlite-")
        yield f"sqlite:///{Path(folder) / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    """Build the schema once per worker through the real migration chain."""
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url)
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return database_url


def _empty_all_tables() -> None:
    """Empty every table between tests, the one place audit_entry and safeguarding_decision
    may lose rows.

    The append-only triggers (migrations 0002 and 0003) let this through: on PostgreSQL a
    setting that lives only as long as this transaction; on SQLite, which has no such settings,
    the triggers are dropped and recreated from their own stored SQL. A connection, not the
    session: the session refuses bulk deletes of audit entries.
    """
    tables = list(reversed(db.metadata.sorted_tables))
    if db.engine.dialect.name == "postgresql":
        names = ", ".join(f'"{t.name}"' for t in tables)
        with db.engine.begin() as connection:
            connection.execute(sa.text("SET LOCAL ysyd.allow_audit_purge = 'on'"))
            connection.execute(sa.text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        return
    with db.engine.connect() as connection:
        triggers = connection.execute(_SQLITE_AUDIT_TRIGGERS).all()
    try:
        with db.engine.begin() as connection:
            for name, _ in triggers:
                connection.execute(sa.text(f'DROP TRIGGER "{name}"'))
            for table in tables:
                connection.execute(table.delete())
            for _, sql in triggers:
                connection.execute(sa.text(sql))
    finally:
        # pysqlite runs DDL outside its transaction, so a failed cleanup must not leave the
        # table unguarded for the tests that follow.
        with db.engine.begin() as connection:
            present = {name for name, _ in connection.execute(_SQLITE_AUDIT_TRIGGERS)}
            for name, sql in triggers:
                if name not in present:
                    connection.execute(sa.text(sql))


# The append-only tables: the audit log (migration 0002) and safeguarding decisions (0003).
_SQLITE_AUDIT_TRIGGERS = sa.text(
    "SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"
    " AND tbl_name IN ('audit_entry', 'safeguarding_decision')"
)


def _test_app(database_url: str, *, csrf: bool) -> Flask:
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=database_url, WTF_CSRF_ENABLED=csrf)

    # The fixtures hold one app context for the whole test, so flask.g would outlive each
    # request; in production every request starts with a fresh g. Forget what Flask-Login and
    # Flask-WTF cached there, so each request must prove who it is from its own cookie.
    def _fresh_request_state() -> None:
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        g.pop("csrf_valid", None)

    # First of all, before Flask-WTF's CSRF check reads or fills g.
    app.before_request_funcs.setdefault(None, []).insert(0, _fresh_request_state)

    return app


@contextmanager
def _running(app: Flask) -> Iterator[Flask]:
    """Hold the app's context for a test, then empty every table for the next one."""
    with app.app_context():
        yield app
        db.session.remove()
        _empty_all_tables()
        db.engine.dispose()


@pytest.fixture
def app(migrated: str) -> Iterator[Flask]:
    with _running(_test_app(migrated, csrf=False)) as app:
        yield app


@pytest.fixture
def csrf_app(migrated: str) -> Iterator[Flask]:
    """The app with CSRF protection on, as in production."""
    with _running(_test_app(migrated, csrf=True)) as app:
        yield app


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


class Auth:
    """Sign in through the real sign-in form."""

    def __init__(self, client: FlaskClient):
        self.client = client

    def login(self, user, password: str = factories.PASSWORD):
        response = self.client.post("/sign-in", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return response

    def logout(self):
        return self.client.post("/sign-out")


@pytest.fixture
def auth(client: FlaskClient) -> Auth:
    return Auth(client)


@pytest.fixture
def world(app: Flask) -> factories.World:
    """A partnership with a strategy, sub-groups and one user per role."""
    return factories.make_world()


def csrf_token_from(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "no CSRF token in the page"
    return match.group(1)
