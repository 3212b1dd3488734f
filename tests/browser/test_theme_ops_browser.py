"""Merging, splitting and moving in Chromium at phone width: every page passes axe (WCAG 2.2
AA), the journeys work with CSRF on, and moving items works without JavaScript."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa
from playwright.sync_api import expect

from app.extensions import db
from app.models import Feedback, Theme
from tests import factories
from tests.browser.conftest import PHONE, assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _world_with_themes():
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    park = factories.make_event(world.partnership, name="Park event", kind="park_event")
    items = [
        factories.make_feedback(world.partnership, event=event, raw_text=text, status="themed")
        for text in (
            "We waited two years for an autism assessment.",
            "Nobody tells us where we are on the list.",
            "The letters about the list never come.",
        )
    ]
    items.append(
        factories.make_feedback(
            world.partnership,
            event=park,
            raw_text="Speech therapy stopped when he moved school.",
            respondent="young_person",
        )
    )
    first = factories.make_theme(
        world.partnership,
        title="Waiting for autism assessments",
        subgroup=world.subgroups["QPMI"],
        feedback=items[:3],
    )
    second = factories.make_theme(
        world.partnership,
        title="Waiting for assessments",
        subgroup=world.subgroups["CCE"],
        feedback=items[3:],
    )
    return world, first, second, items


def _fits_the_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_split_and_merge_at_phone_width_are_accessible(live_server, page, live_app):
    world, first, second, items = _world_with_themes()
    second_id = second.id
    sign_in(page, live_server, world.coordinator.email)

    page.goto(f"{live_server}/triage/themes/{first.id}")
    assert_accessible(page)
    _fits_the_phone(page)

    # Split: nothing ticked first, so the split page says what to do.
    page.get_by_role("button", name="Split selected into a new theme").click()
    page.wait_for_url(f"{live_server}/triage/themes/{first.id}/split")
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    page.get_by_label(f"Select item {items[1].id},").check()
    page.get_by_label(f"Select item {items[2].id},").check()
    page.get_by_role("button", name="Create the new theme").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    _fits_the_phone(page)
    page.get_by_label("Title").fill("Keeping families informed")
    page.get_by_label('"You said" statement').fill(
        "Families told us nobody tells them where they are on the waiting list."
    )
    page.get_by_label("Sub-group CCE").check()
    page.get_by_role("button", name="Create the new theme").click()
    expect(page.get_by_role("heading", name="Keeping families informed")).to_be_visible()
    expect(page.locator(".govuk-notification-banner")).to_contain_text("with 2 items taken from")
    expect(page.locator("#voices")).to_have_text("2 feedback items from 1 event")
    assert_accessible(page)
    new = db.session.scalars(sa.select(Theme).where(Theme.title == "Keeping families informed"))
    new_theme = new.one()
    assert {i.id for i in new_theme.feedback} == {items[1].id, items[2].id}

    # Merge "Waiting for assessments" into the new theme.
    page.get_by_role("link", name="Merge another theme into this one").click()
    page.wait_for_url(f"{live_server}/triage/themes/{new_theme.id}/merge")
    assert_accessible(page)
    page.get_by_role("button", name="Continue").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    page.get_by_label("Which theme do you want to merge into this one?").select_option(
        label="Waiting for assessments"
    )
    page.get_by_role("button", name="Continue").click()
    page.wait_for_url(f"{live_server}/triage/themes/{new_theme.id}/merge/{second_id}")
    expect(page.get_by_role("heading", name="Check before you merge these themes")).to_be_visible()
    expect(page.locator("#plan")).to_contain_text("“Waiting for assessments” is deleted.")
    assert_accessible(page)
    _fits_the_phone(page)
    page.get_by_role("button", name="Merge themes").click()
    page.wait_for_url(f"{live_server}/triage/themes/{new_theme.id}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        '"Waiting for assessments" is merged into this theme'
    )
    expect(page.locator("#voices")).to_have_text("3 feedback items from 2 events")
    expect(page.locator("#respondents")).to_have_text("Parent or carer, Young person")
    assert_accessible(page)
    db.session.expire_all()
    assert db.session.get(Theme, second_id) is None


def test_moving_items_works_without_javascript(live_server, page_without_js, live_app):
    world, first, second, items = _world_with_themes()
    page = page_without_js
    sign_in(page, live_server, world.coordinator.email)

    page.goto(f"{live_server}/triage/themes/{first.id}")
    page.get_by_label(f"Select item {items[0].id},").check()
    page.get_by_role("button", name="Move selected to another theme").click()
    page.wait_for_url(f"{live_server}/triage/themes/{first.id}/move")
    expect(page.get_by_label(f"Select item {items[0].id},")).to_be_checked()
    page.get_by_label("Which theme should they move to?").select_option(
        label="Waiting for assessments"
    )
    page.get_by_role("button", name="Move items").click()
    page.wait_for_url(f"{live_server}/triage/themes/{first.id}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        '1 item moved to "Waiting for assessments".'
    )
    expect(page.locator("#voices")).to_have_text("2 feedback items from 1 event")
    db.session.expire_all()
    assert db.session.get(Feedback, items[0].id).theme_id == second.id


def test_move_page_and_theme_suggestions_are_accessible(live_server, page, live_app):
    world, first, _, _ = _world_with_themes()
    item = factories.make_feedback(
        world.partnership, raw_text="Still waiting for the autism assessment after a year."
    )
    sign_in(page, live_server, world.coordinator.email)

    page.goto(f"{live_server}/triage/themes/{first.id}/move")
    page.get_by_role("button", name="Move items").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    _fits_the_phone(page)

    page.goto(f"{live_server}/triage/feedback/{item.id}")
    panel = page.locator("#themes-like-this")
    expect(panel.get_by_role("link").first).to_have_text("Waiting for autism assessments")
    assert_accessible(page)
    # The theme's title, visually hidden, tells the buttons apart for screen reader users.
    name = re.compile(r"^Add to this theme\s*: Waiting for autism assessments$")
    panel.get_by_role("button", name=name).click()
    page.wait_for_url(f"{live_server}/triage/feedback/{item.id}")
    expect(page.locator(".govuk-notification-banner")).to_contain_text(
        'is added to "Waiting for autism assessments"'
    )
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).theme_id == first.id
