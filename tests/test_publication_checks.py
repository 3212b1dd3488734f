"""The personal-details check at approval: nothing identifying is published by accident.

Every text about to become public (theme title, statement and easy read, each action's text
and reason, each progress update) is checked. A finding blocks publication, shown next to the
text, until the wording is changed or a coordinator overrides the check for those exact words
with a written reason, kept in the audit log.
"""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, PrivateTerm, TextCheckOverride, Theme
from app.services import actions, publishing
from app.services.publishing import PendingChanged, PublishingError
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import soup, text_of

CLEAN = "Families told us letters about assessments arrive late and are hard to follow."
NAMED = "Families told us Mrs Khan at Oakfield Primary never rings back. Call 07700 900123."


@pytest.fixture
def theme(world):
    item = factories.make_feedback(world.partnership)
    return factories.make_theme(
        world.partnership,
        title="Letters about assessments",
        statement=NAMED,
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )


def _page(client, theme_id):
    return soup(client.get(f"/triage/approvals/{theme_id}"))


def _override(client, theme_id, key, reason="It names the council's own service, not a person."):
    page = _page(client, theme_id)
    form = page.find(id=f"check-{key}").find("form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    data[f"override-{key}-reason"] = reason
    return client.post(form["action"], data=data)


def _change_link(block):
    (link,) = [a for a in block.find_all("a") if "Change the wording" in a.get_text()]
    return link["href"]


def _approve_button(page):
    return page.find("button", string=lambda s: s and "Approve and publish" in s)


# --- the service -------------------------------------------------------------------------------


def test_a_finding_blocks_approval_until_overridden(world, theme):
    checks = publishing.text_checks(publishing.pending_for(theme))
    assert [(c.key, c.summary) for c in checks if c.findings] == [
        (f"theme-{theme.id}-statement", "a name, a school and a phone number")
    ]
    found = publishing.problems(theme, world.coordinator2)
    assert any("personal-details check found" in p for p in found)
    with pytest.raises(PublishingError, match="personal-details check"):
        publishing.approve_theme(theme, world.coordinator2)
    assert theme.publication == "draft"

    key = f"theme-{theme.id}-statement"
    publishing.override_check(
        theme,
        world.coordinator2,
        key=key,
        seen_sha256=publishing.text_sha256(NAMED),
        reason="Mrs Khan agreed to be named.",
    )
    db.session.commit()
    assert publishing.problems(theme, world.coordinator2) == []
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]


def test_a_changed_text_needs_a_new_override(world, theme):
    key = f"theme-{theme.id}-statement"
    publishing.override_check(
        theme,
        world.coordinator2,
        key=key,
        seen_sha256=publishing.text_sha256(NAMED),
        reason="Agreed with the family.",
    )
    db.session.commit()
    theme.statement = NAMED.replace("07700 900123", "07700 900999")
    db.session.commit()
    check = next(c for c in publishing.text_checks(publishing.pending_for(theme)) if c.findings)
    assert check.override is None and check.blocking
    with pytest.raises(PublishingError):
        publishing.approve_theme(theme, world.coordinator2)
    # An override for the words as they were cannot be used for the words as they are.
    with pytest.raises(PendingChanged):
        publishing.override_check(
            theme,
            world.coordinator2,
            key=key,
            seen_sha256=publishing.text_sha256(NAMED),
            reason="Agreed with the family.",
        )


def test_fixing_the_text_unblocks_it_without_an_override(world, theme):
    theme.statement = CLEAN
    db.session.commit()
    assert publishing.problems(theme, world.coordinator2) == []
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_every_public_text_is_checked(world):
    theme = factories.make_theme(
        world.partnership,
        title="Transport with Mr Jones",
        statement=CLEAN,
        easy_read="Ring 0161 480 4949.",
        subgroup=world.subgroups["CCE"],
        created_by=world.coordinator,
    )
    action = actions.create_action(
        theme,
        world.subgroup_lead,
        kind="we_cant",
        text="We cannot move Sam, 9, to another bus.",
        reason="See facebook.com/stockportbuses for why.",
    )
    update = actions.add_progress_update(
        action, world.subgroup_lead, happened_on=date(2026, 11, 1), text="Email a@example.org"
    )
    db.session.commit()
    checks = publishing.text_checks(publishing.pending_for(theme))
    found = {c.key: c.summary for c in checks if c.findings}
    assert found == {
        f"theme-{theme.id}-title": "a name",
        f"theme-{theme.id}-easy_read": "a phone number",
        f"action-{action.id}-text": "a name and a child's age",
        f"action-{action.id}-reason": "a web link",
        f"progressupdate-{update.id}-text": "an e-mail address",
    }
    assert f"theme-{theme.id}-statement" in {c.key for c in checks}
    # Already published text is not waiting, so it is not checked again.
    theme.publication = "published"
    action.publication = "published"
    db.session.commit()
    keys = {c.key for c in publishing.text_checks(publishing.pending_for(theme))}
    assert keys == {f"progressupdate-{update.id}-text"}


def test_the_partnerships_own_words_are_checked(world):
    db.session.add(
        PrivateTerm(partnership_id=world.partnership.id, kind="setting", term="Kids Hub")
    )
    db.session.commit()
    theme = factories.make_theme(
        world.partnership,
        statement="Families said the kids hub closes too early.",
        subgroup=world.subgroups["CCE"],
        created_by=world.coordinator,
    )
    checks = publishing.text_checks(publishing.pending_for(theme))
    assert [c.summary for c in checks if c.findings] == ["a setting or service"]


def test_override_needs_a_reason_and_permission(world, theme):
    key = f"theme-{theme.id}-statement"
    sha = publishing.text_sha256(NAMED)
    with pytest.raises(PublishingError) as error:
        publishing.override_check(theme, world.coordinator2, key=key, seen_sha256=sha, reason=" ")
    assert error.value.field == "reason"
    for role in ("subgroup_lead", "volunteer", "board_viewer", "safeguarding_lead"):
        with pytest.raises(PublishingError, match="permission"):
            publishing.override_check(
                theme, getattr(world, role), key=key, seen_sha256=sha, reason="Because"
            )
    with pytest.raises(PublishingError, match="no longer waiting"):
        publishing.override_check(
            theme, world.coordinator2, key="theme-999-statement", seen_sha256=sha, reason="x"
        )
    with pytest.raises(PublishingError, match="nothing to override"):
        publishing.override_check(
            theme,
            world.coordinator2,
            key=f"theme-{theme.id}-title",
            seen_sha256=publishing.text_sha256(theme.title),
            reason="x",
        )
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_four_eyes_still_apply_after_an_override(world, theme):
    publishing.override_check(
        theme,
        world.coordinator,
        key=f"theme-{theme.id}-statement",
        seen_sha256=publishing.text_sha256(NAMED),
        reason="The family asked us to name her.",
    )
    db.session.commit()
    # The author overrode the check, but may still not approve their own words.
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator)
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]


# --- the approval page -------------------------------------------------------------------------


def test_the_page_shows_what_was_found_next_to_the_text(client, auth, world, theme):
    auth.login(world.coordinator2)
    page = _page(client, theme.id)
    key = f"theme-{theme.id}-statement"
    block = page.find(id=f"check-{key}")
    assert block is not None
    words = " ".join(block.get_text(" ").split())
    assert "found a name, a school and a phone number in the “You said” statement" in words
    # What was found is marked in the text itself, with its kind for screen readers.
    marks = page.find_all("mark")
    assert [m.find(class_="govuk-visually-hidden").get_text(strip=True) for m in marks] == [
        "(possible name)",
        "(possible school)",
        "(possible phone number)",
    ]
    assert [m.contents[0] for m in marks] == ["Mrs Khan", "Oakfield Primary", "07700 900123"]
    assert _change_link(block) == (f"/triage/themes/{theme.id}/edit")
    assert _approve_button(page) is None
    assert "personal-details check found something" in text_of(
        client.get(f"/triage/approvals/{theme.id}")
    )
    assert client.post(f"/triage/approvals/{theme.id}").status_code == 409


def test_override_from_the_page_then_approve(client, auth, world, theme):
    auth.login(world.coordinator2)
    key = f"theme-{theme.id}-statement"
    response = _override(client, theme.id, key)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/approvals/{theme.id}#check-{key}"
    page = soup(client.get(response.headers["Location"]))
    assert "can now be published as it is" in " ".join(page.get_text(" ").split())
    block = " ".join(page.find(id=f"check-{key}").get_text(" ").split())
    assert "allowed these exact words to be published" in block
    assert "It names the council's own service, not a person." in block
    assert world.coordinator2.name in block

    row = db.session.scalars(sa.select(TextCheckOverride)).one()
    assert (row.object_type, row.object_id, row.field) == ("Theme", theme.id, "statement")
    assert row.text_sha256 == publishing.text_sha256(NAMED)
    assert row.created_by_id == world.coordinator2.id
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "text_check.overridden")
    ).one()
    assert (entry.object_type, entry.object_id, entry.user_id) == (
        "Theme",
        theme.id,
        world.coordinator2.id,
    )
    assert entry.details["reason"] == "It names the council's own service, not a person."
    assert entry.details["found"] == "a name, a school and a phone number"
    assert entry.details["which_text"] == "“You said” statement"
    # The log says what kinds were found, never the words themselves.
    for private in ("Khan", "Oakfield", "07700"):
        assert private not in str(entry.details)

    button = _approve_button(page)
    assert button is not None
    digest = page.find("input", attrs={"name": "digest"})["value"]
    assert client.post(f"/triage/approvals/{theme.id}", data={"digest": digest}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "published"


def test_an_override_without_a_reason_shows_the_error(client, auth, world, theme):
    auth.login(world.coordinator2)
    key = f"theme-{theme.id}-statement"
    response = _override(client, theme.id, key, reason="  ")
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    summary = page.find(class_="govuk-error-summary")
    assert "Enter why this text is safe to publish as it is" in summary.get_text()
    link = summary.find("a")["href"]
    assert page.find(id=link.lstrip("#")) is not None
    # The box with the error is open, next to its text.
    assert page.find(id=f"check-{key}").find("details").has_attr("open")
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_an_override_for_words_changed_since_the_page_was_shown(client, auth, world, theme):
    auth.login(world.coordinator2)
    key = f"theme-{theme.id}-statement"
    page = _page(client, theme.id)
    form = page.find(id=f"check-{key}").find("form")
    data = {i["name"]: i.get("value", "") for i in form.find_all("input")}
    data[f"override-{key}-reason"] = "Fine to name."
    theme.statement = NAMED + " And Sam, 9, too."
    db.session.commit()
    response = client.post(form["action"], data=data)
    assert response.status_code == 409
    assert "Something changed since you opened this page" in text_of(response)
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_an_action_and_an_update_are_checked_on_the_page(client, auth, world):
    theme = factories.make_theme(
        world.partnership,
        statement=CLEAN,
        subgroup=world.subgroups["CCE"],
        published=True,
        created_by=world.coordinator,
    )
    action = factories.make_action(
        theme, text="Dr Patel will see every family.", created_by=world.subgroup_lead
    )
    update = factories.make_update(
        action, text="Ring 0161 480 4949 to book.", created_by_id=world.subgroup_lead.id
    )
    auth.login(world.coordinator2)
    page = _page(client, theme.id)
    action_block = page.find(id=f"check-action-{action.id}-text")
    assert "a name in the action" in " ".join(action_block.get_text(" ").split())
    assert _change_link(action_block) == f"/respond/actions/{action.id}/edit"
    update_block = page.find(id=f"check-progressupdate-{update.id}-text")
    assert "a phone number in the progress update" in " ".join(update_block.get_text(" ").split())
    assert _approve_button(page) is None
    assert "2 texts" in text_of(client.get(f"/triage/approvals/{theme.id}"))

    for key in (f"action-{action.id}-text", f"progressupdate-{update.id}-text"):
        assert _override(client, theme.id, key).status_code == 302
    assert _approve_button(_page(client, theme.id)) is not None


def test_override_for_text_not_waiting_is_refused(client, auth, world, theme):
    auth.login(world.coordinator2)
    response = client.post(
        f"/triage/approvals/{theme.id}/overrides",
        data={"override-theme-999-statement-check": "theme-999-statement"},
    )
    assert response.status_code == 409


@pytest.mark.parametrize(
    "role", ["subgroup_lead", "other_lead", "volunteer", "board_viewer", "safeguarding_lead"]
)
def test_only_coordinators_and_admins_may_override(client, auth, world, theme, role):
    key = f"theme-{theme.id}-statement"
    auth.login(getattr(world, role))
    response = client.post(
        f"/triage/approvals/{theme.id}/overrides",
        data={
            f"override-{key}-check": key,
            f"override-{key}-sha256": publishing.text_sha256(NAMED),
            f"override-{key}-reason": "Because",
        },
    )
    assert response.status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_another_partnerships_theme_is_404(client, auth, world):
    elsewhere = factories.make_world()
    theme = factories.make_theme(
        elsewhere.partnership, statement=NAMED, subgroup=elsewhere.subgroups["CCE"]
    )
    key = f"theme-{theme.id}-statement"
    auth.login(world.admin)
    response = client.post(
        f"/triage/approvals/{theme.id}/overrides",
        data={
            f"override-{key}-check": key,
            f"override-{key}-sha256": publishing.text_sha256(NAMED),
            f"override-{key}-reason": "Because",
        },
    )
    assert response.status_code == 404
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 0


def test_an_override_in_one_partnership_never_covers_another(world):
    elsewhere = factories.make_world()
    mine = factories.make_theme(world.partnership, statement=NAMED, subgroup=world.subgroups["CCE"])
    theirs = factories.make_theme(
        elsewhere.partnership, statement=NAMED, subgroup=elsewhere.subgroups["CCE"]
    )
    # Same words, a forged row with the other theme's id in the other partnership.
    db.session.add(
        TextCheckOverride(
            partnership_id=elsewhere.partnership.id,
            object_type="Theme",
            object_id=mine.id,
            field="statement",
            text_sha256=publishing.text_sha256(NAMED),
            reason="Not ours",
        )
    )
    db.session.commit()
    check = next(c for c in publishing.text_checks(publishing.pending_for(mine)) if c.findings)
    assert check.override is None
    assert theirs.id != mine.id


def test_the_override_form_needs_a_csrf_token(csrf_app, world):
    item = factories.make_feedback(world.partnership)
    theme = factories.make_theme(
        world.partnership,
        statement=NAMED,
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )
    client = csrf_app.test_client()
    page = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.coordinator2.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(page.get_data(as_text=True)),
        },
    )
    key = f"theme-{theme.id}-statement"
    data = {
        f"override-{key}-check": key,
        f"override-{key}-sha256": publishing.text_sha256(NAMED),
        f"override-{key}-reason": "Because",
    }
    assert client.post(f"/triage/approvals/{theme.id}/overrides", data=data).status_code == 400
    form = soup(client.get(f"/triage/approvals/{theme.id}")).find(id=f"check-{key}").find("form")
    data[f"override-{key}-csrf_token"] = form.find(
        "input", attrs={"name": f"override-{key}-csrf_token"}
    )["value"]
    assert client.post(f"/triage/approvals/{theme.id}/overrides", data=data).status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(TextCheckOverride.id))) == 1


def test_withdrawal_still_needs_a_reason(world, theme):
    theme.statement = CLEAN
    db.session.commit()
    publishing.approve_theme(theme, world.coordinator2)
    with pytest.raises(PublishingError, match="Enter why"):
        publishing.withdraw_theme(theme, world.coordinator2, "")
    assert theme.publication == "published"


def test_the_audit_log_shows_the_override_and_its_reason(client, auth, world, theme):
    publishing.override_check(
        theme,
        world.coordinator2,
        key=f"theme-{theme.id}-statement",
        seen_sha256=publishing.text_sha256(NAMED),
        reason="The family asked us to name her.",
    )
    db.session.commit()
    auth.login(world.admin)
    words = text_of(client.get("/admin/audit"))
    assert "Personal-details check overridden for a text" in words
    assert "The family asked us to name her." in words
    assert "a name, a school and a phone number" in words
    for private in ("Khan", "Oakfield", "07700"):
        assert private not in words
