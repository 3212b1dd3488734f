"""Fast tagging on one item's page: the fields in keyboard order, and save-and-next."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry
from tests import factories
from tests.html import error_for, soup, text_of


@pytest.fixture
def routed_world(world):
    """SEMH routes to the CCE sub-group; AUTISM routes nowhere yet."""
    world.priorities["SEMH"].subgroups = [world.subgroups["CCE"]]
    db.session.commit()
    return world


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


def banner(response) -> str:
    box = soup(response).select_one(".govuk-notification-banner--success")
    return " ".join(box.get_text(" ").split()) if box else ""


def tag_form(response):
    return soup(response).select_one("form[action^='/triage/feedback/']:not([action$='/theme'])")


def test_the_form_is_plain_govuk_controls_in_working_order(client, auth, routed_world, event):
    world = routed_world
    item = factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    form = tag_form(client.get(f"/triage/feedback/{item.id}"))

    # Tab order is document order: no tabindex anywhere, no JavaScript needed.
    assert not form.select("[tabindex]")
    names = []
    for control in form.select("input, textarea, button"):
        name = control.get("name")
        if name and name != "csrf_token" and name not in names:
            names.append(name)
    assert names == [
        "priorities",
        "outcomes",
        "routed_subgroup",
        "need_types",
        "redacted_text",
        "contains_personal_details",
        "not_for_publication",
        "save_next",
        "submit",
    ]
    # The first button is what Enter presses: save and move on.
    buttons = [b.get_text(strip=True) for b in form.select("button")]
    assert buttons == ["Save and go to the next item", "Save as triaged"]
    # Each group of checkboxes or radios is a fieldset with a legend.
    legends = [legend.get_text(strip=True) for legend in form.select("fieldset > legend")]
    assert legends == [
        "Which priorities does it concern?",
        'Which outcomes ("I statements") does it concern?',
        "Which sub-group should see it?",
        "Which areas of need does it concern?",
    ]
    needs = [
        form.find("label", attrs={"for": box["id"]}).get_text(strip=True)
        for box in form.select("input[name=need_types]")
    ]
    assert needs == [
        "Communication and interaction",
        "Cognition and learning",
        "Social, emotional and mental health",
        "Sensory and/or physical",
    ]


def test_need_types_are_saved_in_the_code_of_practice_order(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event, need_types=["semh"])
    auth.login(world.coordinator)
    page = soup(client.get(f"/triage/feedback/{item.id}"))
    assert [i["value"] for i in page.select("input[name=need_types][checked]")] == ["semh"]

    response = client.post(
        f"/triage/feedback/{item.id}",
        data={"need_types": ["sensory_physical", "communication_interaction"]},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert item.need_types == ["communication_interaction", "sensory_physical"]
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert entry.details == {"fields": ["need_types", "status"]}
    page = client.get(response.headers["Location"])
    assert "Communication and interaction, Sensory and/or physical" in text_of(page)


def test_a_need_type_that_is_not_offered_is_refused(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    response = client.post(
        f"/triage/feedback/{item.id}", data={"need_types": ["semh", "astrology"]}
    )
    assert response.status_code == 200
    assert error_for(soup(response), "need_types") == "Error: Select areas of need from the list"
    db.session.expire_all()
    assert item.need_types == [] and item.status == "new"


# --- Routing by default ---------------------------------------------------------------------------


def test_an_unrouted_item_goes_where_the_priorities_ticked_at_saving_route_it(
    client, auth, routed_world, event
):
    world = routed_world
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    # Captured with SEMH, so the page suggests CCE...
    item = factories.make_feedback(world.partnership, event=event, priorities=[semh])
    auth.login(world.coordinator)
    page = soup(client.get(f"/triage/feedback/{item.id}"))
    default = page.select_one("input[name=routed_subgroup][checked]")
    assert default["value"] == ""
    assert page.find("label", attrs={"for": default["id"]}).get_text(strip=True) == (
        "Where its priorities route it"
    )
    assert "that is Sub-group CCE" in page.find(id=f"{default['id']}-item-hint").get_text()

    # ...but the coordinator retags it AUTISM only, which routes nowhere: no stale CCE.
    client.post(
        f"/triage/feedback/{item.id}", data={"priorities": [autism.id], "routed_subgroup": ""}
    )
    db.session.expire_all()
    assert item.routed_subgroup_id is None
    # Ticking SEMH as well routes it to CCE.
    client.post(f"/triage/feedback/{item.id}", data={"priorities": [semh.id, autism.id]})
    db.session.expire_all()
    assert item.routed_subgroup_id == world.subgroups["CCE"].id
    # From then on the page shows the sub-group it is routed to.
    page = soup(client.get(f"/triage/feedback/{item.id}"))
    assert page.select_one("input[name=routed_subgroup][checked]")["value"] == str(
        world.subgroups["CCE"].id
    )


def test_a_chosen_sub_group_wins_over_the_priorities(client, auth, routed_world, event):
    world = routed_world
    item = factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    client.post(
        f"/triage/feedback/{item.id}",
        data={
            "priorities": [world.priorities["SEMH"].id],
            "routed_subgroup": world.subgroups["QPMI"].id,
        },
    )
    db.session.expire_all()
    assert item.routed_subgroup_id == world.subgroups["QPMI"].id
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert entry.details == {
        "fields": ["priorities", "subgroup", "status"],
        "subgroup_id": world.subgroups["QPMI"].id,
    }


def test_the_hint_follows_the_ticks_when_the_form_comes_back_with_an_error(
    client, auth, routed_world, event
):
    world = routed_world
    item = factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    response = client.post(
        f"/triage/feedback/{item.id}",
        data={"priorities": [world.priorities["SEMH"].id], "redacted_text": "x" * 5001},
    )
    page = soup(response)
    default = page.select_one("input[name=routed_subgroup][checked]")
    assert "that is Sub-group CCE" in page.find(id=f"{default['id']}-item-hint").get_text()


# --- Save and go to the next item ---------------------------------------------------------------


def test_save_and_go_to_the_next_item_follows_the_queue_order(client, auth, world, event):
    def make(day: int, **kw):
        return factories.make_feedback(
            world.partnership, event=event, received_on=date(2026, 11, day), **kw
        )

    newest = make(20)
    middle = make(10)
    flagged = make(9, safeguarding_flag=True)
    make(8, status="triaged")
    same_day_older_id = make(5)
    same_day_newer_id = make(5)
    theirs = factories.make_world()
    factories.make_feedback(theirs.partnership, received_on=date(2026, 11, 7))
    auth.login(world.coordinator)

    # The queue's order: newest received first, then newest id.
    queue = [int(i["value"]) for i in soup(client.get("/triage/")).select("input[name=feedback]")]
    assert queue == [newest.id, middle.id, same_day_newer_id.id, same_day_older_id.id]

    visited = [newest.id]
    current = newest
    while True:
        response = client.post(
            f"/triage/feedback/{current.id}",
            data={"priorities": [world.priorities["SEMH"].id], "save_next": "y"},
        )
        assert response.status_code == 302
        location = response.headers["Location"]
        page = client.get(location)
        if location == "/triage/":
            assert banner(page) == (
                f"Success Item {current.id} is saved as triaged. Nothing else is waiting for "
                "triage."
            )
            break
        assert banner(page) == (
            f"Success Item {current.id} is saved as triaged. This is the next item waiting."
        )
        current_id = int(location.rsplit("/", 1)[1])
        visited.append(current_id)
        current = db.session.get(type(newest), current_id)
    # Every waiting item in order; never the flagged one, nor another partnership's.
    assert visited == queue
    assert flagged.id not in visited


def test_save_and_next_goes_round_to_items_skipped_on_the_way(client, auth, world, event):
    first = factories.make_feedback(world.partnership, event=event, received_on=date(2026, 11, 3))
    last = factories.make_feedback(world.partnership, event=event, received_on=date(2026, 11, 1))
    auth.login(world.coordinator)
    # From the last item in the queue, the next is the newest still waiting.
    response = client.post(f"/triage/feedback/{last.id}", data={"save_next": "y"})
    assert response.headers["Location"] == f"/triage/feedback/{first.id}"
    # The link to skip without saving goes to the same place, and saves nothing.
    second = factories.make_feedback(world.partnership, event=event, received_on=date(2026, 11, 2))
    page = soup(client.get(f"/triage/feedback/{first.id}"))
    skip = page.find("a", string="Skip to the next item waiting for triage")
    assert skip["href"] == f"/triage/feedback/{second.id}"
    db.session.expire_all()
    assert first.status == "new"


def test_save_and_next_with_an_error_stays_on_the_item(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    response = client.post(
        f"/triage/feedback/{item.id}", data={"redacted_text": "x" * 5001, "save_next": "y"}
    )
    assert response.status_code == 200
    assert soup(response).title.get_text().startswith("Error:")
    db.session.expire_all()
    assert item.status == "new"


def test_adding_an_item_to_a_theme_from_its_page_is_audited(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    client.post(f"/triage/feedback/{item.id}/theme", data={"theme": theme.id})
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert (entry.verb, entry.object_id, entry.details) == (
        "feedback.themed",
        item.id,
        {"fields": ["theme", "status"], "theme_id": theme.id},
    )
