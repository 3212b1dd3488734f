"""Pasting notes and importing a spreadsheet, in Chromium on a phone-sized screen: every step
accessible (axe-core, WCAG 2.2 AA), errors shown next to the item they belong to."""

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

NOTES = """- The wait for an autism assessment is far too long
- The family hub drop-in really helped us
- Nobody explained what an EHCP is"""

CSV = (
    "What they said,Who said it,Kind of feedback\n"
    "The school transport form is confusing,Parent,needs to change\n"
    ",Parent,idea\n"
    "Short breaks club is brilliant,Young person,working well\n"
)


def _texts() -> list[str]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Feedback.raw_text).order_by(Feedback.id)).all())


def test_pasted_notes_are_checked_then_saved(live_server, page, live_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_role("link", name="Paste from notes").click()
    expect(page.get_by_role("heading", name="Paste from notes")).to_be_visible()
    assert_accessible(page)

    page.get_by_label("Your notes").fill(NOTES)
    page.get_by_role("button", name="Continue").click()
    expect(page.get_by_role("heading", name="Check the items before you save them")).to_be_visible()
    assert_accessible(page)

    # Nobody chose who said them: each item asks, next to itself.
    page.get_by_role("button", name=re.compile(r"^Save all")).click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.locator(".govuk-error-summary")).to_contain_text("item 2")
    assert_accessible(page)
    assert _texts() == []

    for select in page.locator("select[name$='-respondent']").all():
        select.select_option("parent_carer")
    for select in page.locator("select[name$='-sentiment']").all():
        select.select_option("needs_change")
    page.get_by_label("Remove item 2").check()
    page.get_by_role("button", name=re.compile(r"^Save all")).click()
    page.wait_for_url(re.compile(rf".*/capture/events/{event.id}$"))
    assert _texts() == [
        "The wait for an autism assessment is far too long",
        "Nobody explained what an EHCP is",
    ]


def test_a_spreadsheet_is_mapped_checked_and_saved(live_server, page, live_app, tmp_path):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    sheet = tmp_path / "coffee-morning.csv"
    sheet.write_text(CSV, encoding="utf-8")
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_role("link", name="Import a spreadsheet").click()
    assert_accessible(page)

    page.get_by_role("button", name="Upload and continue").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)

    page.locator("input[type=file]").set_input_files(str(sheet))
    page.get_by_role("button", name="Upload and continue").click()
    expect(page.get_by_role("heading", name="Choose which column is which")).to_be_visible()
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your file before saving")).to_be_visible()
    expect(page.locator("main")).to_contain_text("Row 3")
    assert_accessible(page)
    assert _texts() == []
    page.get_by_role("button", name=re.compile(r"^Save 2 rows")).click()
    page.wait_for_url(re.compile(rf".*/capture/events/{event.id}$"))
    assert _texts() == [
        "The school transport form is confusing",
        "Short breaks club is brilliant",
    ]
