"""theme_search: a full-text index of themes, for suggesting a theme for a feedback item

Revision ID: 0004_search_index
Revises: 0003_safeguarding_append_only
Create Date: 2026-11-26 10:00:00

The index holds each theme's title, its "You said" statement, and the redacted wording of the
feedback items in it (never their raw text, and nothing from a safeguarding-flagged item). It
is private: only the triage pages read it, through app/services/search.py.

Database triggers keep it in step, so every way a theme or an item changes (the ORM, a bulk
UPDATE, the retention purge, a console session) changes the index in the same transaction:

- SQLite: an FTS5 virtual table, rowid = theme.id, Porter-stemmed words;
- PostgreSQL: a table with a generated, weighted tsvector (title A, statement B, items C) and a
  GIN index on it; its foreign key deletes a theme's row with the theme (and TRUNCATE ...
  CASCADE empties it).

The table is not in the models' metadata; app.services.search.is_search_table keeps it out of
autogenerate and tests/test_migrations.py.
"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0004_search_index"
down_revision = "0003_safeguarding_append_only"
branch_labels = None
depends_on = None


def _items_sql(theme_id: str, concat: str) -> str:
    """The redacted wording of a theme's items, one string; safeguarding-flagged items never."""
    return f"""COALESCE((
        SELECT {concat}
        FROM feedback AS f
        WHERE f.theme_id = {theme_id}
          AND NOT f.safeguarding_flag
          AND f.redacted_text IS NOT NULL
    ), '')"""


SQLITE_ITEMS = "group_concat(f.redacted_text, ' ')"
POSTGRESQL_ITEMS = "string_agg(f.redacted_text, ' ' ORDER BY f.id)"


def _sqlite_refresh(theme_id: str) -> str:
    # Matching rowid = NULL finds nothing, so an item outside any theme changes nothing.
    return (
        f"UPDATE theme_search SET items = {_items_sql(theme_id, SQLITE_ITEMS)} "
        f"WHERE rowid = {theme_id};"
    )


SQLITE_UP = [
    """
    CREATE VIRTUAL TABLE theme_search USING fts5(
        title, statement, items,
        tokenize = 'porter unicode61 remove_diacritics 2'
    )
    """,
    f"""
    INSERT INTO theme_search (rowid, title, statement, items)
    SELECT t.id, t.title, t.statement, {_items_sql("t.id", SQLITE_ITEMS)}
    FROM theme AS t
    """,
    f"""
    CREATE TRIGGER theme_search_theme_insert AFTER INSERT ON theme
    BEGIN
        INSERT INTO theme_search (rowid, title, statement, items)
        VALUES (NEW.id, NEW.title, NEW.statement, {_items_sql("NEW.id", SQLITE_ITEMS)});
    END
    """,
    """
    CREATE TRIGGER theme_search_theme_update AFTER UPDATE OF title, statement ON theme
    BEGIN
        UPDATE theme_search SET title = NEW.title, statement = NEW.statement
        WHERE rowid = NEW.id;
    END
    """,
    """
    CREATE TRIGGER theme_search_theme_delete AFTER DELETE ON theme
    BEGIN
        DELETE FROM theme_search WHERE rowid = OLD.id;
    END
    """,
    f"""
    CREATE TRIGGER theme_search_feedback_insert AFTER INSERT ON feedback
    WHEN NEW.theme_id IS NOT NULL
    BEGIN
        {_sqlite_refresh("NEW.theme_id")}
    END
    """,
    f"""
    CREATE TRIGGER theme_search_feedback_update
    AFTER UPDATE OF theme_id, redacted_text, safeguarding_flag ON feedback
    WHEN OLD.theme_id IS NOT NULL OR NEW.theme_id IS NOT NULL
    BEGIN
        {_sqlite_refresh("OLD.theme_id")}
        {_sqlite_refresh("NEW.theme_id")}
    END
    """,
    f"""
    CREATE TRIGGER theme_search_feedback_delete AFTER DELETE ON feedback
    WHEN OLD.theme_id IS NOT NULL
    BEGIN
        {_sqlite_refresh("OLD.theme_id")}
    END
    """,
]

SQLITE_DOWN = [
    "DROP TRIGGER IF EXISTS theme_search_feedback_delete",
    "DROP TRIGGER IF EXISTS theme_search_feedback_update",
    "DROP TRIGGER IF EXISTS theme_search_feedback_insert",
    "DROP TRIGGER IF EXISTS theme_search_theme_delete",
    "DROP TRIGGER IF EXISTS theme_search_theme_update",
    "DROP TRIGGER IF EXISTS theme_search_theme_insert",
    "DROP TABLE IF EXISTS theme_search",
]

POSTGRESQL_UP = [
    """
    CREATE TABLE theme_search (
        theme_id integer PRIMARY KEY REFERENCES theme (id) ON DELETE CASCADE,
        title text NOT NULL DEFAULT '',
        statement text NOT NULL DEFAULT '',
        items text NOT NULL DEFAULT '',
        document tsvector GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, title), 'A')
            || setweight(to_tsvector('english'::regconfig, statement), 'B')
            || setweight(to_tsvector('english'::regconfig, items), 'C')
        ) STORED
    )
    """,
    "CREATE INDEX theme_search_document ON theme_search USING gin (document)",
    f"""
    INSERT INTO theme_search (theme_id, title, statement, items)
    SELECT t.id, t.title, t.statement, {_items_sql("t.id", POSTGRESQL_ITEMS)}
    FROM theme AS t
    """,
    f"""
    CREATE FUNCTION theme_search_refresh_items(target integer) RETURNS void
    LANGUAGE sql AS $$
        UPDATE theme_search SET items = {_items_sql("target", POSTGRESQL_ITEMS)}
        WHERE theme_id = target
    $$
    """,
    """
    CREATE FUNCTION theme_search_theme_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP = 'INSERT' THEN
            INSERT INTO theme_search (theme_id, title, statement)
            VALUES (NEW.id, NEW.title, NEW.statement);
            PERFORM theme_search_refresh_items(NEW.id);
        ELSE
            UPDATE theme_search SET title = NEW.title, statement = NEW.statement
            WHERE theme_id = NEW.id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER theme_search_theme
    AFTER INSERT OR UPDATE OF title, statement ON theme
    FOR EACH ROW EXECUTE FUNCTION theme_search_theme_changed()
    """,
    """
    CREATE FUNCTION theme_search_feedback_changed() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP <> 'INSERT' THEN
            IF OLD.theme_id IS NOT NULL THEN
                PERFORM theme_search_refresh_items(OLD.theme_id);
            END IF;
        END IF;
        IF TG_OP <> 'DELETE' THEN
            IF NEW.theme_id IS NOT NULL THEN
                PERFORM theme_search_refresh_items(NEW.theme_id);
            END IF;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER theme_search_feedback
    AFTER INSERT OR DELETE OR UPDATE OF theme_id, redacted_text, safeguarding_flag ON feedback
    FOR EACH ROW EXECUTE FUNCTION theme_search_feedback_changed()
    """,
]

POSTGRESQL_DOWN = [
    "DROP TRIGGER IF EXISTS theme_search_feedback ON feedback",
    "DROP TRIGGER IF EXISTS theme_search_theme ON theme",
    "DROP FUNCTION IF EXISTS theme_search_feedback_changed()",
    "DROP FUNCTION IF EXISTS theme_search_theme_changed()",
    "DROP FUNCTION IF EXISTS theme_search_refresh_items(integer)",
    "DROP TABLE IF EXISTS theme_search",
]


def _statements(postgresql: list[str], sqlite: list[str]) -> list[str]:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql
    if dialect == "sqlite":
        return sqlite
    raise NotImplementedError(f"No full-text index for {dialect}")


def upgrade():
    for statement in _statements(POSTGRESQL_UP, SQLITE_UP):
        op.execute(statement)


def downgrade():
    for statement in _statements(POSTGRESQL_DOWN, SQLITE_DOWN):
        op.execute(statement)
