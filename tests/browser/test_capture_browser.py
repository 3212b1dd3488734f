"""Logging feedback in Chromium on a phone-sized screen: accessible, and working without
JavaScript, as a volunteer at a coffee morning with a poor signal would use it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Event, Feedback
from tests import factories
from tests.browser.conftest import PHONE, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _log_an_event_and_two_items(page: Page, base: str, *, check_accessibility: bool) -> None:
    page.goto(f"{base}/capture/")
    if check_accessibility:
        assert_accessible(page)
    page.get_by_role("button", name="Create an event").click()
    page.wait_for_url(f"{base}/capture/events/new")
    if check_accessibility:
        assert_accessible(page)

    # Sent empty first: the errors must be usable too.
    page.get_by_label("Adults").fill("lots")
    page.get_by_role("button", name="Save and log feedback").click()
    expect(page).to_have_title(re.compile(r"^Error: Create an event"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("Enter the name of the event")
    expect(summary).to_contain_text("Number of adults must be a whole number, like 12")
    if check_accessibility:
        assert_accessible(page)

    page.get_by_label("Event name").fill("Coffee morning at Marple Library")
    page.get_by_label("Coffee morning").check()
    page.get_by_label("Where did it take place?").fill("Marple Library")
    page.get_by_label("Adults").fill("14")
    page.get_by_label("Young people").fill("2")
    page.get_by_role("button", name="Save and log feedback").click()
    page.wait_for_url(re.compile(r".*/capture/events/[0-9]+$"))
    expect(page.get_by_role("heading", name="Coffee morning at Marple Library")).to_be_visible()
    if check_accessibility:
        assert_accessible(page)

    page.get_by_label("What did they say?").fill("Nobody explained what an EHCP is.")
    page.get_by_label("Parent or carer").check()
    page.get_by_label("Needs to change").check()
    page.get_by_label("SEMH: Priority SEMH").check()
    page.get_by_role("button", name="Save item").click()
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Saved. This event has 1 item.")
    # Who said it is remembered for the next item; the rest starts empty.
    assert page.get_by_label("Parent or carer").is_checked()
    assert page.get_by_label("What did they say?").input_value() == ""
    if check_accessibility:
        assert_accessible(page)

    page.get_by_label("What did they say?").fill("The short breaks club is brilliant.")
    page.get_by_label("Working well").check()
    page.get_by_role("button", name="Save item").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Saved. This event has 2 items."
    )
    expect(page.locator(".app-item-list li")).to_have_count(2)


def test_a_volunteer_logs_feedback_on_a_phone(live_server, page, live_app):
    world = factories.make_world()
    sign_in(page, live_server, world.volunteer.email)
    _log_an_event_and_two_items(page, live_server, check_accessibility=True)
    # The page fits the phone: nothing scrolls sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    page.get_by_role("link", name="Edit item 2").click()
    assert_accessible(page)
    page.get_by_label("What did they say?").fill("The short breaks club is really brilliant.")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Item saved.")

    page.get_by_role("link", name="Change").click()
    page.get_by_label("Children").fill("3")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".govuk-summary-list")).to_contain_text("3 children")

    page.get_by_role("link", name="All events").click()
    assert_accessible(page)
    expect(page.locator(".app-event-list .govuk-tag", has_text="Today")).to_have_count(1)

    items = db.session.scalars(sa.select(Feedback).order_by(Feedback.id)).all()
    assert [i.raw_text for i in items] == [
        "Nobody explained what an EHCP is.",
        "The short breaks club is really brilliant.",
    ]
    event = db.session.scalars(sa.select(Event)).one()
    db.session.refresh(event)
    assert (event.adults_count, event.young_people_count, event.children_count) == (14, 2, 3)


def test_logging_feedback_works_without_javascript(live_server, live_app, browser):
    world = factories.make_world()
    context = browser.new_context(viewport=PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, world.volunteer.email)
        _log_an_event_and_two_items(page, live_server, check_accessibility=False)
    finally:
        context.close()
    assert db.session.scalar(sa.select(sa.func.count(Feedback.id))) == 2
