"""The audit log page: filters by action, person, object and dates as GET parameters, keyset
pages that stay put while new entries arrive, and a count (more in tests/test_admin.py)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from urllib.parse import parse_qsl, urlsplit

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from app.extensions import db
from app.models import AuditEntry
from app.services import admin as admin_service
from app.services import audit, retention, subject_access
from tests import factories
from tests.html import soup, text_of

AUDIT = "/admin/audit"


def _write(world, verb: str, *, at: datetime | None = None, user=None, obj=None) -> AuditEntry:
    entry = audit.record(
        verb,
        obj or world.strategy,
        user=user if user is not None else world.coordinator,
        partnership=world.partnership,
    )
    if at is not None:
        entry.at = at
    db.session.commit()
    return entry


_numbers = iter(range(1, 1_000_000))


def _many(world, n: int, verb: str = "theme.published", at: datetime | None = None) -> list[int]:
    """n entries, each numbered in its details, which is how the tests tell them apart."""
    numbers = []
    for _ in range(n):
        number = next(_numbers)
        entry = audit.record(verb, world.strategy, user=world.coordinator, number=number)
        if at is not None:
            entry.at = at
        db.session.flush()
        numbers.append(number)
    db.session.commit()
    return numbers


def _rows(response) -> list[list[str]]:
    table = soup(response).find("table")
    if table is None:
        return []
    return [[td.get_text(" ", strip=True) for td in tr("td")] for tr in table.tbody("tr")]


def _ids_on(response) -> list[int]:
    """The numbers of the entries on a page, from their Details cell ("Number 12")."""
    return [int(row[4].rsplit(" ", 1)[1]) for row in _rows(response)]


def _caption(response) -> str:
    return soup(response).find("caption").get_text(" ", strip=True)


def _links(response) -> dict[str, str]:
    nav = soup(response).find("nav", class_="govuk-pagination")
    if nav is None:
        return {}
    return {a.get_text(" ", strip=True): a["href"] for a in nav("a")}


def _entry_ids_in_order() -> list[int]:
    """Every entry's number, newest first, as the page should list them."""
    return [
        entry.details["number"]
        for entry in db.session.scalars(
            sa.select(AuditEntry).order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        )
        if "number" in entry.details
    ]


@pytest.fixture
def admin_client(client, auth, world):
    auth.login(world.admin)
    return client


# ---------------------------------------------------------------------------------------------
# Who may read it


@pytest.mark.parametrize(
    "who",
    [
        "volunteer",
        "coordinator",
        "safeguarding_lead",
        "subgroup_lead",
        "board_viewer",
    ],
)
def test_only_admins_read_the_log(client, auth, world, who):
    _write(world, "theme.published")
    auth.login(getattr(world, who))
    assert client.get(AUDIT).status_code == 403
    assert client.get(f"{AUDIT}?actor=system&older=1").status_code == 403


# ---------------------------------------------------------------------------------------------
# Filters


def test_the_filters_are_a_get_form_that_works_without_javascript(admin_client, world):
    _write(world, "theme.published")
    page = soup(admin_client.get(AUDIT))
    form = page.find("main").find("form")
    assert form["method"] == "get" and form["action"] == AUDIT and form.has_attr("novalidate")
    # No CSRF token: it would end up in every filtered address.
    assert form.find("input", attrs={"name": "csrf_token"}) is None
    names = [f["name"] for f in form.find_all(["select", "input"]) if f.get("name")]
    assert names == [
        "verb",
        "actor",
        "object_type",
        "date_from",
        "date_from",
        "date_from",
        "date_to",
        "date_to",
        "date_to",
    ]
    legends = [legend.get_text(strip=True) for legend in form.find_all("legend")]
    assert legends == ["From", "To"]
    assert form.find("button").get_text(strip=True) == "Filter"
    assert page.find("title").get_text().startswith("Audit log")


def test_filter_by_who(admin_client, world):
    _write(world, "theme.published", user=world.coordinator)
    _write(world, "theme.published", user=world.coordinator)
    _write(world, "user.roles_changed", user=world.admin, obj=world.volunteer)
    audit.record(
        "retention.contacts_deleted",
        world.partnership,
        user=None,
        partnership=world.partnership,
        contacts=1,
    )
    db.session.commit()

    page = soup(admin_client.get(AUDIT))
    options = [
        (o["value"], o.get_text(strip=True))
        for o in page.find("select", attrs={"name": "actor"})("option")
    ]
    people = sorted(
        [
            (world.admin.email, f"{world.admin.name} ({world.admin.email})"),
            (world.coordinator.email, f"{world.coordinator.name} ({world.coordinator.email})"),
        ],
        key=lambda o: o[1].lower(),
    )
    assert options == [("", "Anyone"), *people, ("system", "The system (automatic)")]

    mine = admin_client.get(f"{AUDIT}?actor={world.coordinator.email}")
    assert [r[1] for r in _rows(mine)] == [world.coordinator.email] * 2
    assert "2 entries matching the filters, newest first" in _caption(mine)
    selected = soup(mine).find("select", attrs={"name": "actor"}).find("option", selected=True)
    assert selected["value"] == world.coordinator.email

    system = _rows(admin_client.get(f"{AUDIT}?actor=system"))
    assert [(r[1], r[2]) for r in system] == [
        ("The system (automatic)", "Contact details deleted by the daily retention purge")
    ]
    # Someone who never wrote an entry here (or made up) does not filter.
    assert len(_rows(admin_client.get(f"{AUDIT}?actor=nobody@example.org"))) == 4


def test_a_person_named_in_another_partnership_is_not_offered(admin_client, world):
    theirs = factories.make_world("theirs")
    audit.record("secret.thing", theirs.strategy, user=theirs.admin)
    _write(world, "theme.published")
    page = soup(admin_client.get(AUDIT))
    values = [o["value"] for o in page.find("select", attrs={"name": "actor"})("option")]
    assert theirs.admin.email not in values
    assert len(_rows(admin_client.get(f"{AUDIT}?actor={theirs.admin.email}"))) == 1


def _dates(name: str, day: int, month: int, year: int) -> str:
    return f"{name}={day}&{name}={month}&{name}={year}"


@pytest.fixture
def dated(world) -> dict[str, int]:
    return {
        "october": _write(world, "a.thing", at=datetime(2026, 10, 31, 23, 59, 59)).id,
        "start": _write(world, "b.thing", at=datetime(2026, 11, 1, 0, 0, 0)).id,
        "middle": _write(world, "c.thing", at=datetime(2026, 11, 15, 12, 0)).id,
        "end": _write(world, "d.thing", at=datetime(2026, 11, 30, 23, 59, 59)).id,
        "december": _write(world, "e.thing", at=datetime(2026, 12, 1, 0, 0, 0)).id,
    }


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        (_dates("date_from", 1, 11, 2026), ["december", "end", "middle", "start"]),
        (_dates("date_to", 30, 11, 2026), ["end", "middle", "start", "october"]),
        (
            _dates("date_from", 1, 11, 2026) + "&" + _dates("date_to", 30, 11, 2026),
            ["end", "middle", "start"],
        ),
        (
            _dates("date_from", 15, 11, 2026) + "&" + _dates("date_to", 15, 11, 2026),
            ["middle"],
        ),
    ],
)
def test_filter_by_dates_takes_whole_days(admin_client, dated, query, expected):
    response = admin_client.get(f"{AUDIT}?{query}")
    assert response.status_code == 200
    actions = [r[2] for r in _rows(response)]
    verbs = {"october": "A", "start": "B", "middle": "C", "end": "D", "december": "E"}
    assert actions == [f"{verbs[k]} thing" for k in expected]
    # What was typed stays in the boxes.
    page = soup(response)
    for name in dict(parse_qsl(query)):
        assert page.find("input", id=f"{name}-year")["value"] == "2026"


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        (_dates("date_from", 31, 2, 2026), "date_from", "The start date must be a real date"),
        (
            "date_from=1&date_from=&date_from=2026",
            "date_from",
            "The start date must include a month",
        ),
        (_dates("date_to", 1, 11, 26), "date_to", "Year must include 4 numbers"),
        (
            _dates("date_from", 2, 11, 2026) + "&" + _dates("date_to", 1, 11, 2026),
            "date_to",
            "The end date must be the same as or after the start date",
        ),
    ],
)
def test_a_date_that_cannot_be_used_is_an_error_and_the_rest_still_filters(
    admin_client, world, dated, query, field, message
):
    response = admin_client.get(f"{AUDIT}?verb=c.thing&{query}")
    assert response.status_code == 200
    page = soup(response)
    assert page.find("title").get_text().startswith("Error: ")
    summary = page.find(class_="govuk-error-summary")
    assert [a.get_text(strip=True) for a in summary("a")] == [message]
    assert summary.find("a")["href"].startswith(f"#{field}")
    # The verb filter still applies; the dates do not.
    assert [r[2] for r in _rows(response)] == ["C thing"]
    assert page.find("a", string="Clear filters")["href"] == AUDIT


def test_all_filters_together(admin_client, world, dated):
    _write(world, "c.thing", at=datetime(2026, 11, 16, 9, 0), user=world.admin)
    query = f"verb=c.thing&actor={world.coordinator.email}&object_type=Strategy&" + _dates(
        "date_from", 1, 11, 2026
    )
    response = admin_client.get(f"{AUDIT}?{query}")
    assert [r[2] for r in _rows(response)] == ["C thing"]
    assert "1 entry matching the filters, newest first" in _caption(response)


# ---------------------------------------------------------------------------------------------
# Keyset pages


def test_pages_follow_each_other_by_cursor(admin_client, world):
    _many(world, 120)
    order = _entry_ids_in_order()
    first = admin_client.get(AUDIT)
    assert _ids_on(first) == order[:50]
    assert _caption(first).startswith("Entries 1 to 50 of 120")
    assert soup(first).find("title").get_text().startswith("Audit log (entries 1 to 50 of 120)")
    assert list(_links(first)) == ["Older entries"]

    second = admin_client.get(_links(first)["Older entries"])
    assert _ids_on(second) == order[50:100]
    assert _caption(second).startswith("Entries 51 to 100 of 120")
    assert list(_links(second)) == ["Newer entries", "Older entries"]

    third = admin_client.get(_links(second)["Older entries"])
    assert _ids_on(third) == order[100:]
    assert _caption(third).startswith("Entries 101 to 120 of 120")
    assert list(_links(third)) == ["Newer entries"]

    back = admin_client.get(_links(third)["Newer entries"])
    assert _ids_on(back) == order[50:100]
    top = admin_client.get(_links(back)["Newer entries"])
    assert _ids_on(top) == order[:50]


def test_a_page_stays_put_while_new_entries_arrive(admin_client, world):
    _many(world, 120)
    order = _entry_ids_in_order()
    first = admin_client.get(AUDIT)
    older = _links(first)["Older entries"]
    _many(world, 10, "user.roles_changed")

    second = admin_client.get(older)
    # Exactly what followed the first page, not shifted by the ten new entries.
    assert _ids_on(second) == order[50:100]
    assert _caption(second).startswith("Entries 61 to 110 of 130")


def test_entries_written_in_the_same_instant_are_neither_lost_nor_repeated(admin_client, world):
    _many(world, 75, at=datetime(2026, 11, 23, 9, 0, 0))
    first = admin_client.get(AUDIT)
    second = admin_client.get(_links(first)["Older entries"])
    seen = _ids_on(first) + _ids_on(second)
    assert len(seen) == 75 and len(set(seen)) == 75
    assert seen == sorted(seen, reverse=True)


def test_the_cursor_keeps_the_filters(admin_client, world):
    _many(world, 60, "theme.published")
    _many(world, 5, "user.roles_changed")
    first = admin_client.get(f"{AUDIT}?verb=theme.published")
    link = _links(first)["Older entries"]
    query = dict(parse_qsl(urlsplit(link).query))
    assert query.keys() == {"verb", "older"} and query["verb"] == "theme.published"
    last = db.session.get(AuditEntry, int(query["older"]))
    assert last.details["number"] == _ids_on(first)[-1]
    second = admin_client.get(link)
    assert {r[2] for r in _rows(second)} == {"Theme published"}
    assert len(_rows(second)) == 10
    newer = urlsplit(_links(second)["Newer entries"])
    assert dict(parse_qsl(newer.query))["verb"] == "theme.published"

    dated = admin_client.get(f"{AUDIT}?{_dates('date_from', 1, 1, 2020)}")
    link = _links(dated)["Older entries"]
    assert "date_from=1&date_from=1&date_from=2020&older=" in link


def test_a_cursor_past_either_end_or_not_ours_shows_a_full_page(admin_client, world):
    _many(world, 70)
    order = _entry_ids_in_order()
    by_age = list(db.session.scalars(sa.select(AuditEntry.id).order_by(AuditEntry.id)))
    # Older than the oldest: the last page, not an empty one.
    assert _ids_on(admin_client.get(f"{AUDIT}?older={by_age[0]}")) == order[-50:]
    # Newer than one of the newest few: the first page.
    assert _ids_on(admin_client.get(f"{AUDIT}?newer={by_age[-4]}")) == order[:50]
    theirs = factories.make_world("theirs")
    foreign = audit.record("secret.thing", theirs.strategy, user=theirs.admin)
    db.session.commit()
    for query in (f"older={foreign.id}", f"newer={foreign.id}", "older=0", "newer=nonsense"):
        response = admin_client.get(f"{AUDIT}?{query}")
        assert _ids_on(response) == order[:50], query
        assert "Secret thing" not in text_of(response)


def test_pages_never_skip_rows_with_offset_and_cost_the_same_however_long(admin_client, world):
    statements: list[tuple[str, object]] = []

    @contextmanager
    def counting() -> Iterator[None]:
        def before(conn, cursor, statement, parameters, *args):
            statements.append((statement, parameters))

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    _many(world, 10)
    with counting():
        admin_client.get(AUDIT)
    ten = len(statements)
    _many(world, 110)
    statements.clear()
    with counting():
        second = admin_client.get(AUDIT)
        admin_client.get(_links(second)["Older entries"])
    fifty = len(statements) // 2
    assert fifty <= ten + 2, "each page reads the same handful of queries"
    for statement, parameters in statements:
        if "audit_entry" in statement and "OFFSET" in statement.upper():
            # SQLite writes LIMIT ? OFFSET ? for every LIMIT: the offset must be 0.
            assert list(parameters)[-1] == 0, statement


# ---------------------------------------------------------------------------------------------
# The entries issue 5 adds read as words


def test_retention_and_subject_access_entries_read_as_words(admin_client, world):
    p = world.partnership
    audit.record(
        "retention.raw_text_deleted",
        p,
        user=None,
        partnership=p,
        items=8,
        reworded_deleted=7,
        reworded_kept=1,
        months=24,
    )
    audit.record(
        "subject_access.exported",
        p,
        user=world.admin,
        partnership=p,
        subject="0123456789abcdef",
        searched_by="email address",
        format="JSON file",
        contacts=2,
        items=2,
        mentions=0,
        messages=1,
    )
    db.session.commit()
    rows = _rows(admin_client.get(AUDIT))
    assert rows[0][2] == "Contact's details exported (subject access)"
    assert rows[0][3] == f"Partnership {p.id}"
    assert rows[0][4] == (
        "Feedback items 2 Reference 0123456789abcdef Looked up by email address "
        "Format JSON file Contact records 2 Other items mentioning them 0 Messages to them 1"
    )
    assert rows[1][1] == "The system (automatic)"
    assert rows[1][2] == "Words of closed items deleted by the daily retention purge"
    assert rows[1][4] == (
        "Feedback items 8 Reworded text deleted too 7 "
        "Reworded text kept (quoted on a public page) 1 Retention period (months) 24"
    )


def test_role_changes_and_deactivation_write_entries(app, world):
    changes = admin_service.update_account(
        world.volunteer,
        actor=world.admin,
        roles=["volunteer", "coordinator"],
        subgroup_ids=[],
        active=False,
    )
    db.session.commit()
    assert changes.roles_added == ["coordinator"]
    verbs = list(
        db.session.scalars(
            sa.select(AuditEntry.verb)
            .where(AuditEntry.object_type == "User", AuditEntry.object_id == world.volunteer.id)
            .order_by(AuditEntry.id)
        )
    )
    assert verbs == ["user.roles_changed", "user.deactivated"]
    for verb in verbs:
        assert "_" not in admin_service.verb_label(verb)


def test_the_verbs_of_retention_and_subject_access_read_as_words():
    # Written through constants, which the scan in tests/test_admin.py cannot see.
    for verb in (
        retention.CONTACTS_DELETED,
        retention.RAW_TEXT_DELETED,
        subject_access.SEARCHED,
        subject_access.EXPORTED,
        subject_access.ERASED,
    ):
        label = admin_service.VERB_LABELS[verb]
        assert "_" not in label and "." not in label and label[0].isupper()
