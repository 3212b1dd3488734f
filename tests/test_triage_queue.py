"""The triage queue: one list across events, its filters, keyset pages, and what is waiting."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import Feedback
from app.models.base import utcnow
from app.services import triage as svc
from tests import factories
from tests.html import error_for, soup, text_of

PER_PAGE = svc.PAGE_SIZE


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


def queue_ids(response) -> list[int]:
    return [int(box["value"]) for box in soup(response).select("input[name=feedback]")]


def result_count(response) -> str:
    return soup(response).select_one("#result-count").get_text(" ", strip=True)


def item(world, **kw) -> Feedback:
    return factories.make_feedback(world.partnership, **kw)


def in_queue_order(items: list[Feedback]) -> list[int]:
    return [i.id for i in sorted(items, key=lambda i: (i.received_on, i.id), reverse=True)]


# --- One queue across events ----------------------------------------------------------------------


def test_the_default_queue_is_every_waiting_item_across_events_newest_first(
    client, auth, world, event
):
    park = factories.make_event(
        world.partnership, name="Park event", kind="park_event", held_on=date(2026, 8, 1)
    )
    a = item(world, event=event, received_on=date(2026, 11, 2))
    b = item(world, event=park, received_on=date(2026, 8, 1))
    c = item(world, event=None, channel="email", received_on=date(2026, 11, 20))
    # Same day as a: the newer id comes first.
    d = item(world, event=park, received_on=date(2026, 11, 2))
    item(world, event=event, status="triaged")
    auth.login(world.coordinator)

    page = client.get("/triage/")
    assert queue_ids(page) == [c.id, d.id, a.id, b.id]
    assert soup(page).select_one("#results-heading").get_text(strip=True) == "Waiting for triage"
    assert result_count(page) == "4 items."
    # The default view is not "filtered": no link to clear anything.
    assert soup(page).find("a", string="Clear filters") is None
    assert not soup(page).select_one("details").has_attr("open")


def test_what_is_waiting_and_the_age_of_the_oldest(client, auth, world, event):
    auth.login(world.coordinator)
    assert "Nothing is waiting for triage" in text_of(client.get("/triage/"))

    item(world, event=event, created_at=utcnow() - timedelta(days=12, hours=1))
    item(world, event=event, created_at=utcnow() - timedelta(days=3))
    # Neither triaged items nor flagged ones are waiting, however old.
    item(world, event=event, status="triaged", created_at=utcnow() - timedelta(days=40))
    item(world, event=event, safeguarding_flag=True, created_at=utcnow() - timedelta(days=50))
    page = client.get("/triage/")
    waiting = soup(page).select_one("#waiting").get_text(" ", strip=True)
    assert " ".join(waiting.split()) == (
        "2 new items are waiting for triage (oldest waiting: 12 days)."
    )
    # The summary is about the whole queue, whatever the filters show.
    filtered = client.get("/triage/?status=triaged")
    assert "2 new items are waiting for triage" in text_of(filtered)


def test_an_item_that_arrived_today_has_waited_less_than_a_day(client, auth, world, event):
    item(world, event=event)
    auth.login(world.coordinator)
    waiting = soup(client.get("/triage/")).select_one("#waiting").get_text(" ", strip=True)
    assert " ".join(waiting.split()) == (
        "1 new item is waiting for triage (oldest waiting: less than a day)."
    )


# --- Filters --------------------------------------------------------------------------------------


@pytest.fixture
def mixed(world, event):
    """Items that differ in one way each, so each filter picks out a known set."""
    park = factories.make_event(
        world.partnership, name="Park event", kind="park_event", held_on=date(2026, 9, 5)
    )
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    items = {
        "parent_oct": item(world, event=event, received_on=date(2026, 10, 1)),
        "young_nov": item(
            world,
            event=event,
            respondent="young_person",
            sentiment="idea",
            received_on=date(2026, 11, 2),
            priorities=[semh],
        ),
        "child_park": item(
            world,
            event=park,
            respondent="child",
            sentiment="working_well",
            received_on=date(2026, 9, 5),
            priorities=[autism],
        ),
        "pro_dec": item(
            world,
            event=None,
            channel="email",
            respondent="professional",
            received_on=date(2026, 12, 1),
            priorities=[semh, autism],
        ),
        "triaged": item(world, event=event, status="triaged", received_on=date(2026, 11, 3)),
        "themed": item(world, event=park, status="themed", received_on=date(2026, 9, 5)),
        "answered": item(world, event=event, status="answered", received_on=date(2026, 6, 1)),
        "closed": item(world, event=event, status="closed", received_on=date(2026, 5, 1)),
        "flagged": item(
            world,
            event=event,
            safeguarding_flag=True,
            respondent="child",
            received_on=date(2026, 11, 2),
            priorities=[semh],
        ),
    }
    items["park"] = park
    return items


def ids(mixed, *names) -> set[int]:
    return {mixed[n].id for n in names}


def test_each_filter_narrows_the_queue(client, auth, world, event, mixed):
    auth.login(world.coordinator)
    semh, autism = world.priorities["SEMH"].id, world.priorities["AUTISM"].id
    park = mixed["park"].id
    waiting = ("parent_oct", "young_nov", "child_park", "pro_dec")
    cases = {
        "": waiting,
        "status=triaged": ("triaged",),
        "status=themed": ("themed",),
        "status=answered": ("answered",),
        "status=closed": ("closed",),
        "status=all": (*waiting, "triaged", "themed", "answered", "closed"),
        f"event={park}": ("child_park",),
        f"event={park}&status=all": ("child_park", "themed"),
        "respondent=young_person": ("young_nov",),
        "respondent=child&status=all": ("child_park",),
        "sentiment=working_well": ("child_park",),
        "sentiment=needs_change&status=all": (
            "parent_oct",
            "pro_dec",
            "triaged",
            "themed",
            "answered",
            "closed",
        ),
        f"priority={semh}": ("young_nov", "pro_dec"),
        f"priority={autism}": ("child_park", "pro_dec"),
        "priority=none": ("parent_oct",),
        "received_from=1&received_from=10&received_from=2026": (
            "parent_oct",
            "young_nov",
            "pro_dec",
        ),
        "received_to=2&received_to=11&received_to=2026": ("parent_oct", "young_nov", "child_park"),
        (
            "received_from=1&received_from=10&received_from=2026"
            "&received_to=3&received_to=11&received_to=2026&status=all"
        ): ("parent_oct", "young_nov", "triaged"),
        f"status=all&event={event.id}&respondent=parent_carer&priority=none": (
            "parent_oct",
            "triaged",
            "answered",
            "closed",
        ),
    }
    for query, expected in cases.items():
        page = client.get(f"/triage/?{query}")
        assert page.status_code == 200, query
        assert set(queue_ids(page)) == ids(mixed, *expected), query
        assert mixed["flagged"].id not in queue_ids(page), query
        count = len(expected)
        noun = "item" if count == 1 else "items"
        if query:
            verb = "matches" if count == 1 else "match"
            assert result_count(page).startswith(f"{count} {noun} {verb} these filters"), query
        else:
            assert result_count(page) == f"{count} {noun}.", query


def test_the_filter_form_shows_what_is_applied_and_can_be_cleared(
    client, auth, world, event, mixed
):
    auth.login(world.coordinator)
    semh = world.priorities["SEMH"].id
    page = soup(
        client.get(
            f"/triage/?status=all&event={event.id}&respondent=young_person&sentiment=idea"
            f"&priority={semh}&received_from=1&received_from=10&received_from=2026"
        )
    )
    # Open, so what narrowed the list is in view, and every choice is as applied.
    assert page.select_one("details").has_attr("open")
    selected = {s["id"]: s.select_one("option[selected]")["value"] for s in page.select("select")}
    assert selected["status"] == "all"
    assert selected["event"] == str(event.id)
    assert selected["respondent"] == "young_person"
    assert selected["sentiment"] == "idea"
    assert selected["priority"] == str(semh)
    assert [page.select_one(f"#received_from-{p}")["value"] for p in ("day", "month", "year")] == [
        "1",
        "10",
        "2026",
    ]
    assert page.select_one("#received_to-day").get("value") in (None, "")
    clear = page.find_all("a", string="Clear filters")
    assert clear and all(a["href"] == "/triage/" for a in clear)
    # Each filter has a label or legend a screen reader reads out.
    for name in ("status", "event", "respondent", "sentiment", "priority"):
        assert page.find("label", attrs={"for": name}), name
    legends = [legend.get_text(strip=True) for legend in page.select("form[method=get] legend")]
    assert legends == ["Received on or after", "Received on or before"]
    # A GET form: it works as a link, with no token and no JavaScript.
    assert page.select_one("form[method=get]")["action"] == "/triage/"


def test_a_date_that_cannot_be_read_is_shown_as_an_error_and_ignored(
    client, auth, world, event, mixed
):
    auth.login(world.coordinator)
    response = client.get(
        "/triage/?received_from=31&received_from=2&received_from=2026"
        "&received_to=5&received_to=&received_to=2026"
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    summary = [li.get_text(strip=True) for li in page.select(".govuk-error-summary li")]
    assert summary == ["The first date must be a real date", "The last date must include a month"]
    assert error_for(page, "received_from") == "Error: The first date must be a real date"
    # What was typed stays in the boxes, and the rest of the queue still shows.
    assert page.select_one("#received_from-day")["value"] == "31"
    assert set(queue_ids(response)) == ids(
        mixed, "parent_oct", "young_nov", "child_park", "pro_dec"
    )

    backwards = client.get(
        "/triage/?received_from=2&received_from=11&received_from=2026"
        "&received_to=1&received_to=10&received_to=2026"
    )
    assert error_for(soup(backwards), "received_to") == (
        "Error: The last date must be the same as or after the first date"
    )
    # The first date still applies; the impossible range does not empty the list.
    assert set(queue_ids(backwards)) == ids(mixed, "young_nov", "pro_dec")


def test_nonsense_in_the_query_string_falls_back_to_any(client, auth, world, event, mixed):
    theirs = factories.make_world()
    their_event = factories.make_event(theirs.partnership)
    auth.login(world.coordinator)
    for query in [
        "status=bogus",
        "event=abc",
        f"event={their_event.id}",
        "respondent=king",
        "sentiment=%3Cscript%3E",
        f"priority={theirs.priorities['SEMH'].id}",
        "priority=x",
        "older=yesterday",
        "newer=2026-13-01.5",
    ]:
        page = client.get(f"/triage/?{query}")
        assert page.status_code == 200, query
        assert set(queue_ids(page)) == ids(
            mixed, "parent_oct", "young_nov", "child_park", "pro_dec"
        ), query
        assert "<script>" not in page.get_data(as_text=True), query


def test_another_partnerships_items_and_events_are_never_offered_or_shown(
    client, auth, world, event
):
    theirs = factories.make_world()
    their_event = factories.make_event(theirs.partnership, name="Their coffee morning")
    their_item = factories.make_feedback(theirs.partnership, event=their_event)
    ours = item(world, event=event)
    auth.login(world.coordinator)
    page = client.get("/triage/?status=all")
    assert queue_ids(page) == [ours.id]
    assert "Their coffee morning" not in page.get_data(as_text=True)
    options = {o.get_text() for o in soup(page).select("#priority option")}
    assert options == {
        "Any priority",
        "No priority yet",
        "SEMH: Priority SEMH",
        "AUTISM: Priority AUTISM",
    }
    assert their_item.id not in queue_ids(client.get(f"/triage/?event={their_event.id}"))


# --- Safeguarding -------------------------------------------------------------------------------


def test_flagged_items_never_appear_whatever_the_filters_or_page(client, auth, world, event):
    semh = world.priorities["SEMH"]
    flagged = [
        item(
            world,
            event=event,
            safeguarding_flag=True,
            status=status,
            respondent="child",
            priorities=[semh],
            received_on=date(2026, 11, 2) + timedelta(days=n),
            raw_text=f"Flagged secret {n}",
        )
        for n, status in enumerate(["new", "triaged", "themed", "answered", "closed"])
    ]
    ordinary = item(world, event=event, received_on=date(2026, 11, 1))
    auth.login(world.coordinator)
    queries = [
        "",
        "status=all",
        "status=triaged",
        "status=themed",
        "status=answered",
        "status=closed",
        f"status=all&event={event.id}",
        "status=all&respondent=child",
        f"status=all&priority={semh.id}",
        "status=all&received_from=2&received_from=11&received_from=2026",
        f"newer={date(2026, 10, 1).isoformat()}.1",
        f"older={date(2027, 1, 1).isoformat()}.999999",
    ]
    for query in queries:
        page = client.get(f"/triage/?{query}")
        html = page.get_data(as_text=True)
        assert not set(queue_ids(page)) & {f.id for f in flagged}, query
        assert "Flagged secret" not in html, query
    everything = client.get("/triage/?status=all")
    assert queue_ids(everything) == [ordinary.id]
    assert result_count(everything).startswith("1 item matches")
    assert "1 new item is waiting" in text_of(everything)


# --- Keyset pages -------------------------------------------------------------------------------


def make_many(world, event, n: int, start: date = date(2026, 1, 1)) -> list[Feedback]:
    """n items, several on each day, so that ties on the date are broken by id."""
    rows = [
        Feedback(
            partnership_id=world.partnership.id,
            event_id=event.id,
            raw_text=f"Item {i}",
            respondent="parent_carer",
            sentiment="needs_change",
            received_on=start + timedelta(days=i // 3),
        )
        for i in range(n)
    ]
    db.session.add_all(rows)
    db.session.commit()
    return rows


def link(response, rel: str) -> str | None:
    anchor = soup(response).select_one(f".govuk-pagination__{rel} a")
    return anchor["href"] if anchor else None


def test_older_and_newer_links_walk_the_whole_queue_in_order(client, auth, world, event):
    rows = make_many(world, event, 2 * PER_PAGE + 7)
    expected = in_queue_order(rows)
    auth.login(world.coordinator)

    seen: list[int] = []
    pages = []
    url: str | None = "/triage/"
    while url:
        page = client.get(url)
        pages.append(page)
        seen += queue_ids(page)
        url = link(page, "next")
    assert seen == expected
    assert [len(queue_ids(p)) for p in pages] == [PER_PAGE, PER_PAGE, 7]
    # The first page has no newer items; the others link back to the page before.
    assert link(pages[0], "prev") is None
    assert soup(pages[0]).select_one(".govuk-pagination__next").get_text(" ", strip=True) == (
        "Older items"
    )
    back = client.get(link(pages[2], "prev"))
    assert queue_ids(back) == queue_ids(pages[1])
    top = client.get(link(back, "prev"))
    assert queue_ids(top) == queue_ids(pages[0])
    assert link(top, "prev") is None
    # Every page says how many there are in all.
    assert result_count(pages[1]) == f"{len(rows)} items, {PER_PAGE} shown on this page."


def test_pages_stay_put_when_items_arrive_or_leave(client, auth, world, event):
    rows = make_many(world, event, 2 * PER_PAGE)
    expected = in_queue_order(rows)
    auth.login(world.coordinator)
    first = client.get("/triage/")
    older = link(first, "next")

    # New items arrive at the top, and three on the first page are triaged meanwhile.
    make_many(world, event, 5, start=date(2027, 1, 1))
    for row in rows:
        if row.id in expected[:3]:
            row.status = "triaged"
    db.session.commit()

    second = client.get(older)
    assert queue_ids(second) == expected[PER_PAGE:]
    assert link(second, "next") is None


def test_pages_carry_the_filters_and_no_query_uses_offset(client, auth, world, event):
    park = factories.make_event(world.partnership, name="Park event", kind="park_event")
    rows = make_many(world, park, PER_PAGE + 2)
    make_many(world, event, 10)
    auth.login(world.coordinator)

    offsets: list[object] = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if " OFFSET " in statement.upper():
            # SQLite's dialect writes "LIMIT ? OFFSET ?" for every LIMIT, with an offset of 0.
            sqlite_zero = conn.dialect.name == "sqlite" and parameters and parameters[-1] == 0
            offsets.append(None if sqlite_zero else statement)

    sa_event.listen(db.engine, "before_cursor_execute", record)
    try:
        first = client.get(f"/triage/?event={park.id}&respondent=parent_carer")
        older = link(first, "next")
        query = parse_qs(urlsplit(older).query)
        assert query["event"] == [str(park.id)] and query["respondent"] == ["parent_carer"]
        second = client.get(older)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", record)
    assert queue_ids(first) + queue_ids(second) == in_queue_order(rows)
    assert not [o for o in offsets if o is not None]
    # The bulk form posts back to the same page of the same filtered list.
    action = soup(second).select_one("form[action^='/triage/bulk']")["action"]
    posted = parse_qs(urlsplit(action).query)
    assert posted["event"] == [str(park.id)] and "older" in posted


def test_a_cursor_past_the_end_offers_the_newest_items(client, auth, world, event):
    make_many(world, event, 3, start=date(2026, 5, 1))
    auth.login(world.coordinator)
    page = client.get("/triage/?older=2020-01-01.1")
    assert queue_ids(page) == []
    newest = soup(page).find("a", string="Go to the newest items")
    assert newest is not None and newest["href"] == "/triage/"


def test_the_service_pages_by_cursor(app, world, event):
    rows = make_many(world, event, 12)
    expected = in_queue_order(rows)
    first = svc.triage_queue(world.partnership, per_page=5)
    assert [i.id for i in first.items] == expected[:5]
    assert first.newer is None and first.older == svc.QueueCursor.of(first.items[-1])
    second = svc.triage_queue(world.partnership, older=first.older, per_page=5)
    assert [i.id for i in second.items] == expected[5:10]
    back = svc.triage_queue(world.partnership, newer=second.newer, per_page=5)
    assert [i.id for i in back.items] == expected[:5] and back.newer is None
    last = svc.triage_queue(world.partnership, older=second.older, per_page=5)
    assert [i.id for i in last.items] == expected[10:] and last.older is None
    assert svc.QueueCursor.parse(str(second.older)) == second.older
    assert svc.QueueCursor.parse("2026-01-01") is None
    with pytest.raises(svc.TriageError):
        svc.triage_queue(world.partnership, svc.QueueFilters(status="flagged"))


# --- A fixed number of queries --------------------------------------------------------------------


def _count_statements(client, url: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    # Both measurements start from the same cold session, whatever the test loaded before.
    db.session.expire_all()
    sa_event.listen(db.engine, "before_cursor_execute", count)
    try:
        response = client.get(url)
    finally:
        sa_event.remove(db.engine, "before_cursor_execute", count)
    assert response.status_code == 200
    return len(statements)


@pytest.mark.parametrize("query", ["status=all", "status=all&respondent=parent_carer"])
def test_the_queue_runs_the_same_number_of_queries_for_10_and_50_items(
    client, auth, world, event, query
):
    other_event = factories.make_event(world.partnership, name="Drop-in", kind="drop_in")
    priorities = list(world.priorities.values())
    subgroups = list(world.subgroups.values())
    themes = [
        factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"]) for _ in range(3)
    ]

    def add(n: int) -> None:
        for i in range(n):
            row = factories.make_feedback(
                world.partnership,
                event=event if i % 2 else other_event,
                entered_by=world.volunteer,
                priorities=priorities[: i % 3],
                status="new" if i % 4 else "themed",
                redacted_text="Reworded" if i % 5 == 0 else None,
            )
            row.routed_subgroup = subgroups[i % 2] if i % 3 else None
            if i % 4 == 0:
                row.theme = themes[i % 3]
        db.session.commit()

    add(10)
    auth.login(world.coordinator)
    at_10 = _count_statements(client, f"/triage/?{query}")
    add(40)
    at_50 = _count_statements(client, f"/triage/?{query}")
    page = client.get(f"/triage/?{query}")
    assert len(queue_ids(page)) == 50
    # Every row shows its event, theme, priorities and sub-group, from those same queries.
    assert "In theme:" in text_of(page) and "CCE" in text_of(page)
    assert at_50 == at_10
