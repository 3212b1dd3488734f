"""Answering a theme and approving it, in Chromium on a phone-sized screen: accessible (axe-core,
WCAG 2.2 AA), with JavaScript (conditional questions revealed) and without it."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Action, Theme
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()


def _theme(world) -> Theme:
    item = factories.make_feedback(
        world.partnership, raw_text="We waited 18 months and nobody told us why."
    )
    return factories.make_theme(
        world.partnership,
        title="Waiting for assessments",
        slug="waiting-for-assessments",
        statement="Families told us they wait too long for an assessment and hear nothing.",
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )


def test_a_lead_answers_and_a_coordinator_approves(live_server, page, live_app):
    world = factories.make_world()
    theme = _theme(world)
    base = live_server

    sign_in(page, base, world.subgroup_lead.email)
    page.goto(f"{base}/respond/")
    assert_accessible(page)
    page.get_by_role("link", name="Waiting for assessments").click()
    page.wait_for_url(f"{base}/respond/themes/{theme.id}")
    assert_accessible(page)
    page.get_by_role("button", name="Add an action").click()
    page.wait_for_url(f"{base}/respond/themes/{theme.id}/actions/new")
    assert_accessible(page)

    # With JavaScript, the date question appears only once "We will" is chosen.
    target = page.locator("#target_date-day")
    assert not target.is_visible()
    page.get_by_label("We will").check()
    assert target.is_visible()
    page.get_by_role("button", name="Save action").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    summary = page.locator(".govuk-error-summary").inner_text()
    assert "Enter the date you expect it to be done" in summary
    assert "Enter what was done or what will be done" in summary
    assert_accessible(page)

    target.fill("31")
    page.locator("#target_date-month").fill("3")
    page.locator("#target_date-year").fill("2027")
    page.get_by_label("What was done, or what will be done?").fill(
        "We will write to every family on the waiting list each month."
    )
    page.get_by_role("button", name="Save action").click()
    page.wait_for_url(f"{base}/respond/themes/{theme.id}#action-*")
    assert "Action saved" in page.locator(".govuk-notification-banner--success").inner_text()
    _sign_out(page)

    sign_in(page, base, world.coordinator2.email)
    page.goto(f"{base}/triage/approvals")
    assert_accessible(page)
    page.get_by_role("link", name="Waiting for assessments").click()
    assert_accessible(page)
    page.get_by_role("button", name="Approve and publish").click()
    banner = page.locator(".govuk-notification-banner--success").inner_text()
    assert "Published the theme and 1 action." in banner
    assert_accessible(page)

    # Withdrawing without a reason is explained next to the field.
    page.get_by_role("button", name="Withdraw the theme").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert (
        "Enter why you are withdrawing it"
        in page.locator("#withdraw").locator("xpath=following-sibling::form[1]").inner_text()
    )
    assert_accessible(page)
    page.get_by_label("Why are you withdrawing it?").last.fill("Duplicate of another theme.")
    page.get_by_role("button", name="Withdraw the theme").click()
    assert (
        "withdrawn from the public pages"
        in page.locator(".govuk-notification-banner--success").inner_text()
    )
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "withdrawn"


def test_the_action_form_works_without_javascript(live_server, page_without_js, live_app):
    world = factories.make_world()
    theme = _theme(world)
    page, base = page_without_js, live_server
    sign_in(page, base, world.subgroup_lead.email)
    page.goto(f"{base}/respond/themes/{theme.id}/actions/new")
    # Every conditional question is shown when scripts do not run.
    assert page.locator("#reason").is_visible()
    page.get_by_label("We can't").check()
    page.get_by_label("What was done, or what will be done?").fill("We cannot open on Sundays.")
    page.get_by_role("button", name="Save action").click()
    assert "Enter why it cannot be done" in page.locator(".govuk-error-summary").inner_text()
    page.get_by_label("Why can it not be done?").fill("The building is closed on Sundays.")
    page.get_by_role("button", name="Save action").click()
    page.wait_for_url(f"{base}/respond/themes/{theme.id}#action-*")
    action = db.session.scalars(sa.select(Action)).one()
    assert action.kind == "we_cant" and action.status == "not_possible"
