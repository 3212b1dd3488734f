"""Consent and contact on the item form, and a session that ended while the form was open, in
Chromium on a phone-sized screen: accessible, with and without JavaScript."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Feedback
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SAID = "The new short breaks club in Reddish is brilliant, please keep it."


def _items() -> list[Feedback]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all())


def test_contact_questions_appear_only_when_they_want_to_hear_back(live_server, page, live_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")

    email = page.get_by_label("Email address")
    expect(email).to_be_hidden()
    page.get_by_label("They want to hear what happens").check()
    expect(email).to_be_visible()
    page.get_by_text("What to tell them about their privacy").click()
    expect(page.get_by_text("We never publish your name")).to_be_visible()
    page.get_by_text("Age, type of need and setting (optional)").click()
    assert_accessible(page)

    page.get_by_label("What did they say?").fill(SAID)
    page.get_by_label("Parent or carer").check()
    page.get_by_label("Working well").check()
    page.get_by_label("Primary").check()
    page.get_by_label("They agree we may quote what they said, without their name").check()
    email.fill("carer@example.org")
    page.get_by_role("button", name="Save item").click()

    expect(page.locator("#item-count")).to_contain_text("1 item")
    items = _items()
    assert [(i.raw_text, i.age_phase, i.may_quote) for i in items] == [(SAID, "primary", True)]
    assert items[0].contact.email == "carer@example.org"


def test_a_signed_out_volunteer_keeps_the_item_and_saves_it_after_signing_in(
    live_server, page_without_js, live_app
):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    page = page_without_js
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_label("What did they say?").fill(SAID)
    page.get_by_label("Young person", exact=True).check()
    page.get_by_label("Working well").check()
    # Hours pass: the session cookie is gone.
    page.context.clear_cookies()
    page.get_by_role("button", name="Save item").click()

    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible()
    expect(page.get_by_label("What they said")).to_have_value(SAID)
    assert _items() == []
    page.get_by_label("Email address").fill(world.volunteer.email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in and save").click()
    page.wait_for_url(re.compile(rf".*/capture/events/{event.id}$"))
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "This event has 1 item"
    )
    assert [(i.raw_text, i.respondent) for i in _items()] == [(SAID, "young_person")]


def test_the_signed_out_page_is_accessible(live_server, page, live_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_label("What did they say?").fill(SAID)
    page.context.clear_cookies()
    # A plain form post, as a browser without the offline script would send it.
    page.locator(f"form[action='/capture/events/{event.id}/feedback']").evaluate(
        "f => HTMLFormElement.prototype.submit.call(f)"
    )
    expect(page.get_by_role("heading", name="You have been signed out")).to_be_visible()
    assert_accessible(page)
