"""What the safeguarding lead did: decision records on the item page, and the append-only table.

A record is evidence of what was done about a child at risk, so once written nothing changes
or deletes it: not the ORM, not a bulk statement, not raw SQL.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time
from typing import Any

import pytest
import sqlalchemy as sa
import time_machine
from sqlalchemy.exc import IntegrityError

from app.extensions import db
from app.models import AuditEntry, Feedback, SafeguardingDecision, User
from app.models.safeguarding import SafeguardingDecisionIsAppendOnly
from app.models.vocab import Role
from app.services import safeguarding
from app.triage.safeguarding import parse_time
from tests import factories
from tests.conftest import _empty_all_tables
from tests.html import error_for, soup

NOW = datetime(2026, 11, 24, 16, 0)
REASON = "Spoke to the family support team; they will visit tomorrow."
REFUSED = "safeguarding_decision is append-only"


@pytest.fixture
def item(world) -> Feedback:
    made = factories.make_feedback(world.partnership, raw_text="A worrying thing was said.")
    safeguarding.flag(made, world.coordinator, "Worried", now=datetime(2026, 11, 24, 9, 0))
    db.session.commit()
    return made


def url(item: Feedback) -> str:
    return f"/triage/safeguarding/{item.id}/decisions"


def form_data(**overrides: Any) -> dict[str, Any]:
    """The form as a browser posts it: the date's three boxes share the field's name."""
    data: dict[str, Any] = {
        "outcome": "referral_made",
        "acted_on": ["24", "11", "2026"],
        "acted_time": "2:30pm",
        "reason": REASON,
    }
    data.update(overrides)
    return data


def post(client, item: Feedback, **overrides: Any):
    with time_machine.travel(NOW, tick=False):
        return client.post(url(item), data=form_data(**overrides))


@pytest.fixture
def lead(client, auth, world):
    with time_machine.travel(NOW, tick=False):
        auth.login(world.safeguarding_lead)
    return world.safeguarding_lead


# --- The form ----------------------------------------------------------------------------------


def test_the_item_page_has_the_decision_form(client, lead, item):
    with time_machine.travel(NOW, tick=False):
        page = soup(client.get(f"/triage/safeguarding/{item.id}"))
    form = page.select_one("main form")
    assert form["action"] == url(item) and form.has_attr("novalidate")
    legends = [" ".join(lg.get_text(" ").split()) for lg in form.select("legend")]
    assert legends == ["What was done?", "Date it was done"]
    assert [lab.get_text(strip=True) for lab in form.select(".govuk-radios__label")] == [
        "Referral made",
        "Advice given",
        "No further action",
    ]
    assert form.select_one("label[for=acted_time]").get_text(strip=True) == "Time it was done"
    assert form.select_one("label[for=reason]").get_text(strip=True) == "Reason"


def test_a_decision_is_recorded_and_listed(client, lead, world, item):
    response = post(client, item)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/safeguarding/{item.id}#decisions"

    decision = db.session.scalars(sa.select(SafeguardingDecision)).one()
    assert decision.feedback_id == item.id
    assert decision.partnership_id == world.partnership.id
    assert decision.outcome == "referral_made"
    assert decision.reason == REASON
    # 2:30pm in November is 14:30 UTC; stored, like every time, in UTC.
    assert decision.acted_at == datetime(2026, 11, 24, 14, 30)
    assert decision.recorded_at == NOW
    assert decision.recorded_by_id == lead.id and decision.recorded_by_name == lead.name

    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.safeguarding_decision_recorded")
    ).one()
    assert (entry.object_type, entry.object_id, entry.user_id) == ("Feedback", item.id, lead.id)
    assert entry.details == {"decision_id": decision.id}
    assert "family" not in str(entry.details)

    with time_machine.travel(NOW, tick=False):
        page = soup(client.get(response.headers["Location"]))
    assert "The decision is recorded." in page.get_text()
    (card,) = page.select("#decision-records .govuk-summary-card")
    assert card.select_one(".govuk-summary-card__title").get_text(strip=True) == "Referral made"
    rows = {
        row.dt.get_text(strip=True): " ".join(row.dd.get_text(" ").split())
        for row in card.select(".govuk-summary-list__row")
    }
    assert rows == {
        "When it was done": "24 November 2026 at 2:30pm",
        "Reason": REASON,
        "Recorded by": f"{lead.name}, 24 November 2026 at 4pm",
    }


def test_records_are_listed_most_recent_first_and_the_queue_shows_the_latest(
    client, lead, world, item
):
    post(client, item, outcome="advice_given", acted_time="10:00", reason="First call.")
    post(client, item, outcome="referral_made", acted_time="15:45", reason="Referred to MASH.")
    # Written down later, about something done earlier that day.
    post(client, item, outcome="no_further_action", acted_time="9am", reason="Before the calls.")
    with time_machine.travel(NOW, tick=False):
        page = soup(client.get(f"/triage/safeguarding/{item.id}"))
        queue = soup(client.get("/triage/safeguarding"))
    titles = [t.get_text(strip=True) for t in page.select("#decision-records h3")]
    assert titles == ["Referral made", "Advice given", "No further action"]
    assert "3 records, the most recent first." in page.get_text()
    status = queue.select("table#flagged tbody tr td")[5].get_text(strip=True)
    assert status == "Referral made"


def test_a_summer_time_is_stored_in_utc(client, auth, world, item):
    with time_machine.travel(datetime(2026, 7, 1, 12, 0), tick=False):
        auth.login(world.safeguarding_lead)
        response = client.post(
            url(item),
            data=form_data(acted_on=["30", "6", "2026"], acted_time="14:30"),
        )
    assert response.status_code == 302
    decision = db.session.scalars(sa.select(SafeguardingDecision)).one()
    assert decision.acted_at == datetime(2026, 6, 30, 13, 30)


def test_an_empty_form_says_what_is_missing_and_saves_nothing(client, lead, item):
    response = post(
        client,
        item,
        outcome="",
        acted_on=["", "", ""],
        acted_time="",
        reason="  ",
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error: Flagged feedback item")
    assert [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")] == [
        "Select what was done",
        "Enter the date it was done",
        "Enter the time it was done",
        "Enter the reason for the decision",
    ]
    assert error_for(page, "acted_time") == "Error: Enter the time it was done"
    assert error_for(page, "reason") == "Error: Enter the reason for the decision"
    assert db.session.scalars(sa.select(SafeguardingDecision)).all() == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"outcome": "sorted_it"}, "outcome", "Select what was done"),
        ({"acted_on": ["24", "", "2026"]}, "acted_on", "The date it was done must include a month"),
        ({"acted_on": ["31", "2", "2026"]}, "acted_on", "must be a real date"),
        ({"acted_time": "25:00"}, "acted_time", "Enter a real time, like 2:30pm or 14:30"),
        ({"acted_time": "half two"}, "acted_time", "Enter a real time, like 2:30pm or 14:30"),
        (
            {"acted_on": ["25", "11", "2026"]},
            "acted_on",
            "The date and time it was done must be in the past",
        ),
        ({"acted_time": "4:05pm"}, "acted_on", "The date and time it was done must be in the past"),
        ({"reason": "x" * 5001}, "reason", "The reason must be 5000 characters or fewer"),
    ],
)
def test_each_mistake_is_named_and_what_was_typed_is_kept(
    client, lead, item, overrides, field, message
):
    response = post(client, item, **overrides)
    assert response.status_code == 200
    page = soup(response)
    summary = [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")]
    assert len(summary) == 1 and message in summary[0]
    assert page.select_one("textarea#reason").get_text() == overrides.get("reason", REASON)
    assert page.select_one("input#acted_time")["value"] == overrides.get("acted_time", "2:30pm")
    checked = page.select_one("input[name=outcome][checked]")
    if overrides.get("outcome", "referral_made") == "referral_made":
        assert checked["value"] == "referral_made"
    assert message in error_for(page, field)
    assert db.session.scalars(sa.select(SafeguardingDecision)).all() == []


def test_four_minutes_past_the_hour_is_not_the_future(client, lead, item):
    assert post(client, item, acted_time="4pm").status_code == 302


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2:30pm", time(14, 30)),
        ("2.30 PM", time(14, 30)),
        ("2pm", time(14, 0)),
        ("9.15am", time(9, 15)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("12:05 p.m.", time(12, 5)),
        ("14:30", time(14, 30)),
        ("0:00", time(0, 0)),
        ("midday", time(12, 0)),
        ("Midnight", time(0, 0)),
        ("13pm", None),
        ("24:00", None),
        ("9", None),
        ("14:3", None),
        ("", None),
        ("2:60pm", None),
    ],
)
def test_times_are_read_as_people_type_them(typed, expected):
    assert parse_time(typed) == expected


# --- Who may record ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "role", ["volunteer", "coordinator", "subgroup_lead", "other_lead", "board_viewer", "admin"]
)
def test_every_other_role_is_refused(client, auth, world, item, role):
    auth.login(getattr(world, role))
    assert client.post(url(item), data=form_data()).status_code == 403
    assert db.session.scalars(sa.select(SafeguardingDecision)).all() == []


def test_another_partnerships_lead_and_unflagged_items_are_not_found(client, auth, world, item):
    plain = factories.make_feedback(world.partnership)
    other = factories.make_world("elsewhere")
    auth.login(other.safeguarding_lead)
    assert client.post(url(item), data=form_data()).status_code == 404
    auth.logout()
    auth.login(world.safeguarding_lead)
    assert client.post(url(plain), data=form_data()).status_code == 404
    assert db.session.scalars(sa.select(SafeguardingDecision)).all() == []


def test_the_service_refuses_a_non_lead_and_an_unflagged_item(world, item):
    plain = factories.make_feedback(world.partnership)
    fields: dict[str, Any] = {
        "outcome": "advice_given",
        "acted_at": datetime(2026, 11, 24, 10, 0),
        "reason": "Because.",
        "now": NOW,
    }
    with pytest.raises(PermissionError):
        safeguarding.record_decision(item, world.coordinator, **fields)
    with pytest.raises(safeguarding.SafeguardingError, match="Only feedback flagged"):
        safeguarding.record_decision(plain, world.safeguarding_lead, **fields)
    both = factories.make_user(world.partnership, Role.COORDINATOR, Role.SAFEGUARDING_LEAD)
    other = factories.make_world("elsewhere")
    with pytest.raises(PermissionError):
        safeguarding.record_decision(item, other.safeguarding_lead, **fields)
    made = safeguarding.record_decision(item, both, **fields)
    assert made.recorded_by_id == both.id


# --- Append-only -------------------------------------------------------------------------------


@pytest.fixture
def decision(world, item) -> SafeguardingDecision:
    made = safeguarding.record_decision(
        item,
        world.safeguarding_lead,
        outcome="advice_given",
        acted_at=datetime(2026, 11, 24, 10, 0),
        reason="Kept",
        now=NOW,
    )
    db.session.commit()
    return made


def _unchanged(decision_id: int) -> None:
    db.session.rollback()
    db.session.expire_all()
    row = db.session.get(SafeguardingDecision, decision_id)
    assert row is not None, "the decision was deleted"
    assert (row.outcome, row.reason) == ("advice_given", "Kept")


def _refused_by_database(run: Callable[[sa.Connection], Any], decision_id: int) -> None:
    """Run SQL on a plain connection, past every ORM listener: only the database can refuse."""
    db.session.commit()
    with pytest.raises(IntegrityError, match=REFUSED), db.engine.begin() as connection:
        run(connection)
    _unchanged(decision_id)


def test_the_orm_refuses_to_change_a_decision(decision):
    decision_id = decision.id
    decision.reason = "Rewritten"
    with pytest.raises(SafeguardingDecisionIsAppendOnly):
        db.session.commit()
    _unchanged(decision_id)


def test_the_orm_refuses_to_delete_a_decision(decision):
    decision_id = decision.id
    db.session.delete(decision)
    with pytest.raises(SafeguardingDecisionIsAppendOnly):
        db.session.commit()
    _unchanged(decision_id)


@pytest.mark.parametrize(
    "statement",
    [
        pytest.param(
            lambda: sa.update(SafeguardingDecision).values(reason="Rewritten"), id="orm-update"
        ),
        pytest.param(lambda: sa.delete(SafeguardingDecision), id="orm-delete"),
        pytest.param(
            lambda: sa.update(SafeguardingDecision.__table__).values(outcome="referral_made"),
            id="table-update",
        ),
        pytest.param(lambda: sa.delete(SafeguardingDecision.__table__), id="table-delete"),
    ],
)
def test_the_session_refuses_bulk_updates_and_deletes(decision, statement):
    decision_id = decision.id
    with pytest.raises(SafeguardingDecisionIsAppendOnly):
        db.session.execute(statement())
    _unchanged(decision_id)


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE safeguarding_decision SET reason = 'Rewritten'",
        "UPDATE safeguarding_decision SET outcome = 'referral_made' WHERE id = :id",
        "UPDATE safeguarding_decision SET recorded_by_id = NULL, reason = 'x' WHERE id = :id",
        "UPDATE safeguarding_decision SET acted_at = recorded_at WHERE id = :id",
        "DELETE FROM safeguarding_decision WHERE id = :id",
        "DELETE FROM safeguarding_decision",
    ],
)
def test_the_database_refuses_raw_sql(decision, sql):
    decision_id = decision.id
    _refused_by_database(lambda c: c.execute(sa.text(sql), {"id": decision_id}), decision_id)


def test_the_database_refuses_core_statements(decision):
    table = SafeguardingDecision.__table__
    _refused_by_database(lambda c: c.execute(sa.update(table).values(reason="x")), decision.id)
    _refused_by_database(lambda c: c.execute(sa.delete(table)), decision.id)


def test_a_decision_cannot_be_pinned_on_someone_else(decision, world):
    values = {"other": world.coordinator.id, "id": decision.id}
    _refused_by_database(
        lambda c: c.execute(
            sa.text("UPDATE safeguarding_decision SET recorded_by_id = :other WHERE id = :id"),
            values,
        ),
        values["id"],
    )


def test_deleting_a_lead_keeps_their_records_and_their_name(world, item):
    leaver = factories.make_user(world.partnership, Role.SAFEGUARDING_LEAD, name="Lee Leaver")
    made = safeguarding.record_decision(
        item,
        leaver,
        outcome="no_further_action",
        acted_at=datetime(2026, 11, 24, 10, 0),
        reason="Kept",
        now=NOW,
    )
    db.session.commit()
    leaver_id, decision_id = leaver.id, made.id
    db.session.commit()
    with db.engine.begin() as connection:
        # Their audit entries lose the link too (0002 lets that through).
        connection.execute(sa.delete(User.__table__).where(User.__table__.c.id == leaver_id))
    db.session.expire_all()
    row = db.session.get(SafeguardingDecision, decision_id)
    assert row.recorded_by_id is None
    assert (row.recorded_by_name, row.reason) == ("Lee Leaver", "Kept")


def test_a_flagged_item_with_decisions_cannot_be_deleted(decision, item):
    db.session.commit()
    with pytest.raises(IntegrityError), db.engine.begin() as connection:
        connection.execute(sa.delete(Feedback.__table__).where(Feedback.__table__.c.id == item.id))
    db.session.rollback()
    assert db.session.get(Feedback, item.id) is not None


def test_postgresql_refuses_truncate(decision):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL only")
    _refused_by_database(
        lambda c: c.execute(sa.text("TRUNCATE safeguarding_decision")), decision.id
    )


def test_sqlite_trigger_compares_every_column_but_recorded_by(app):
    """A column added to SafeguardingDecision must join the SQLite trigger's list."""
    if db.engine.dialect.name != "sqlite":
        pytest.skip("SQLite only")
    sql = db.session.scalar(
        sa.text("SELECT sql FROM sqlite_master WHERE name = 'safeguarding_decision_no_update'")
    )
    assert sql is not None
    missing = [
        column.name
        for column in SafeguardingDecision.__table__.columns
        if column.name != "recorded_by_id" and f"NEW.{column.name} IS OLD.{column.name}" not in sql
    ]
    assert missing == [], f"Add {missing} to the trigger in a new migration"


def test_the_test_suite_can_still_empty_the_table_and_the_guard_comes_back(decision):
    """The cleanup between tests gets past the triggers, and leaves them in place."""
    db.session.commit()
    _empty_all_tables()
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(SafeguardingDecision.id))) == 0
    # Guarded again: a fresh record still cannot be deleted.
    fresh = factories.make_world("after-cleanup")
    item = factories.make_feedback(fresh.partnership)
    safeguarding.flag(item, fresh.coordinator, "Worried", now=NOW)
    again = safeguarding.record_decision(
        item,
        fresh.safeguarding_lead,
        outcome="advice_given",
        acted_at=datetime(2026, 11, 24, 10, 0),
        reason="Kept",
        now=NOW,
    )
    db.session.commit()
    _refused_by_database(
        lambda c: c.execute(sa.text("DELETE FROM safeguarding_decision")), again.id
    )
