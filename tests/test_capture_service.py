"""The capture rules in app.services.capture, without HTTP."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Feedback, Priority, Strategy
from app.services import capture as svc
from tests import factories


def _event_fields(**overrides):
    fields = {
        "name": "Drop-in",
        "kind": "drop_in",
        "held_on": svc.today(),
        "place": "Family hub",
    }
    fields.update(overrides)
    return fields


def test_create_event_stores_cleaned_fields_and_zero_counts(world):
    event = svc.create_event(
        world.partnership,
        world.volunteer,
        **_event_fields(name="  <i>Drop-in</i>  at   the hub ", partner="", facilitators=" "),
    )
    db.session.commit()
    assert event.name == "Drop-in at the hub"
    assert event.partner is None
    assert event.facilitators is None
    assert (event.adults_count, event.young_people_count, event.children_count) == (0, 0, 0)
    assert event.created_by_id == world.volunteer.id


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"name": ""}, "name", svc.ENTER_NAME),
        ({"name": "<b></b>"}, "name", svc.ENTER_NAME),
        ({"kind": "party"}, "kind", svc.SELECT_KIND),
        ({"held_on": None}, "held_on", svc.ENTER_DATE),
        ({"held_on": "2026-01-01"}, "held_on", svc.ENTER_DATE),
        ({"place": " "}, "place", svc.ENTER_PLACE),
        ({"adults_count": -1}, "adults_count", "Number of adults must be between 0 and 10,000"),
        (
            {"children_count": 10_001},
            "children_count",
            "Number of children must be between 0 and 10,000",
        ),
        (
            {"young_people_count": "3"},
            "young_people_count",
            svc.whole_number_message("young_people_count"),
        ),
        (
            {"young_people_count": True},
            "young_people_count",
            svc.whole_number_message("young_people_count"),
        ),
    ],
)
def test_create_event_refuses_bad_fields(world, overrides, field, message):
    with pytest.raises(svc.CaptureError) as caught:
        svc.create_event(world.partnership, world.volunteer, **_event_fields(**overrides))
    assert (caught.value.field, caught.value.message) == (field, message)


def test_an_event_date_cannot_be_in_the_future(world):
    with pytest.raises(svc.CaptureError) as caught:
        svc.create_event(
            world.partnership,
            world.volunteer,
            **_event_fields(held_on=svc.today() + timedelta(days=1)),
        )
    assert caught.value.message == svc.DATE_IN_FUTURE


def test_unknown_event_fields_are_a_programming_error(world):
    with pytest.raises(TypeError):
        svc.create_event(world.partnership, world.volunteer, **_event_fields(colour="red"))


def test_nobody_creates_events_in_another_partnership(world):
    other = factories.make_world("elsewhere")
    with pytest.raises(PermissionError):
        svc.create_event(other.partnership, world.volunteer, **_event_fields())


def test_today_is_the_date_in_london(monkeypatch):
    class LateOnMidsummer(datetime):
        @classmethod
        def now(cls, tz=None):
            # 23:30 UTC on 30 June is 00:30 on 1 July in British Summer Time.
            return datetime(2026, 6, 30, 23, 30, tzinfo=UTC).astimezone(tz)

    monkeypatch.setattr(svc, "datetime", LateOnMidsummer)
    assert svc.today() == date(2026, 7, 1)


def test_update_event_records_only_what_changed(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    svc.update_event(event, world.volunteer, adults_count=12, children_count=5)
    db.session.commit()
    assert event.children_count == 5
    entries = db.session.scalars(sa.text("SELECT verb FROM audit_entry")).all()
    assert entries == ["event.changed"]
    # Nothing changed: no audit entry.
    svc.update_event(event, world.volunteer, children_count=5)
    db.session.commit()
    assert len(db.session.scalars(sa.text("SELECT verb FROM audit_entry")).all()) == 1


def test_record_feedback_makes_a_new_item_from_the_event(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item, created = svc.record_feedback(
        event,
        world.volunteer,
        svc.ItemDetails(
            text="  We need more <em>short breaks</em>.  ",
            respondent="parent_carer",
            sentiment="idea",
            priorities=[world.priorities["SEMH"].id],
        ),
        idempotency_key="a" * 32,
    )
    db.session.commit()
    assert created is True
    assert item.raw_text == "We need more short breaks."
    assert item.received_on == event.held_on
    assert (item.channel, item.status) == ("event", "new")
    assert item.entered_by_id == world.volunteer.id
    assert item.priorities == [world.priorities["SEMH"]]
    assert item.idempotency_key == "a" * 32


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"text": ""}, "text", svc.ENTER_TEXT),
        ({"text": "x" * (svc.MAX_TEXT_LENGTH + 1)}, "text", svc.TEXT_TOO_LONG),
        ({"respondent": "alien"}, "respondent", svc.SELECT_RESPONDENT),
        ({"respondent": None}, "respondent", svc.SELECT_RESPONDENT),
        ({"sentiment": "meh"}, "sentiment", svc.SELECT_SENTIMENT),
        ({"priorities": [999_999]}, "priorities", svc.SELECT_PRIORITIES),
    ],
)
def test_record_feedback_refuses_bad_input(world, kwargs, field, message):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    values = {"text": "Something", "respondent": "child", "sentiment": "idea"}
    values.update(kwargs)
    with pytest.raises(svc.CaptureError) as caught:
        svc.record_feedback(event, world.volunteer, svc.ItemDetails(**values))
    assert (caught.value.field, caught.value.message) == (field, message)
    db.session.rollback()
    assert db.session.scalars(sa.select(Feedback)).all() == []


def test_priorities_must_belong_to_the_partnerships_active_strategy(world):
    other = factories.make_world("elsewhere")
    old = Strategy(
        partnership_id=world.partnership.id, title="Old strategy", slug="old", status="archived"
    )
    old.priorities = [Priority(partnership_id=world.partnership.id, code="OLD", title="Old one")]
    db.session.add(old)
    db.session.commit()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    for wrong in (other.priorities["SEMH"], old.priorities[0]):
        with pytest.raises(svc.CaptureError):
            svc.record_feedback(
                event,
                world.volunteer,
                svc.ItemDetails("Something", "child", "idea", priorities=[wrong]),
            )
    assert [p.code for p in svc.priority_options(world.partnership)] == ["SEMH", "AUTISM"]


def test_editing_keeps_a_priority_from_an_older_strategy(world):
    old = Strategy(
        partnership_id=world.partnership.id, title="Old strategy", slug="old", status="archived"
    )
    old_priority = Priority(partnership_id=world.partnership.id, code="OLD", title="Old one")
    old.priorities = [old_priority]
    db.session.add(old)
    db.session.commit()
    item = factories.make_feedback(
        world.partnership, entered_by=world.volunteer, priorities=[old_priority]
    )
    svc.update_feedback(
        item,
        world.volunteer,
        svc.ItemDetails(
            text="Changed",
            respondent="child",
            sentiment="idea",
            priorities=[old_priority.id, world.priorities["AUTISM"].id],
        ),
    )
    db.session.commit()
    assert {p.code for p in item.priorities} == {"OLD", "AUTISM"}
    codes = [p.code for p in svc.priority_options(world.partnership, keep=item.priorities)]
    assert codes == ["SEMH", "AUTISM", "OLD"]


def test_the_same_idempotency_key_returns_the_first_item(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    args = (event, world.volunteer, svc.ItemDetails("Said once", "child", "idea"))
    first, created = svc.record_feedback(*args, idempotency_key="k" * 32)
    db.session.commit()
    again, created_again = svc.record_feedback(*args, idempotency_key="k" * 32)
    db.session.commit()
    assert (created, created_again) == (True, False)
    assert again.id == first.id
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 1


def test_a_race_on_the_same_key_rolls_back_and_returns_the_winner(world, monkeypatch):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    winner = factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, idempotency_key="r" * 32
    )
    real_find = svc.find_by_idempotency_key
    calls = []

    def find_missing_the_first_time(partnership_id, key):
        # The other request inserts between this request's check and its insert.
        calls.append(key)
        return None if len(calls) == 1 else real_find(partnership_id, key)

    monkeypatch.setattr(svc, "find_by_idempotency_key", find_missing_the_first_time)
    item, created = svc.record_feedback(
        event,
        world.volunteer,
        svc.ItemDetails("Said twice", "child", "idea"),
        idempotency_key="r" * 32,
    )
    db.session.commit()
    assert created is False
    assert item.id == winner.id
    assert len(calls) == 2
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 1


def test_keys_are_per_partnership_and_malformed_keys_are_ignored(world):
    other = factories.make_world("elsewhere")
    ours = factories.make_event(world.partnership, created_by=world.volunteer)
    theirs = factories.make_event(other.partnership, created_by=other.volunteer)
    key = "s" * 32
    svc.record_feedback(
        ours, world.volunteer, svc.ItemDetails("One", "child", "idea"), idempotency_key=key
    )
    _, created = svc.record_feedback(
        theirs, other.volunteer, svc.ItemDetails("Two", "child", "idea"), idempotency_key=key
    )
    assert created is True
    for bad in ("", "short", "x" * 65, "<script>"):
        item, created = svc.record_feedback(
            ours, world.volunteer, svc.ItemDetails("Three", "child", "idea"), idempotency_key=bad
        )
        assert created is True
        assert item.idempotency_key is None
    db.session.commit()


def test_nobody_logs_feedback_at_another_partnerships_event(world):
    other = factories.make_world("elsewhere")
    theirs = factories.make_event(other.partnership, created_by=other.volunteer)
    with pytest.raises(PermissionError):
        svc.record_feedback(theirs, world.volunteer, svc.ItemDetails("Something", "child", "idea"))


def test_events_for_splits_today_from_the_rest(world):
    today = svc.today()
    todays = factories.make_event(world.partnership, created_by=world.volunteer, held_on=today)
    older = [
        factories.make_event(
            world.partnership, created_by=world.volunteer, held_on=today - timedelta(days=n)
        )
        for n in (1, 2, 3)
    ]
    factories.make_event(world.partnership, created_by=world.coordinator, held_on=today)
    rows_today, rows_other, total = svc.events_for(
        world.partnership, world.volunteer, page=1, per_page=2
    )
    assert [r.event.id for r in rows_today] == [todays.id]
    assert all(r.is_today for r in rows_today)
    assert [r.event.id for r in rows_other] == [older[0].id, older[1].id]
    assert total == 3
    _, page_two, _ = svc.events_for(world.partnership, world.volunteer, page=2, per_page=2)
    assert [r.event.id for r in page_two] == [older[2].id]
    coordinator_today, _, _ = svc.events_for(world.partnership, world.coordinator)
    assert len(coordinator_today) == 2
