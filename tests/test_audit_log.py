"""The audit log is append-only in the database itself, whatever path a change takes."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEntry, AuditEntryIsAppendOnly, User
from app.services import audit
from tests import factories

REFUSED = "audit_entry is append-only"


@pytest.fixture
def entry(app, world) -> AuditEntry:
    made = audit.record("test.thing", world.partnership, user=world.admin, note="kept")
    db.session.commit()
    return made


def _unchanged(entry_id: int) -> None:
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(AuditEntry, entry_id)
    assert row is not None, "the audit entry was deleted"
    assert row.verb == "test.thing" and row.details == {"note": "kept"}


def _release_session() -> None:
    """End the session's transaction, so that its read locks cannot block the other connection
    (a TRUNCATE on PostgreSQL would wait for them for ever)."""
    db.session.commit()


def _refused_by_database(run: Callable[[sa.Connection], Any], entry_id: int) -> None:
    """Run SQL on a plain connection, past every ORM listener: only the database can refuse."""
    _release_session()
    with pytest.raises(IntegrityError, match=REFUSED), db.engine.begin() as connection:
        run(connection)
    _unchanged(entry_id)


def test_an_entry_can_still_be_written_and_read(entry):
    assert db.session.scalars(sa.select(AuditEntry.verb)).all() == ["test.thing"]


def test_the_orm_refuses_to_change_an_entry(entry):
    entry_id = entry.id
    entry.verb = "changed"
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.commit()
    _unchanged(entry_id)


def test_the_orm_refuses_to_delete_an_entry(entry):
    entry_id = entry.id
    db.session.delete(entry)
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.commit()
    _unchanged(entry_id)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(lambda: sa.update(AuditEntry).values(verb="changed"), id="orm-update"),
        pytest.param(
            lambda: sa.update(AuditEntry).where(AuditEntry.id > 0).values(details={}),
            id="orm-update-where",
        ),
        pytest.param(lambda: sa.delete(AuditEntry), id="orm-delete"),
        pytest.param(lambda: sa.delete(AuditEntry).where(AuditEntry.id > 0), id="orm-delete-where"),
        pytest.param(
            lambda: sa.update(AuditEntry.__table__).values(verb="changed"), id="table-update"
        ),
        pytest.param(lambda: sa.delete(AuditEntry.__table__), id="table-delete"),
    ],
)
def test_the_session_refuses_bulk_updates_and_deletes(entry, statement):
    entry_id = entry.id
    with pytest.raises(AuditEntryIsAppendOnly):
        db.session.execute(statement())
    _unchanged(entry_id)


def test_the_session_still_runs_bulk_statements_on_other_tables(entry, world):
    db.session.execute(sa.update(User).where(User.id == world.volunteer.id).values(name="Renamed"))
    db.session.commit()
    assert db.session.get(User, world.volunteer.id).name == "Renamed"


def test_the_database_refuses_a_core_update(entry):
    _refused_by_database(
        lambda c: c.execute(sa.update(AuditEntry.__table__).values(verb="changed")), entry.id
    )


def test_the_database_refuses_a_core_delete(entry):
    _refused_by_database(lambda c: c.execute(sa.delete(AuditEntry.__table__)), entry.id)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_entry SET verb = 'changed'",
        "UPDATE audit_entry SET actor = 'someone else' WHERE id = :id",
        "UPDATE audit_entry SET user_id = NULL, verb = 'changed' WHERE id = :id",
        "UPDATE audit_entry SET user_id = NULL, details = '{}' WHERE id = :id",
        "DELETE FROM audit_entry WHERE id = :id",
        "DELETE FROM audit_entry",
    ],
)
def test_the_database_refuses_raw_sql(entry, sql):
    entry_id = entry.id
    _refused_by_database(lambda c: c.execute(sa.text(sql), {"id": entry_id}), entry_id)


def test_raw_sql_through_the_session_is_refused_too(entry):
    entry_id = entry.id
    with pytest.raises(IntegrityError, match=REFUSED):
        db.session.execute(sa.text("DELETE FROM audit_entry"))
    _unchanged(entry_id)


def test_an_entry_cannot_point_at_another_user(entry, world):
    values = {"other": world.volunteer.id, "id": entry.id}
    _refused_by_database(
        lambda c: c.execute(
            sa.text("UPDATE audit_entry SET user_id = :other WHERE id = :id"), values
        ),
        values["id"],
    )


def test_deleting_a_user_keeps_their_entries_and_who_they_were(app, world):
    """The foreign key's ON DELETE SET NULL is the one update the triggers let through."""
    leaver = factories.make_user(world.partnership, email="leaver@example.org")
    entry = audit.record("test.thing", world.partnership, user=leaver, note="kept")
    db.session.commit()
    leaver_id, entry_id = leaver.id, entry.id
    _release_session()
    with db.engine.begin() as connection:
        connection.execute(sa.delete(User.__table__).where(User.__table__.c.id == leaver_id))
    db.session.expire_all()
    row = db.session.get(AuditEntry, entry_id)
    assert row.user_id is None
    assert (row.actor, row.verb, row.details) == (
        "leaver@example.org",
        "test.thing",
        {"note": "kept"},
    )


@pytest.fixture
def postgresql_only(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")


def test_postgresql_refuses_truncate(postgresql_only, entry):
    _refused_by_database(lambda c: c.execute(sa.text("TRUNCATE audit_entry")), entry.id)
    _refused_by_database(lambda c: c.execute(sa.text("TRUNCATE partnership CASCADE")), entry.id)


def test_postgresql_escape_hatch_lasts_only_for_its_own_transaction(postgresql_only, entry):
    entry_id = entry.id
    _release_session()
    with db.engine.connect() as connection:
        with connection.begin():
            connection.execute(sa.text("SET LOCAL ysyd.allow_audit_purge = 'on'"))
        # The next transaction on the same connection is guarded again.
        with pytest.raises(IntegrityError, match=REFUSED), connection.begin():
            connection.execute(sa.text("DELETE FROM audit_entry"))
    _unchanged(entry_id)


def test_postgresql_escape_hatch_must_be_exactly_on(postgresql_only, entry):
    entry_id = entry.id
    _release_session()
    with pytest.raises(IntegrityError, match=REFUSED), db.engine.begin() as connection:
        connection.execute(sa.text("SET LOCAL ysyd.allow_audit_purge = 'yes'"))
        connection.execute(sa.text("DELETE FROM audit_entry"))
    _unchanged(entry_id)


def test_sqlite_trigger_compares_every_column_but_user_id(app):
    """A column added to AuditEntry must join the SQLite trigger's list of unchanged columns."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    sql = db.session.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE name = 'audit_entry_no_update'")
    )
    assert sql is not None
    missing = [
        column.name
        for column in AuditEntry.__table__.columns
        if column.name != "user_id" and f"NEW.{column.name} IS OLD.{column.name}" not in sql
    ]
    assert missing == [], f"Add {missing} to the trigger in a new migration"
