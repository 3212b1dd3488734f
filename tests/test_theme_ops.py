"""Reshaping themes (move items, merge, split) and "Themes like this" on an item's page."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Action, AuditEntry, Theme
from app.services import themes as svc
from tests import factories
from tests.html import soup, text_of
from tests.test_triage import error_summary, field_error

REFUSED_ROLES = ["volunteer", "subgroup_lead", "other_lead", "board_viewer", "safeguarding_lead"]


@pytest.fixture
def events(world):
    return (
        factories.make_event(world.partnership, created_by=world.volunteer, name="Coffee morning"),
        factories.make_event(world.partnership, name="Park event", kind="park_event"),
    )


@pytest.fixture
def two_themes(world, events):
    """ "Assessments" with three items from two events; "Waiting" with one item."""
    coffee, park = events
    a = factories.make_feedback(
        world.partnership, event=coffee, raw_text="Two years for an ASD test."
    )
    b = factories.make_feedback(
        world.partnership, event=coffee, raw_text="Nobody rings back.", respondent="young_person"
    )
    c = factories.make_feedback(world.partnership, event=park, raw_text="Lost on the list.")
    d = factories.make_feedback(world.partnership, event=park, raw_text="Speech therapy waits.")
    first = factories.make_theme(
        world.partnership,
        title="Assessments",
        slug="assessments",
        subgroup=world.subgroups["QPMI"],
        priorities=[world.priorities["AUTISM"]],
        feedback=[a, b, c],
        created_by=world.coordinator2,
    )
    second = factories.make_theme(
        world.partnership,
        title="Waiting",
        slug="waiting",
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["SEMH"]],
        feedback=[d],
        created_by=world.coordinator2,
    )
    return first, second, (a, b, c, d)


def voices(client, theme) -> str:
    return soup(client.get(f"/triage/themes/{theme.id}")).select_one("#voices").get_text(strip=True)


def audit(verb: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.verb == verb).order_by(AuditEntry.id)
        )
    )


def banner(response) -> str:
    box = soup(response).select_one(".govuk-notification-banner")
    return " ".join(box.get_text(" ").split()) if box else ""


def ticked(response) -> set[int]:
    return {int(box["value"]) for box in soup(response).select("input[name=feedback][checked]")}


# --- Who may --------------------------------------------------------------------------------------


@pytest.mark.parametrize("role", REFUSED_ROLES)
def test_only_coordinators_and_admins_may_reshape_themes(client, auth, world, two_themes, role):
    first, second, items = two_themes
    auth.login(getattr(world, role))
    for url in (
        f"/triage/themes/{first.id}/move",
        f"/triage/themes/{first.id}/split",
        f"/triage/themes/{first.id}/merge",
        f"/triage/themes/{first.id}/merge/{second.id}",
    ):
        assert client.get(url).status_code == 403, url
        data = {"feedback": [items[0].id], "target": second.id, "source": second.id}
        assert client.post(url, data=data).status_code == 403, url
    db.session.expire_all()
    assert items[0].theme_id == first.id
    assert db.session.get(Theme, second.id) is not None


def test_an_admin_may_reshape_themes(client, auth, world, two_themes):
    first, second, _ = two_themes
    auth.login(world.admin)
    for url in ("move", "split", "merge", f"merge/{second.id}"):
        assert client.get(f"/triage/themes/{first.id}/{url}").status_code == 200


def test_another_partnerships_themes_and_items_are_not_found(client, auth, world, two_themes):
    first, second, items = two_themes
    theirs = factories.make_world()
    their_item = factories.make_feedback(theirs.partnership)
    their_theme = factories.make_theme(theirs.partnership, feedback=[their_item])
    flagged = factories.make_feedback(world.partnership, safeguarding_flag=True)
    auth.login(world.coordinator)

    for url in ("move", "split", "merge", f"merge/{first.id}"):
        assert client.get(f"/triage/themes/{their_theme.id}/{url}").status_code == 404
    assert client.get(f"/triage/themes/{first.id}/merge/{their_theme.id}").status_code == 404
    assert client.post(f"/triage/themes/{first.id}/merge/{their_theme.id}").status_code == 404
    move = f"/triage/themes/{first.id}/move"
    split = f"/triage/themes/{first.id}/split"
    for foreign in (their_item.id, flagged.id, 999999, "x"):
        data = {"feedback": [items[0].id, foreign], "target": second.id}
        assert client.post(move, data=data).status_code == 404
        assert (
            client.post(split, data={"feedback": [foreign], "choose": "split"}).status_code == 404
        )
    data = {"feedback": [items[0].id], "target": their_theme.id}
    assert client.post(move, data=data).status_code == 404
    response = client.post(f"/triage/themes/{first.id}/merge", data={"source": their_theme.id})
    assert response.status_code == 404
    db.session.expire_all()
    assert their_item.theme_id == their_theme.id
    assert items[0].theme_id == first.id


# --- Moving items ---------------------------------------------------------------------------------


def test_the_theme_page_offers_move_split_and_merge_without_javascript(
    client, auth, world, two_themes
):
    first, _, _ = two_themes
    auth.login(world.coordinator)
    page = soup(client.get(f"/triage/themes/{first.id}"))
    form = page.select_one(f"form[action='/triage/themes/{first.id}/items']")
    buttons = {b.get_text(strip=True): b for b in form.select("button")}
    assert buttons["Move selected to another theme"]["formaction"] == (
        f"/triage/themes/{first.id}/move"
    )
    assert buttons["Split selected into a new theme"]["formaction"] == (
        f"/triage/themes/{first.id}/split"
    )
    merge = page.find("a", string="Merge another theme into this one")
    assert merge["href"] == f"/triage/themes/{first.id}/merge"
    assert page.select_one("#respondents").get_text(strip=True) == "Parent or carer, Young person"


def test_moving_items_to_another_theme(client, auth, world, two_themes):
    first, second, (a, b, c, d) = two_themes
    auth.login(world.coordinator)
    assert voices(client, first) == "3 feedback items from 2 events"
    assert voices(client, second) == "1 feedback item from 1 event"

    # From the theme page's checkboxes: the items come ticked, the theme is still to choose.
    page = client.post(
        f"/triage/themes/{first.id}/move", data={"feedback": [b.id, c.id], "choose": "move"}
    )
    assert page.status_code == 200
    assert error_summary(page) == []
    assert ticked(page) == {b.id, c.id}
    options = [o.get_text(strip=True) for o in soup(page).select("#target option")]
    assert options == ["Choose a theme", "Waiting"]

    response = client.post(
        f"/triage/themes/{first.id}/move", data={"feedback": [b.id, c.id], "target": second.id}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/themes/{first.id}"
    page = client.get(response.headers["Location"])
    assert banner(page) == 'Success 2 items moved to "Waiting".'
    db.session.expire_all()
    assert {i.id for i in second.feedback} == {b.id, c.id, d.id}
    assert [i.id for i in first.feedback] == [a.id]
    assert voices(client, first) == "1 feedback item from 1 event"
    assert voices(client, second) == "3 feedback items from 2 events"
    [entry] = audit("theme.items_moved")
    assert (entry.object_id, entry.user_id) == (first.id, world.coordinator.id)
    assert entry.details == {
        "theme_id": second.id,
        "title": "Waiting",
        "feedback_ids": sorted([b.id, c.id]),
    }


def test_move_errors_are_shown_and_what_was_ticked_is_kept(client, auth, world, two_themes):
    first, second, (a, b, c, d) = two_themes
    auth.login(world.coordinator)
    url = f"/triage/themes/{first.id}/move"

    page = client.post(url, data={"choose": "move"})
    assert error_summary(page) == ["Select the items to move"]
    assert field_error(page, "feedback") == "Select the items to move"
    assert soup(page).title.get_text().startswith("Error:")

    page = client.post(url, data={"feedback": [b.id], "target": ""})
    assert error_summary(page) == ["Select the theme to move them to"]
    assert field_error(page, "target") == "Select the theme to move them to"
    assert ticked(page) == {b.id}

    # An item that left the theme since the page was opened (it is in "Waiting" now).
    page = client.post(url, data={"feedback": [d.id], "target": second.id})
    assert error_summary(page) == ["Select items that are in this theme"]
    db.session.expire_all()
    assert {i.id for i in first.feedback} == {a.id, b.id, c.id}
    assert audit("theme.items_moved") == []


def test_items_cannot_move_into_a_closed_theme(client, auth, world, two_themes):
    first, second, (a, *_) = two_themes
    second.status = "closed"
    db.session.commit()
    auth.login(world.coordinator)
    page = client.post(
        f"/triage/themes/{first.id}/move", data={"feedback": [a.id], "target": second.id}
    )
    assert error_summary(page) == ["Select a theme from the list"]
    with pytest.raises(svc.ThemeError, match="is closed"):
        svc.move_items(first, second, [a], world.coordinator)


def test_an_answered_item_moving_to_an_unanswered_theme_is_themed_again(world, two_themes):
    first, second, (a, *_) = two_themes
    factories.make_action(first, published=True)
    first.publication = "published"
    a.status = "answered"
    db.session.commit()
    svc.move_items(first, second, [a], world.coordinator)
    assert a.status == "themed"
    svc.move_items(second, first, [a], world.coordinator)
    assert a.status == "answered"


def test_move_refuses_another_partnership_and_itself_in_the_service(world, two_themes):
    first, second, (a, *_) = two_themes
    theirs = factories.make_theme(factories.make_world().partnership)
    with pytest.raises(svc.ThemeError, match="Select a theme from the list"):
        svc.move_items(first, theirs, [a], world.coordinator)
    with pytest.raises(svc.ThemeError, match="different theme"):
        svc.move_items(first, first, [a], world.coordinator)
    with pytest.raises(svc.ThemeError, match="Select the items"):
        svc.move_items(first, second, [], world.coordinator)


# --- Splitting a theme ----------------------------------------------------------------------------


def test_splitting_items_into_a_new_draft_theme(client, auth, world, two_themes):
    first, _, (_, b, c, _) = two_themes
    b.priorities = [world.priorities["SEMH"]]
    b.routed_subgroup = world.subgroups["CCE"]
    db.session.commit()
    auth.login(world.coordinator)
    url = f"/triage/themes/{first.id}/split"

    page = client.post(url, data={"feedback": [b.id], "choose": "split"})
    assert page.status_code == 200 and error_summary(page) == []
    assert ticked(page) == {b.id}
    # Suggested from the chosen items' tags and routing.
    assert [i["value"] for i in soup(page).select("input[name=priorities][checked]")] == [
        str(world.priorities["SEMH"].id)
    ]
    assert soup(page).select_one("input[name=subgroup][checked]")["value"] == str(
        world.subgroups["CCE"].id
    )

    response = client.post(
        url,
        data={
            "feedback": [b.id, c.id],
            "title": "Keeping families informed",
            "statement": "Families told us nobody tells them where they are on the list.",
            "priorities": [world.priorities["SEMH"].id],
            "subgroup": world.subgroups["CCE"].id,
        },
    )
    assert response.status_code == 302
    new = db.session.scalars(
        sa.select(Theme).where(Theme.title == "Keeping families informed")
    ).one()
    assert response.headers["Location"] == f"/triage/themes/{new.id}"
    page = client.get(response.headers["Location"])
    assert banner(page) == (
        'Success Theme "Keeping families informed" is saved with 2 items taken from '
        '"Assessments". It is not public until a coordinator approves it.'
    )
    assert (new.publication, new.status) == ("draft", "open")
    assert new.subgroup_id == world.subgroups["CCE"].id
    assert new.created_by_id == world.coordinator.id
    assert {i.id for i in new.feedback} == {b.id, c.id}
    assert voices(client, new) == "2 feedback items from 2 events"
    assert voices(client, first) == "1 feedback item from 1 event"
    assert soup(page).select_one("#respondents").get_text(strip=True) == (
        "Parent or carer, Young person"
    )
    [created] = audit("theme.created")
    assert created.object_id == new.id
    [split] = audit("theme.split")
    assert split.object_id == first.id
    assert split.details == {
        "theme_id": new.id,
        "title": "Keeping families informed",
        "feedback_ids": sorted([b.id, c.id]),
    }


def test_split_errors_keep_what_was_typed_and_save_nothing(client, auth, world, two_themes):
    first, _, (a, b, c, d) = two_themes
    auth.login(world.coordinator)
    url = f"/triage/themes/{first.id}/split"

    page = client.post(url, data={"choose": "split"})
    assert error_summary(page) == ["Select the items to take into the new theme"]

    page = client.post(
        url, data={"feedback": [b.id], "title": "Half a theme", "statement": "", "subgroup": ""}
    )
    assert set(error_summary(page)) == {
        'Enter the "You said" statement',
        "Select the sub-group that owns this theme",
    }
    assert soup(page).title.get_text().startswith("Error:")
    assert soup(page).select_one("#title")["value"] == "Half a theme"
    assert ticked(page) == {b.id}

    everything = {
        "feedback": [a.id, b.id, c.id],
        "title": "All of it",
        "statement": "Everything.",
        "subgroup": world.subgroups["CCE"].id,
    }
    page = client.post(url, data=everything)
    assert field_error(page, "feedback") == (
        'Leave at least one item in "Assessments". To move every item, merge the themes instead.'
    )
    page = client.post(url, data=everything | {"feedback": [d.id]})
    assert field_error(page, "feedback") == "Select items that are in this theme"
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 2
    assert audit("theme.split") == []


def test_a_theme_with_one_item_cannot_be_split(client, auth, world, two_themes):
    _, second, _ = two_themes
    auth.login(world.coordinator)
    page = client.get(f"/triage/themes/{second.id}/split")
    assert "needs at least two feedback items to split" in text_of(page)
    assert soup(page).select_one("form[action$='/split']") is None


# --- Merging two themes ---------------------------------------------------------------------------


def choose_and_check(client, target, source):
    response = client.post(f"/triage/themes/{target.id}/merge", data={"source": source.id})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/themes/{target.id}/merge/{source.id}"
    page = client.get(response.headers["Location"])
    assert page.status_code == 200
    return page


def plan_text(page) -> list[str]:
    return [" ".join(li.get_text(" ").split()) for li in soup(page).select("#plan li")]


def merge(client, page, target, source):
    seen = soup(page).select_one("input[name=seen]")["value"]
    return client.post(f"/triage/themes/{target.id}/merge/{source.id}", data={"seen": seen})


def test_merging_a_draft_theme_into_another_draft(client, auth, world, two_themes):
    first, second, (a, b, c, d) = two_themes
    action = factories.make_action(second, text="We will hire two more therapists.")
    auth.login(world.coordinator)

    page = client.get(f"/triage/themes/{first.id}/merge")
    options = [o.get_text(strip=True) for o in soup(page).select("#source option")]
    assert options == ["Choose a theme", "Waiting"]

    page = choose_and_check(client, first, second)
    assert plan_text(page) == [
        "1 feedback item moves to “Assessments”.",
        "1 action moves to “Assessments”, with its progress updates.",
        "“Assessments” will also be about SEMH: Priority SEMH.",
        "Afterwards “Assessments” will have 4 feedback items from 2 events, from 2 kinds of "
        "respondent.",
        "“Waiting” is deleted. It was never published. The audit log keeps a record of the merge.",
        "“Assessments” stays unpublished. Nothing about it is public until a coordinator "
        "approves it.",
    ]

    response = merge(client, page, first, second)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/themes/{first.id}"
    page = client.get(response.headers["Location"])
    assert banner(page) == (
        'Success "Waiting" is merged into this theme: 1 feedback item and 1 action moved. '
        '"Waiting" is deleted.'
    )
    db.session.expire_all()
    assert db.session.get(Theme, second.id) is None
    assert {i.id for i in first.feedback} == {a.id, b.id, c.id, d.id}
    assert db.session.get(Action, action.id).theme_id == first.id
    assert [p.code for p in first.priorities] == ["SEMH", "AUTISM"]
    assert first.subgroup_id == world.subgroups["QPMI"].id
    assert first.status == "responded"
    assert voices(client, first) == "4 feedback items from 2 events"

    [merged] = audit("theme.merged")
    assert (merged.object_id, merged.user_id) == (first.id, world.coordinator.id)
    assert merged.details == {
        "merged_theme_id": second.id,
        "slug": "waiting",
        "title": "Waiting",
        "feedback_ids": [d.id],
        "action_ids": [action.id],
        "actions_back_to_draft": [],
        "priorities_added": ["SEMH"],
        "priorities_not_added": [],
        "outcome": "deleted",
    }
    [gone] = audit("theme.merged_into")
    assert gone.object_id == second.id
    assert gone.details["outcome"] == "deleted" and gone.details["theme_id"] == first.id
    # The audit log says it in words.
    auth.logout()
    auth.login(world.admin)
    log = text_of(client.get("/admin/audit"))
    assert "Another theme merged into this one" in log
    assert "Theme merged into another" in log
    # Whoever merged changed the draft's priorities: four eyes counts them as an author.
    [updated] = audit("theme.updated")
    assert updated.user_id == world.coordinator.id
    assert updated.details["changes"] == {
        "priorities": {"from": ["AUTISM"], "to": ["AUTISM", "SEMH"]}
    }


def test_merging_a_published_theme_into_a_draft_publishes_nothing(client, auth, world, two_themes):
    first, second, _ = two_themes
    factories.make_action(second, text="We did publish this answer.", published=True)
    second.publication = "published"
    second.published_at = second.created_at
    db.session.commit()
    auth.login(world.coordinator)
    assert client.get("/you-said-we-did/waiting").status_code == 200

    page = choose_and_check(client, first, second)
    assert (
        "1 action was published. It goes back to waiting for approval, so it is not public under "
        "“Assessments” until a coordinator approves it there."
    ) in plan_text(page)
    assert (
        "“Waiting” is withdrawn from the public pages, with the reason: Merged into "
        "“Assessments”. Its public page will no longer be found."
    ) in plan_text(page)
    response = merge(client, page, first, second)
    assert response.status_code == 302
    assert "1 action that was published is waiting for approval again." in banner(
        client.get(response.headers["Location"])
    )

    db.session.expire_all()
    assert first.publication == "draft"
    assert second.publication == "withdrawn"
    assert second.withdrawn_reason == 'Merged into "Assessments"'
    assert [x.publication for x in first.actions] == ["draft"]
    assert second.feedback == [] and second.actions == []
    [withdrawn] = audit("theme.withdrawn")
    assert withdrawn.object_id == second.id
    for slug in ("waiting", "assessments"):
        assert client.get(f"/you-said-we-did/{slug}").status_code == 404
    assert "We did publish this answer." not in client.get("/you-said-we-did").get_data(
        as_text=True
    )


def test_merging_into_a_published_theme_keeps_its_wording_and_hides_unapproved_text(
    client, auth, world, two_themes
):
    first, second, _ = two_themes
    public_action = factories.make_action(first, text="We hired a nurse.", published=True)
    first.publication = "published"
    first.published_at = first.created_at
    # "Waiting" was withdrawn earlier: its published action was not public, and stays so.
    hidden = factories.make_action(
        second, text="A hidden answer nobody approved here.", published=True
    )
    draft = factories.make_action(second, text="A draft answer still being written.")
    second.publication = "withdrawn"
    db.session.commit()
    statement = first.statement
    auth.login(world.coordinator)

    page = choose_and_check(client, first, second)
    lines = plan_text(page)
    assert (
        "“Assessments” is published, so its priorities stay as they are. To add SEMH, withdraw "
        "it, change it and have it approved again."
    ) in lines
    assert "“Waiting” stays withdrawn, with nothing in it." in lines
    assert "“Assessments” stays published and its wording does not change." in lines
    response = merge(client, page, first, second)
    assert response.status_code == 302

    db.session.expire_all()
    assert first.publication == "published" and first.statement == statement
    assert [p.code for p in first.priorities] == ["AUTISM"]
    assert db.session.get(Action, hidden.id).publication == "draft"
    assert db.session.get(Action, draft.id).publication == "draft"
    assert db.session.get(Action, public_action.id).publication == "published"
    assert second.publication == "withdrawn" and db.session.get(Theme, second.id) is not None
    assert audit("theme.updated") == []
    public = client.get("/you-said-we-did/assessments").get_data(as_text=True)
    assert "We hired a nurse." in public
    assert "A hidden answer" not in public and "A draft answer" not in public
    # What came in waits for a coordinator's approval, as anything new does.
    approval = client.get(f"/triage/approvals/{first.id}")
    assert "A hidden answer nobody approved here." in text_of(approval)
    assert "A draft answer still being written." in text_of(approval)


def test_a_published_theme_merged_into_a_published_one_keeps_its_public_answers(
    client, auth, world, two_themes
):
    first, second, _ = two_themes
    for theme in (first, second):
        theme.publication = "published"
        theme.published_at = theme.created_at
    answer = factories.make_action(second, text="We opened a Saturday clinic.", published=True)
    db.session.commit()
    auth.login(world.coordinator)
    response = merge(client, choose_and_check(client, first, second), first, second)
    assert response.status_code == 302
    db.session.expire_all()
    assert db.session.get(Action, answer.id).publication == "published"
    assert first.public_updated_at is not None
    public = client.get("/you-said-we-did/assessments").get_data(as_text=True)
    assert "We opened a Saturday clinic." in public
    assert client.get("/you-said-we-did/waiting").status_code == 404
    assert second.publication == "withdrawn"


def test_merge_is_refused_if_anything_changed_since_the_check(client, auth, world, two_themes):
    first, second, (_, _, _, d) = two_themes
    auth.login(world.coordinator)
    page = choose_and_check(client, first, second)
    # Someone publishes "Waiting" while the check page is open.
    second.publication = "published"
    second.published_at = second.created_at
    db.session.commit()
    response = merge(client, page, first, second)
    assert response.status_code == 200
    assert error_summary(response) == [
        "One of these themes changed since you opened this page. Check what will happen again "
        "before you merge them."
    ]
    assert "“Waiting” is withdrawn from the public pages" in " ".join(plan_text(response))
    db.session.expire_all()
    assert d.theme_id == second.id
    assert audit("theme.merged") == []
    # The page now carries the new plan: merging from it works.
    assert merge(client, response, first, second).status_code == 302


def test_merge_choice_errors(client, auth, world, two_themes):
    first, _, _ = two_themes
    auth.login(world.coordinator)
    page = client.post(f"/triage/themes/{first.id}/merge", data={"source": ""})
    assert error_summary(page) == ["Select the theme to merge into this one"]
    assert field_error(page, "source") == "Select the theme to merge into this one"
    assert soup(page).title.get_text().startswith("Error:")
    response = client.get(f"/triage/themes/{first.id}/merge/{first.id}")
    assert response.headers["Location"] == f"/triage/themes/{first.id}/merge"
    assert "Select a different theme to merge into this one" in text_of(
        client.get(response.headers["Location"])
    )


def test_merge_refuses_themes_of_different_partnerships_in_the_service(world, two_themes):
    first, _, _ = two_themes
    theirs = factories.make_theme(factories.make_world().partnership)
    with pytest.raises(svc.ThemeError, match="Select a theme from the list"):
        svc.merge_themes(first, theirs, world.coordinator)
    with pytest.raises(svc.ThemeError, match="Select a theme from the list"):
        svc.merge_themes(theirs, first, world.coordinator)
    assert db.session.get(Theme, theirs.id) is not None


def test_merge_is_one_transaction(client, auth, world, two_themes, monkeypatch):
    first, second, (_, _, _, d) = two_themes
    second.publication = "published"
    db.session.commit()
    auth.login(world.coordinator)
    page = choose_and_check(client, first, second)

    def fail(*args, **kwargs):
        raise RuntimeError("mail server on fire")

    monkeypatch.setattr(svc.publishing, "withdraw_theme", fail)
    with pytest.raises(RuntimeError):
        merge(client, page, first, second)
    db.session.rollback()
    db.session.expire_all()
    assert d.theme_id == second.id
    assert second.publication == "published"
    assert audit("theme.merged") == []


# --- "Themes like this" on an item's page ---------------------------------------------------------


@pytest.fixture
def library(world):
    def theme(title, statement, **kw):
        return factories.make_theme(
            world.partnership,
            title=title,
            statement=statement,
            subgroup=world.subgroups["CCE"],
            **kw,
        )

    return {
        "speech": theme(
            "Waiting for speech and language therapy",
            "Families told us children wait more than a year for speech and language therapy.",
        ),
        "autism": theme(
            "Waiting times for autism assessments",
            "Parents said the wait for an autism assessment is too long.",
        ),
        "transport": theme("School transport", "Taxis to school are late."),
        "old": theme(
            "Speech therapy in the holidays",
            "No speech therapy in the school holidays.",
            publication="withdrawn",
        ),
        "closed": theme(
            "Speech therapy waiting list letters",
            "Letters about the speech therapy waiting list.",
            status="closed",
        ),
    }


def suggestions(page) -> list[str]:
    panel = soup(page).select_one("#themes-like-this")
    return [a.get_text(strip=True) for a in panel.select("li a")] if panel else []


def test_the_item_page_suggests_themes_like_it(client, auth, world, library):
    item = factories.make_feedback(
        world.partnership, raw_text="He has been on the speech therapy waiting list since May."
    )
    theirs = factories.make_world()
    factories.make_theme(
        theirs.partnership, title="Speech therapy waiting list", statement="Speech therapy."
    )
    auth.login(world.coordinator)
    page = client.get(f"/triage/feedback/{item.id}")
    found = suggestions(page)
    assert found[0] == "Waiting for speech and language therapy"
    assert len(found) <= 3
    assert "Speech therapy in the holidays" not in found  # withdrawn
    assert "Speech therapy waiting list letters" not in found  # closed
    assert "Speech therapy waiting list" not in found  # another partnership's
    assert soup(page).select_one("#themes-like-this h3").get_text(strip=True) == "Themes like this"

    form = soup(page).select_one("#themes-like-this form")
    assert form["action"] == f"/triage/feedback/{item.id}/theme"
    assert form.select_one("input[name=theme]")["value"] == str(library["speech"].id)
    assert form.select_one("input[name=csrf_token]") is not None
    button = form.select_one("button")
    assert " ".join(button.get_text(" ").split()) == (
        "Add to this theme : Waiting for speech and language therapy"
    )

    response = client.post(form["action"], data={"theme": library["speech"].id, "add": "suggested"})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.theme_id == library["speech"].id
    # Now it is in that theme, the page suggests others, never the one it is in.
    assert "Waiting for speech and language therapy" not in suggestions(
        client.get(f"/triage/feedback/{item.id}")
    )


def test_the_redacted_wording_is_searched_when_there_is_one(client, auth, world, library):
    item = factories.make_feedback(
        world.partnership,
        raw_text="Mrs Okonkwo says Tobi's taxi never turns up.",
        redacted_text="The taxi to school never turns up.",
    )
    auth.login(world.coordinator)
    assert suggestions(client.get(f"/triage/feedback/{item.id}"))[0] == "School transport"


def test_no_panel_when_nothing_is_like_it(client, auth, world, library):
    item = factories.make_feedback(world.partnership, raw_text="Lovely staff at the pool.")
    auth.login(world.coordinator)
    page = client.get(f"/triage/feedback/{item.id}")
    assert page.status_code == 200
    assert soup(page).select_one("#themes-like-this") is None


def test_suggest_themes_never_searches_with_a_flagged_item(world, library):
    item = factories.make_feedback(
        world.partnership, raw_text="Speech therapy waiting list.", safeguarding_flag=True
    )
    assert svc.suggest_themes(item) == []
    item.safeguarding_flag = False
    assert svc.suggest_themes(item)[0] == library["speech"]


def test_voice_counts_include_the_kinds_of_respondent(world, two_themes):
    first, second, _ = two_themes
    counts = svc.voice_counts(world.partnership, [first.id, second.id])
    assert counts[first.id].respondents == ("parent_carer", "young_person")
    assert counts[first.id].kinds == 2
    assert counts[second.id].respondents == ("parent_carer",)
    combined = svc.combined_voice_count(world.partnership, [first.id, second.id])
    assert (combined.items, combined.events, combined.kinds) == (4, 2, 2)
