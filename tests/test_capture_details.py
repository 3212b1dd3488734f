"""The volunteer's item form beyond the basics: optional details, consent and contact, the
privacy notice, and never losing what was typed when the page or the session expired."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, Feedback, FeedbackContact
from app.services import capture as svc
from app.services import consent
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of

TYPED = "We waited nine months for speech therapy and nobody rang us back."


def item_form(**overrides) -> dict:
    data = {
        "text": TYPED,
        "respondent": "parent_carer",
        "sentiment": "needs_change",
        "idempotency_key": uuid.uuid4().hex,
    }
    data.update(overrides)
    return data


def rows() -> list[Feedback]:
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all())


# The service


def test_consent_and_contact_are_recorded_with_the_notice_version(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item, _ = svc.record_feedback(
        event,
        world.volunteer,
        svc.ItemDetails(
            TYPED,
            "parent_carer",
            "needs_change",
            age_phase="primary",
            need_types=["semh", "communication_interaction", "semh"],
            setting="  Mainstream primary ",
            may_quote=True,
            wants_reply=True,
            email=" Parent@Example.org ",
            phone="07700 900 982",
        ),
    )
    db.session.commit()
    assert (item.age_phase, item.setting) == ("primary", "Mainstream primary")
    assert item.need_types == ["communication_interaction", "semh"]
    assert (item.may_quote, item.wants_reply) == (True, True)
    assert item.consent_notice_version == consent.CURRENT_NOTICE.version
    assert item.consent_channel == "event"
    assert item.consent_recorded_at is not None
    contact = db.session.scalars(sa.select(FeedbackContact)).one()
    assert (contact.email, contact.phone) == ("Parent@example.org", "07700900982")
    assert contact.notice_version == consent.CURRENT_NOTICE.version
    retention = timedelta(days=world.partnership.contact_retention_days)
    assert contact.delete_after == svc.today() + retention


def test_contact_is_not_kept_for_someone_who_does_not_want_to_hear_back(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item, _ = svc.record_feedback(
        event,
        world.volunteer,
        svc.ItemDetails(TYPED, "child", "idea", wants_reply=False, email="a@example.org"),
    )
    db.session.commit()
    assert item.contact is None
    assert db.session.scalars(sa.select(FeedbackContact)).all() == []


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"wants_reply": True}, "email", consent.ENTER_CONTACT),
        ({"wants_reply": True, "email": "not-an-email"}, "email", consent.EMAIL_INVALID),
        ({"wants_reply": True, "phone": "12345"}, "phone", consent.PHONE_INVALID),
        ({"age_phase": "toddler"}, "age_phase", svc.SELECT_AGE_PHASE),
        ({"need_types": ["semh", "magic"]}, "need_types", svc.SELECT_NEED_TYPES),
        ({"setting": "x" * 201}, "setting", svc.SETTING_TOO_LONG),
    ],
)
def test_bad_details_are_refused_naming_the_field(world, changes, field, message):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    with pytest.raises(svc.CaptureError) as caught:
        svc.record_feedback(
            event, world.volunteer, svc.ItemDetails(TYPED, "child", "idea", **changes)
        )
    assert (caught.value.field, caught.value.message) == (field, message)
    db.session.rollback()
    assert rows() == []


def test_withdrawing_the_wish_to_hear_back_deletes_the_contact(world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    details = svc.ItemDetails(TYPED, "child", "idea", wants_reply=True, email="a@example.org")
    item, _ = svc.record_feedback(event, world.volunteer, details)
    db.session.commit()
    details.wants_reply = False
    svc.update_feedback(item, world.volunteer, details)
    db.session.commit()
    assert db.session.scalars(sa.select(FeedbackContact)).all() == []
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "feedback.changed")
    ).one()
    assert "consent" in entry.details["fields"]
    assert "a@example.org" not in str(entry.details)


# The form


def test_the_form_saves_every_detail(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(
            age_phase="secondary",
            need_types=["sensory_physical"],
            setting="Special school",
            may_quote="y",
            wants_reply="y",
            email="carer@example.org",
        ),
    )
    assert response.status_code == 302
    item = rows()[0]
    assert (item.age_phase, item.need_types, item.setting) == (
        "secondary",
        ["sensory_physical"],
        "Special school",
    )
    assert item.may_quote and item.wants_reply
    assert item.contact.email == "carer@example.org"
    assert item.consent_notice_version == consent.CURRENT_NOTICE.version


def test_wanting_to_hear_back_without_contact_keeps_what_was_typed(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(wants_reply="y", setting="Nursery", need_types=["semh"]),
    )
    assert response.status_code == 200
    page = soup(response)
    assert error_for(page, "email").endswith(consent.ENTER_CONTACT)
    assert page.select_one("textarea[name=text]").get_text() == TYPED
    assert page.select_one("input[name=wants_reply]").has_attr("checked")
    assert page.select_one("input[name=setting]")["value"] == "Nursery"
    assert page.select_one("input[name=need_types][value=semh]").has_attr("checked")
    # The optional details open by themselves when they hold something.
    assert page.select_one("details.app-more-details").has_attr("open")
    assert rows() == []


def test_the_form_shows_the_privacy_notice_and_its_version(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    page = text_of(client.get(f"/capture/events/{event.id}"))
    assert "We never publish your name" in page
    assert f"version {consent.CURRENT_NOTICE.version}" in page


def test_editing_an_item_shows_and_changes_its_consent(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(wants_reply="y", phone="0161 496 0000"),
    )
    item = rows()[0]
    page = soup(client.get(f"/capture/feedback/{item.id}/edit"))
    assert page.select_one("input[name=phone]")["value"] == "01614960000"
    assert page.select_one("input[name=wants_reply]").has_attr("checked")
    response = client.post(f"/capture/feedback/{item.id}/edit", data=item_form(may_quote="y"))
    assert response.status_code == 302
    db.session.expire_all()
    item = db.session.get(Feedback, item.id)
    assert item.may_quote and not item.wants_reply
    assert item.contact is None


def test_the_privacy_notice_is_public_with_its_version(client, world):
    response = client.get("/privacy-notice")
    assert response.status_code == 200
    assert f"Version {consent.CURRENT_NOTICE.version}" in text_of(response)
    assert client.get(f"/privacy-notice/{consent.CURRENT_NOTICE.version}").status_code == 200
    assert client.get("/privacy-notice/1999-01").status_code == 404


# A page left open for hours


def _signed_in_csrf_client(csrf_app, user):
    client = csrf_app.test_client()
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"email": user.email, "password": factories.PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 302
    return client


def test_an_expired_form_token_keeps_what_was_typed(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client = _signed_in_csrf_client(csrf_app, world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(csrf_token="stale-token", setting="Special school", wants_reply="y"),
    )
    assert response.status_code == 400
    page = soup(response)
    assert page.select_one("textarea[name=text]").get_text() == TYPED
    assert page.select_one("input[name=setting]")["value"] == "Special school"
    assert "we did not save it yet" in text_of(response)
    assert rows() == []
    # The page it answered with carries a fresh token: saving again works.
    token = csrf_token_from(response.get_data(as_text=True))
    key = page.select_one("input[name=idempotency_key]")["value"]
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(csrf_token=token, idempotency_key=key),
    )
    assert response.status_code == 302
    assert [i.raw_text for i in rows()] == [TYPED]


def test_an_expired_token_on_an_edit_keeps_the_change(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    item = factories.make_feedback(world.partnership, event=event, entered_by=world.volunteer)
    client = _signed_in_csrf_client(csrf_app, world.volunteer)
    response = client.post(
        f"/capture/feedback/{item.id}/edit", data=item_form(text="Corrected words")
    )
    assert response.status_code == 400
    assert soup(response).select_one("textarea[name=text]").get_text() == "Corrected words"
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).raw_text != "Corrected words"


def test_an_expired_token_on_someone_elses_event_shows_nothing_of_it(csrf_app):
    world = factories.make_world()
    theirs = factories.make_event(world.partnership, created_by=world.coordinator, name="Secret")
    client = _signed_in_csrf_client(csrf_app, world.volunteer)
    response = client.post(f"/capture/events/{theirs.id}/feedback", data=item_form())
    assert response.status_code == 400
    assert "Secret" not in text_of(response)
    assert rows() == []


def test_a_signed_out_volunteer_signs_in_and_the_item_is_saved(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client = csrf_app.test_client()  # no session at all: the cookie expired
    key = uuid.uuid4().hex
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(
            idempotency_key=key,
            need_types=["semh", "sensory_physical"],
            wants_reply="y",
            email="carer@example.org",
        ),
    )
    assert response.status_code == 401
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "You have been signed out"
    assert page.select_one("textarea[name=text]").get_text() == TYPED
    form = page.select_one("form[action='/capture/resume']")
    kept = {}
    for field in form.select("input[type=hidden]"):
        kept.setdefault(field["name"], []).append(field["value"])
    assert kept["need_types"] == ["semh", "sensory_physical"]
    assert kept["idempotency_key"] == [key]
    assert rows() == []

    # A wrong password keeps everything and says so.
    data = {**kept, "text": TYPED, "signin-email": world.volunteer.email}
    response = client.post("/capture/resume", data={**data, "signin-password": "wrong"})
    assert response.status_code == 401
    assert "Enter a correct email address and password" in text_of(response)
    assert soup(response).select_one("textarea[name=text]").get_text() == TYPED
    assert rows() == []

    token = csrf_token_from(response.get_data(as_text=True))
    data["csrf_token"] = [token]
    response = client.post("/capture/resume", data={**data, "signin-password": factories.PASSWORD})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capture/events/{event.id}")
    saved = rows()
    assert [(i.raw_text, i.idempotency_key) for i in saved] == [(TYPED, key)]
    assert saved[0].need_types == ["semh", "sensory_physical"]
    assert saved[0].contact.email == "carer@example.org"
    # Posting the same page again (a double tap) does not save twice.
    client.post("/capture/resume", data={**data, "signin-password": factories.PASSWORD})
    assert len(rows()) == 1


def test_signing_in_again_does_not_let_a_wrong_role_save(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client = csrf_app.test_client()
    response = client.post(f"/capture/events/{event.id}/feedback", data=item_form())
    page = soup(response)
    data = {f["name"]: f["value"] for f in page.select("form input[type=hidden]")}
    data.update({"text": TYPED, "signin-password": factories.PASSWORD})
    for user, status in ((world.board_viewer, 403), (world.other_lead, 403)):
        fresh = csrf_app.test_client()
        token = csrf_token_from(fresh.get("/sign-in").get_data(as_text=True))
        response = fresh.post(
            "/capture/resume",
            data={**data, "csrf_token": token, "signin-email": user.email},
        )
        assert response.status_code == status, user.email
    assert rows() == []


def test_the_resume_page_refuses_a_post_without_its_token(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    client = csrf_app.test_client()
    response = client.post(
        "/capture/resume",
        data={
            **item_form(),
            "resume": f"add:{event.id}",
            "signin-email": world.volunteer.email,
            "signin-password": factories.PASSWORD,
        },
    )
    assert response.status_code == 400
    assert rows() == []


# What families send through the event's own link


def test_the_events_volunteer_sees_what_families_sent_but_cannot_change_it(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    other = factories.make_event(world.partnership, created_by=world.coordinator)
    sent = factories.make_feedback(
        world.partnership, event=event, channel="self_submission", raw_text="Sent by a parent"
    )
    elsewhere = factories.make_feedback(
        world.partnership, event=other, channel="self_submission", raw_text="At another event"
    )
    auth.login(world.volunteer)
    page = client.get(f"/capture/events/{event.id}")
    assert "Sent by a parent" in text_of(page)
    assert "sent by a family through the event's link" in text_of(page)
    assert "1 item logged at this event" in text_of(page)
    assert client.get(f"/capture/feedback/{sent.id}/edit").status_code == 403
    assert client.get(f"/capture/feedback/{elsewhere.id}/edit").status_code == 404


def test_a_bad_email_and_a_bad_phone_are_both_shown(client, auth, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    auth.login(world.volunteer)
    response = client.post(
        f"/capture/events/{event.id}/feedback",
        data=item_form(wants_reply="y", email="nope", phone="123"),
    )
    page = soup(response)
    assert error_for(page, "email").endswith(consent.EMAIL_INVALID)
    assert error_for(page, "phone").endswith(consent.PHONE_INVALID)
    assert rows() == []
