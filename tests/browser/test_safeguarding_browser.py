"""Safeguarding in Chromium: a volunteer flags an item at an event, the safeguarding lead reads
it and records what was done. Every page passes axe (WCAG 2.2 AA), and the journey works
without JavaScript."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Feedback, OutboxMessage, SafeguardingDecision
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SAID = "My son says the man next door hurts him when I am at work."
NOTE = "Mum was upset and asked what happens next."


def _scene():
    world = factories.make_world()
    event = factories.make_event(
        world.partnership, created_by=world.volunteer, name="Autumn coffee morning"
    )
    item = factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, raw_text=SAID
    )
    factories.make_feedback(
        world.partnership, event=event, entered_by=world.volunteer, raw_text="More ramps."
    )
    return world, event, item


def test_a_volunteer_flags_and_the_lead_records_a_decision(live_server, page, live_app):
    world, event, item = _scene()

    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_role("link", name="Flag a safeguarding concern about item 1").click()
    page.wait_for_url(f"{live_server}/capture/feedback/{item.id}/safeguarding")
    expect(page.get_by_role("heading", name="Flag a safeguarding concern")).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Flag as a safeguarding concern").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)

    page.get_by_label("What is the concern?").fill(NOTE)
    page.get_by_role("button", name="Flag as a safeguarding concern").click()
    page.wait_for_url(f"{live_server}/capture/events/{event.id}")
    expect(page.get_by_text("The safeguarding lead has been told")).to_be_visible()
    assert SAID not in page.content()
    assert_accessible(page)

    db.session.expire_all()
    assert db.session.get(Feedback, item.id).safeguarding_flag
    (alert,) = db.session.scalars(sa.select(OutboxMessage)).all()
    link = re.search(r"https?://\S+/triage/safeguarding/\d+", alert.body)
    assert link is not None and SAID not in alert.body

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, world.safeguarding_lead.email)
    page.get_by_role("link", name="Safeguarding", exact=True).first.click()
    page.wait_for_url(f"{live_server}/triage/safeguarding")
    assert_accessible(page)

    page.get_by_role("link", name=f"Read flagged item {item.id}").click()
    page.wait_for_url(f"{live_server}/triage/safeguarding/{item.id}")
    expect(page.get_by_text(SAID)).to_be_visible()
    assert_accessible(page)

    page.get_by_role("button", name="Save the record").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    # The error summary's links lead to the questions.
    page.get_by_role("link", name="Select what was done").click()
    expect(page.get_by_label("Referral made")).to_be_focused()

    page.get_by_label("Referral made").check()
    page.get_by_label("Day").fill("23")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Time it was done").fill("9:15am")
    page.get_by_label("Reason").fill("Referred to children's services by phone.")
    page.get_by_role("button", name="Save the record").click()
    page.wait_for_url(f"{live_server}/triage/safeguarding/{item.id}#decisions")
    expect(page.get_by_text("The decision is recorded.")).to_be_visible()
    expect(page.get_by_role("heading", name="Referral made", level=3)).to_be_visible()
    assert_accessible(page)

    decision = db.session.scalars(sa.select(SafeguardingDecision)).one()
    assert decision.outcome == "referral_made"


def test_flagging_and_recording_work_without_javascript(live_server, page_without_js, live_app):
    world, event, item = _scene()
    page = page_without_js

    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/feedback/{item.id}/safeguarding")
    page.get_by_label("What is the concern?").fill(NOTE)
    page.get_by_role("button", name="Flag as a safeguarding concern").click()
    page.wait_for_url(f"{live_server}/capture/events/{event.id}")
    expect(page.get_by_text("The safeguarding lead has been told")).to_be_visible()

    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, world.safeguarding_lead.email)
    page.goto(f"{live_server}/triage/safeguarding/{item.id}")
    page.get_by_label("No further action").check()
    page.get_by_label("Day").fill("23")
    page.get_by_label("Month").fill("11")
    page.get_by_label("Year").fill("2026")
    page.get_by_label("Time it was done").fill("midday")
    page.get_by_label("Reason").fill("The school already knew and had acted.")
    page.get_by_role("button", name="Save the record").click()
    page.wait_for_url(f"{live_server}/triage/safeguarding/{item.id}#decisions")
    expect(page.get_by_role("heading", name="No further action", level=3)).to_be_visible()
