"""Triage in Chromium: the pages pass axe (WCAG 2.2 AA) and the bulk journey works."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Theme
from tests import factories
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def test_triage_pages_are_accessible_and_group_items_into_a_theme(live_server, page, live_app):
    world = factories.make_world()
    world.priorities["SEMH"].subgroups = [world.subgroups["CCE"]]
    db.session.commit()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    first = factories.make_feedback(
        world.partnership,
        event=event,
        raw_text="We waited two years for an autism assessment.",
        priorities=[world.priorities["SEMH"]],
    )
    second = factories.make_feedback(
        world.partnership, event=event, raw_text="Nobody tells us where we are on the list."
    )
    factories.make_theme(world.partnership, title="Transport", subgroup=world.subgroups["QPMI"])

    page.goto(f"{live_server}/sign-in")
    page.get_by_label("Email address").fill(world.coordinator.email)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/home")

    page.goto(f"{live_server}/triage/")
    assert page.get_by_role("heading", name="Triage", exact=True).is_visible()
    assert_accessible(page)

    # Nothing selected: the error summary, accessible too.
    page.get_by_role("button", name="Group selected into a new theme").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)

    page.get_by_label(f"Select item {first.id},").check()
    page.get_by_label(f"Select item {second.id},").check()
    page.get_by_role("button", name="Group selected into a new theme").click()
    page.wait_for_url(f"{live_server}/triage/themes/new?*")
    assert_accessible(page)

    page.get_by_label("Title").fill("Waiting for autism assessments")
    page.get_by_role("button", name="Save theme").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    assert page.get_by_label("Title").input_value() == "Waiting for autism assessments"

    page.get_by_label('"You said" statement').fill(
        "Families told us the wait for an autism assessment is too long."
    )
    page.get_by_label("Sub-group CCE").check()
    page.get_by_role("button", name="Save theme").click()
    page.wait_for_url(f"{live_server}/triage/themes/*")
    assert page.get_by_text("2 feedback items from 1 event").is_visible()
    assert_accessible(page)

    slugs = set(db.session.scalars(sa.select(Theme.slug)))
    assert "waiting-for-autism-assessments" in slugs

    page.goto(f"{live_server}/triage/feedback/{first.id}")
    assert_accessible(page)
    page.goto(f"{live_server}/triage/themes")
    assert_accessible(page)
