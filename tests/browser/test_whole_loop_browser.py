"""The whole "You said, we did" loop through the real pages, as each role, in Chromium.

1. an admin imports the strategy and creates accounts (flask commands);
2. a volunteer, on a phone, creates today's event and logs what people said;
3. a coordinator triages an item, writes a redacted wording and groups items into a theme;
4. the sub-group lead answers with actions and a progress update;
5. another coordinator approves, and later withdraws with a reason;
6. anyone reads the public page, the theme's story, JSON, CSV and the feed.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import date
from pathlib import Path
from xml.etree import ElementTree

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import assert_accessible, sign_in

pytestmark = pytest.mark.browser

STRATEGY = (
    Path(__file__).resolve().parents[2] / "examples" / "strategies" / "stockport-2024-2027.yaml"
)
PASSWORD = "a long enough demo password"
PRIVATE = "Kestrel-Moorfield-9931"  # stands for a child's name: must never be public
STATEMENT = "Families told us the wait for an autism assessment is too long and nobody explains it."


def _cli(app, *args: str, input: str | None = None) -> str:
    result = app.test_cli_runner().invoke(args=list(args), input=input)
    assert result.exit_code == 0, result.output
    return result.output


def _nav(page: Page, name: str) -> None:
    """Use the service navigation as a person would: on a phone, open the menu first."""
    page.wait_for_load_state("load")  # GOV.UK Frontend shows the Menu button once it runs
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible():
        menu.click()
    page.locator(".govuk-service-navigation").get_by_role("link", name=name, exact=True).click()


def _sign_out(page: Page) -> None:
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_text("You have signed out.")).to_be_visible()


def test_the_whole_loop(live_app, live_server, page: Page):
    base = live_server

    # 1. The admin imports the strategy and creates the accounts.
    assert "Stockport" in _cli(live_app, "strategy", "import", str(STRATEGY))
    accounts = [
        ("vol@example.org", "Val Volunteer", ["volunteer"], []),
        ("coord@example.org", "Cal Coordinator", ["coordinator"], []),
        ("coord2@example.org", "Cat Coordinator", ["coordinator"], []),
        ("lead@example.org", "Lee Lead", ["subgroup_lead"], ["JCIW"]),
    ]
    for email, name, roles, subgroups in accounts:
        args = ["users", "create", "--email", email, "--name", name, "--password-stdin"]
        args += [x for r in roles for x in ("--role", r)]
        args += [x for s in subgroups for x in ("--subgroup", s)]
        _cli(live_app, *args, input=PASSWORD + "\n")

    # 2. The volunteer, on a phone, creates today's event and logs two items.
    sign_in(page, base, "vol@example.org", PASSWORD)
    _nav(page, "Log feedback")
    page.get_by_role("button", name="Create an event").click()
    page.get_by_label("Event name").fill("Autumn coffee morning")
    page.get_by_label("Coffee morning").check()
    page.get_by_label("Where did it take place?").fill("Stockport family hub")
    page.get_by_label("Adults").fill("14")
    page.get_by_label("Young people").fill("3")
    page.get_by_label("Children").fill("2")
    assert_accessible(page)
    page.get_by_role("button", name="Save and log feedback").click()
    expect(page.get_by_role("heading", name="Autumn coffee morning")).to_be_visible()
    assert_accessible(page)

    said = [
        f"We waited two years for {PRIVATE}'s autism assessment and nobody told us why.",
        "Nobody tells you where you are on the waiting list, you have to keep chasing.",
    ]
    for text in said:
        page.get_by_label("What did they say?").fill(text)
        page.get_by_label("Parent or carer").check()
        page.get_by_label("Needs to change").check()
        page.get_by_label("AUTISM", exact=False).first.check()
        page.get_by_role("button", name="Save item").click()
        expect(page.locator(".govuk-notification-banner--success")).to_contain_text("Saved")
    expect(page.locator(".govuk-notification-banner--success")).to_contain_text("2 items")
    _sign_out(page)

    # 3. The coordinator triages the first item and groups both into a theme.
    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, base, "coord@example.org", PASSWORD)
    page.goto(f"{base}/triage/")
    expect(page.get_by_text(PRIVATE).first).to_be_visible()
    assert_accessible(page)
    page.locator("tr", has_text=PRIVATE).get_by_role("link", name="Open").click()
    page.get_by_label("Rewrite without personal details").fill(
        "We waited two years for our child's autism assessment and nobody told us why."
    )
    page.get_by_label("Contains personal details").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save as triaged").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()

    page.goto(f"{base}/triage/?status=all")
    for box in page.locator("input[name=feedback]").all():
        box.check()
    page.get_by_role("button", name="Group selected into a new theme").click()
    page.get_by_label("Title").fill("Waiting for an autism assessment")
    page.get_by_label('"You said" statement').fill(STATEMENT)
    page.get_by_label("Autism and Neurodiversity").check()
    page.get_by_label("Joint Commissioning and Integrated Working").check()
    assert_accessible(page)
    page.get_by_role("button", name="Save theme").click()
    expect(page.get_by_role("heading", name="Waiting for an autism assessment")).to_be_visible()
    _sign_out(page)

    # 4. The sub-group lead answers with a "We will" and a "We did", and a progress update.
    page.set_viewport_size({"width": 390, "height": 844})
    sign_in(page, base, "lead@example.org", PASSWORD)
    _nav(page, "Respond")
    assert_accessible(page)
    page.get_by_role("link", name="Waiting for an autism assessment").first.click()
    page.get_by_role("button", name="Add an action").click()
    page.get_by_label("We will").check()
    page.get_by_label("What was done, or what will be done?").fill(
        "We will write to every family on the waiting list each month with their place."
    )
    target = page.locator("#conditional-kind-1, [id^=conditional]").filter(has_text="expect")
    target.get_by_label("Day").fill("31")
    target.get_by_label("Month").fill("3")
    target.get_by_label("Year").fill(str(date.today().year + 1))
    assert_accessible(page)
    page.get_by_role("button", name="Save action").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()

    page.get_by_role("button", name="Add an action").click()
    page.get_by_label("We did").check()
    page.get_by_label("What was done, or what will be done?").fill(
        "We published the waiting times for autism assessment on the Local Offer."
    )
    page.get_by_role("button", name="Save action").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()

    page.get_by_role("link", name="Add a progress update").first.click()
    page.get_by_label("Day").fill(str(date.today().day))
    page.get_by_label("Month").fill(str(date.today().month))
    page.get_by_label("Year").fill(str(date.today().year))
    page.get_by_label("What happened?", exact=False).fill("The first monthly letters went out.")
    assert_accessible(page)
    page.get_by_role("button", name="Save progress update").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    _sign_out(page)

    # 5. The author may not approve their own theme; the other coordinator approves.
    sign_in(page, base, "coord@example.org", PASSWORD)
    page.goto(f"{base}/triage/approvals")
    page.get_by_role("link", name="Waiting for an autism assessment").first.click()
    expect(page.get_by_role("button", name="Approve and publish")).to_have_count(0)
    _sign_out(page)

    sign_in(page, base, "coord2@example.org", PASSWORD)
    _nav(page, "Approve")
    assert_accessible(page)
    page.get_by_role("link", name="Waiting for an autism assessment").first.click()
    assert_accessible(page)
    page.get_by_role("button", name="Approve and publish").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    _sign_out(page)

    # 6. Anyone reads it, without signing in.
    page.goto(f"{base}/you-said-we-did")
    assert_accessible(page)
    main = page.locator("main")
    expect(main).to_contain_text(STATEMENT)
    expect(main).to_contain_text("We will write to every family on the waiting list")
    expect(main).to_contain_text("Autism and Neurodiversity")
    assert PRIVATE not in page.content()
    page.get_by_role("link", name="Waiting for an autism assessment").first.click()
    assert_accessible(page)
    story = page.locator("main")
    expect(story).to_contain_text(STATEMENT)
    expect(story).to_contain_text("We published the waiting times")
    expect(story).to_contain_text("The first monthly letters went out.")
    expect(story).to_contain_text("fewer than 5")
    assert PRIVATE not in page.content()
    assert "Lee Lead" not in page.content()
    theme_url = page.url

    data = json.loads(page.request.get(f"{base}/you-said-we-did.json").text())
    assert data["themes"][0]["statement"] == STATEMENT
    rows = list(csv.DictReader(io.StringIO(page.request.get(f"{base}/you-said-we-did.csv").text())))
    assert len(rows) == 2
    feed = ElementTree.fromstring(page.request.get(f"{base}/you-said-we-did/feed.atom").body())
    assert len(feed.findall("{http://www.w3.org/2005/Atom}entry")) == 1
    for url in ("/you-said-we-did.json", "/you-said-we-did.csv", "/you-said-we-did/feed.atom"):
        assert PRIVATE not in page.request.get(f"{base}{url}").text()

    # 5 again: withdrawal needs a reason, and takes the theme off the public pages.
    sign_in(page, base, "coord2@example.org", PASSWORD)
    page.goto(f"{base}/triage/approvals")
    page.get_by_role("link", name="Waiting for an autism assessment").first.click()
    page.get_by_role("button", name="Withdraw the theme").click()
    expect(page.locator(".govuk-error-summary")).to_be_visible()
    assert_accessible(page)
    withdraw = page.locator("form", has=page.get_by_role("button", name="Withdraw the theme"))
    withdraw.get_by_label("Why are you withdrawing it?").fill("The figures were out of date.")
    page.get_by_role("button", name="Withdraw the theme").click()
    expect(page.locator(".govuk-notification-banner--success")).to_be_visible()
    _sign_out(page)
    assert page.request.get(theme_url).status == 404
