"""audit_entry is append-only in the database, not only in the ORM

Revision ID: 0002_audit_entry_append_only
Revises: 0001_initial
Create Date: 2026-11-24 10:00:00

Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of audit_entry, whatever issues
them: the ORM, a bulk statement, raw SQL or a console session. The test suite alone empties the
table between tests; see _empty_all_tables in tests/conftest.py for how it gets past them.

One update is let through: user_id becoming NULL with nothing else changed. That is what the
foreign key's ON DELETE SET NULL does when a user account is deleted; the entry keeps its actor
(who, in words), so deleting a person's account stays possible without rewriting history.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0002_audit_entry_append_only"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

MESSAGE = "audit_entry is append-only"

POSTGRESQL_UP = [
    # The setting is read with missing_ok, so it is NULL (refused) unless a session set it.
    # Only the test suite's cleanup sets it, with SET LOCAL inside its own transaction.
    f"""
    CREATE FUNCTION audit_entry_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF current_setting('ysyd.allow_audit_purge', true) = 'on' THEN
            IF TG_LEVEL = 'STATEMENT' THEN
                RETURN NULL;
            ELSIF TG_OP = 'DELETE' THEN
                RETURN OLD;
            END IF;
            RETURN NEW;
        END IF;
        -- A deleted user's entries lose the link and keep everything else (ON DELETE SET NULL).
        IF TG_OP = 'UPDATE' AND NEW.user_id IS NULL
                AND (to_jsonb(NEW) - 'user_id') = (to_jsonb(OLD) - 'user_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER audit_entry_no_update_or_delete
    BEFORE UPDATE OR DELETE ON audit_entry
    FOR EACH ROW EXECUTE FUNCTION audit_entry_refuse_change()
    """,
    """
    CREATE TRIGGER audit_entry_no_truncate
    BEFORE TRUNCATE ON audit_entry
    FOR EACH STATEMENT EXECUTE FUNCTION audit_entry_refuse_change()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS audit_entry_no_truncate ON audit_entry",
    "DROP TRIGGER IF EXISTS audit_entry_no_update_or_delete ON audit_entry",
    "DROP FUNCTION IF EXISTS audit_entry_refuse_change()",
]

# Every column of audit_entry but user_id, which may only become NULL (see above). A new
# column must be added here too: tests/test_audit_log.py checks that none is missing.
SQLITE_UNCHANGED = " AND ".join(
    f"NEW.{column} IS OLD.{column}"
    for column in (
        "id",
        "partnership_id",
        "at",
        "actor",
        "verb",
        "object_type",
        "object_id",
        "details",
    )
)

# SQLite has no session settings a trigger could read; the test suite drops these triggers
# and recreates them from sqlite_master around its cleanup.
SQLITE_UP = [
    f"""
    CREATE TRIGGER audit_entry_no_update
    BEFORE UPDATE ON audit_entry
    WHEN NOT (NEW.user_id IS NULL AND {SQLITE_UNCHANGED})
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END
    """,
    f"""
    CREATE TRIGGER audit_entry_no_delete
    BEFORE DELETE ON audit_entry
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS audit_entry_no_delete",
    "DROP TRIGGER IF EXISTS audit_entry_no_update",
]


def _statements(postgresql: list[str], sqlite: list[str]) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql
    if dialect == "sqlite":
        return sqlite
    raise NotImplementedError(f"No append-only triggers for {dialect}")


def upgrade():
    for statement in _statements(POSTGRESQL_UP, SQLITE_UP):
        op.execute(statement)


def downgrade():
    for statement in _statements(POSTGRESQL_DOWN, SQLITE_DOWN):
        op.execute(statement)
