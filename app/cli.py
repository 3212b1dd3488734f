"""`flask --app wsgi ...` commands: strategy import/export, users, demo data, retention."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import sqlalchemy as sa
from flask import Flask
from flask.cli import AppGroup

from app.extensions import db
from app.models import Partnership
from app.models.vocab import Role

strategy_cli = AppGroup("strategy", help="Import and export a partnership's SEND strategy.")
users_cli = AppGroup("users", help="Manage user accounts.")
demo_cli = AppGroup("demo", help="Demo data for trying the service.")
retention_cli = AppGroup("retention", help="Delete personal data that is no longer needed.")


@strategy_cli.command("import")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def strategy_import(path: Path) -> None:
    """Import (or update) a strategy from a YAML file. Refused whole on any error."""
    from app.services.strategy_io import StrategyFileError, import_strategy_file

    try:
        result = import_strategy_file(path)
    except StrategyFileError as exc:
        db.session.rollback()
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    db.session.commit()
    click.echo(result.summary())


@strategy_cli.command("export")
@click.argument("slug")
def strategy_export(slug: str) -> None:
    """Print a strategy as YAML in the import format."""
    from app.services.strategy_io import StrategyNotFound, export_strategy

    try:
        click.echo(export_strategy(slug), nl=False)
    except StrategyNotFound as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)


@users_cli.command("create")
@click.option("--email", required=True, help="Their e-mail address, used to sign in.")
@click.option("--name", required=True, help="Their full name.")
@click.option(
    "--role",
    "roles",
    required=True,
    multiple=True,
    help=f"One of: {', '.join(r.value for r in Role)}. Repeat for several roles.",
)
@click.option("--subgroup", "subgroups", multiple=True, help="Sub-group code; repeatable.")
@click.option("--partnership", "partnership_slug", help="Partnership slug (if there are several).")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
def users_create(
    email: str,
    name: str,
    roles: tuple[str, ...],
    subgroups: tuple[str, ...],
    partnership_slug: str | None,
    password_stdin: bool,
) -> None:
    """Create a user account."""
    from app.services.users import UserError, create_user

    partnerships = db.session.scalars(sa.select(Partnership).order_by(Partnership.id)).all()
    if partnership_slug:
        partnership = next((p for p in partnerships if p.slug == partnership_slug), None)
        if partnership is None:
            _fail(f"No partnership with the slug {partnership_slug!r}")
    elif len(partnerships) == 1:
        partnership = partnerships[0]
    elif not partnerships:
        _fail("There is no partnership yet: import a strategy first (flask strategy import)")
    else:
        slugs = ", ".join(p.slug for p in partnerships)
        _fail(f"There are several partnerships: name one with --partnership ({slugs})")
    assert partnership is not None

    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        user = create_user(
            partnership,
            email=email,
            name=name,
            password=password,
            roles=roles,
            subgroup_codes=subgroups,
        )
    except UserError as exc:
        db.session.rollback()
        _fail(f"--{exc.field}: {exc}")
    db.session.commit()
    click.echo(f"Created {user.email} ({', '.join(sorted(user.roles))}) in {partnership.name}")


@demo_cli.command("load")
def demo_load() -> None:
    """Load the demo partnership, strategy, events, feedback, themes and one user per role."""
    from app.services.demo import DemoError, load_demo

    try:
        result = load_demo()
    except DemoError as exc:
        db.session.rollback()
        _fail(str(exc))
    db.session.commit()
    click.echo(result.summary())


@retention_cli.command("purge")
@click.option("--dry-run", is_flag=True, help="Say what would be deleted, and delete nothing.")
@click.option("--partnership", "partnership_slug", help="Only this partnership (its slug).")
def retention_purge(dry_run: bool, partnership_slug: str | None) -> None:
    """Delete contact details and the words of closed items whose time is up. Run it daily.

    Contact details go once the contributor has been told, or after the partnership's
    period; the words of closed items after its retention period. Counts, tags and published
    themes stay. Safeguarding records are kept. See app/services/retention.py.
    """
    from app.services.retention import purge

    partnerships = None
    if partnership_slug:
        found = db.session.scalars(
            sa.select(Partnership).where(Partnership.slug == partnership_slug)
        ).first()
        if found is None:
            _fail(f"No partnership with the slug {partnership_slug!r}")
        assert found is not None
        partnerships = [found]
    result = purge(dry_run=dry_run, partnerships=partnerships)
    if dry_run:
        db.session.rollback()
    else:
        db.session.commit()
    for line in result.lines():
        click.echo(line)


def _fail(message: str) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(1)


def register_cli(app: Flask) -> None:
    app.cli.add_command(strategy_cli)
    app.cli.add_command(users_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(retention_cli)

    from app.safeguarding_cli import safeguarding_cli

    app.cli.add_command(safeguarding_cli)
