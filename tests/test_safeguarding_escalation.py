"""An alert nobody opens is sent again and escalated: the service with a frozen clock, and
`flask safeguarding escalate` as cron runs it."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import AuditEntry, Feedback, OutboxMessage
from app.models.vocab import Role
from app.services import safeguarding
from tests import factories

FLAGGED_AT = datetime(2026, 11, 24, 10, 0)
SAID = "Kestrel Road: my daughter says her stepdad locks her in the shed."
NOTE = "She looked frightened."
CONTACT = "safeguarding@council.example"


@pytest.fixture
def item(world) -> Feedback:
    world.partnership.safeguarding_contact_email = CONTACT
    db.session.commit()
    made = factories.make_feedback(world.partnership, raw_text=SAID, entered_by=world.volunteer)
    safeguarding.flag(made, world.volunteer, NOTE, now=FLAGGED_AT)
    db.session.commit()
    return made


def messages(template: str | None = None) -> list[OutboxMessage]:
    stmt = sa.select(OutboxMessage).order_by(OutboxMessage.id)
    if template:
        stmt = stmt.where(OutboxMessage.template == template)
    return list(db.session.scalars(stmt))


def escalate(at: datetime) -> list[safeguarding.Escalation]:
    done = safeguarding.escalate_unopened(now=at)
    db.session.commit()
    return done


def test_an_unopened_alert_is_escalated_after_the_set_time(world, item):
    assert escalate(FLAGGED_AT + timedelta(hours=24)) == []
    later = FLAGGED_AT + timedelta(hours=24, minutes=1)
    (done,) = escalate(later)
    assert (done.item_id, done.leads, done.contact, done.sent) == (item.id, 1, CONTACT, True)

    sent = messages("safeguarding_escalation")
    assert [m.to for m in sent] == [world.safeguarding_lead.email.lower(), CONTACT]
    for message in sent:
        assert message.subject == "A safeguarding concern needs your attention"
        assert f"http://localhost/triage/safeguarding/{item.id}" in message.body
        assert "more than 24 hours ago" in message.body
        for private in ("Kestrel", "stepdad", "shed", "frightened"):
            assert private not in message.body
        assert message.send_after == later
    assert "also been escalated to the partnership's safeguarding contact" in sent[0].body
    assert "escalated to you as" in sent[1].body and world.partnership.name in sent[1].body

    db.session.expire_all()
    assert item.safeguarding_escalated_at == later
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.safeguarding_escalated")
    ).one()
    assert (entry.object_type, entry.object_id, entry.actor) == ("Feedback", item.id, "system")
    assert entry.details == {"sent_to_leads": 1, "sent_to_contact": True}
    assert entry.at == later


def test_escalating_is_idempotent(world, item):
    later = FLAGGED_AT + timedelta(hours=30)
    assert len(escalate(later)) == 1
    count = len(messages())
    assert escalate(later) == []
    assert escalate(later + timedelta(days=3)) == []
    assert len(messages()) == count


def test_an_opened_alert_is_never_escalated(client, auth, world, item):
    with time_machine.travel(FLAGGED_AT + timedelta(hours=2), tick=False):
        auth.login(world.safeguarding_lead)
        assert client.get(f"/triage/safeguarding/{item.id}").status_code == 200
    db.session.expire_all()
    assert item.safeguarding_opened_at == FLAGGED_AT + timedelta(hours=2)
    assert escalate(FLAGGED_AT + timedelta(days=5)) == []
    assert messages("safeguarding_escalation") == []


def test_opening_is_recorded_the_first_time_only(client, auth, world, item):
    second = factories.make_user(world.partnership, Role.SAFEGUARDING_LEAD)
    with time_machine.travel(FLAGGED_AT + timedelta(hours=1), tick=False):
        auth.login(world.safeguarding_lead)
        client.get(f"/triage/safeguarding/{item.id}")
        auth.logout()
    with time_machine.travel(FLAGGED_AT + timedelta(hours=3), tick=False):
        auth.login(second)
        client.get(f"/triage/safeguarding/{item.id}")
    db.session.expire_all()
    assert item.safeguarding_opened_at == FLAGGED_AT + timedelta(hours=1)
    opened = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.safeguarding_opened")
    ).all()
    assert [(e.user_id, e.object_id, e.details) for e in opened] == [
        (world.safeguarding_lead.id, item.id, {})
    ]


def test_the_queue_does_not_count_as_opening_the_item(client, auth, world, item):
    auth.login(world.safeguarding_lead)
    client.get("/triage/safeguarding")
    db.session.expire_all()
    assert item.safeguarding_opened_at is None


def test_each_partnership_has_its_own_set_time(world, item):
    other = factories.make_world("elsewhere")
    other.partnership.safeguarding_escalation_hours = 2
    db.session.commit()
    theirs = factories.make_feedback(other.partnership, raw_text="Their worry.")
    safeguarding.flag(theirs, other.coordinator, "Their note", now=FLAGGED_AT)
    db.session.commit()

    (done,) = escalate(FLAGGED_AT + timedelta(hours=3))
    assert done.item_id == theirs.id
    # Their lead only: never this partnership's people.
    assert [m.to for m in messages("safeguarding_escalation")] == [
        other.safeguarding_lead.email.lower()
    ]
    assert item.safeguarding_escalated_at is None


def test_without_a_contact_the_leads_are_still_told(world, item):
    world.partnership.safeguarding_contact_email = None
    second = factories.make_user(world.partnership, Role.SAFEGUARDING_LEAD)
    db.session.commit()
    (done,) = escalate(FLAGGED_AT + timedelta(hours=25))
    assert (done.leads, done.contact, done.sent) == (2, None, True)
    sent = messages("safeguarding_escalation")
    assert [m.to for m in sent] == [world.safeguarding_lead.email.lower(), second.email.lower()]
    # No claim that a contact was told when there is none.
    assert all("safeguarding contact" not in m.body for m in sent)
    assert item.safeguarding_escalated_at is not None


def test_a_contact_who_is_also_a_lead_gets_one_message(world, item):
    world.partnership.safeguarding_contact_email = world.safeguarding_lead.email.upper()
    db.session.commit()
    escalate(FLAGGED_AT + timedelta(hours=25))
    assert [m.to for m in messages("safeguarding_escalation")] == [
        world.safeguarding_lead.email.lower()
    ]


def test_with_nobody_to_tell_the_item_stays_due(world, item):
    world.partnership.safeguarding_contact_email = None
    world.safeguarding_lead.active = False
    db.session.commit()
    (done,) = escalate(FLAGGED_AT + timedelta(hours=25))
    assert done.sent is False
    assert item.safeguarding_escalated_at is None
    assert messages("safeguarding_escalation") == []
    # Still reported on the next run, until someone is set up to receive it.
    assert [d.item_id for d in escalate(FLAGGED_AT + timedelta(hours=26))] == [item.id]


def test_an_item_flagged_without_a_recorded_time_counts_from_when_it_was_logged(world):
    imported = factories.make_feedback(
        world.partnership, safeguarding_flag=True, safeguarding_note="Imported"
    )
    logged = imported.created_at
    assert escalate(logged + timedelta(hours=23)) == []
    assert [d.item_id for d in escalate(logged + timedelta(hours=25))] == [imported.id]


def test_decided_items_that_were_opened_stay_quiet(world, item):
    safeguarding.record_decision(
        item,
        world.safeguarding_lead,
        outcome="advice_given",
        acted_at=datetime(2026, 11, 24, 11, 0),
        reason="Called the family.",
        now=FLAGGED_AT + timedelta(hours=2),
    )
    db.session.commit()
    assert item.safeguarding_opened_at == FLAGGED_AT + timedelta(hours=2)
    assert escalate(FLAGGED_AT + timedelta(days=2)) == []


# --- The command -------------------------------------------------------------------------------


def test_the_command_escalates_and_says_what_it_did(runner, world, item):
    with time_machine.travel(FLAGGED_AT + timedelta(hours=25), tick=False):
        result = runner.invoke(args=["safeguarding", "escalate"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == (
        f"Item {item.id} ({world.partnership.name}): unopened after 24 hours; sent again to "
        f"1 safeguarding lead and escalated to the safeguarding contact {CONTACT}."
    )
    db.session.expire_all()
    assert item.safeguarding_escalated_at == FLAGGED_AT + timedelta(hours=25)
    assert len(messages("safeguarding_escalation")) == 2

    with time_machine.travel(FLAGGED_AT + timedelta(hours=25, minutes=15), tick=False):
        again = runner.invoke(args=["safeguarding", "escalate"])
    assert again.exit_code == 0
    assert again.output.strip() == (
        "2026-11-25 11:15 UTC: no unopened safeguarding alerts are due for escalation."
    )
    assert len(messages("safeguarding_escalation")) == 2


def test_the_command_says_when_there_is_no_contact(runner, world, item):
    world.partnership.safeguarding_contact_email = None
    db.session.commit()
    with time_machine.travel(FLAGGED_AT + timedelta(hours=25), tick=False):
        result = runner.invoke(args=["safeguarding", "escalate"])
    assert result.exit_code == 0
    assert "sent again to 1 safeguarding lead" in result.output
    assert "has no safeguarding contact to escalate to" in result.output


def test_the_command_fails_loudly_when_nobody_can_be_told(runner, world, item):
    world.partnership.safeguarding_contact_email = None
    world.safeguarding_lead.active = False
    db.session.commit()
    with time_machine.travel(FLAGGED_AT + timedelta(hours=25), tick=False):
        result = runner.invoke(args=["safeguarding", "escalate"])
    assert result.exit_code == 1
    assert "NOT escalated" in result.output
    assert "no active safeguarding lead and no safeguarding contact" in result.output


def test_the_command_needs_base_url_for_its_links(app, runner, world, item):
    app.config["BASE_URL"] = ""
    with time_machine.travel(FLAGGED_AT + timedelta(hours=25), tick=False):
        result = runner.invoke(args=["safeguarding", "escalate"])
    assert result.exit_code == 1
    assert "Set BASE_URL" in result.output
    db.session.expire_all()
    assert item.safeguarding_escalated_at is None
    assert messages("safeguarding_escalation") == []


def test_two_runs_at_once_send_once(runner, world, item):
    # The other run got there first and wrote the same message, with the same reference.
    db.session.add(
        OutboxMessage(
            partnership_id=world.partnership.id,
            reference=f"safeguarding-{item.id}-escalation-{world.safeguarding_lead.id}",
            to=world.safeguarding_lead.email,
            subject=safeguarding.ALERT_SUBJECT,
            body="Sent by the other run",
            template="safeguarding_escalation",
        )
    )
    db.session.commit()
    with time_machine.travel(FLAGGED_AT + timedelta(hours=25), tick=False):
        result = runner.invoke(args=["safeguarding", "escalate"])
    assert result.exit_code == 0
    assert "Another run" in result.output
    assert [m.body for m in messages("safeguarding_escalation")] == ["Sent by the other run"]
