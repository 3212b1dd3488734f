"""A flagged item can never be published or exported, whatever the role.

Each path has its own test: the service refuses with a domain error, and a page that reaches
the service answers 409 (or 404/403 where the person may not know the item exists at all).
Some scenes put a flagged item where no page can (in a theme, directly in the database), to
prove the refusal does not depend on flagging having taken it out first.
"""

from __future__ import annotations

import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Action, AuditEntry, Feedback, FeedbackContact, Theme
from app.models.vocab import Role
from app.services import publishing, safeguarding
from app.services import themes as theme_service
from app.services.public_content import published_theme
from tests import factories
from tests.html import text_of

SECRET = "Marigold"
SAID = f"{SECRET} Close: my daughter is frightened of her uncle."


@pytest.fixture
def theme(world) -> Theme:
    items = [
        factories.make_feedback(world.partnership, raw_text=f"Ordinary {n}.") for n in range(2)
    ]
    return factories.make_theme(
        world.partnership,
        subgroup=world.subgroups["CCE"],
        feedback=items,
        created_by=world.coordinator,
    )


@pytest.fixture
def flagged(world) -> Feedback:
    item = factories.make_feedback(world.partnership, raw_text=SAID, redacted_text=SAID)
    safeguarding.flag(item, world.coordinator, "Worried")
    db.session.commit()
    return item


def slip_into(theme: Theme, item: Feedback) -> None:
    """Put a flagged item in a theme behind every service's back."""
    db.session.execute(sa.update(Feedback).where(Feedback.id == item.id).values(theme_id=theme.id))
    db.session.commit()
    db.session.expire_all()


def published_verbs() -> set[str]:
    return {v for v in db.session.scalars(sa.select(AuditEntry.verb)) if "published" in v}


# --- refuse_flagged, the one check -------------------------------------------------------------


def test_refuse_flagged_names_what_was_refused(world, flagged):
    plain = factories.make_feedback(world.partnership)
    safeguarding.refuse_flagged([plain], "exported")
    with pytest.raises(safeguarding.FlaggedFeedbackRefused, match="can never be exported"):
        safeguarding.refuse_flagged([plain, flagged], "exported")
    with pytest.raises(safeguarding.FlaggedFeedbackRefused, match="can never be published"):
        safeguarding.refuse_flagged([flagged], "published")


# --- Approving a theme -------------------------------------------------------------------------


def test_the_service_refuses_to_approve_a_theme_holding_a_flagged_item(world, theme, flagged):
    slip_into(theme, flagged)
    with pytest.raises(publishing.PublishingError, match="safeguarding concern"):
        publishing.approve_theme(theme, world.coordinator2)
    db.session.rollback()
    assert db.session.get(Theme, theme.id).publication == "draft"


@pytest.mark.parametrize("role", ["coordinator2", "admin", "coordinator_and_lead"])
def test_approving_it_answers_409_for_everyone_who_may_publish(
    client, auth, world, theme, flagged, role
):
    slip_into(theme, flagged)
    if role == "coordinator_and_lead":
        user = factories.make_user(world.partnership, Role.COORDINATOR, Role.SAFEGUARDING_LEAD)
    else:
        user = getattr(world, role)
    auth.login(user)
    page = client.get(f"/triage/approvals/{theme.id}")
    assert "flagged as a safeguarding concern" in text_of(page)
    response = client.post(f"/triage/approvals/{theme.id}")
    assert response.status_code == 409
    assert "flagged as a safeguarding concern" in text_of(response)
    assert SECRET not in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "draft"
    assert published_verbs() == set()


@pytest.mark.parametrize(
    "role", ["volunteer", "subgroup_lead", "other_lead", "board_viewer", "safeguarding_lead"]
)
def test_roles_that_may_not_publish_are_refused_first(client, auth, world, theme, flagged, role):
    slip_into(theme, flagged)
    auth.login(getattr(world, role))
    assert client.post(f"/triage/approvals/{theme.id}").status_code == 403
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "draft"


def test_new_answers_on_a_published_theme_are_held_back_too(client, auth, world, theme, flagged):
    factories._publish(theme)
    db.session.commit()
    action = factories.make_action(theme, created_by=world.coordinator)
    slip_into(theme, flagged)
    auth.login(world.coordinator2)
    assert client.post(f"/triage/approvals/{theme.id}").status_code == 409
    db.session.expire_all()
    assert db.session.get(Action, action.id).publication == "draft"
    assert published_verbs() == set()


# --- Adding a flagged item to a theme ----------------------------------------------------------


def test_every_theme_service_refuses_a_flagged_item(world, theme, flagged):
    other = factories.make_theme(world.partnership, subgroup=world.subgroups["QPMI"])
    with pytest.raises(theme_service.SafeguardingItem):
        theme_service.add_items(theme, [flagged], world.coordinator)
    db.session.rollback()
    with pytest.raises(theme_service.SafeguardingItem):
        theme_service.create_theme(
            world.partnership,
            world.coordinator,
            title="New",
            statement="Something families said.",
            priorities=[],
            subgroup=world.subgroups["CCE"],
            items=[flagged],
        )
    db.session.rollback()
    slip_into(theme, flagged)
    flagged = db.session.get(Feedback, flagged.id)
    with pytest.raises(theme_service.SafeguardingItem):
        theme_service.move_items(theme, other, [flagged], world.coordinator)
    db.session.rollback()
    with pytest.raises(theme_service.SafeguardingItem):
        theme_service.split_theme(
            db.session.get(Theme, theme.id),
            world.coordinator,
            title="Split",
            statement="Part of what families said.",
            priorities=[],
            subgroup=world.subgroups["CCE"],
            items=[flagged],
        )
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 2


def attempts(client, world, theme: Theme, feedback_id: int, ok: Feedback) -> dict[str, object]:
    """Every page that puts items in a theme, asked to add this one."""
    new_theme = {
        "title": "T",
        "statement": "S",
        "subgroup": world.subgroups["CCE"].id,
        "feedback": [feedback_id],
    }
    return {
        "item page": client.post(f"/triage/feedback/{feedback_id}/theme", data={"theme": theme.id}),
        "theme page": client.post(
            f"/triage/themes/{theme.id}/items", data={"feedback": [feedback_id], "add": "y"}
        ),
        "bulk add": client.post(
            "/triage/bulk",
            data={"feedback": [ok.id, feedback_id], "theme": theme.id, "add_to_theme": "y"},
        ),
        "bulk new": client.post("/triage/bulk", data={"feedback": [feedback_id], "new_theme": "y"}),
        "new theme": client.post(f"/triage/themes/new?feedback={feedback_id}", data=new_theme),
    }


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_adding_it_through_any_page_is_refused_as_if_it_did_not_exist(
    client, auth, world, theme, flagged, role
):
    ok = factories.make_feedback(world.partnership, status="triaged")
    auth.login(getattr(world, role))
    for path, response in attempts(client, world, theme, flagged.id, ok).items():
        assert response.status_code == 404, path  # type: ignore[attr-defined]
        assert "safeguarding" not in text_of(response).lower(), path
    db.session.expire_all()
    assert db.session.get(Feedback, flagged.id).theme_id is None
    assert db.session.get(Feedback, ok.id).theme_id is None
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 1


def test_a_coordinator_who_is_also_a_lead_gets_409_where_they_can_see_it(
    client, auth, world, theme, flagged
):
    """They may know it exists; the rule still holds, and the page says why."""
    both = factories.make_user(world.partnership, Role.COORDINATOR, Role.SAFEGUARDING_LEAD)
    ok = factories.make_feedback(world.partnership, status="triaged")
    auth.login(both)
    results = attempts(client, world, theme, flagged.id, ok)
    item_page = results.pop("item page")
    assert item_page.status_code == 409  # type: ignore[attr-defined]
    assert "cannot be added to a theme" in text_of(item_page)
    for path, response in results.items():
        assert response.status_code in (404, 409), path  # type: ignore[attr-defined]
    db.session.expire_all()
    assert db.session.get(Feedback, flagged.id).theme_id is None
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 1


@pytest.mark.parametrize(
    "role", ["volunteer", "subgroup_lead", "board_viewer", "safeguarding_lead"]
)
def test_roles_without_triage_are_refused_first(client, auth, world, theme, flagged, role):
    ok = factories.make_feedback(world.partnership, status="triaged")
    auth.login(getattr(world, role))
    for path, response in attempts(client, world, theme, flagged.id, ok).items():
        assert response.status_code == 403, path  # type: ignore[attr-defined]
    db.session.expire_all()
    assert db.session.get(Feedback, flagged.id).theme_id is None


# --- Exports and the public outputs ------------------------------------------------------------


def test_the_public_outputs_leave_out_a_flagged_item_even_inside_a_published_theme(
    client, world, theme, flagged
):
    factories._publish(theme)
    db.session.commit()
    slip_into(theme, flagged)
    files = {
        url: client.get(url).get_data(as_text=True)
        for url in (
            "/you-said-we-did",
            f"/you-said-we-did/{theme.slug}",
            "/you-said-we-did.json",
            "/you-said-we-did.csv",
            "/you-said-we-did/feed.atom",
            "/open-data",
        )
    }
    for url, body in files.items():
        assert SECRET not in body, url
    (public,) = json.loads(files["/you-said-we-did.json"])["themes"]
    assert public["voices"]["total"] == "fewer than 5"
    # Behind the rounding: the two ordinary items; the flagged one is not a voice.
    with client.application.test_request_context():
        assert published_theme(theme.slug, world.partnership).voices.total == 2


@pytest.mark.parametrize("export_format", ["json", "page"])
def test_a_subject_access_export_never_includes_a_flagged_item(
    client, auth, world, flagged, export_format
):
    email = "marigold.parent@example.org"
    flagged.contact = FeedbackContact(
        partnership_id=world.partnership.id, email=email, delete_after=flagged.received_on
    )
    plain = factories.make_feedback(world.partnership, raw_text="An ordinary wish for ramps.")
    plain.contact = FeedbackContact(
        partnership_id=world.partnership.id, email=email, delete_after=plain.received_on
    )
    db.session.commit()
    auth.login(world.admin)
    response = client.post(
        "/admin/subject-access/export",
        data={"email": email, "phone": "", "format": export_format},
    )
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "An ordinary wish for ramps." in body
    assert SECRET not in body and "uncle" not in body and "Worried" not in body


@pytest.mark.parametrize(
    "role", ["volunteer", "coordinator", "subgroup_lead", "board_viewer", "safeguarding_lead"]
)
def test_only_admins_export_what_is_held_about_someone(client, auth, world, flagged, role):
    auth.login(getattr(world, role))
    response = client.post(
        "/admin/subject-access/export",
        data={"email": "marigold.parent@example.org", "phone": "", "format": "json"},
    )
    assert response.status_code == 403
