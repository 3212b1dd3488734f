"""Never lose a word, in Chromium on a 360x640 phone: items saved with no signal are kept on
the phone, survive a reload, and reach the server exactly once when the signal comes back,
however many of the sends fail on the way."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from flask import Flask, request
from playwright.sync_api import BrowserContext, Page, Route, expect

from app.extensions import db
from app.models import Event, Feedback
from app.services import capture as svc
from tests import factories
from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

SMALL_PHONE = {"width": 360, "height": 640}
PAGES_CACHE = "ysyd-capture-pages-v1"


@pytest.fixture
def phone(browser) -> Iterator[BrowserContext]:
    # bypass_csp lets the test inject axe-core; the app's own pages never need inline script.
    context = browser.new_context(viewport=SMALL_PHONE, bypass_csp=True)
    context.set_default_timeout(15_000)
    yield context
    context.close()


def _todays_event(world: factories.World) -> Event:
    return factories.make_event(
        world.partnership, created_by=world.volunteer, name="Coffee morning", held_on=svc.today()
    )


def _open_and_keep_for_offline(page: Page, url: str) -> None:
    """Open the page online once, then wait until the service worker has kept a copy."""
    page.goto(url)
    page.evaluate("navigator.serviceWorker.ready.then(() => true)")
    deadline = time.monotonic() + 15
    # Polled from here: wait_for_function does not wait for an async predicate's promise.
    while not page.evaluate(
        """async ([name, url]) => {
            const cache = await caches.open(name);
            return Boolean(await cache.match(url, {ignoreVary: true}));
        }""",
        [PAGES_CACHE, url],
    ):
        assert time.monotonic() < deadline, "the service worker did not keep the page"
        page.wait_for_timeout(100)


def _status(page: Page):
    return page.locator("[data-capture-status]")


def _save(page: Page, text: str, *, who: str | None = None, kind: str = "Needs to change"):
    page.get_by_label("What did they say?").fill(text)
    if who:
        page.get_by_label(who).check()
    page.get_by_label(kind).check()
    page.get_by_role("button", name="Save item").click()
    # Saved (on the phone or on the server): the form is empty and ready for the next item.
    expect(page.get_by_label("What did they say?")).to_have_value("")
    expect(page.get_by_label("What did they say?")).to_be_focused()


def _record_requests(app: Flask) -> list[str]:
    """The paths the live server is asked for, to prove an offline phone asked for none."""
    seen: list[str] = []

    @app.before_request
    def _record() -> None:
        seen.append(request.path)

    return seen


def _texts_in_database() -> list[str]:
    db.session.expire_all()
    return [f.raw_text for f in db.session.scalars(sa.select(Feedback).order_by(Feedback.id))]


def test_twenty_items_saved_offline_reach_the_server_exactly_once(live_server, live_app, phone):
    requests_seen = _record_requests(live_app)
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    event_url = f"{live_server}/capture/events/{event.id}"
    _open_and_keep_for_offline(page, event_url)

    phone.set_offline(True)
    requests_seen.clear()
    texts = [f"Item {n}: the wait for a speech and language assessment" for n in range(1, 21)]
    for number, text in enumerate(texts, start=1):
        _save(page, text, who="Parent or carer" if number == 1 else None)
        expect(_status(page)).to_contain_text(f"Offline: {number} saved on this phone")
    expect(_status(page)).to_have_text(
        "Offline: 20 saved on this phone, they will be sent when you are back online."
    )
    # "Who said it" stays chosen from one item to the next.
    expect(page.get_by_label("Parent or carer")).to_be_checked()
    assert _texts_in_database() == []

    # Reloading with no signal: the service worker shows the page, and nothing is lost.
    reloaded = page.reload()
    assert reloaded is not None and reloaded.from_service_worker
    expect(page.get_by_role("heading", name="Coffee morning")).to_be_visible()
    expect(_status(page)).to_contain_text("Offline: 20 saved on this phone")
    waiting = page.locator("[data-capture-waiting] li")
    expect(waiting).to_have_count(20)
    expect(waiting.first).to_contain_text(texts[0])
    assert_accessible(page)
    # A capture page never opened on this phone: a page that says so, with the items listed.
    page.goto(f"{live_server}/capture/events/new")
    expect(page.get_by_role("heading", name="You are offline")).to_be_visible()
    expect(page.locator("[data-capture-waiting] li")).to_have_count(20)
    assert_accessible(page)
    page.goto(event_url)
    assert requests_seen == [], "the server heard from a phone that was meant to be offline"

    # Back online, the first try of every other item fails: half never reach the server, half
    # are saved but the answer is lost on the way back.
    attempts: dict[str, int] = {}
    dropped: list[str] = []

    def flaky(route: Route) -> None:
        key = json.loads(route.request.post_data or "{}")["idempotency_key"]
        attempts[key] = attempts.get(key, 0) + 1
        first_try_of_an_odd_one = attempts[key] == 1 and len(attempts) % 2 == 1
        if not first_try_of_an_odd_one:
            route.continue_()
        elif len(attempts) % 4 == 1:
            route.abort("internetdisconnected")
        else:
            route.fetch()
            dropped.append(key)
            route.abort("connectionreset")

    # The page sends the items (capture-offline.js), not the service worker, which leaves
    # JSON requests alone: so route interception sees every send. context.route is used here;
    # page.route sees them too (checked), though the worker controls the page.
    phone.route("**/capture/events/*/items.json", flaky)
    phone.set_offline(False)
    expect(_status(page)).to_contain_text("All sent.", timeout=90_000)
    expect(_status(page)).to_have_text("All sent. This event has 20 items.")
    expect(page.locator("#item-count")).to_have_text("20 items logged at this event")
    expect(waiting).to_have_count(0)

    saved = _texts_in_database()
    assert sorted(saved) == sorted(texts)
    assert len(set(saved)) == 20
    assert len(attempts) == 20
    assert sum(1 for n in attempts.values() if n > 1) == 10
    assert dropped, "no answer was lost: the test did not check that a retry is not a duplicate"
    assert_accessible(page)


def test_online_an_item_is_sent_at_once_and_the_count_goes_up(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")

    _save(page, "Nobody explained what an EHCP is.", who="Parent or carer")
    # What the page says after a save without JavaScript, and the item is in the list below.
    expect(page.locator(".govuk-notification-banner--success")).to_have_text(
        "Saved. This event has 1 item."
    )
    expect(page.locator("#item-count")).to_have_text("1 item logged at this event")
    expect(page.locator(".app-item-list li")).to_contain_text(["Nobody explained what an EHCP"])
    expect(page.get_by_role("link", name="Edit item 1")).to_be_visible()
    assert _texts_in_database() == ["Nobody explained what an EHCP is."]
    assert_accessible(page)


def test_an_item_missing_answers_is_not_kept_and_the_errors_show(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    title = page.title()

    page.get_by_role("button", name="Save item").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_be_focused()
    expect(summary.locator("li")).to_have_text(
        [svc.ENTER_TEXT, svc.SELECT_RESPONDENT, svc.SELECT_SENTIMENT]
    )
    expect(page.locator("#text-error")).to_have_text(f"Error: {svc.ENTER_TEXT}")
    assert page.title() == f"Error: {title}"
    assert_accessible(page)
    summary.get_by_role("link", name=svc.ENTER_TEXT).click()
    expect(page.get_by_label("What did they say?")).to_be_focused()

    # Fixed, it saves, and the errors go.
    _save(page, "The short breaks club is brilliant.", who="Young person", kind="Working well")
    expect(summary).to_have_count(0)
    expect(page.locator(".govuk-error-message")).to_have_count(0)
    assert page.title() == title
    assert _texts_in_database() == ["The short breaks club is brilliant."]


def test_an_item_the_server_refuses_stays_in_the_form_with_its_error(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")

    page.get_by_label("What did they say?").fill("Please tell me what happens.")
    page.get_by_label("Parent or carer").check()
    page.get_by_label("An idea").check()
    page.get_by_label("They want to hear what happens").check()
    # Looks like an address to the phone; the server knows a domain cannot start with "-".
    page.get_by_label("Email address").fill("parent@-example.org")
    page.get_by_role("button", name="Save item").click()

    expect(page.locator(".govuk-error-summary")).to_contain_text(
        "Enter an email address in the correct format"
    )
    expect(page.get_by_label("What did they say?")).to_have_value("Please tell me what happens.")
    expect(page.get_by_label("Email address")).to_have_value("parent@-example.org")
    expect(page.locator("[data-capture-waiting] li")).to_have_count(0)
    assert _texts_in_database() == []
    assert_accessible(page)


def test_a_form_left_open_until_its_token_expired_still_saves(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    # As if the page had been open since yesterday: its token no longer matches.
    page.evaluate(
        "document.querySelectorAll('input[name=csrf_token]').forEach(i => { i.value = 'stale'; })"
    )
    _save(page, "The letters from the council are hard to read.", who="Parent or carer")
    expect(_status(page)).to_have_text("Saved. This event has 1 item.")
    assert _texts_in_database() == ["The letters from the council are hard to read."]


def test_a_session_that_ended_keeps_the_item_until_signing_in_again(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    event_url = f"{live_server}/capture/events/{event.id}"
    page.goto(event_url)

    # Signed out elsewhere (or the session ran out) while this page stayed open.
    world.volunteer.session_token = "ended-elsewhere"
    db.session.commit()
    _save(page, "Transport to school keeps changing.", who="Parent or carer")
    sign_in_link = _status(page).get_by_role("link")
    expect(sign_in_link).to_have_text("Sign in again to send 1 item (opens in new tab)")
    expect(sign_in_link).to_have_attribute("target", "_blank")
    expect(page.locator("[data-capture-waiting] li")).to_contain_text(
        "Transport to school keeps changing."
    )
    assert_accessible(page)
    assert _texts_in_database() == []

    with phone.expect_page() as opened:
        sign_in_link.click()
    other_tab = opened.value
    other_tab.get_by_label("Email address").fill(world.volunteer.email)
    other_tab.get_by_label("Password", exact=True).fill(factories.PASSWORD)
    other_tab.get_by_role("button", name="Sign in").click()
    other_tab.wait_for_url(event_url)
    expect(_status(other_tab)).to_have_text("All sent. This event has 1 item.")
    assert _texts_in_database() == ["Transport to school keeps changing."]


def test_signing_out_forgets_the_kept_pages_but_not_the_items(live_server, live_app, phone):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    event_url = f"{live_server}/capture/events/{event.id}"
    _open_and_keep_for_offline(page, event_url)
    phone.set_offline(True)
    _save(page, "The portal logs me out all the time.", who="Parent or carer")
    # Still not through when they sign out: the save never reaches the server.
    phone.route("**/capture/events/*/items.json", lambda route: route.abort("failed"))
    phone.set_offline(False)

    warnings: list[str] = []

    def accept(dialog) -> None:
        warnings.append(dialog.message)
        dialog.accept()

    page.on("dialog", accept)
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(f"{live_server}/you-said-we-did")
    assert warnings == [
        "1 item has not been sent yet. They stay on this phone and are sent when you sign in "
        "here again. Sign out anyway?"
    ]
    kept = page.evaluate("caches.keys()")
    assert not [name for name in kept if name.startswith("ysyd-capture-pages")], kept

    phone.unroute("**/capture/events/*/items.json")
    sign_in(page, live_server, world.volunteer.email)
    # Any page for this person sends what waits, here their home page.
    expect(_status(page)).to_have_text("All sent.")
    assert _texts_in_database() == ["The portal logs me out all the time."]


def test_an_item_the_server_will_never_take_stays_until_the_person_decides(
    live_server, live_app, phone
):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    event_url = f"{live_server}/capture/events/{event.id}"
    _open_and_keep_for_offline(page, event_url)
    phone.set_offline(True)
    _save(page, "Nobody answers the phone at the SEND team.", who="Parent or carer")

    # Meanwhile the event was handed to someone else: this volunteer may no longer add to it.
    event.created_by = world.coordinator
    db.session.commit()
    phone.set_offline(False)

    item = page.locator("[data-capture-waiting] li")
    expect(item).to_contain_text("Not sent: You can no longer add items to this event.")
    expect(_status(page)).to_contain_text("1 could not be sent")
    assert_accessible(page)

    page.get_by_role("button", name="Put it back in the form").click()
    expect(page.get_by_label("What did they say?")).to_have_value(
        "Nobody answers the phone at the SEND team."
    )

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Remove from this phone").click()
    expect(item).to_have_count(0)
    assert _texts_in_database() == []


def test_without_javascript_the_form_posts_and_saves(live_server, live_app, page_without_js):
    world = factories.make_world()
    event = _todays_event(world)
    page = page_without_js
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    page.get_by_label("What did they say?").fill("The new speech therapist is great.")
    page.get_by_label("Parent or carer").check()
    page.get_by_label("Working well").check()
    page.get_by_role("button", name="Save item").click()
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text(
        "Saved. This event has 1 item."
    )
    # Nothing for a script to fill in: the status region stays empty.
    expect(page.locator("[data-capture-status]")).to_be_empty()
    assert _texts_in_database() == ["The new speech therapist is great."]


def test_the_service_worker_runs_under_the_content_security_policy(live_server, live_app, browser):
    world = factories.make_world()
    event = _todays_event(world)
    # No bypass_csp here: the real policy, as a phone gets it.
    context = browser.new_context(viewport=SMALL_PHONE)
    try:
        page = context.new_page()
        refused: list[str] = []
        page.on(
            "console",
            lambda message: (
                refused.append(message.text) if "Content Security Policy" in message.text else None
            ),
        )
        sign_in(page, live_server, world.volunteer.email)
        _open_and_keep_for_offline(page, f"{live_server}/capture/events/{event.id}")
        context.set_offline(True)
        reloaded = page.reload()
        assert reloaded is not None and reloaded.from_service_worker
        expect(page.get_by_role("heading", name="Coffee morning")).to_be_visible()
        # The page's own script still runs from the worker's copy: the form is taken over.
        _save(page, "Saved under the real policy.", who="Parent or carer")
        expect(_status(page)).to_contain_text("Offline: 1 saved on this phone")
        assert refused == []
    finally:
        context.close()


def test_a_page_that_is_not_the_servers_answer_is_not_taken_for_success(
    live_server, live_app, phone
):
    world = factories.make_world()
    event = _todays_event(world)
    page = phone.new_page()
    sign_in(page, live_server, world.volunteer.email)
    page.goto(f"{live_server}/capture/events/{event.id}")
    answers = {"portal": 0}

    def wifi_portal_once(route: Route) -> None:
        # A venue's wifi asking the phone to accept its terms: 200, but not from our server.
        if answers["portal"] == 0:
            answers["portal"] += 1
            route.fulfill(status=200, content_type="text/html", body="<p>Accept our terms</p>")
        else:
            route.continue_()

    phone.route("**/capture/events/*/items.json", wifi_portal_once)
    _save(page, "The school would not let me in to the annual review.", who="Parent or carer")
    expect(_status(page)).to_have_text("All sent. This event has 1 item.", timeout=15_000)
    assert _texts_in_database() == ["The school would not let me in to the annual review."]
