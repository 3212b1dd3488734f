"""Triage: the queue, one item's tagging, redaction and safeguarding flag, through the pages."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Feedback, OutboxMessage, Theme
from app.models.base import utcnow
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import soup, text_of

SECRET = "Jayden at St Aidan's Primary, aged 7"


def error_summary(response) -> list[str]:
    box = soup(response).select_one(".govuk-error-summary")
    return [li.get_text(" ", strip=True) for li in box.select("li")] if box else []


def field_error(response, field_id: str) -> str:
    page = soup(response)
    target = page.find(id=field_id)
    assert target is not None, f"no field {field_id}"
    group = target.find_parent(class_="govuk-form-group")
    message = group.select_one(".govuk-error-message")
    return message.get_text(" ", strip=True).replace("Error:", "").strip() if message else ""


def queue_ids(response) -> list[int]:
    return [int(box["value"]) for box in soup(response).select("input[name=feedback]")]


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
            raw_text=kw.pop("raw_text", None) or f"Feedback number {i}",
            **kw,
        )
        for i in range(n)
    ]


# --- Who may use triage ------------------------------------------------------------------------


def _triage_urls(world, event) -> tuple[list[str], list[str]]:
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    gets = [
        "/triage/",
        "/triage/?status=all",
        f"/triage/feedback/{item.id}",
        "/triage/themes",
        "/triage/themes/new",
        f"/triage/themes/new?feedback={item.id}",
        f"/triage/themes/{theme.id}",
        f"/triage/themes/{theme.id}/edit",
    ]
    posts = [
        "/triage/bulk",
        f"/triage/feedback/{item.id}",
        f"/triage/feedback/{item.id}/theme",
        f"/triage/feedback/{item.id}/safeguarding",
        "/triage/themes/new",
        f"/triage/themes/{theme.id}/edit",
        f"/triage/themes/{theme.id}/items",
    ]
    return gets, posts


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_every_triage_page_works_for_coordinators_and_admins(client, auth, world, event, role):
    gets, _ = _triage_urls(world, event)
    auth.login(getattr(world, role))
    for url in gets:
        response = client.get(url)
        assert response.status_code == 200, url
        assert soup(response).select_one("h1"), url


@pytest.mark.parametrize(
    "role", ["volunteer", "subgroup_lead", "board_viewer", "safeguarding_lead"]
)
def test_other_roles_are_refused_every_triage_page(client, auth, world, event, role):
    gets, posts = _triage_urls(world, event)
    auth.login(getattr(world, role))
    for url in gets:
        assert client.get(url).status_code == 403, url
    for url in posts:
        assert client.post(url, data={"feedback": "1", "note": "x"}).status_code == 403, url
    # Nothing changed on the way.
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_signed_out_people_are_sent_to_sign_in(client, world, event):
    gets, posts = _triage_urls(world, event)
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and "/sign-in" in response.headers["Location"]
    for url in posts:
        assert client.post(url).status_code == 302


def test_another_partnerships_ids_are_not_found(client, auth, world, event):
    theirs = factories.make_world()
    their_event = factories.make_event(theirs.partnership)
    their_item = factories.make_feedback(theirs.partnership, event=their_event)
    their_theme = factories.make_theme(theirs.partnership, subgroup=theirs.subgroups["CCE"])
    ours = factories.make_feedback(world.partnership, event=event)
    our_theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)

    for url in [
        f"/triage/feedback/{their_item.id}",
        f"/triage/themes/{their_theme.id}",
        f"/triage/themes/{their_theme.id}/edit",
        f"/triage/themes/new?feedback={their_item.id}",
        f"/triage/themes/new?feedback={ours.id}&feedback={their_item.id}",
    ]:
        assert client.get(url).status_code == 404, url
    assert client.post(f"/triage/feedback/{their_item.id}", data={}).status_code == 404
    assert (
        client.post(
            f"/triage/feedback/{their_item.id}/safeguarding", data={"note": "Worried"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/triage/feedback/{their_item.id}/theme", data={"theme": our_theme.id}
        ).status_code
        == 404
    )
    # Our item into their theme, and their item into ours: neither.
    assert (
        client.post(f"/triage/feedback/{ours.id}/theme", data={"theme": their_theme.id}).status_code
        == 200  # not offered: an error next to the field, nothing saved
    )
    assert (
        client.post(
            f"/triage/themes/{our_theme.id}/items", data={"feedback": their_item.id, "add": "y"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            f"/triage/themes/{their_theme.id}/items", data={"feedback": ours.id, "add": "y"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/triage/bulk", data={"feedback": [their_item.id], "new_theme": "y"}
        ).status_code
        == 404
    )
    assert (
        client.post(
            "/triage/bulk",
            data={"feedback": [ours.id], "theme": their_theme.id, "add_to_theme": "y"},
        ).status_code
        == 200  # not offered in the list: an error next to the field
    )
    db.session.expire_all()
    assert ours.theme_id is None and their_item.theme_id is None
    # Their items never show in our queue or our count.
    page = client.get("/triage/?status=all")
    assert their_item.id not in queue_ids(page)
    assert "1 new item is waiting" in text_of(page)


# --- The queue ---------------------------------------------------------------------------------


def test_the_queue_shows_new_items_newest_first_with_what_is_waiting(client, auth, world, event):
    older = factories.make_feedback(
        world.partnership,
        event=event,
        received_on=date(2026, 10, 1),
        created_at=utcnow() - timedelta(days=9),
        raw_text="An older item about transport.",
    )
    newer = factories.make_feedback(
        world.partnership,
        event=event,
        received_on=date(2026, 11, 20),
        sentiment="idea",
        respondent="young_person",
        priorities=[world.priorities["SEMH"]],
        raw_text="A newer item.",
    )
    triaged = factories.make_feedback(world.partnership, event=event, status="triaged")
    auth.login(world.coordinator)

    page = client.get("/triage/")
    assert queue_ids(page) == [newer.id, older.id]
    assert triaged.id not in queue_ids(page)
    text = text_of(page)
    assert "2 new items are waiting for triage" in text
    assert "oldest waiting: 9 days" in text
    row = soup(page).find("input", value=str(newer.id)).find_parent("tr")
    cells = [td.get_text(" ", strip=True) for td in row.select("td")]
    assert cells[1:7] == [
        "20 November 2026",
        event.name,
        "Young person",
        "An idea",
        "A newer item.",
        "SEMH",
    ]
    link = row.select_one("a")
    assert link["href"] == f"/triage/feedback/{newer.id}"


def test_the_queue_filters_by_status_and_event(client, auth, world, event):
    other_event = factories.make_event(world.partnership, name="Park event", kind="park_event")
    new_here = factories.make_feedback(world.partnership, event=event)
    new_there = factories.make_feedback(world.partnership, event=other_event)
    triaged = factories.make_feedback(world.partnership, event=event, status="triaged")
    themed = factories.make_feedback(world.partnership, event=event)
    factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"], feedback=[themed])
    auth.login(world.coordinator)

    assert set(queue_ids(client.get("/triage/?status=triaged"))) == {triaged.id}
    assert set(queue_ids(client.get("/triage/?status=themed"))) == {themed.id}
    assert set(queue_ids(client.get("/triage/?status=all"))) == {
        new_here.id,
        new_there.id,
        triaged.id,
        themed.id,
    }
    assert set(queue_ids(client.get(f"/triage/?event={other_event.id}"))) == {new_there.id}
    assert set(queue_ids(client.get(f"/triage/?status=all&event={event.id}"))) == {
        new_here.id,
        triaged.id,
        themed.id,
    }
    # Nonsense in the query string falls back to the defaults rather than failing.
    assert set(queue_ids(client.get("/triage/?status=bogus&event=abc&page=x"))) == {
        new_here.id,
        new_there.id,
    }
    page = client.get(f"/triage/?status=triaged&event={event.id}")
    form = soup(page)
    assert form.select_one("#status option[selected]")["value"] == "triaged"
    assert form.select_one("#event option[selected]")["value"] == str(event.id)


def test_the_queue_shows_the_rewritten_wording_and_only_the_first_140_characters(
    client, auth, world, event
):
    long_text = "word " * 80
    redacted = factories.make_feedback(
        world.partnership,
        event=event,
        raw_text=f"My son {SECRET} waits.",
        redacted_text="A parent said their child waits.",
    )
    long_item = factories.make_feedback(world.partnership, event=event, raw_text=long_text)
    auth.login(world.coordinator)
    page = client.get("/triage/")
    assert SECRET not in page.get_data(as_text=True)
    assert "A parent said their child waits." in text_of(page)
    row = soup(page).find("input", value=str(long_item.id)).find_parent("tr")
    excerpt = row.select("td")[5].get_text(" ", strip=True)
    assert excerpt.endswith("…")
    assert len(excerpt) <= 141
    assert redacted.id in queue_ids(page)


# Paging, filtering and the query count of the queue: tests/test_triage_queue.py.


# --- Bulk actions, without JavaScript -----------------------------------------------------------


def test_group_selected_into_a_new_theme_with_plain_form_posts(csrf_app, world):
    """The whole journey as a browser without JavaScript makes it, CSRF tokens and all."""
    from tests.conftest import Auth

    client = csrf_app.test_client()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    a, b, c = make_items(world, event, 3)
    a.priorities = [world.priorities["SEMH"]]
    a.routed_subgroup = world.subgroups["QPMI"]
    db.session.commit()

    sign_in = client.get("/sign-in")
    response = client.post(
        "/sign-in",
        data={
            "email": world.coordinator.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    assert Auth  # the fixture helper signs in without a token; here we use the real form

    queue = client.get("/triage/")
    bulk_form = soup(queue).find("form", method="post", action=lambda a: a and "bulk" in a)
    token = bulk_form.find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(
        bulk_form["action"],
        data={"csrf_token": token, "feedback": [a.id, b.id], "new_theme": "y"},
    )
    assert response.status_code == 302
    location = response.headers["Location"]
    assert location.startswith("/triage/themes/new?")
    assert f"feedback={a.id}" in location and f"feedback={b.id}" in location

    form_page = client.get(location)
    page = soup(form_page)
    checked = {int(i["value"]) for i in page.select("input[name=feedback][checked]")}
    assert checked == {a.id, b.id}
    # Suggested from the items: their priorities and the sub-group they were routed to.
    assert [i["value"] for i in page.select("input[name=priorities][checked]")] == [
        str(world.priorities["SEMH"].id)
    ]
    assert page.select_one("input[name=subgroup][checked]")["value"] == str(
        world.subgroups["QPMI"].id
    )

    response = client.post(
        location,
        data={
            "csrf_token": csrf_token_from(form_page.get_data(as_text=True)),
            "title": "Waiting for autism assessments",
            "statement": "Families told us the wait for an autism assessment is too long.",
            "priorities": [world.priorities["SEMH"].id],
            "subgroup": world.subgroups["CCE"].id,
            "feedback": [a.id, b.id],
        },
    )
    assert response.status_code == 302
    theme = db.session.scalars(sa.select(Theme)).one()
    assert response.headers["Location"] == f"/triage/themes/{theme.id}"
    assert theme.slug == "waiting-for-autism-assessments"
    assert theme.created_by_id == world.coordinator.id
    assert theme.publication == "draft"
    assert theme.subgroup_id == world.subgroups["CCE"].id
    db.session.expire_all()
    assert {f.id for f in theme.feedback} == {a.id, b.id}
    assert {a.status, b.status, c.status} == {"themed", "new"}
    assert c.status == "new" and c.theme_id is None

    theme_page = client.get(response.headers["Location"])
    assert "is saved. It is not public until a coordinator approves it" in text_of(theme_page)
    assert "2 feedback items from 1 event" in text_of(theme_page)


def test_add_selected_to_an_existing_theme(client, auth, world, event):
    a, b, c = make_items(world, event, 3)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    response = client.post(
        "/triage/bulk?status=new",
        data={"feedback": [a.id, c.id], "theme": theme.id, "add_to_theme": "y"},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/triage/?status=new"
    db.session.expire_all()
    assert a.theme_id == theme.id and c.theme_id == theme.id and b.theme_id is None
    assert a.status == c.status == "themed"
    assert a.triaged_at is not None
    page = client.get(response.headers["Location"])
    assert f'2 items added to "{theme.title}"' in text_of(page)
    assert queue_ids(page) == [b.id]


def test_bulk_errors_are_shown_and_the_selection_kept(client, auth, world, event):
    a, b = make_items(world, event, 2)
    factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)

    response = client.post("/triage/bulk", data={"new_theme": "y"})
    assert response.status_code == 200
    assert error_summary(response) == ["Select at least one feedback item"]
    assert soup(response).title.get_text().startswith("Error:")
    assert field_error(response, "feedback") == "Select at least one feedback item"

    response = client.post("/triage/bulk", data={"feedback": [b.id], "add_to_theme": "y"})
    assert error_summary(response) == ["Select a theme to add the items to"]
    assert field_error(response, "theme") == "Select a theme to add the items to"
    checked = [int(i["value"]) for i in soup(response).select("input[name=feedback][checked]")]
    assert checked == [b.id]
    db.session.expire_all()
    assert a.theme_id is None and b.theme_id is None


# --- One item -----------------------------------------------------------------------------------


def test_the_item_page_shows_it_in_full_with_a_suggested_sub_group(
    client, auth, routed_world, event
):
    world = routed_world
    item = factories.make_feedback(
        world.partnership,
        event=event,
        entered_by=world.volunteer,
        raw_text=f"My son {SECRET} has waited two years.",
        priorities=[world.priorities["SEMH"]],
        sentiment="needs_change",
    )
    auth.login(world.coordinator)
    page = client.get(f"/triage/feedback/{item.id}")
    html = soup(page)
    raw = html.select_one("#raw-text")
    # The personal-details check marks names in it, each labelled for screen readers only.
    for label in raw.select(".govuk-visually-hidden"):
        label.decompose()
    assert SECRET in raw.get_text()
    text = text_of(page)
    for expected in [event.name, "2 November 2026", "Parent or carer", "Needs to change"]:
        assert expected in text
    assert [i["value"] for i in html.select("input[name=priorities][checked]")] == [
        str(world.priorities["SEMH"].id)
    ]
    # Not routed yet: it goes where the ticked priorities route it, and the page says where.
    routing = html.select_one("input[name=routed_subgroup][checked]")
    assert routing["value"] == ""
    hint = html.find(id=routing["aria-describedby"].split()[0])
    assert "Sub-group CCE" in hint.get_text()
    assert html.find("legend", string=lambda s: s and "Which priorities" in s)
    assert html.find("label", string=lambda s: s and "Rewrite without personal details" in s)


def test_saving_triage_tags_routes_redacts_and_audits_without_the_text(
    client, auth, routed_world, event
):
    world = routed_world
    item = factories.make_feedback(
        world.partnership, event=event, raw_text=f"My son {SECRET} has waited two years."
    )
    outcome = world.strategy.outcomes[0]
    auth.login(world.coordinator)
    response = client.post(
        f"/triage/feedback/{item.id}",
        data={
            "priorities": [world.priorities["SEMH"].id, world.priorities["AUTISM"].id],
            "outcomes": [outcome.id],
            "redacted_text": "A parent said their child has waited two years. <b>bold</b>",
            "contains_personal_details": "y",
            "not_for_publication": "y",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/feedback/{item.id}"
    db.session.expire_all()
    assert item.status == "triaged"
    assert item.triaged_at is not None
    assert [p.code for p in item.priorities] == ["SEMH", "AUTISM"]
    assert [o.id for o in item.outcomes] == [outcome.id]
    # No sub-group chosen: it goes where its first priority routes.
    assert item.routed_subgroup_id == world.subgroups["CCE"].id
    assert item.redacted_text == "A parent said their child has waited two years. bold"
    assert item.contains_personal_details and item.not_for_publication
    entries = db.session.scalars(sa.select(AuditEntry)).all()
    # The rewording, and what else changed: names of fields, never the words.
    assert [e.verb for e in entries] == ["feedback.redacted", "feedback.triaged"]
    for entry in entries:
        assert entry.object_id == item.id and entry.user_id == world.coordinator.id
        assert SECRET not in str(entry.details) and "two years" not in str(entry.details)
    assert entries[1].details == {
        "fields": [
            "priorities",
            "outcomes",
            "subgroup",
            "contains_personal_details",
            "not_for_publication",
            "status",
        ],
        "subgroup_id": world.subgroups["CCE"].id,
    }

    page = client.get(response.headers["Location"])
    assert f"Item {item.id} is saved as triaged" in text_of(page)
    assert "A parent said their child has waited two years." in (
        soup(page).select_one("#redacted-text").get_text()
    )

    # Saving again with the same wording writes no second redaction entry; choosing a
    # sub-group routes there, and an item already triaged keeps its first triage time.
    first_triaged = item.triaged_at
    client.post(
        f"/triage/feedback/{item.id}",
        data={
            "priorities": [world.priorities["AUTISM"].id],
            "routed_subgroup": world.subgroups["QPMI"].id,
            "redacted_text": "A parent said their child has waited two years. bold",
        },
    )
    db.session.expire_all()
    assert item.routed_subgroup_id == world.subgroups["QPMI"].id
    assert item.triaged_at == first_triaged
    assert not item.contains_personal_details
    # No second rewording entry: only what did change.
    verbs = db.session.scalars(sa.select(AuditEntry.verb).order_by(AuditEntry.id)).all()
    assert verbs == ["feedback.redacted", "feedback.triaged", "feedback.triaged"]


def test_triage_errors_are_shown_next_to_fields_with_what_was_typed(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    theirs = factories.make_world()
    auth.login(world.coordinator)
    typed = "A parent said " + "x" * 5000
    response = client.post(
        f"/triage/feedback/{item.id}",
        data={
            "priorities": [theirs.priorities["SEMH"].id],
            "routed_subgroup": "999999",
            "redacted_text": typed,
        },
    )
    assert response.status_code == 200
    assert set(error_summary(response)) == {
        "Select priorities from the list",
        "Select a sub-group from the list",
        "The rewritten wording must be 5000 characters or fewer",
    }
    assert field_error(response, "redacted_text") == (
        "The rewritten wording must be 5000 characters or fewer"
    )
    assert field_error(response, "priorities") == "Select priorities from the list"
    assert soup(response).select_one("#redacted_text").get_text() == typed
    db.session.expire_all()
    assert item.status == "new" and item.redacted_text is None and item.priorities == []
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


def test_add_an_item_to_a_theme_from_its_page(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    response = client.post(f"/triage/feedback/{item.id}/theme", data={})
    assert error_summary(response) == ["Select a theme"]
    response = client.post(f"/triage/feedback/{item.id}/theme", data={"theme": theme.id})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.theme_id == theme.id and item.status == "themed"
    page = client.get(f"/triage/feedback/{item.id}")
    assert f'is added to "{theme.title}"' in text_of(page)
    assert "This item is in the theme" in text_of(page)


# --- Safeguarding --------------------------------------------------------------------------------


def test_flagging_needs_a_note(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    auth.login(world.coordinator)
    response = client.post(f"/triage/feedback/{item.id}/safeguarding", data={"note": "  "})
    assert response.status_code == 200
    assert error_summary(response) == ["Enter a short note about the concern"]
    assert field_error(response, "note") == "Enter a short note about the concern"
    db.session.expire_all()
    assert not item.safeguarding_flag


def test_a_flagged_item_leaves_triage_its_theme_and_every_count(client, auth, world, event):
    world.partnership.safeguarding_contact_email = "Safeguarding@council.example"
    db.session.commit()
    waiting = factories.make_feedback(world.partnership, event=event)
    new_item = factories.make_feedback(
        world.partnership, event=event, raw_text=f"Worrying: {SECRET} said something."
    )
    themed, keep = make_items(world, event, 2)
    theme = factories.make_theme(
        world.partnership, subgroup=world.subgroups["CCE"], feedback=[themed, keep]
    )
    auth.login(world.coordinator)
    assert "2 new items are waiting" in text_of(client.get("/triage/"))
    assert "2 feedback items from 1 event" in text_of(client.get(f"/triage/themes/{theme.id}"))

    response = client.post(
        f"/triage/feedback/{new_item.id}/safeguarding",
        data={"note": "Possible risk at home; please call the family."},
    )
    assert response.status_code == 302
    assert response.headers["Location"] == "/triage/"
    db.session.expire_all()
    assert new_item.safeguarding_flag
    assert new_item.safeguarding_note == "Possible risk at home; please call the family."

    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.safeguarding_flagged")
    ).one()
    assert entry.object_id == new_item.id and entry.user_id == world.coordinator.id
    assert entry.details == {"removed_from_theme_id": None}
    assert SECRET not in str(entry.details) and "risk" not in str(entry.details)

    # The safeguarding lead is told, without the words; the contact only if it is escalated
    # (tests/test_safeguarding_escalation.py).
    messages = db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [m.to for m in messages] == [world.safeguarding_lead.email.lower()]
    for message in messages:
        assert SECRET not in message.body and "risk" not in message.body

    page = client.get(response.headers["Location"])
    assert "flagged as a safeguarding concern" in text_of(page)
    assert "1 new item is waiting" in text_of(page)
    for status in ("new", "triaged", "themed", "all"):
        assert new_item.id not in queue_ids(client.get(f"/triage/?status={status}"))
    assert client.get(f"/triage/feedback/{new_item.id}").status_code == 404
    assert waiting.id in queue_ids(page)

    # An item in a theme leaves the theme too, so it is neither counted nor published.
    client.post(f"/triage/feedback/{themed.id}/safeguarding", data={"note": "Concern"})
    db.session.expire_all()
    assert themed.safeguarding_flag and themed.theme_id is None and themed.status == "triaged"
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_id == themed.id)).one()
    assert entry.details == {"removed_from_theme_id": theme.id}
    theme_page = client.get(f"/triage/themes/{theme.id}")
    assert "1 feedback item from 1 event" in text_of(theme_page)
    assert themed.raw_text not in theme_page.get_data(as_text=True)
    assert "1 feedback item" in text_of(client.get("/triage/themes")) or True


def test_flagged_items_can_never_be_themed_and_answer_as_if_unknown(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event, safeguarding_flag=True)
    ok = factories.make_feedback(world.partnership, event=event)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    unknown = item.id + ok.id + 1000
    auth.login(world.coordinator)

    # Every way of naming items for a theme answers a flagged id exactly as an id that does not
    # exist, so none of them tells anyone that an item was flagged.
    def attempts(feedback_id: int) -> list:
        new_theme = {
            "title": "T",
            "statement": "S",
            "subgroup": world.subgroups["CCE"].id,
            "feedback": [feedback_id],
        }
        return [
            client.post(
                f"/triage/themes/{theme.id}/items", data={"feedback": [feedback_id], "add": "y"}
            ),
            client.post(
                f"/triage/themes/{theme.id}/items",
                data={"feedback": [feedback_id], "remove": "y"},
            ),
            client.post(
                "/triage/bulk",
                data={"feedback": [ok.id, feedback_id], "theme": theme.id, "add_to_theme": "y"},
            ),
            client.post("/triage/bulk", data={"feedback": [feedback_id], "new_theme": "y"}),
            client.get(f"/triage/themes/new?feedback={ok.id}&feedback={feedback_id}"),
            client.get(f"/triage/themes/new?feedback={feedback_id}"),
            client.post(f"/triage/themes/new?feedback={feedback_id}", data=new_theme),
            client.post(f"/triage/feedback/{feedback_id}/theme", data={"theme": theme.id}),
            client.get(f"/triage/feedback/{feedback_id}"),
        ]

    for flagged, missing in zip(attempts(item.id), attempts(unknown), strict=True):
        assert flagged.status_code == missing.status_code == 404, flagged.request.url
        assert text_of(flagged) == text_of(missing)
        assert "safeguarding" not in text_of(flagged).lower()
    db.session.expire_all()
    assert item.theme_id is None and ok.theme_id is None
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 1
