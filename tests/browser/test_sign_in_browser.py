import re

import pytest
from playwright.sync_api import expect

from tests import factories
from tests.browser.conftest import assert_accessible

pytestmark = pytest.mark.browser


def test_sign_in_page_is_accessible_and_signs_in(live_server, page, live_app):
    world = factories.make_world()
    page.goto(f"{live_server}/sign-in")
    assert_accessible(page)
    page.get_by_label("Email address").fill(world.coordinator.email)
    page.get_by_label("Password", exact=True).fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    page.locator(".govuk-error-summary").wait_for()
    expect(page).to_have_title(re.compile(r"^Error:"))
    assert_accessible(page)
    page.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{live_server}/home")
    assert page.get_by_role("heading", name="Your work").is_visible()
    assert_accessible(page)
