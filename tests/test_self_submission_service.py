"""The rules of an event's own link (app.services.self_submission), without HTTP."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Feedback, FeedbackContact
from app.models.vocab import Channel, FeedbackStatus
from app.services import capture, consent, qr
from app.services import self_submission as svc
from tests import factories


def _verbs(event) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.verb)
            .where(AuditEntry.object_type == "Event", AuditEntry.object_id == event.id)
            .order_by(AuditEntry.id)
        )
    )


def _details(**overrides) -> capture.ItemDetails:
    values = {
        "text": "The school bus never waits for my son.",
        "respondent": "parent_carer",
        "sentiment": "needs_change",
    }
    values.update(overrides)
    return capture.ItemDetails(**values)


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


def test_opening_makes_a_link_once_and_reopening_keeps_it(world, event):
    assert svc.link_state(event) is svc.LinkState.NOT_OPENED

    svc.open_link(event, world.volunteer)
    db.session.commit()
    token = event.self_submission_token
    assert token and len(token) == 14
    assert event.self_submission_open is True
    assert svc.link_state(event) is svc.LinkState.OPEN

    # Opening an open link changes nothing and writes nothing.
    svc.open_link(event, world.volunteer)
    svc.close_link(event, world.volunteer)
    db.session.commit()
    assert event.self_submission_open is False
    assert event.self_submission_token == token
    assert svc.link_state(event) is svc.LinkState.CLOSED
    svc.close_link(event, world.volunteer)

    svc.open_link(event, world.volunteer)
    db.session.commit()
    # A poster printed before closing works again.
    assert event.self_submission_token == token
    assert _verbs(event) == [
        "self_submission.opened",
        "self_submission.closed",
        "self_submission.reopened",
    ]


def test_every_event_gets_its_own_link(world, event):
    other = factories.make_event(world.partnership, created_by=world.volunteer)
    svc.open_link(event, world.volunteer)
    svc.open_link(other, world.volunteer)
    db.session.commit()
    assert event.self_submission_token != other.self_submission_token


def test_a_coordinator_may_open_a_volunteers_link(world, event):
    svc.open_link(event, world.coordinator)
    db.session.commit()
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.object_id == event.id)).one()
    assert entry.user_id == world.coordinator.id


@pytest.mark.parametrize("who", ["other_volunteer", "subgroup_lead", "board_viewer", "elsewhere"])
def test_only_the_events_volunteer_or_a_coordinator_may_change_the_link(world, event, who):
    if who == "other_volunteer":
        user = factories.make_user(world.partnership, "volunteer")
    elif who == "elsewhere":
        user = factories.make_world("elsewhere").coordinator
    else:
        user = getattr(world, who)
    with pytest.raises(PermissionError):
        svc.open_link(event, user)
    svc.open_link(event, world.volunteer)
    with pytest.raises(PermissionError):
        svc.close_link(event, user)
    assert event.self_submission_open is True


def test_finding_an_event_by_its_link(world, event):
    svc.open_link(event, world.volunteer)
    db.session.commit()
    token = event.self_submission_token
    assert svc.find_event(token) == event
    assert svc.find_open_event(token) == event
    for wrong in (None, "", "short", "x" * 65, token + "'--", token.upper() + "!"):
        assert svc.find_event(wrong) is None
    assert svc.find_event("A" * 22) is None

    svc.close_link(event, world.volunteer)
    db.session.commit()
    assert svc.find_event(token) == event
    assert svc.find_open_event(token) is None


def test_a_submission_is_a_new_private_item_with_its_consent(world, event):
    svc.open_link(event, world.volunteer)
    item, created = svc.submit(
        event,
        _details(
            may_quote=True,
            wants_reply=True,
            email="Parent@Example.org",
            phone="",
            priorities=[world.priorities["SEMH"].id],
        ),
        idempotency_key="0123456789abcdef",
    )
    db.session.commit()
    assert created
    assert item.channel == Channel.SELF_SUBMISSION.value
    assert item.entered_by_id is None
    assert item.event_id == event.id
    assert item.status == FeedbackStatus.NEW.value
    # Tagging is for the triage team, whatever the form sent.
    assert item.priorities == []
    assert item.may_quote and item.wants_reply
    assert item.consent_notice_version == consent.CURRENT_NOTICE.version
    assert item.consent_channel == Channel.SELF_SUBMISSION.value
    assert item.consent_recorded_at is not None
    contact = db.session.scalars(sa.select(FeedbackContact)).one()
    assert contact.feedback_id == item.id
    assert contact.email == "Parent@example.org"
    assert contact.delete_after == capture.today() + timedelta(
        days=world.partnership.contact_retention_days
    )

    again, created = svc.submit(event, _details(), idempotency_key="0123456789abcdef")
    assert (again.id, created) == (item.id, False)
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 1


def test_nothing_is_saved_through_a_closed_link(world, event):
    with pytest.raises(svc.LinkClosed):
        svc.submit(event, _details())
    svc.open_link(event, world.volunteer)
    svc.close_link(event, world.volunteer)
    with pytest.raises(svc.LinkClosed):
        svc.submit(event, _details())
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 0


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"respondent": "professional"}, "respondent"),
        ({"respondent": None}, "respondent"),
        ({"text": "  "}, "text"),
        ({"sentiment": "meh"}, "sentiment"),
        ({"wants_reply": True}, "email"),
    ],
)
def test_a_submission_follows_the_capture_rules(world, event, overrides, field):
    svc.open_link(event, world.volunteer)
    with pytest.raises(capture.CaptureError) as caught:
        svc.submit(event, _details(**overrides))
    assert caught.value.field == field


def test_the_qr_code_is_an_svg_with_a_text_alternative():
    drawing = str(qr.svg("https://example.org/say/abc", title="QR code", description='A "code"'))
    assert drawing.startswith('<svg role="img" aria-label="A &#34;code&#34;"')
    assert "<title>QR code</title>" in drawing
    assert "style=" not in drawing
