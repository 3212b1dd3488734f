"""Families and young people using an event's link on a small phone (360 by 640), and the
volunteer printing its poster: accessible (axe-core), and working without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from playwright.sync_api import Browser, Page, expect

from app.extensions import db
from app.models import Feedback, FeedbackContact
from app.services import self_submission as svc
from tests import factories
from tests.browser.conftest import AXE, assert_accessible, sign_in

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 640}
SAID = "The new sensory room at the library is brilliant, please keep it open on Saturdays."


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    # bypass_csp lets the test inject axe-core; the app's own pages never need inline script.
    context = browser.new_context(viewport=SMALL_PHONE, bypass_csp=True)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def phone_without_js(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport=SMALL_PHONE, java_script_enabled=False)
    page = context.new_page()
    page.set_default_timeout(10_000)
    yield page
    context.close()


@pytest.fixture
def world_and_event(live_app):
    world = factories.make_world()
    event = factories.make_event(
        world.partnership, created_by=world.volunteer, name="Coffee morning at Marple Library"
    )
    svc.open_link(event, world.volunteer)
    db.session.commit()
    return world, event


def _fits_the_screen(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= SMALL_PHONE["width"]


def _rows() -> list[Feedback]:
    db.session.expire_all()
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)))


def test_a_parent_sends_the_form_with_the_contact_question_revealed(
    live_server, phone, world_and_event
):
    _world, event = world_and_event
    page = phone
    page.goto(f"{live_server}/say/{event.self_submission_token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell us what you think")
    assert_accessible(page)
    _fits_the_screen(page)

    # The contact boxes stay hidden until they ask to hear back.
    email = page.get_by_label("Email address")
    expect(email).to_be_hidden()
    page.get_by_label("What do you want to tell us?").fill(SAID)
    page.get_by_label("A parent or carer").check()
    page.get_by_label("Something that is working well").check()
    page.get_by_label("You may quote what I said without my name").check()
    page.get_by_label("I want to hear what happens").check()
    expect(email).to_be_visible()

    # Sent without a way to reach them: told so next to the box, nothing lost.
    page.get_by_role("button", name="Send").click()
    expect(page).to_have_title(re.compile(r"^Error: Tell us what you think"))
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text(
        "Enter an email address or a phone number, so we can tell you what happens"
    )
    expect(page.get_by_label("What do you want to tell us?")).to_have_value(SAID)
    expect(page.get_by_label("Email address")).to_be_visible()
    assert_accessible(page)
    assert _rows() == []

    summary.get_by_role("link").click()
    expect(page.get_by_label("Email address")).to_be_focused()
    page.get_by_label("Email address").fill("parent@example.org")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/thanks$"))
    expect(page.locator(".govuk-panel")).to_contain_text("We have your message")
    expect(page.get_by_role("heading", name="What happens next")).to_be_visible()
    assert_accessible(page)
    _fits_the_screen(page)

    (item,) = _rows()
    assert item.raw_text == SAID
    assert item.channel == "self_submission"
    assert item.entered_by_id is None
    assert (item.respondent, item.sentiment, item.may_quote, item.wants_reply) == (
        "parent_carer",
        "working_well",
        True,
        True,
    )
    contact = db.session.scalars(sa.select(FeedbackContact)).one()
    assert contact.email == "parent@example.org"


def test_the_young_peoples_form_is_accessible_and_sends(live_server, phone, world_and_event):
    _world, event = world_and_event
    page = phone
    page.goto(f"{live_server}/say/{event.self_submission_token}/young")
    expect(page.get_by_role("heading", level=1)).to_have_text("Have your say")
    assert_accessible(page)
    _fits_the_screen(page)

    # Sent empty: the errors are accessible too.
    page.get_by_role("button", name="Send").click()
    expect(page.locator(".govuk-error-summary")).to_contain_text("Write what you want to tell us")
    assert_accessible(page)

    page.get_by_label("What do you want to tell us?").fill("I like the quiet room at school.")
    page.get_by_role("radio", name="Good", exact=True).check()
    page.get_by_label("I am under 16").check()
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/young/thanks$"))
    expect(page.locator(".govuk-panel")).to_contain_text("We got your message")
    assert_accessible(page)
    (item,) = _rows()
    assert (item.respondent, item.sentiment) == ("child", "working_well")


def test_the_form_works_without_javascript(live_server, phone_without_js, world_and_event):
    _world, event = world_and_event
    page = phone_without_js
    page.goto(f"{live_server}/say/{event.self_submission_token}")
    # Without the script every question shows, the contact boxes included.
    expect(page.get_by_label("Email address")).to_be_visible()
    page.get_by_label("What do you want to tell us?").fill(SAID)
    page.get_by_label("Someone else").check()
    page.get_by_label("An idea").check()
    page.get_by_label("I want to hear what happens").check()
    page.get_by_label("Phone number").fill("07700 900 982")
    page.get_by_role("button", name="Send").click()
    page.wait_for_url(re.compile(r".*/thanks$"))
    (item,) = _rows()
    assert item.contact is not None and item.contact.phone == "07700900982"


def test_closed_and_unknown_links_are_accessible(live_server, phone, world_and_event):
    world, event = world_and_event
    page = phone
    page.goto(f"{live_server}/say/AAAAAAAAAAAAAAAAAAAAAA")
    expect(page.get_by_role("heading", level=1)).to_have_text("We cannot find this form")
    assert_accessible(page)

    svc.close_link(event, world.volunteer)
    db.session.commit()
    page.goto(f"{live_server}/say/{event.self_submission_token}")
    expect(page.get_by_role("heading", level=1)).to_have_text("This form is closed")
    assert_accessible(page)


def _panel_violations(page: Page) -> list:
    page.wait_for_load_state("load")
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => await axe.run('#self-submission', {runOnly: {type: 'tag', values: [
            'wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa']}})"""
    )
    return [(v["id"], [n["target"] for n in v["nodes"]]) for v in result["violations"]]


def _printed_pages(page: Page) -> int:
    # page.pdf lays the page out for print, as the browser's Print does.
    pdf = page.pdf(format="A4", prefer_css_page_size=True)
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def test_the_volunteer_opens_the_link_and_prints_an_accessible_one_page_poster(
    live_server, phone, live_app
):
    world = factories.make_world()
    event = factories.make_event(
        world.partnership, created_by=world.volunteer, name="Coffee morning at Marple Library"
    )
    page = phone
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_role("button", name="Open a link for this event").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("The link is open.")
    assert _panel_violations(page) == []
    db.session.refresh(event)
    token = event.self_submission_token
    expect(page.get_by_label("Link for parents and carers")).to_have_value(
        f"{live_server}/say/{token}"
    )

    page.get_by_role("link", name="Print the poster for parents and carers").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Tell us what you think")
    expect(page.get_by_role("img", name=re.compile("QR code"))).to_be_visible()
    expect(page.locator(".app-poster__url")).to_have_text(f"{live_server}/say/{token}")
    assert_accessible(page)
    _fits_the_screen(page)

    # On paper: one A4 sheet each, without the website's header or footer.
    assert _printed_pages(page) == 1
    page.get_by_role("link", name="Get the poster for young people").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Have your say")
    expect(page.locator(".app-poster__url")).to_have_text(f"{live_server}/say/{token}/young")
    assert_accessible(page)
    assert _printed_pages(page) == 1
    page.emulate_media(media="print")
    for website_part in (".app-header", ".govuk-footer", ".govuk-back-link", ".app-no-print"):
        expect(page.locator(website_part)).to_be_hidden()
    expect(page.locator(".app-poster svg")).to_be_visible()
    page.emulate_media(media="null")

    # Closing it from the event page.
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_role("button", name="Close the link").click()
    expect(page.locator("#self-submission .govuk-tag")).to_have_text("Closed")
    assert _panel_violations(page) == []
