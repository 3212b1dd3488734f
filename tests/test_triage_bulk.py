"""Bulk actions on items selected in the triage queue: one form, no JavaScript needed."""

from __future__ import annotations

from datetime import date
from urllib.parse import parse_qs, urlsplit

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Feedback, Theme
from app.services import triage as svc
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of

SECRET = "Jayden at St Aidan's Primary, aged 7"


@pytest.fixture
def routed_world(world):
    """SEMH routes to the CCE sub-group; AUTISM routes nowhere yet."""
    world.priorities["SEMH"].subgroups = [world.subgroups["CCE"]]
    db.session.commit()
    return world


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


def make_items(world, event, n: int, **kw) -> list[Feedback]:
    return [
        factories.make_feedback(
            world.partnership,
            event=event,
            entered_by=world.volunteer,
            raw_text=f"{SECRET} said thing number {i}",
            received_on=date(2026, 11, 1 + i),
            **kw,
        )
        for i in range(n)
    ]


def banner(response) -> str:
    box = soup(response).select_one(".govuk-notification-banner--success")
    return " ".join(box.get_text(" ").split()) if box else ""


def error_summary(response) -> list[str]:
    return [li.get_text(" ", strip=True) for li in soup(response).select(".govuk-error-summary li")]


def audit_entries() -> list[AuditEntry]:
    """Entries by the item they are about (a bulk action works in queue order, newest first)."""
    return list(
        db.session.scalars(sa.select(AuditEntry).order_by(AuditEntry.object_id, AuditEntry.id))
    )


def assert_no_text_in(entries: list[AuditEntry]) -> None:
    for entry in entries:
        assert SECRET not in str(entry.details) and "thing number" not in str(entry.details)


# --- Tag with priorities --------------------------------------------------------------------------


def test_tag_selected_items_with_priorities(client, auth, routed_world, event):
    world = routed_world
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    a, b, c = make_items(world, event, 3)
    b.priorities = [autism]
    b.routed_subgroup = world.subgroups["QPMI"]
    db.session.commit()
    auth.login(world.coordinator)

    response = client.post(
        "/triage/bulk",
        data={"feedback": [a.id, b.id], "priorities": [semh.id], "add_priorities": "y"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/triage/"
    db.session.expire_all()
    # Added to what each had, never replacing it; c was not selected.
    assert [p.code for p in a.priorities] == ["SEMH"]
    assert [p.code for p in b.priorities] == ["SEMH", "AUTISM"]
    assert c.priorities == []
    # Tagging is triage: both leave the waiting list.
    assert (a.status, b.status, c.status) == ("triaged", "triaged", "new")
    assert a.triaged_at is not None and c.triaged_at is None
    # a had no sub-group: its priority routes it. b keeps the one a coordinator chose.
    assert a.routed_subgroup_id == world.subgroups["CCE"].id
    assert b.routed_subgroup_id == world.subgroups["QPMI"].id

    page = client.get("/triage/?status=triaged")
    assert banner(page) == (
        "Success Tagged 2 items with SEMH. 1 item with no sub-group was routed by its priorities."
    )
    entries = audit_entries()
    assert [(e.verb, e.object_id) for e in entries] == [
        ("feedback.triaged", a.id),
        ("feedback.triaged", b.id),
    ]
    assert entries[0].details == {
        "fields": ["priorities", "subgroup", "status"],
        "subgroup_id": world.subgroups["CCE"].id,
    }
    assert entries[1].details == {"fields": ["priorities", "status"]}
    assert all(e.user_id == world.coordinator.id for e in entries)
    assert_no_text_in(entries)


def test_tagging_items_that_already_have_the_priorities_changes_nothing(client, auth, world, event):
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    a, b = make_items(world, event, 2, status="triaged", priorities=[semh, autism])
    c = make_items(world, event, 1, status="triaged")[0]
    auth.login(world.coordinator)
    data = {"feedback": [a.id, b.id], "priorities": [semh.id, autism.id], "add_priorities": "y"}
    response = client.post("/triage/bulk?status=triaged", data=data, follow_redirects=True)
    assert banner(response) == "Success The selected items already had SEMH and AUTISM."
    assert audit_entries() == []

    data["feedback"] = [a.id, c.id]
    response = client.post("/triage/bulk?status=triaged", data=data, follow_redirects=True)
    assert (
        banner(response) == "Success Tagged 1 item with SEMH and AUTISM. 1 item already had them."
    )
    assert [(e.object_id, e.details["fields"]) for e in audit_entries()] == [(c.id, ["priorities"])]


# --- Route to a sub-group -------------------------------------------------------------------------


def test_route_selected_items_to_a_sub_group(client, auth, world, event):
    cce, qpmi = world.subgroups["CCE"], world.subgroups["QPMI"]
    a, b, c, d, e = make_items(world, event, 5)
    d.routed_subgroup = qpmi
    d.status = "themed"
    e.routed_subgroup = cce
    e.status = "triaged"
    db.session.commit()
    auth.login(world.coordinator)

    response = client.post(
        "/triage/bulk?status=all",
        data={"feedback": [a.id, b.id, d.id, e.id], "subgroup": cce.id, "route": "y"},
    )
    assert response.headers["Location"] == "/triage/?status=all"
    db.session.expire_all()
    assert [i.routed_subgroup_id for i in (a, b, c, d, e)] == [cce.id, cce.id, None, cce.id, cce.id]
    # New items become triaged; one already in a theme keeps its later status.
    assert [i.status for i in (a, b, c, d, e)] == ["triaged", "triaged", "new", "themed", "triaged"]
    page = client.get(response.headers["Location"])
    assert banner(page) == "Success Routed 3 items to CCE. 1 item was already routed there."
    # The queue shows where each item went.
    row = soup(page).find("input", value=str(a.id)).find_parent("tr")
    assert row.select_one("[data-label=Sub-group]").get_text(strip=True) == "CCE"

    entries = audit_entries()
    assert [e_.object_id for e_ in entries] == [a.id, b.id, d.id]
    assert [e_.details for e_ in entries] == [
        {"fields": ["subgroup", "status"], "subgroup_id": cce.id},
        {"fields": ["subgroup", "status"], "subgroup_id": cce.id},
        {"fields": ["subgroup"], "subgroup_id": cce.id},
    ]
    assert_no_text_in(entries)

    again = client.post("/triage/bulk", data={"feedback": [a.id], "subgroup": cce.id, "route": "y"})
    assert banner(client.get(again.headers["Location"])) == (
        "Success The selected items were already routed to CCE."
    )
    assert len(audit_entries()) == 3


# --- Themes ---------------------------------------------------------------------------------------


def test_add_selected_items_to_an_existing_theme_with_an_audit_entry_each(
    client, auth, world, event
):
    a, b, c = make_items(world, event, 3)
    old = factories.make_theme(world.partnership, subgroup=world.subgroups["QPMI"], feedback=[c])
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    response = client.post(
        "/triage/bulk?status=all",
        data={"feedback": [a.id, c.id], "theme": theme.id, "add_to_theme": "y"},
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert a.theme_id == c.theme_id == theme.id and b.theme_id is None
    assert banner(client.get(response.headers["Location"])) == (
        f'Success 2 items added to "{theme.title}". 1 of them moved from another theme.'
    )
    entries = audit_entries()
    assert [(e.verb, e.object_id) for e in entries] == [
        ("feedback.themed", a.id),
        ("feedback.themed", c.id),
    ]
    assert entries[0].details == {"fields": ["theme", "status"], "theme_id": theme.id}
    assert entries[1].details == {
        "fields": ["theme"],
        "theme_id": theme.id,
        "removed_from_theme_id": old.id,
    }


def test_group_selected_into_a_new_theme_keeps_the_selection(client, auth, world, event):
    a, b = make_items(world, event, 2)
    auth.login(world.coordinator)
    response = client.post("/triage/bulk", data={"feedback": [a.id, b.id], "new_theme": "y"})
    assert response.status_code == 302
    location = urlsplit(response.headers["Location"])
    assert location.path == "/triage/themes/new"
    assert sorted(parse_qs(location.query)["feedback"]) == sorted([str(a.id), str(b.id)])
    # Nothing is saved until the theme is.
    assert audit_entries() == []
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 0


# --- Not for publication --------------------------------------------------------------------------


def test_mark_selected_items_not_for_publication(client, auth, world, event):
    a, b, c = make_items(world, event, 3)
    b.not_for_publication = True
    db.session.commit()
    auth.login(world.coordinator)
    response = client.post(
        "/triage/bulk", data={"feedback": [a.id, b.id], "not_for_publication": "y"}
    )
    db.session.expire_all()
    assert (a.not_for_publication, b.not_for_publication, c.not_for_publication) == (
        True,
        True,
        False,
    )
    # A flag, not triage: the items are still waiting to be tagged.
    assert a.status == "new"
    assert banner(client.get(response.headers["Location"])) == (
        "Success Marked 1 item not for publication. 1 item was already marked."
    )
    assert [(e.verb, e.object_id, e.details) for e in audit_entries()] == [
        ("feedback.triaged", a.id, {"fields": ["not_for_publication"]})
    ]


# --- Errors ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("button", "extra"),
    [
        ("add_priorities", {"priorities": "SEMH"}),
        ("route", {"subgroup": "CCE"}),
        ("add_to_theme", {"theme": "theme"}),
        ("new_theme", {}),
        ("not_for_publication", {}),
    ],
)
def test_nothing_selected_is_an_error_for_every_action(client, auth, world, event, button, extra):
    make_items(world, event, 2)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    values = {
        "SEMH": world.priorities["SEMH"].id,
        "CCE": world.subgroups["CCE"].id,
        "theme": theme.id,
    }
    auth.login(world.coordinator)
    response = client.post(
        "/triage/bulk", data={button: "y", **{k: values[v] for k, v in extra.items()}}
    )
    assert response.status_code == 200
    assert error_summary(response) == ["Select at least one feedback item"]
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    assert page.select_one(".govuk-error-summary a")["href"] == "#feedback"
    assert (
        page.select_one("#feedback-error")
        .get_text(" ", strip=True)
        .endswith("Select at least one feedback item")
    )
    assert audit_entries() == []


@pytest.mark.parametrize(
    ("button", "message", "field"),
    [
        ("add_priorities", "Select priorities to add to the selected items", "priorities"),
        ("route", "Select a sub-group to route the selected items to", "subgroup"),
        ("add_to_theme", "Select a theme to add the items to", "theme"),
    ],
)
def test_nothing_chosen_is_an_error_and_the_selection_is_kept(
    client, auth, world, event, button, message, field
):
    a, b, c = make_items(world, event, 3)
    factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    response = client.post("/triage/bulk", data={"feedback": [a.id, c.id], button: "y"})
    assert response.status_code == 200
    assert error_summary(response) == [message]
    page = soup(response)
    assert page.select_one(".govuk-error-summary a")["href"] == f"#{field}"
    assert error_for(page, field) == f"Error: {message}"
    checked = {int(i["value"]) for i in page.select("input[name=feedback][checked]")}
    assert checked == {a.id, c.id}
    db.session.expire_all()
    assert all(i.status == "new" and i.routed_subgroup_id is None for i in (a, b, c))
    assert audit_entries() == []


def test_the_choices_are_kept_when_the_selection_is_missing(client, auth, world, event):
    make_items(world, event, 1)
    auth.login(world.coordinator)
    semh = world.priorities["SEMH"].id
    response = client.post(
        "/triage/bulk",
        data={"priorities": [semh], "subgroup": world.subgroups["QPMI"].id, "route": "y"},
    )
    page = soup(response)
    assert [i["value"] for i in page.select("input[name=priorities][checked]")] == [str(semh)]
    assert page.select_one("#subgroup option[selected]")["value"] == str(world.subgroups["QPMI"].id)


# --- Refused whole --------------------------------------------------------------------------------


def test_another_partnerships_ids_are_refused_whole(client, auth, world, event):
    theirs = factories.make_world()
    their_item = factories.make_feedback(theirs.partnership)
    their_theme = factories.make_theme(theirs.partnership, subgroup=theirs.subgroups["CCE"])
    ours = make_items(world, event, 2)
    our_ids = [i.id for i in ours]
    factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)

    # Their item among ours: not found, and none of ours changed.
    for data in [
        {"priorities": [world.priorities["SEMH"].id], "add_priorities": "y"},
        {"subgroup": world.subgroups["CCE"].id, "route": "y"},
        {"not_for_publication": "y"},
        {"new_theme": "y"},
    ]:
        response = client.post("/triage/bulk", data={"feedback": [*our_ids, their_item.id], **data})
        assert response.status_code == 404, data
    # Their priority, sub-group or theme for our items: not in the list, an error, nothing saved.
    for data, field in [
        ({"priorities": [theirs.priorities["SEMH"].id], "add_priorities": "y"}, "priorities"),
        ({"subgroup": theirs.subgroups["CCE"].id, "route": "y"}, "subgroup"),
        ({"theme": their_theme.id, "add_to_theme": "y"}, "theme"),
    ]:
        response = client.post("/triage/bulk", data={"feedback": our_ids, **data})
        assert response.status_code == 200, data
        assert error_for(soup(response), field).startswith("Error: Select"), data
    db.session.expire_all()
    for row in [*ours, their_item]:
        assert row.status == "new" and row.priorities == [] and row.routed_subgroup_id is None
        assert not row.not_for_publication and row.theme_id is None
    assert audit_entries() == []


def test_a_flagged_item_is_refused_as_if_unknown(client, auth, world, event):
    ok = make_items(world, event, 1)[0]
    flagged = factories.make_feedback(world.partnership, event=event, safeguarding_flag=True)
    unknown = flagged.id + 1000
    auth.login(world.coordinator)
    for data in [
        {"subgroup": world.subgroups["CCE"].id, "route": "y"},
        {"not_for_publication": "y"},
        {"priorities": [world.priorities["SEMH"].id], "add_priorities": "y"},
    ]:
        as_flagged = client.post("/triage/bulk", data={"feedback": [ok.id, flagged.id], **data})
        as_unknown = client.post("/triage/bulk", data={"feedback": [ok.id, unknown], **data})
        assert as_flagged.status_code == as_unknown.status_code == 404
        assert text_of(as_flagged) == text_of(as_unknown)
    db.session.expire_all()
    assert ok.status == "new" and flagged.routed_subgroup_id is None
    assert not flagged.not_for_publication and audit_entries() == []


def test_the_service_checks_everything_before_changing_anything(app, world, event):
    """Nothing half-saved: a refusal on the last item leaves the first as it was."""
    theirs = factories.make_world()
    a, b = make_items(world, event, 2)
    flagged = factories.make_feedback(world.partnership, event=event, safeguarding_flag=True)
    user = world.coordinator
    attempts = [
        lambda: svc.add_priorities(
            [a, b], [world.priorities["SEMH"], theirs.priorities["SEMH"]], user
        ),
        lambda: svc.add_priorities([a, b, flagged], [world.priorities["SEMH"]], user),
        lambda: svc.add_priorities([a], [], user),
        lambda: svc.route_items([a, b], theirs.subgroups["CCE"], user),
        lambda: svc.route_items([a, flagged], world.subgroups["CCE"], user),
        lambda: svc.route_items([a], None, user),
        lambda: svc.route_items([], world.subgroups["CCE"], user),
        lambda: svc.mark_not_for_publication([a, b, flagged], user),
        lambda: svc.mark_not_for_publication([], user),
    ]
    for attempt in attempts:
        with pytest.raises(svc.TriageError):
            attempt()
        for row in (a, b):
            assert row.priorities == [] and row.routed_subgroup is None
            assert row.status == "new" and row.triaged_at is None
            assert not row.not_for_publication
        assert not [o for o in db.session.new if isinstance(o, AuditEntry)]
    db.session.rollback()


# --- Who may use it -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["volunteer", "subgroup_lead", "other_lead", "board_viewer", "safeguarding_lead"]
)
def test_every_bulk_action_is_refused_for_other_roles(client, auth, world, event, role):
    a = make_items(world, event, 1)[0]
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(getattr(world, role))
    for data in [
        {"priorities": [world.priorities["SEMH"].id], "add_priorities": "y"},
        {"subgroup": world.subgroups["CCE"].id, "route": "y"},
        {"theme": theme.id, "add_to_theme": "y"},
        {"new_theme": "y"},
        {"not_for_publication": "y"},
        {},
    ]:
        response = client.post("/triage/bulk", data={"feedback": [a.id], **data})
        assert response.status_code == 403, data
    assert client.get("/triage/").status_code == 403
    db.session.expire_all()
    assert a.status == "new" and a.routed_subgroup_id is None and a.theme_id is None
    assert audit_entries() == []


def test_signed_out_people_are_sent_to_sign_in(client, world, event):
    a = make_items(world, event, 1)[0]
    response = client.post("/triage/bulk", data={"feedback": [a.id], "not_for_publication": "y"})
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    db.session.expire_all()
    assert not a.not_for_publication


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_may_use_every_bulk_action(client, auth, world, event, role):
    a = make_items(world, event, 1)[0]
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(getattr(world, role))
    for data in [
        {"priorities": [world.priorities["SEMH"].id], "add_priorities": "y"},
        {"subgroup": world.subgroups["CCE"].id, "route": "y"},
        {"not_for_publication": "y"},
        {"theme": theme.id, "add_to_theme": "y"},
        {"new_theme": "y"},
    ]:
        assert client.post("/triage/bulk", data={"feedback": [a.id], **data}).status_code == 302


# --- Without JavaScript, CSRF and all -------------------------------------------------------------


def test_filter_select_and_route_with_plain_requests(csrf_app, world):
    """As a browser without JavaScript does it: a GET filter, ticked boxes, one button."""
    client = csrf_app.test_client()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    park = factories.make_event(world.partnership, name="Park event", kind="park_event")
    here = make_items(world, event, 2)
    there = make_items(world, park, 2)
    sign_in = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.coordinator.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in.get_data(as_text=True)),
        },
    )

    queue = client.get(f"/triage/?event={park.id}")
    page = soup(queue)
    form = page.select_one("form[action^='/triage/bulk']")
    assert {int(i["value"]) for i in form.select("input[name=feedback]")} == {t.id for t in there}
    token = form.find("input", attrs={"name": "csrf_token"})["value"]

    # Without the token: refused, nothing saved.
    refused = client.post(
        form["action"], data={"feedback": [there[0].id], "subgroup": world.subgroups["QPMI"].id}
    )
    assert refused.status_code == 400

    response = client.post(
        form["action"],
        data={
            "csrf_token": token,
            "feedback": [t.id for t in there],
            "subgroup": world.subgroups["QPMI"].id,
            "route": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/?event={park.id}"
    after = client.get(response.headers["Location"])
    assert banner(after) == "Success Routed 2 items to QPMI."
    # Routed items are triaged, so this filtered list of waiting items is now empty.
    assert "There are no items to show with these filters" in text_of(after)
    db.session.expire_all()
    assert [i.routed_subgroup_id for i in here] == [None, None]
    assert {i.routed_subgroup_id for i in there} == {world.subgroups["QPMI"].id}


def test_select_all_ticks_every_row_on_the_page(client, auth, world, event):
    items = make_items(world, event, 3)
    auth.login(world.coordinator)
    page = soup(client.get(f"/triage/?event={event.id}"))
    select_all = page.find("a", string="Select all 3 items on this page")
    assert select_all is not None
    ticked = soup(client.get(select_all["href"]))
    assert {int(i["value"]) for i in ticked.select("input[name=feedback][checked]")} == {
        i.id for i in items
    }
    assert ticked.find("a", string="Clear the selection")["href"] == f"/triage/?event={event.id}"


def test_the_bulk_controls_are_labelled_for_everyone(client, auth, world, event):
    make_items(world, event, 2)
    factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    page = soup(client.get("/triage/"))
    form = page.select_one("form[action^='/triage/bulk']")
    buttons = [b.get_text(strip=True) for b in form.select("button")]
    assert buttons == [
        "Tag selected with these priorities",
        "Route selected to this sub-group",
        "Add selected to this theme",
        "Group selected into a new theme",
        "Mark selected not for publication",
    ]
    assert [h.get_text(strip=True) for h in form.select("h2, h3")] == [
        "With the items you selected",
        "Tag with priorities",
        "Route to a sub-group",
        "Themes",
        "Not for publication",
    ]
    assert form.select_one("fieldset legend").get_text(strip=True) == "Priorities to add"
    assert form.find("label", attrs={"for": "subgroup"}).get_text(strip=True) == (
        "Sub-group to route them to"
    )
    assert form.find("label", attrs={"for": "theme"}).get_text(strip=True) == "Theme to add them to"
    for box in form.select("input[name=feedback]"):
        assert (
            form.find("label", attrs={"for": box["id"]})
            .get_text(strip=True)
            .startswith("Select item")
        )
