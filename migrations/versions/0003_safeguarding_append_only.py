"""safeguarding_decision is append-only in the database, not only in the ORM

Revision ID: 0003_safeguarding_append_only
Revises: 0002_audit_entry_append_only
Create Date: 2026-11-25 10:00:00

A safeguarding lead's record of what was done about a concern (a referral made, advice given,
no further action) is evidence, so it is never changed or deleted once written: a later
decision is a new record. Triggers refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) of
safeguarding_decision whatever issues them, as 0002 does for audit_entry.

The test suite empties the table between tests the same way as audit_entry (see
_empty_all_tables in tests/conftest.py): on PostgreSQL through the same transaction-local
setting, ysyd.allow_audit_purge; on SQLite by dropping and recreating these triggers.

One update is let through: recorded_by_id becoming NULL with nothing else changed. That is what
the foreign key's ON DELETE SET NULL does when a user account is deleted; the record keeps
recorded_by_name, so deleting a person's account stays possible without rewriting the record.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0003_safeguarding_append_only"
down_revision = "0002_audit_entry_append_only"
branch_labels = None
depends_on = None

MESSAGE = "safeguarding_decision is append-only"

POSTGRESQL_UP = [
    # The setting is read with missing_ok, so it is NULL (refused) unless a session set it.
    f"""
    CREATE FUNCTION safeguarding_decision_refuse_change() RETURNS trigger
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
        -- A deleted user's records lose the link and keep their name (ON DELETE SET NULL).
        IF TG_OP = 'UPDATE' AND NEW.recorded_by_id IS NULL
                AND (to_jsonb(NEW) - 'recorded_by_id') = (to_jsonb(OLD) - 'recorded_by_id') THEN
            RETURN NEW;
        END IF;
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'restrict_violation';
    END
    $$
    """,
    """
    CREATE TRIGGER safeguarding_decision_no_update_or_delete
    BEFORE UPDATE OR DELETE ON safeguarding_decision
    FOR EACH ROW EXECUTE FUNCTION safeguarding_decision_refuse_change()
    """,
    """
    CREATE TRIGGER safeguarding_decision_no_truncate
    BEFORE TRUNCATE ON safeguarding_decision
    FOR EACH STATEMENT EXECUTE FUNCTION safeguarding_decision_refuse_change()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS safeguarding_decision_no_truncate ON safeguarding_decision",
    "DROP TRIGGER IF EXISTS safeguarding_decision_no_update_or_delete ON safeguarding_decision",
    "DROP FUNCTION IF EXISTS safeguarding_decision_refuse_change()",
]

# Every column but recorded_by_id, which may only become NULL (see above). A new column must be
# added here too: tests/test_safeguarding_records.py checks that none is missing.
SQLITE_UNCHANGED = " AND ".join(
    f"NEW.{column} IS OLD.{column}"
    for column in (
        "id",
        "partnership_id",
        "feedback_id",
        "outcome",
        "reason",
        "acted_at",
        "recorded_at",
        "recorded_by_name",
    )
)

SQLITE_UP = [
    f"""
    CREATE TRIGGER safeguarding_decision_no_update
    BEFORE UPDATE ON safeguarding_decision
    WHEN NOT (NEW.recorded_by_id IS NULL AND {SQLITE_UNCHANGED})
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END
    """,
    f"""
    CREATE TRIGGER safeguarding_decision_no_delete
    BEFORE DELETE ON safeguarding_decision
    BEGIN
        SELECT RAISE(ABORT, '{MESSAGE}');
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS safeguarding_decision_no_delete",
    "DROP TRIGGER IF EXISTS safeguarding_decision_no_update",
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
