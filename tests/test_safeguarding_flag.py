"""Flagging a safeguarding concern, from capture or triage, and the alert it sends.

Whoever sees an item can flag it; the safeguarding leads, and nobody else, are e-mailed a link
to it and nothing more.
"""

from __future__ import annotations

from datetime import datetime

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Feedback, OutboxMessage
from app.models.vocab import Role
from app.services import safeguarding
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of

SAID = "Kestrel Road: my daughter says her stepdad locks her in the shed."
NOTE = "She looked frightened; mum asked us not to tell anyone."


@pytest.fixture
def event(world):
    return factories.make_event(
        world.partnership, created_by=world.volunteer, name="Autumn coffee morning"
    )


@pytest.fixture
def item(world, event) -> Feedback:
    return factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, raw_text=SAID
    )


def outbox() -> list[OutboxMessage]:
    return list(db.session.scalars(sa.select(OutboxMessage).order_by(OutboxMessage.id)))


def flag_url(item: Feedback) -> str:
    return f"/capture/feedback/{item.id}/safeguarding"


# --- From capture ------------------------------------------------------------------------------


def test_each_item_on_the_event_page_has_a_flag_link(client, auth, world, event, item):
    other = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{event.id}"))
    links = [
        a for a in page.select("[data-capture-items] a") if "safeguarding" in a.get_text().lower()
    ]
    assert [a["href"] for a in links] == [flag_url(other), flag_url(item)]
    # Link text that makes sense alone: each names its item for screen reader users.
    assert [" ".join(a.get_text(" ").split()) for a in links] == [
        "Flag a safeguarding concern about item 2",
        "Flag a safeguarding concern about item 1",
    ]


def test_the_flag_page_shows_what_was_said_and_asks_for_a_note(client, auth, world, item):
    world.partnership.safeguarding_contact_email = "safeguarding@council.example"
    db.session.commit()
    auth.login(world.volunteer)
    response = client.get(flag_url(item))
    assert response.status_code == 200
    page = soup(response)
    assert page.h1.get_text(strip=True) == "Flag a safeguarding concern"
    assert page.select_one("#raw-text").get_text(strip=True) == SAID
    assert "call 999" in text_of(response)
    assert page.select_one("a[href='mailto:safeguarding@council.example']") is not None
    form = page.select_one("main form")
    assert form["action"] == flag_url(item) and form.has_attr("novalidate")
    assert page.select_one("label[for=note]").get_text(strip=True) == "What is the concern?"
    assert page.select_one("a.govuk-back-link")["href"] == f"/capture/events/{item.event_id}"


def test_a_volunteer_flags_their_item_and_the_leads_get_only_a_link(client, auth, world, item):
    world.partnership.safeguarding_contact_email = "Safeguarding@Council.example"
    second_lead = factories.make_user(world.partnership, Role.SAFEGUARDING_LEAD)
    gone = factories.make_user(world.partnership, Role.SAFEGUARDING_LEAD)
    gone.active = False
    db.session.commit()
    elsewhere = factories.make_world("elsewhere")

    auth.login(world.volunteer)
    response = client.post(flag_url(item), data={"note": NOTE})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/capture/events/{item.event_id}"

    db.session.expire_all()
    assert item.safeguarding_flag
    assert item.safeguarding_note == NOTE
    assert item.safeguarding_flagged_by_id == world.volunteer.id
    assert item.safeguarding_flagged_at is not None
    assert item.safeguarding_opened_at is None and item.safeguarding_escalated_at is None

    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.safeguarding_flagged")
    ).one()
    assert (entry.object_type, entry.object_id) == ("Feedback", item.id)
    assert entry.user_id == world.volunteer.id
    assert entry.details == {"removed_from_theme_id": None}

    # One message per active lead of this partnership: not the contact (that is escalation),
    # not a deactivated lead, not another partnership's lead.
    messages = outbox()
    assert sorted(m.to for m in messages) == sorted(
        [world.safeguarding_lead.email.lower(), second_lead.email.lower()]
    )
    assert elsewhere.safeguarding_lead.email.lower() not in {m.to for m in messages}
    for message in messages:
        assert message.subject == "A safeguarding concern needs your attention"
        assert f"http://localhost/triage/safeguarding/{item.id}" in message.body
        for private in ("Kestrel", "stepdad", "shed", "frightened", "mum"):
            assert private not in message.body and private not in message.subject
        assert message.status == "pending"
        assert message.send_after == item.safeguarding_flagged_at
        assert message.partnership_id == world.partnership.id
    assert len({m.reference for m in messages}) == 2

    page = client.get(response.headers["Location"])
    assert "The safeguarding lead has been told" in text_of(page)
    assert SAID not in page.get_data(as_text=True)
    assert soup(page).select_one("#item-count strong").get_text() == "0"


def test_after_flagging_the_item_has_left_capture_for_its_author(client, auth, world, item):
    auth.login(world.volunteer)
    client.post(flag_url(item), data={"note": NOTE})
    assert client.get(flag_url(item)).status_code == 404
    assert client.post(flag_url(item), data={"note": "Again"}).status_code == 404
    assert client.get(f"/capture/feedback/{item.id}/edit").status_code == 404
    assert SAID not in client.get(f"/capture/events/{item.event_id}").get_data(as_text=True)
    assert len(outbox()) == 1


def test_a_note_is_needed_and_nothing_is_half_saved(client, auth, world, item):
    auth.login(world.volunteer)
    response = client.post(flag_url(item), data={"note": "   "})
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error: Flag a safeguarding concern")
    assert [a.get_text(strip=True) for a in page.select(".govuk-error-summary a")] == [
        "Enter a short note about the concern"
    ]
    assert error_for(page, "note") == "Error: Enter a short note about the concern"
    db.session.expire_all()
    assert not item.safeguarding_flag
    assert outbox() == []
    assert db.session.scalars(sa.select(AuditEntry)).all() == []


def test_a_note_that_is_too_long_is_kept_with_its_error(client, auth, world, item):
    auth.login(world.volunteer)
    note = "x" * (safeguarding.NOTE_MAX_LENGTH + 1)
    response = client.post(flag_url(item), data={"note": note})
    assert response.status_code == 200
    page = soup(response)
    assert error_for(page, "note") == "Error: The note must be 1000 characters or fewer"
    assert page.select_one("textarea#note").get_text() == note
    db.session.expire_all()
    assert not item.safeguarding_flag


def test_with_no_lead_the_contact_is_told_at_once(client, auth, world, item):
    world.partnership.safeguarding_contact_email = "safeguarding@council.example"
    world.safeguarding_lead.active = False
    db.session.commit()
    auth.login(world.volunteer)
    response = client.post(flag_url(item), data={"note": NOTE}, follow_redirects=True)
    assert "The safeguarding lead has been told" in text_of(response)
    assert [m.to for m in outbox()] == ["safeguarding@council.example"]


def test_with_nobody_to_tell_the_volunteer_is_told_so(client, auth, world, item):
    world.safeguarding_lead.active = False
    db.session.commit()
    auth.login(world.volunteer)
    response = client.post(flag_url(item), data={"note": NOTE}, follow_redirects=True)
    assert "no safeguarding lead to tell" in text_of(response)
    assert "Follow your safeguarding procedure now" in text_of(response)
    db.session.expire_all()
    assert item.safeguarding_flag
    assert outbox() == []


@pytest.mark.parametrize("role", ["coordinator", "admin"])
def test_coordinators_and_admins_flag_from_capture_too(client, auth, world, item, role):
    auth.login(getattr(world, role))
    response = client.post(flag_url(item), data={"note": NOTE})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.safeguarding_flag
    assert item.safeguarding_flagged_by_id == getattr(world, role).id


def test_a_subgroup_lead_flags_an_item_routed_to_them(client, auth, world, item):
    item.routed_subgroup_id = world.subgroups["CCE"].id
    db.session.commit()
    auth.login(world.other_lead)
    assert client.get(flag_url(item)).status_code == 404
    auth.logout()
    auth.login(world.subgroup_lead)
    response = client.post(flag_url(item), data={"note": NOTE})
    assert response.status_code == 302
    # Not their event: back to their events, not to a page they cannot open.
    assert response.headers["Location"] == "/capture/"
    db.session.expire_all()
    assert item.safeguarding_flag


@pytest.mark.parametrize("role", ["board_viewer", "safeguarding_lead"])
def test_roles_without_capture_are_refused(client, auth, world, item, role):
    auth.login(getattr(world, role))
    assert client.get(flag_url(item)).status_code == 403
    assert client.post(flag_url(item), data={"note": NOTE}).status_code == 403
    db.session.expire_all()
    assert not item.safeguarding_flag


def test_another_volunteers_item_is_not_found(client, auth, world, event, item):
    someone = factories.make_user(world.partnership, Role.VOLUNTEER)
    auth.login(someone)
    assert client.get(flag_url(item)).status_code == 404
    assert client.post(flag_url(item), data={"note": NOTE}).status_code == 404
    db.session.expire_all()
    assert not item.safeguarding_flag


def test_another_partnerships_item_is_not_found(client, auth, world, item):
    other = factories.make_world("elsewhere")
    auth.login(other.coordinator)
    assert client.get(flag_url(item)).status_code == 404
    assert client.post(flag_url(item), data={"note": NOTE}).status_code == 404
    assert client.get("/capture/feedback/999999/safeguarding").status_code == 404


def test_signed_out_people_are_sent_to_sign_in(client, world, item):
    response = client.get(flag_url(item))
    assert response.status_code == 302 and "/sign-in" in response.headers["Location"]


def test_an_expired_form_keeps_the_note(csrf_app, world, item):
    client = csrf_app.test_client()
    sign_in = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.volunteer.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in.get_data(as_text=True)),
        },
    )
    response = client.post(flag_url(item), data={"note": NOTE, "csrf_token": "stale"})
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("textarea#note").get_text() == NOTE
    assert "we did not send it yet" in text_of(response)
    db.session.expire_all()
    assert not item.safeguarding_flag

    # With the page's fresh token it goes through.
    token = csrf_token_from(response.get_data(as_text=True))
    sent = client.post(flag_url(item), data={"note": NOTE, "csrf_token": token})
    assert sent.status_code == 302
    db.session.expire_all()
    assert item.safeguarding_flag


# --- From triage -------------------------------------------------------------------------------


def test_a_coordinator_flags_in_triage_and_the_leads_are_alerted(client, auth, world, item):
    world.partnership.safeguarding_contact_email = "safeguarding@council.example"
    db.session.commit()
    auth.login(world.coordinator)
    response = client.post(f"/triage/feedback/{item.id}/safeguarding", data={"note": NOTE})
    assert response.status_code == 302
    db.session.expire_all()
    assert item.safeguarding_flag
    assert item.safeguarding_flagged_by_id == world.coordinator.id
    assert [m.to for m in outbox()] == [world.safeguarding_lead.email.lower()]
    assert SAID not in outbox()[0].body and NOTE not in outbox()[0].body


# --- The link in the e-mail --------------------------------------------------------------------


def sign_in_at(client, base_url: str, user) -> None:
    """Sign in through a request that named another host: the session cookie is that host's."""
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": factories.PASSWORD},
        base_url=base_url,
    )
    assert response.status_code == 302


def test_the_link_uses_base_url_whatever_host_the_request_named(app, client, world, item):
    app.config["BASE_URL"] = "https://feedback.example.gov.uk/ysyd/"
    sign_in_at(client, "http://attacker.example", world.volunteer)
    client.post(flag_url(item), data={"note": NOTE}, base_url="http://attacker.example")
    (message,) = outbox()
    assert f"https://feedback.example.gov.uk/ysyd/triage/safeguarding/{item.id}" in message.body
    assert "attacker" not in message.body


def test_without_base_url_a_request_links_to_where_it_came(app, client, world, item):
    app.config["BASE_URL"] = ""
    sign_in_at(client, "https://ysyd.example.org", world.volunteer)
    client.post(flag_url(item), data={"note": NOTE}, base_url="https://ysyd.example.org")
    (message,) = outbox()
    assert f"https://ysyd.example.org/triage/safeguarding/{item.id}" in message.body


def test_without_base_url_or_a_request_there_is_no_link_to_guess(app, world, item):
    app.config["BASE_URL"] = ""
    with pytest.raises(safeguarding.NoBaseUrl, match="Set BASE_URL"):
        safeguarding.flag(item, world.volunteer, NOTE)
    db.session.rollback()


# --- The service's own rules -------------------------------------------------------------------


def test_an_item_cannot_be_flagged_twice(world, item):
    safeguarding.flag(item, world.volunteer, NOTE, now=datetime(2026, 11, 24, 10, 0))
    db.session.commit()
    with pytest.raises(safeguarding.SafeguardingError, match="already flagged"):
        safeguarding.flag(item, world.coordinator, "Again")
    db.session.rollback()
    assert len(outbox()) == 1


def test_a_user_cannot_flag_another_partnerships_item(world, item):
    other = factories.make_world("elsewhere")
    with pytest.raises(PermissionError):
        safeguarding.flag(item, other.coordinator, NOTE)
    db.session.rollback()
    db.session.expire_all()
    assert not item.safeguarding_flag


def test_the_note_is_stored_as_plain_text(world, item):
    safeguarding.flag(item, world.volunteer, "<b>Worried</b> <script>x()</script>about her")
    db.session.commit()
    assert item.safeguarding_note == "Worried x()about her"


def test_flagging_a_themed_item_takes_it_out_of_its_theme(world, item):
    theme = factories.make_theme(world.partnership, feedback=[item])
    safeguarding.flag(item, world.coordinator, NOTE, now=datetime(2026, 11, 24, 10, 0))
    db.session.commit()
    assert item.theme_id is None and item.status == "triaged"
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert entry.details == {"removed_from_theme_id": theme.id}
    assert entry.at == datetime(2026, 11, 24, 10, 0)
