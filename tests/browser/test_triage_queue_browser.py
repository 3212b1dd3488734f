"""The triage queue in Chromium at phone width: filter, select, route in bulk; with JavaScript
(and axe, WCAG 2.2 AA) and without it."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect

from app.extensions import db
from app.models import Feedback
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser


def _queue(world) -> tuple[list[Feedback], list[Feedback]]:
    """Two items at a coffee morning and three at a park event, all waiting."""
    world.priorities["SEMH"].subgroups = [world.subgroups["CCE"]]
    db.session.commit()
    coffee = factories.make_event(world.partnership, created_by=world.volunteer)
    park = factories.make_event(
        world.partnership, name="Park event", kind="park_event", held_on=date(2026, 9, 5)
    )
    here = [
        factories.make_feedback(world.partnership, event=coffee, raw_text=f"Coffee item {n}")
        for n in range(2)
    ]
    there = [
        factories.make_feedback(
            world.partnership,
            event=park,
            respondent="young_person",
            raw_text=f"Park item {n}",
            received_on=date(2026, 9, 5),
        )
        for n in range(3)
    ]
    return here, there


def _filter_to_the_park_event(page: Page, base: str) -> None:
    page.goto(f"{base}/triage/")
    expect(page.get_by_role("heading", name="Triage", exact=True)).to_be_visible()
    page.get_by_text("Filter items").click()
    page.get_by_label("Event").select_option(label="Park event (5 September 2026)")
    page.get_by_label("Who said it").select_option(label="Young person")
    page.get_by_role("button", name="Apply filters").click()
    page.wait_for_url(re.compile(r".*/triage/\?.*event=.*"))
    expect(page.locator("#result-count")).to_contain_text("3 items match these filters")


def _route_two(page: Page, there: list[Feedback]) -> None:
    page.get_by_label(f"Select item {there[0].id},").check()
    page.get_by_label(f"Select item {there[2].id},").check()
    page.get_by_label("Sub-group to route them to").select_option(label="CCE: Sub-group CCE")
    page.get_by_role("button", name="Route selected to this sub-group").click()


def _assert_routed(world, here: list[Feedback], there: list[Feedback]) -> None:
    db.session.expire_all()
    cce = world.subgroups["CCE"].id
    assert [i.routed_subgroup_id for i in there] == [cce, None, cce]
    assert [i.status for i in there] == ["triaged", "new", "triaged"]
    assert [i.routed_subgroup_id for i in here] == [None, None]


def test_filter_select_and_route_in_bulk_at_phone_width(live_server, page, live_app):
    world = factories.make_world()
    here, there = _queue(world)
    base = live_server
    sign_in(page, base, world.coordinator.email)

    page.goto(f"{base}/triage/")
    expect(page.locator("#waiting")).to_contain_text("5 new items are waiting for triage")
    assert_accessible(page)

    _filter_to_the_park_event(page, base)
    for item in here:
        expect(page.get_by_label(f"Select item {item.id},")).to_have_count(0)
    assert_accessible(page)

    # Nothing chosen: the GOV.UK error summary, the ticked boxes kept.
    page.get_by_label(f"Select item {there[1].id},").check()
    page.get_by_role("button", name="Route selected to this sub-group").click()
    expect(page).to_have_title(re.compile(r"^Error:"))
    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Select a sub-group to route the selected items to"
    )
    expect(page.get_by_label(f"Select item {there[1].id},")).to_be_checked()
    assert_accessible(page)
    page.get_by_label(f"Select item {there[1].id},").uncheck()

    _route_two(page, there)
    banner = page.locator(".govuk-notification-banner--success")
    expect(banner).to_contain_text("Routed 2 items to CCE.")
    # Back on the same filtered list, where only the item left waiting remains.
    expect(page.locator("#result-count")).to_contain_text("1 item matches these filters")
    assert_accessible(page)
    _assert_routed(world, here, there)


def test_filter_select_and_route_in_bulk_without_javascript(live_server, page_without_js, live_app):
    world = factories.make_world()
    here, there = _queue(world)
    page, base = page_without_js, live_server
    sign_in(page, base, world.coordinator.email)

    _filter_to_the_park_event(page, base)
    _route_two(page, there)
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Routed 2 items to CCE."
    )
    _assert_routed(world, here, there)

    # Selecting every row is a link, so it needs no script either.
    page.get_by_role("link", name="Select all 1 item on this page").click()
    expect(page.get_by_label(f"Select item {there[1].id},")).to_be_checked()
    page.get_by_role("button", name="Mark selected not for publication").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Marked 1 item not for publication."
    )
    db.session.expire_all()
    assert there[1].not_for_publication
