"""The personal-details check in Chromium: the marked raw text, the one-click redactions, the
approval page's findings and override, and the admin list of private words pass axe (WCAG 2.2
AA) and work without JavaScript."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from app.extensions import db
from app.models import PrivateTerm, Theme
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

RAW = "My son Sam, 9, at Oakfield Primary was sent home again. Ring me on 07700 900123."


def test_triage_marks_findings_and_takes_them_out(live_server, page_without_js, live_app):
    page = page_without_js
    world = factories.make_world()
    item = factories.make_feedback(world.partnership, raw_text=RAW)
    sign_in(page, live_server, world.coordinator.email)
    page.goto(f"{live_server}/triage/feedback/{item.id}")
    marks = page.locator("#raw-text mark")
    expect(marks).to_have_count(4)
    expect(page.locator("#personal-details")).to_contain_text(
        "found a name, a school, a child's age and a phone number"
    )
    page.get_by_role("button", name="Take them out of the rewritten wording").click()
    page.wait_for_url(re.compile(rf".*/triage/feedback/{item.id}(#redacted_text)?$"))
    expect(page.locator("#redacted_text")).to_have_value(
        "My son [name], [age], at [school] was sent home again. Ring me on [phone]."
    )


def test_the_pages_are_accessible(live_server, page, live_app):
    world = factories.make_world()
    db.session.add(
        PrivateTerm(partnership_id=world.partnership.id, kind="setting", term="Kids Hub")
    )
    db.session.commit()
    item = factories.make_feedback(world.partnership, raw_text=RAW + "\n\nThe Kids Hub helped.")
    theme = factories.make_theme(
        world.partnership,
        title="Waiting for the bus",
        statement="Families told us Mrs Khan at Oakfield Primary never rings back.",
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )
    sign_in(page, live_server, world.coordinator2.email)

    page.goto(f"{live_server}/triage/feedback/{item.id}")
    assert_accessible(page)

    page.goto(f"{live_server}/triage/approvals/{theme.id}")
    assert_accessible(page)
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    page.get_by_text("It is safe to publish as it is").click()
    page.get_by_role("button", name="Publish this text as it is").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    page.get_by_label("Why is it safe to publish this text as it is?").fill(
        "Mrs Khan asked to be thanked by name."
    )
    page.get_by_role("button", name="Publish this text as it is").click()
    expect(page.get_by_role("button", name="Approve and publish")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("Published the theme")
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "published"

    page.get_by_role("link", name="Sign out").or_(
        page.get_by_role("button", name="Sign out")
    ).click()
    sign_in(page, live_server, world.admin.email)
    page.goto(f"{live_server}/admin/private-words")
    assert_accessible(page)
    page.get_by_role("button", name="Add to the list").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    page.get_by_label("Words to look for").fill("Brookside\nHillcrest High")
    page.get_by_label("School").check()
    page.get_by_role("button", name="Add to the list").click()
    expect(page.locator("table")).to_contain_text("Hillcrest High")
    assert_accessible(page)
    page.get_by_role("button", name="Delete Brookside").click()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("taken off the list")
