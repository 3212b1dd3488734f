"""Logging feedback: events and items, through the pages a volunteer uses on a phone."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import g
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import AuditEntry, Event, Feedback
from app.services import capture as svc
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import soup, text_of


def error_summary(response) -> list[str]:
    box = soup(response).select_one(".govuk-error-summary")
    return [li.get_text(" ", strip=True) for li in box.select("li")] if box else []


def field_error(response, field_id: str) -> str:
    """The error message shown next to a field (inside its form group)."""
    page = soup(response)
    target = page.find(id=field_id) or page.find(id=f"{field_id}-day")
    assert target is not None, f"no field {field_id}"
    group = target.find_parent(class_="govuk-form-group")
    message = group.select_one(".govuk-error-message")
    return message.get_text(" ", strip=True).replace("Error:", "").strip() if message else ""


def edit_links(element) -> list:
    return [a for a in element.select("a") if a.get_text(" ", strip=True).startswith("Edit")]


def event_data(**overrides) -> dict:
    today = svc.today()
    data = {
        "name": "Coffee morning at Marple Library",
        "kind": "coffee_morning",
        "held_on": [str(today.day), str(today.month), str(today.year)],
        "place": "Marple Library",
        "partner": "",
        "facilitators": "",
        "adults_count": "12",
        "young_people_count": "3",
        "children_count": "0",
    }
    data.update(overrides)
    return data


def item_data(**overrides) -> dict:
    data = {
        "text": "The wait for an autism assessment is far too long.",
        "respondent": "parent_carer",
        "sentiment": "needs_change",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def feedback_rows() -> list[Feedback]:
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all())


# Creating an event


def test_the_new_event_form_defaults_to_today_and_zero_counts(client, auth, world):
    auth.login(world.volunteer)
    page = client.get("/capture/events/new")
    assert page.status_code == 200
    html = soup(page)
    today = svc.today()
    assert html.find(id="held_on-day")["value"] == f"{today.day:02d}"
    assert html.find(id="held_on-month")["value"] == f"{today.month:02d}"
    assert html.find(id="held_on-year")["value"] == str(today.year)
    for name in ("adults_count", "young_people_count", "children_count"):
        assert html.find(id=name)["value"] == "0"
        assert html.find(id=name)["inputmode"] == "numeric"
    kinds = [r["value"] for r in html.select("input[name=kind][type=radio]")]
    assert kinds[:2] == ["coffee_morning", "drop_in"]
    legends = [legend.get_text(strip=True) for legend in html.select("legend")]
    assert legends == [
        "What kind of event was it?",
        "Date of the event",
        "How many people took part?",
    ]
    assert html.select_one("form[novalidate]")


def test_creating_an_event_goes_straight_to_its_page_with_the_add_form(client, auth, world):
    auth.login(world.volunteer)
    response = client.post(
        "/capture/events/new",
        data=event_data(partner="Marple Children's Centre", facilitators="Jo and Sam"),
    )
    assert response.status_code == 302
    event = db.session.scalars(sa.select(Event)).one()
    assert response.headers["Location"].endswith(f"/capture/events/{event.id}")
    assert event.partnership_id == world.partnership.id
    assert event.created_by_id == world.volunteer.id
    assert (event.name, event.kind, event.place) == (
        "Coffee morning at Marple Library",
        "coffee_morning",
        "Marple Library",
    )
    assert event.held_on == svc.today()
    assert (event.adults_count, event.young_people_count, event.children_count) == (12, 3, 0)
    assert event.partner == "Marple Children's Centre"
    assert event.facilitators == "Jo and Sam"
    assert db.session.scalars(sa.select(AuditEntry.verb)).all() == ["event.created"]

    page = client.get(response.headers["Location"])
    html = soup(page)
    assert "Event created" in text_of(page)
    assert html.h1.get_text(strip=True) == "Coffee morning at Marple Library"
    summary = {
        row.dt.get_text(strip=True): " ".join(row.select_one("dd").get_text(" ").split())
        for row in html.select(".govuk-summary-list__row")
    }
    assert summary["Kind of event"] == "Coffee morning"
    assert summary["Place"] == "Marple Library"
    assert summary["People who took part"] == "12 adults 3 young people 0 children"
    change = html.select_one(".govuk-summary-card__actions a")
    assert change["href"] == f"/capture/events/{event.id}/edit"
    form = html.select_one(f"form[action='/capture/events/{event.id}/feedback']")
    assert form is not None
    # Text first, then who said it, then the sentiment.
    names = [el["name"] for el in form.select("textarea, input[type=radio]")]
    assert names[0] == "text"
    assert names.index("respondent") < names.index("sentiment")
    assert form.find("label", attrs={"for": "text"}).get_text(strip=True) == "What did they say?"
    assert len(form.select_one("input[name=idempotency_key]")["value"]) == 32


def test_an_empty_event_form_shows_every_error_and_saves_nothing(client, auth, world):
    auth.login(world.volunteer)
    response = client.post(
        "/capture/events/new",
        data={"name": "", "held_on": ["", "", ""], "place": "", "adults_count": "0"},
    )
    assert response.status_code == 200
    assert soup(response).title.get_text().startswith("Error: ")
    assert error_summary(response) == [
        "Enter the name of the event",
        "Select what kind of event it was",
        "Enter the date of the event",
        "Enter where the event took place",
    ]
    assert field_error(response, "name") == "Enter the name of the event"
    assert field_error(response, "held_on") == "Enter the date of the event"
    assert db.session.scalars(sa.select(Event)).all() == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"adults_count": "twelve"},
            "adults_count",
            "Number of adults must be a whole number, like 12",
        ),
        (
            {"adults_count": "--5"},
            "adults_count",
            "Number of adults must be a whole number, like 12",
        ),
        ({"adults_count": "٣"}, "adults_count", "Number of adults must be a whole number, like 12"),
        (
            {"children_count": "2.5"},
            "children_count",
            "Number of children must be a whole number, like 12",
        ),
        (
            {"young_people_count": "10001"},
            "young_people_count",
            "Number of young people must be between 0 and 10,000",
        ),
        (
            {"adults_count": "-1"},
            "adults_count",
            "Number of adults must be between 0 and 10,000",
        ),
        ({"held_on": ["12", "", "2026"]}, "held_on", "The date of the event must include a month"),
        ({"held_on": ["31", "2", "2026"]}, "held_on", "The date of the event must be a real date"),
        ({"held_on": ["1", "2", "26"]}, "held_on", "Year must include 4 numbers"),
        ({"kind": "rave"}, "kind", "Select what kind of event it was"),
        ({"name": "x" * 201}, "name", "Event name must be 200 characters or fewer"),
    ],
)
def test_event_form_errors_keep_what_was_typed(client, auth, world, overrides, field, message):
    auth.login(world.volunteer)
    data = event_data(**overrides)
    response = client.post("/capture/events/new", data=data)
    assert response.status_code == 200
    assert error_summary(response) == [message]
    assert field_error(response, field) == message
    html = soup(response)
    if field != "name":
        assert html.find(id="name")["value"] == "Coffee morning at Marple Library"
    if field.endswith("_count"):
        assert html.find(id=field)["value"] == data[field]
    if field == "held_on":
        typed = [
            html.find(id=f"held_on-{part}").get("value", "") for part in ("day", "month", "year")
        ]
        assert typed == data["held_on"]
    assert db.session.scalars(sa.select(Event)).all() == []


def test_an_event_cannot_be_in_the_future(client, auth, world):
    auth.login(world.volunteer)
    tomorrow = svc.today() + timedelta(days=1)
    response = client.post(
        "/capture/events/new",
        data=event_data(held_on=[str(tomorrow.day), str(tomorrow.month), str(tomorrow.year)]),
    )
    assert error_summary(response) == ["The date of the event must be today or in the past"]
    assert db.session.scalars(sa.select(Event)).all() == []


def test_blank_counts_mean_nobody_was_counted(client, auth, world):
    auth.login(world.volunteer)
    response = client.post(
        "/capture/events/new",
        data=event_data(adults_count="", young_people_count=" 1,200 ", children_count=""),
    )
    assert response.status_code == 302
    event = db.session.scalars(sa.select(Event)).one()
    assert (event.adults_count, event.young_people_count, event.children_count) == (0, 1200, 0)


def test_html_in_event_fields_is_stripped(client, auth, world):
    auth.login(world.volunteer)
    client.post(
        "/capture/events/new",
        data=event_data(name="<b>Drop-in</b> <script>alert(1)</script>at the hub"),
    )
    event = db.session.scalars(sa.select(Event)).one()
    assert "<" not in event.name
    assert event.name.startswith("Drop-in")
    assert event.name.endswith("at the hub")


# The events list


def test_the_list_shows_my_events_newest_first_with_today_first(client, auth, world):
    today = svc.today()
    factories.make_event(
        world.partnership,
        created_by=world.volunteer,
        name="Park event",
        kind="park_event",
        held_on=today - timedelta(days=30),
        place="Vernon Park",
    )
    recent = factories.make_event(
        world.partnership,
        created_by=world.volunteer,
        name="School visit",
        kind="school_visit",
        held_on=today - timedelta(days=2),
    )
    todays = factories.make_event(
        world.partnership, created_by=world.volunteer, name="Today's drop-in", held_on=today
    )
    factories.make_event(
        world.partnership, created_by=world.coordinator, name="Somebody else's event"
    )
    factories.make_feedback(world.partnership, event=recent, entered_by=world.volunteer)
    factories.make_feedback(world.partnership, event=recent, entered_by=world.volunteer)
    # A safeguarding item leaves every normal count.
    factories.make_feedback(
        world.partnership, event=recent, entered_by=world.volunteer, safeguarding_flag=True
    )

    auth.login(world.volunteer)
    page = client.get("/capture/")
    assert page.status_code == 200
    html = soup(page)
    [create] = [a for a in html.select("a") if a.get_text(strip=True) == "Create an event"]
    assert create["href"] == "/capture/events/new"
    links = [a.get_text(strip=True) for a in html.select(".app-event-list h3 a")]
    assert links == ["Today's drop-in", "School visit", "Park event"]
    assert "Somebody else's event" not in text_of(page)
    headings = [h.get_text(strip=True) for h in html.select("h2")]
    assert headings[:2] == ["Today", "Earlier events"]
    today_card = html.select(".app-event-list")[0].li
    assert "Today" in today_card.select_one(".govuk-tag").get_text()
    assert today_card.h3.a["href"] == f"/capture/events/{todays.id}"
    recent_card = html.select(".app-event-list")[1].select("li")[0]
    assert "2 items logged" in recent_card.get_text(" ")
    assert "17 people counted" in recent_card.get_text(" ")
    assert "School visit" in recent_card.get_text(" ")
    old_card = html.select(".app-event-list")[1].select("li")[1]
    assert "Vernon Park" in old_card.get_text(" ")
    assert "Park event" in old_card.get_text(" ")


def test_coordinators_see_every_event_with_who_created_it(client, auth, world):
    factories.make_event(world.partnership, created_by=world.volunteer, name="Volunteer's event")
    factories.make_event(world.partnership, created_by=world.coordinator, name="Own event")
    other = factories.make_world("elsewhere")
    factories.make_event(other.partnership, created_by=other.volunteer, name="Their event")
    auth.login(world.coordinator)
    page = client.get("/capture/")
    body = text_of(page)
    assert "Volunteer's event" in body
    assert "Own event" in body
    assert f"created by {world.volunteer.name}" in body
    assert "Their event" not in body


def test_an_empty_list_says_so(client, auth, world):
    auth.login(world.volunteer)
    assert "You have not created any events yet." in text_of(client.get("/capture/"))


def test_the_list_pages_and_does_not_query_per_event(app, client, auth, world):
    today = svc.today()
    for n in range(30):
        event = factories.make_event(
            world.partnership,
            created_by=world.volunteer,
            name=f"Event {n}",
            held_on=today - timedelta(days=n + 1),
        )
        factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    auth.login(world.coordinator)

    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        first = client.get("/capture/")
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert len(soup(first).select(".app-event-list li")) == 25
    assert len(statements) < 15, statements
    second = client.get("/capture/?page=2")
    assert [a.get_text(strip=True) for a in soup(second).select(".app-event-list h3 a")] == [
        f"Event {n}" for n in range(25, 30)
    ]
    assert client.get("/capture/?page=3").status_code == 404


def _count_statements(fn) -> tuple[object, list[str]]:
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        result = fn()
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    return result, statements


@pytest.mark.parametrize("role", ["coordinator", "subgroup_lead"])
def test_the_event_page_does_not_query_per_item(client, auth, world, role):
    user = getattr(world, role)
    event = factories.make_event(world.partnership, created_by=user)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    for n in range(20):
        item = factories.make_feedback(
            world.partnership,
            event=event,
            entered_by=user,
            raw_text=f"Item {n}",
            priorities=[world.priorities["SEMH"], world.priorities["AUTISM"]],
        )
        item.theme = theme
    db.session.commit()
    auth.login(user)
    page, statements = _count_statements(lambda: client.get(f"/capture/events/{event.id}"))
    assert len(soup(page).select(".app-item-list li")) == 20
    # A fixed number of queries (sign-in user, event, priorities, items and their links),
    # however many items: one per item would make it 35 or more.
    assert len(statements) < 20, statements


# Logging items


def test_logging_items_saves_them_and_remembers_who_said_it(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_data(
            respondent="young_person",
            sentiment="idea",
            priorities=[str(world.priorities["AUTISM"].id), str(world.priorities["SEMH"].id)],
        ),
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capture/events/{event.id}")
    item = feedback_rows()[0]
    assert item.raw_text == "The wait for an autism assessment is far too long."
    assert (item.respondent, item.sentiment) == ("young_person", "idea")
    assert item.event_id == event.id
    assert item.received_on == event.held_on
    assert item.channel == "event"
    assert item.status == "new"
    assert item.entered_by_id == world.volunteer.id
    assert [p.code for p in item.priorities] == ["SEMH", "AUTISM"]

    page = client.get(response.headers["Location"])
    html = soup(page)
    banner = html.select_one(".govuk-notification-banner--success")
    assert banner.get_text(" ", strip=True).endswith("Saved. This event has 1 item.")
    checked = html.select_one("input[name=respondent][checked]")
    assert checked["value"] == "young_person"
    assert not html.select("input[name=sentiment][checked]")
    assert html.select_one("textarea[name=text]").get_text() == ""
    listed = html.select(".app-item-list li")
    assert len(listed) == 1
    assert "The wait for an autism assessment is far too long." in listed[0].get_text()
    assert "New" in listed[0].select_one(".govuk-tag").get_text()
    [edit] = edit_links(listed[0])
    assert edit["href"] == f"/capture/feedback/{item.id}/edit"
    assert edit.get_text(" ", strip=True) == "Edit item 1"

    client.post(f"/capture/events/{event.id}/feedback", data=item_data(text="Second thing"))
    page = client.get(f"/capture/events/{event.id}")
    assert "Saved. This event has 2 items." in text_of(page)
    assert "2 items logged at this event" in text_of(page)


def test_priority_checkboxes_show_code_and_title_of_the_active_strategy(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    html = soup(client.get(f"/capture/events/{event.id}"))
    priorities = html.select_one("input[name=priorities]").find_parent("fieldset")
    labels = [label.get_text(strip=True) for label in priorities.select("label")]
    assert labels == ["SEMH: Priority SEMH", "AUTISM: Priority AUTISM"]
    legends = [legend.get_text(strip=True) for legend in html.select("form legend")]
    assert legends == [
        "Who said it?",
        "What kind of feedback is it?",
        "Which priorities is it about? (optional)",
        "Age or stage of the child or young person (optional)",
        "Type of need (optional)",
        "What they agreed to",
    ]


def test_an_item_with_errors_keeps_the_typed_text_and_saves_nothing(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    typed = "Nobody rang us back after the EHCP meeting.\nWe waited six weeks."
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_data(text=typed, respondent="", sentiment="", priorities=[]),
    )
    assert response.status_code == 200
    assert soup(response).title.get_text().startswith("Error: ")
    assert error_summary(response) == [
        "Select who said it",
        "Select whether it is working well, needs to change or an idea",
    ]
    assert field_error(response, "respondent") == "Select who said it"
    textarea = soup(response).select_one("textarea[name=text]")
    assert textarea.get_text().strip() == typed
    assert feedback_rows() == []
    # The summary links go to the fields they describe.
    links = [a["href"] for a in soup(response).select(".govuk-error-summary a")]
    assert links == ["#respondent", "#sentiment"]
    assert soup(response).find(id="respondent") is not None


def test_an_empty_item_asks_for_the_text(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(f"/capture/events/{event.id}/feedback", data=item_data(text="   "))
    assert error_summary(response) == ["Enter what they said"]
    assert field_error(response, "text") == "Enter what they said"
    # Only markup, no words: nothing worth keeping.
    response = client.post(f"/capture/events/{event.id}/feedback", data=item_data(text="<p> </p>"))
    assert error_summary(response) == ["Enter what they said"]
    assert feedback_rows() == []


def test_the_same_idempotency_key_twice_makes_one_row(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    data = item_data()
    first = client.post(f"/capture/events/{event.id}/feedback", data=data)
    second = client.post(f"/capture/events/{event.id}/feedback", data=data)
    assert first.status_code == second.status_code == 302
    rows = feedback_rows()
    assert len(rows) == 1
    assert rows[0].idempotency_key == data["idempotency_key"]
    page = client.get(f"/capture/events/{event.id}")
    assert "This event has 1 item." in text_of(page)


def test_each_page_load_gives_a_fresh_idempotency_key(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    keys = {
        soup(client.get(f"/capture/events/{event.id}")).select_one("input[name=idempotency_key]")[
            "value"
        ]
        for _ in range(3)
    }
    assert len(keys) == 3


def test_html_in_what_they_said_is_stripped_but_the_words_kept(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_data(
            text='<script>alert("x")</script>The <b>SENCO</b> was <a href="http://x">great</a>'
        ),
    )
    item = feedback_rows()[0]
    assert "<" not in item.raw_text
    assert "SENCO" in item.raw_text
    assert "great" in item.raw_text
    assert item.raw_text.endswith("The SENCO was great")
    page = client.get(f"/capture/events/{event.id}").get_data(as_text=True)
    assert "<b>SENCO</b>" not in page
    assert "<script>alert" not in page


def test_priorities_from_another_partnership_are_refused(client, auth, world):
    other = factories.make_world("elsewhere")
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_data(priorities=[str(other.priorities["SEMH"].id)]),
    )
    assert response.status_code == 200
    assert error_summary(response) == ["Select priorities from the list"]
    assert feedback_rows() == []


# Changing an event


def test_headcounts_can_be_corrected_any_time(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, status="themed"
    )
    auth.login(world.volunteer)
    page = client.get(f"/capture/events/{event.id}/edit")
    html = soup(page)
    assert html.find(id="adults_count")["value"] == "12"
    assert html.find(id="name")["value"] == "Coffee morning"
    assert html.find(id="held_on-day")["value"] == "02"
    response = client.post(
        f"/capture/events/{event.id}/edit",
        data=event_data(
            name="Coffee morning",
            held_on=["2", "11", "2026"],
            place="Family hub",
            adults_count="15",
            young_people_count="4",
            children_count="1",
        ),
    )
    assert response.status_code == 302
    db.session.refresh(event)
    assert (event.adults_count, event.young_people_count, event.children_count) == (15, 4, 1)
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "event.changed")
    ).one()
    assert entry.details["fields"] == ["adults_count", "children_count", "young_people_count"]
    assert "Event details saved." in text_of(client.get(f"/capture/events/{event.id}"))


def test_changing_the_date_moves_the_items_logged_there(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    auth.login(world.volunteer)
    client.post(
        f"/capture/events/{event.id}/edit",
        data=event_data(name="Coffee morning", held_on=["1", "11", "2026"], place="Family hub"),
    )
    db.session.refresh(item)
    assert item.received_on == date(2026, 11, 1)


def test_an_event_edit_with_errors_changes_nothing(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/edit", data=event_data(name="", adults_count="lots")
    )
    assert error_summary(response) == [
        "Enter the name of the event",
        "Number of adults must be a whole number, like 12",
    ]
    assert soup(response).find(id="adults_count")["value"] == "lots"
    db.session.refresh(event)
    assert (event.name, event.adults_count) == ("Coffee morning", 12)


# Changing an item


def test_a_volunteer_corrects_their_own_new_item(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(
        world.partnership,
        event=event,
        entered_by=world.volunteer,
        priorities=[world.priorities["SEMH"]],
    )
    auth.login(world.volunteer)
    page = client.get(f"/capture/feedback/{item.id}/edit")
    html = soup(page)
    assert html.select_one("textarea[name=text]").get_text().strip() == item.raw_text
    assert html.select_one("input[name=respondent][checked]")["value"] == "parent_carer"
    assert [c["value"] for c in html.select("input[name=priorities][checked]")] == [
        str(world.priorities["SEMH"].id)
    ]
    response = client.post(
        f"/capture/feedback/{item.id}/edit",
        data={
            "text": "The wait for an ADHD assessment is too long.",
            "respondent": "parent_carer",
            "sentiment": "needs_change",
            "priorities": [str(world.priorities["AUTISM"].id)],
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capture/events/{event.id}")
    db.session.refresh(item)
    assert item.raw_text == "The wait for an ADHD assessment is too long."
    assert [p.code for p in item.priorities] == ["AUTISM"]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.changed")
    ).one()
    assert entry.details == {"fields": ["text", "priorities"]}
    assert "ADHD" not in str(entry.details)


def test_an_item_edit_with_errors_keeps_the_typed_text(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/feedback/{item.id}/edit",
        data={"text": "A new wording", "respondent": "", "sentiment": "idea"},
    )
    assert error_summary(response) == ["Select who said it"]
    assert soup(response).select_one("textarea[name=text]").get_text().strip() == "A new wording"
    db.session.refresh(item)
    assert item.raw_text == "The wait for an assessment is far too long."


def test_after_triage_a_volunteer_cannot_edit_their_item(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, status="triaged"
    )
    auth.login(world.volunteer)
    page = client.get(f"/capture/events/{event.id}")
    listed = soup(page).select(".app-item-list li")
    assert len(listed) == 1
    assert "Triaged" in listed[0].select_one(".govuk-tag").get_text()
    assert edit_links(listed[0]) == []
    response = client.get(f"/capture/feedback/{item.id}/edit")
    assert response.status_code == 403
    assert "You cannot change this item" in text_of(response)
    response = client.post(
        f"/capture/feedback/{item.id}/edit",
        data={"text": "Changed", "respondent": "child", "sentiment": "idea"},
    )
    assert response.status_code == 403
    db.session.refresh(item)
    assert item.raw_text == "The wait for an assessment is far too long."


def test_a_coordinator_may_edit_a_triaged_item(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, status="triaged"
    )
    auth.login(world.coordinator)
    response = client.post(
        f"/capture/feedback/{item.id}/edit",
        data={"text": "Corrected", "respondent": "child", "sentiment": "idea"},
    )
    assert response.status_code == 302
    db.session.refresh(item)
    assert (item.raw_text, item.status) == ("Corrected", "triaged")


# Who sees what


def test_a_volunteer_sees_only_their_own_items_and_a_coordinator_sees_all(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, raw_text="Mine to see"
    )
    factories.make_feedback(
        world.partnership, event=event, entered_by=world.coordinator, raw_text="Coordinator's"
    )
    factories.make_feedback(
        world.partnership,
        event=event,
        entered_by=world.volunteer,
        raw_text="A worrying disclosure",
        safeguarding_flag=True,
    )
    auth.login(world.volunteer)
    page = client.get(f"/capture/events/{event.id}")
    body = text_of(page)
    assert "Items you logged or families sent" in body
    assert "Mine to see" in body
    assert "Coordinator's" not in body
    assert "A worrying disclosure" not in body
    assert "2 items logged at this event" in body
    auth.logout()

    auth.login(world.coordinator)
    body = text_of(client.get(f"/capture/events/{event.id}"))
    assert "Items logged at this event" in body
    assert "Mine to see" in body
    assert "Coordinator's" in body
    assert "A worrying disclosure" not in body
    assert f"logged by {world.volunteer.name}" in body


def test_a_volunteer_cannot_use_another_volunteers_event_or_item(client, auth, world):
    other_volunteer = factories.make_user(world.partnership, "volunteer")
    theirs = factories.make_event(world.partnership, created_by=other_volunteer)
    their_item = factories.make_feedback(
        world.partnership, event=theirs, entered_by=other_volunteer, raw_text="Their words"
    )
    auth.login(world.volunteer)
    assert client.get(f"/capture/events/{theirs.id}").status_code == 403
    assert client.get(f"/capture/events/{theirs.id}/edit").status_code == 403
    assert client.post(f"/capture/events/{theirs.id}/edit", data=event_data()).status_code == 403
    response = client.post(f"/capture/events/{theirs.id}/feedback", data=item_data())
    assert response.status_code == 403
    response = client.get(f"/capture/feedback/{their_item.id}/edit")
    assert response.status_code == 404
    assert "Their words" not in response.get_data(as_text=True)
    response = client.post(
        f"/capture/feedback/{their_item.id}/edit",
        data={"text": "Hijacked", "respondent": "child", "sentiment": "idea"},
    )
    assert response.status_code == 404
    db.session.refresh(their_item)
    db.session.refresh(theirs)
    assert their_item.raw_text == "Their words"
    assert theirs.name == "Coffee morning"
    assert len(feedback_rows()) == 1


def test_a_safeguarding_item_is_not_found_from_capture(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, safeguarding_flag=True
    )
    auth.login(world.volunteer)
    assert client.get(f"/capture/feedback/{item.id}/edit").status_code == 404


def test_a_subgroup_lead_can_log_feedback_at_their_own_event(client, auth, world):
    auth.login(world.subgroup_lead)
    response = client.post("/capture/events/new", data=event_data())
    assert response.status_code == 302
    event = db.session.scalars(sa.select(Event)).one()
    response = client.post(f"/capture/events/{event.id}/feedback", data=item_data())
    assert response.status_code == 302
    assert feedback_rows()[0].entered_by_id == world.subgroup_lead.id


def _capture_urls(event_id: int, feedback_id: int) -> list[tuple[str, str]]:
    return [
        ("get", "/capture/"),
        ("get", "/capture/events/new"),
        ("post", "/capture/events/new"),
        ("get", f"/capture/events/{event_id}"),
        ("get", f"/capture/events/{event_id}/edit"),
        ("post", f"/capture/events/{event_id}/edit"),
        ("post", f"/capture/events/{event_id}/feedback"),
        ("get", f"/capture/feedback/{feedback_id}/edit"),
        ("post", f"/capture/feedback/{feedback_id}/edit"),
    ]


@pytest.mark.parametrize("role", ["board_viewer", "safeguarding_lead"])
def test_roles_without_capture_are_refused_every_capture_page(client, auth, world, role):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    auth.login(getattr(world, role))
    for method, url in _capture_urls(event.id, item.id):
        data = item_data() if method == "post" else None
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 403, f"{method.upper()} {url}"
    assert len(feedback_rows()) == 1
    assert len(db.session.scalars(sa.select(Event)).all()) == 1


def test_signed_out_people_are_sent_to_sign_in(client, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    for method, url in _capture_urls(event.id, item.id):
        response = getattr(client, method)(url)
        if method == "post" and "feedback" in url:
            # What was typed is kept on a "sign in and save" page (tested below).
            assert response.status_code == 401
            continue
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


@pytest.mark.parametrize("role", ["volunteer", "coordinator", "admin"])
def test_another_partnerships_ids_are_not_found(client, auth, world, role):
    other = factories.make_world("elsewhere")
    event = factories.make_event(other.partnership, created_by=other.volunteer)
    item = factories.make_feedback(other.partnership, event=event, entered_by=other.volunteer)
    auth.login(getattr(world, role))
    for method, url in _capture_urls(event.id, item.id)[3:]:
        data = item_data() if method == "post" else None
        response = getattr(client, method)(url, data=data)
        assert response.status_code == 404, f"{method.upper()} {url}"
    assert len(feedback_rows()) == 1


# With CSRF on, as in production


def test_the_whole_flow_works_with_csrf_protection(csrf_app):
    world = factories.make_world()
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"email": world.volunteer.email, "password": factories.PASSWORD, "csrf_token": token},
    )
    assert response.status_code == 302
    # The fixture keeps one app context open, so flask.g outlives a request here (never in
    # production): drop the token cached for the session that signing in replaced.
    g.pop("csrf_token", None)

    page = client.get("/capture/events/new").get_data(as_text=True)
    response = client.post(
        "/capture/events/new", data={**event_data(), "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    event_url = response.headers["Location"]

    page = client.get(event_url).get_data(as_text=True)
    key = BeautifulSoup(page, "html.parser").select_one("input[name=idempotency_key]")["value"]
    response = client.post(
        f"{event_url}/feedback",
        data={**item_data(idempotency_key=key), "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
    # Without the token the save is refused and nothing more is stored.
    assert client.post(f"{event_url}/feedback", data=item_data()).status_code == 400
    assert len(feedback_rows()) == 1

    item = feedback_rows()[0]
    page = client.get(f"/capture/feedback/{item.id}/edit").get_data(as_text=True)
    response = client.post(
        f"/capture/feedback/{item.id}/edit",
        data={
            "text": "Edited",
            "respondent": "child",
            "sentiment": "idea",
            "csrf_token": csrf_token_from(page),
        },
    )
    assert response.status_code == 302
    page = client.get(f"{event_url}/edit").get_data(as_text=True)
    response = client.post(
        f"{event_url}/edit",
        data={**event_data(adults_count="20"), "csrf_token": csrf_token_from(page)},
    )
    assert response.status_code == 302
