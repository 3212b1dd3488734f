"""`flask users create`: accounts from the command line."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, User
from app.services.users import authenticate
from tests import factories

PASSWORD = "a long enough password"


def create(runner, *args: str, password: str | None = PASSWORD, stdin: str | None = None):
    argv = ["users", "create", *args]
    if password is not None:
        argv.append("--password-stdin")
        stdin = password + "\n"
    return runner.invoke(args=argv, input=stdin)


def user_count() -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(User)) or 0


def test_creates_a_sub_group_lead_with_a_password_from_stdin(app, runner):
    world = factories.make_world()
    before = user_count()

    result = create(
        runner,
        "--email",
        " Sam.Lead@Example.ORG ",
        "--name",
        "  Sam   Lead ",
        "--role",
        "subgroup_lead",
        "--subgroup",
        "cce",
    )

    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == f"Created sam.lead@example.org (subgroup_lead) in {world.partnership.name}\n"
    )
    assert user_count() == before + 1
    user = db.session.scalars(sa.select(User).where(User.email == "sam.lead@example.org")).one()
    assert user.name == "Sam Lead"
    assert user.roles == {"subgroup_lead"}
    assert [sg.code for sg in user.subgroups] == ["CCE"]
    assert user.partnership_id == world.partnership.id
    assert PASSWORD not in user.password_hash
    assert authenticate("sam.lead@example.org", PASSWORD) == user
    audit = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.verb == "user.created")).one()
    assert (audit.actor, audit.object_id) == ("system", user.id)
    assert audit.details == {"roles": ["subgroup_lead"], "subgroups": ["CCE"]}


def test_several_roles_and_a_prompted_password(app, runner):
    factories.make_world()
    result = create(
        runner,
        "--email",
        "chris@example.org",
        "--name",
        "Chris Coordinator",
        "--role",
        "coordinator",
        "--role",
        "safeguarding_lead",
        password=None,
        stdin=f"{PASSWORD}\n{PASSWORD}\n",
    )
    assert result.exit_code == 0, result.output
    assert "Created chris@example.org (coordinator, safeguarding_lead)" in result.stdout
    user = db.session.scalars(sa.select(User).where(User.email == "chris@example.org")).one()
    assert user.roles == {"coordinator", "safeguarding_lead"}
    assert authenticate("chris@example.org", PASSWORD) == user


def test_a_bad_role_is_a_clear_error(app, runner):
    factories.make_world()
    before = user_count()
    result = create(runner, "--email", "x@example.org", "--name", "X", "--role", "wizard")
    assert result.exit_code == 1
    assert result.stderr.startswith("Error: --role: Unknown role 'wizard': use one of volunteer,")
    assert "Traceback" not in result.output
    assert user_count() == before


def test_an_unknown_sub_group_code_is_a_clear_error(app, runner):
    factories.make_world()
    before = user_count()
    result = create(
        runner,
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "subgroup_lead",
        "--subgroup",
        "NOPE",
    )
    assert result.exit_code == 1
    assert "Error: --subgroup: No sub-group with the code NOPE" in result.stderr
    assert "Known codes: CCE, QPMI." in result.stderr
    assert user_count() == before


def test_a_sub_group_of_another_partnership_is_unknown(app, runner):
    factories.make_world(slug="here")
    other = factories.make_partnership(slug="elsewhere")
    factories.make_strategy(other, subgroups=("JCIW",))
    result = create(
        runner,
        "--email",
        "x@example.org",
        "--name",
        "X",
        "--role",
        "subgroup_lead",
        "--subgroup",
        "JCIW",
        "--partnership",
        "here",
    )
    assert result.exit_code == 1
    assert "No sub-group with the code JCIW" in result.stderr


def test_a_duplicate_email_is_refused_whatever_its_case(app, runner):
    world = factories.make_world()
    before = user_count()
    result = create(
        runner,
        "--email",
        world.coordinator.email.upper(),
        "--name",
        "Someone Else",
        "--role",
        "volunteer",
    )
    assert result.exit_code == 1
    assert "Error: --email: A user with the email address" in result.stderr
    assert "already exists" in result.stderr
    assert user_count() == before


def test_a_bad_email_or_short_password_is_refused(app, runner):
    factories.make_world()
    before = user_count()
    bad_email = create(runner, "--email", "not-an-email", "--name", "X", "--role", "volunteer")
    assert bad_email.exit_code == 1
    assert "--email: Enter an email address in the correct format" in bad_email.stderr
    short = create(
        runner, "--email", "x@example.org", "--name", "X", "--role", "volunteer", password="short"
    )
    assert short.exit_code == 1
    assert "--password: Password must be 10 characters or more" in short.stderr
    assert user_count() == before


def test_several_partnerships_need_the_partnership_named(app, runner):
    factories.make_world(slug="north")
    factories.make_world(slug="south")
    args = ("--email", "x@example.org", "--name", "X", "--role", "volunteer")

    ambiguous = create(runner, *args)
    assert ambiguous.exit_code == 1
    assert "several partnerships: name one with --partnership (north, south)" in ambiguous.stderr
    assert db.session.scalars(sa.select(User).where(User.email == "x@example.org")).first() is None

    unknown = create(runner, *args, "--partnership", "west")
    assert unknown.exit_code == 1
    assert "No partnership with the slug 'west'" in unknown.stderr

    named = create(runner, *args, "--partnership", "south")
    assert named.exit_code == 0, named.output
    user = db.session.scalars(sa.select(User).where(User.email == "x@example.org")).one()
    assert user.partnership.slug == "south"


def test_without_any_partnership_the_error_says_to_import_a_strategy(app, runner):
    result = create(runner, "--email", "x@example.org", "--name", "X", "--role", "admin")
    assert result.exit_code == 1
    assert "There is no partnership yet: import a strategy first" in result.stderr
    assert user_count() == 0
