"""The models and the migration chain describe the same schema."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import current_app

from app.extensions import db
from app.services.search import include_name


def test_models_and_migrations_agree(app):
    with db.engine.connect() as connection:
        # The search indexes' tables come from hand-written migrations, not the models.
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "include_name": include_name}
        )
        diff = compare_metadata(context, db.metadata)
    assert diff == [], f"Models differ from migrations: run flask db migrate. {diff}"


def test_one_migration_chain(app):
    config = current_app.extensions["migrate"].migrate.get_config()
    heads = ScriptDirectory.from_config(config).get_heads()
    assert len(heads) == 1
