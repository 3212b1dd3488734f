"""The safeguarding queue: the safeguarding lead reads flagged feedback, and nobody else can."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import Feedback
from app.services import safeguarding
from tests import factories
from tests.html import soup, text_of

SAID = "My son told his teacher someone at home hurts him."
NOTE = "Possible risk at home; the coordinator has called the family."


def flag(item: Feedback, by, note: str, at: datetime) -> Feedback:
    """Flag through the real service, at a known time (UTC, as it is stored)."""
    safeguarding.flag(item, by, note, now=at)
    db.session.commit()
    return item


@pytest.fixture
def event(world):
    return factories.make_event(
        world.partnership, created_by=world.volunteer, name="Autumn coffee morning"
    )


@pytest.fixture
def flagged(world, event) -> list[Feedback]:
    """Two flagged items, the later flag first in the queue; one plain item that is not."""
    older = factories.make_feedback(
        world.partnership,
        event=event,
        entered_by=world.volunteer,
        raw_text="An older worry about a child.",
        respondent="young_person",
        received_on=date(2026, 10, 1),
    )
    newer = factories.make_feedback(
        world.partnership,
        event=event,
        entered_by=world.volunteer,
        raw_text=SAID,
        received_on=date(2026, 11, 2),
        redacted_text="A parent said their child may be at risk at home.",
        age_phase="primary",
        wants_reply=True,
    )
    flag(older, world.coordinator2, "Said at the drop-in table.", datetime(2026, 11, 3, 9, 0))
    flag(newer, world.coordinator, NOTE, datetime(2026, 11, 24, 16, 30))
    return [newer, older]


@pytest.fixture
def plain(world, event) -> Feedback:
    return factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, raw_text="Nothing worrying."
    )


def rows(response) -> list[list[str]]:
    table = soup(response).select_one("table#flagged")
    assert table is not None, "no table of flagged items"
    return [
        [" ".join(td.get_text(" ").split()) for td in tr.select("td")]
        for tr in table.select("tbody tr")
    ]


def test_the_lead_sees_every_flagged_item_newest_flag_first(client, auth, world, flagged, plain):
    auth.login(world.safeguarding_lead)
    response = client.get("/triage/safeguarding")
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Safeguarding"
    assert "2 flagged items, newest flag first" in page.select_one("caption").get_text()
    assert rows(response) == [
        [
            "2 November 2026",
            "Autumn coffee morning",
            "Parent or carer",
            "24 November 2026 at 4:30pm",
            NOTE,
            "Not opened yet",
            f"Read flagged item {flagged[0].id}",
        ],
        [
            "1 October 2026",
            "Autumn coffee morning",
            "Young person",
            "3 November 2026 at 9am",
            "Said at the drop-in table.",
            "Not opened yet",
            f"Read flagged item {flagged[1].id}",
        ],
    ]
    links = [a["href"] for a in page.select("table#flagged a")]
    assert links == [f"/triage/safeguarding/{item.id}" for item in flagged]
    assert plain.raw_text not in text_of(response)


def test_the_lead_reads_the_item_in_full(client, auth, world, flagged):
    item = flagged[0]
    auth.login(world.safeguarding_lead)
    response = client.get(f"/triage/safeguarding/{item.id}")
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Flagged as a safeguarding concern"
    assert page.title.get_text().startswith(f"Flagged feedback item {item.id} - ")
    assert page.select_one("#raw-text").get_text(strip=True) == SAID
    assert "at risk at home" in page.select_one("#redacted-text").get_text()

    def summary(list_id: str) -> dict[str, str]:
        return {
            " ".join(row.dt.get_text(" ").split()): " ".join(row.dd.get_text(" ").split())
            for row in page.select(f"#{list_id} .govuk-summary-list__row")
        }

    flag_rows = summary("flag")
    # Reading it is what the lead came for: the page records that it was opened.
    opened = flag_rows.pop("First opened")
    assert opened != "Not yet" and " at " in opened
    assert flag_rows == {
        "Flagged by": world.coordinator.name,
        "When": "24 November 2026 at 4:30pm",
        "Note": NOTE,
        "Status": "Opened, no decision yet",
    }
    details = summary("details")
    assert details["Where"] == "Autumn coffee morning, Coffee morning, Family hub"
    assert details["Date"] == "2 November 2026"
    assert details["Who said it"] == "Parent or carer"
    assert details["Wants to hear back"] == "Yes"
    assert details["Logged by"] == world.volunteer.name
    back = page.select_one(".govuk-back-link")
    assert back["href"] == "/triage/safeguarding"
    # The one form records a decision; nothing on the page changes the item itself.
    assert [f["action"] for f in page.select("main form")] == [
        f"/triage/safeguarding/{item.id}/decisions"
    ]
    assert "Nothing is recorded yet." in text_of(response)


def test_flag_times_are_shown_in_uk_time(client, auth, world, event):
    item = factories.make_feedback(world.partnership, event=event)
    flag(item, world.coordinator, NOTE, datetime(2026, 6, 1, 11, 5))  # 12:05pm in summer time
    other = factories.make_feedback(world.partnership, event=event)
    flag(other, world.coordinator, NOTE, datetime(2026, 7, 1, 11, 0))  # midday
    auth.login(world.safeguarding_lead)
    assert [row[3] for row in rows(client.get("/triage/safeguarding"))] == [
        "1 July 2026 at midday",
        "1 June 2026 at 12:05pm",
    ]


def test_an_item_flagged_without_its_time_or_flagger_still_shows(client, auth, world, flagged):
    imported = factories.make_feedback(
        world.partnership, safeguarding_flag=True, safeguarding_note="Imported with the flag"
    )
    auth.login(world.safeguarding_lead)
    listed = rows(client.get("/triage/safeguarding"))
    assert len(listed) == 3
    assert next(r for r in listed if r[4] == "Imported with the flag")[3] == "Not recorded"
    page = soup(client.get(f"/triage/safeguarding/{imported.id}"))
    flag_rows = [" ".join(dd.get_text(" ").split()) for dd in page.select("#flag dd")][:3]
    assert flag_rows == ["Not recorded", "Not recorded", "Imported with the flag"]


def test_an_empty_queue_says_so(client, auth, world, plain):
    auth.login(world.safeguarding_lead)
    response = client.get("/triage/safeguarding")
    assert response.status_code == 200
    assert "No feedback has been flagged as a safeguarding concern." in text_of(response)
    assert soup(response).select("table") == []


def test_the_lead_has_a_link_and_a_task_card(client, auth, world, flagged):
    auth.login(world.safeguarding_lead)
    home = soup(client.get("/home"))
    nav = {a.get_text(strip=True): a["href"] for a in home.select(".govuk-service-navigation a")}
    assert nav.get("Safeguarding") == "/triage/safeguarding"
    card = [li for li in home.select(".app-task-cards li") if "Safeguarding" in li.get_text()]
    assert len(card) == 1
    assert "2 feedback items flagged as a safeguarding concern" in " ".join(
        card[0].get_text(" ").split()
    )
    assert card[0].a["href"] == "/triage/safeguarding"

    queue = soup(client.get("/triage/safeguarding"))
    current = queue.select_one(".govuk-service-navigation__item--active a")
    assert current is not None and current.get_text(strip=True) == "Safeguarding"
    item = soup(client.get(f"/triage/safeguarding/{flagged[0].id}"))
    current = item.select_one(".govuk-service-navigation__item--active a")
    assert current is not None and current.get_text(strip=True) == "Safeguarding"


@pytest.mark.parametrize(
    "role",
    ["volunteer", "coordinator", "subgroup_lead", "other_lead", "board_viewer", "admin"],
)
def test_every_other_role_is_refused(client, auth, world, flagged, role):
    auth.login(getattr(world, role))
    assert client.get("/triage/safeguarding").status_code == 403
    assert client.get(f"/triage/safeguarding/{flagged[0].id}").status_code == 403
    home = soup(client.get("/home"))
    assert "Safeguarding" not in [
        a.get_text(strip=True) for a in home.select(".govuk-service-navigation a")
    ]
    assert not [li for li in home.select(".app-task-cards li") if "Safeguarding" in li.get_text()]


def test_signed_out_people_are_sent_to_sign_in(client, world, flagged):
    for url in ("/triage/safeguarding", f"/triage/safeguarding/{flagged[0].id}"):
        response = client.get(url)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


def test_an_item_that_is_not_flagged_is_not_found(client, auth, world, flagged, plain):
    auth.login(world.safeguarding_lead)
    assert client.get(f"/triage/safeguarding/{plain.id}").status_code == 404
    assert client.get("/triage/safeguarding/999999").status_code == 404


def test_another_partnerships_flagged_items_are_not_found(client, auth, world, flagged):
    other = factories.make_world("elsewhere")
    theirs = factories.make_feedback(other.partnership, raw_text="Their private concern.")
    flag(theirs, other.coordinator, "Their note", datetime(2026, 11, 25, 10, 0))

    auth.login(world.safeguarding_lead)
    response = client.get("/triage/safeguarding")
    assert len(rows(response)) == 2
    assert "Their note" not in text_of(response)
    assert client.get(f"/triage/safeguarding/{theirs.id}").status_code == 404

    # And the other way round: their lead sees only theirs.
    auth.logout()
    auth.login(other.safeguarding_lead)
    assert [r[4] for r in rows(client.get("/triage/safeguarding"))] == ["Their note"]
    assert client.get(f"/triage/safeguarding/{flagged[0].id}").status_code == 404


def test_a_flagger_from_another_partnership_is_never_named(client, auth, world, event):
    """Who flagged an item is read only from this partnership's users."""
    other = factories.make_world("elsewhere")
    item = factories.make_feedback(
        world.partnership,
        event=event,
        safeguarding_flag=True,
        safeguarding_note=NOTE,
        safeguarding_flagged_at=datetime(2026, 11, 24, 16, 30),
        safeguarding_flagged_by_id=other.coordinator.id,
    )
    auth.login(world.safeguarding_lead)
    page = soup(client.get(f"/triage/safeguarding/{item.id}"))
    assert page.select("#flag dd")[0].get_text(strip=True) == "Not recorded"
    assert other.coordinator.name not in page.get_text()


def test_the_queue_runs_the_same_number_of_queries_for_2_and_20_items(client, auth, world):
    events = [
        factories.make_event(world.partnership, name=f"Event {n}", created_by=world.volunteer)
        for n in range(4)
    ]
    auth.login(world.safeguarding_lead)

    def add(n: int, start: int) -> None:
        for i in range(n):
            item = factories.make_feedback(world.partnership, event=events[i % 4])
            flag(item, world.coordinator, f"Note {i}", datetime(2026, 11, 1 + start + i, 9, 0))

    def queries() -> int:
        statements: list[str] = []

        def count(conn, cursor, statement, *args):
            statements.append(statement)

        db.session.expire_all()
        sa_event.listen(db.engine, "before_cursor_execute", count)
        try:
            response = client.get("/triage/safeguarding")
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", count)
        assert response.status_code == 200
        return len(statements)

    add(2, 0)
    few = queries()
    add(18, 2)
    assert len(rows(client.get("/triage/safeguarding"))) == 20
    assert queries() == few


def test_the_flagged_items_stay_out_of_every_other_count(client, auth, world, flagged):
    """Reading them here does not bring them back into triage."""
    auth.login(world.coordinator)
    assert client.get(f"/triage/feedback/{flagged[0].id}").status_code == 404
    assert flagged[0].id not in {
        int(a["href"].rsplit("/", 1)[1])
        for a in soup(client.get("/triage/?status=all")).select("a[href^='/triage/feedback/']")
    }
