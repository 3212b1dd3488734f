"""The public "You said, we did" pages, as a family or an inspector reads them."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from flask import session

from app.extensions import db
from app.models import Theme
from app.models.vocab import Publication
from app.public.routes import _cacheable
from tests import factories as f

LIST = "/you-said-we-did"


def soup(response) -> BeautifulSoup:
    assert response.status_code == 200, response.status_code
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def text_of(node) -> str:
    """The words a person reads, with the spaces between inline elements tidied."""
    return re.sub(r"\s+([:.,)])", r"\1", " ".join(node.get_text(" ").split()))


def cards(page: BeautifulSoup) -> dict[str, BeautifulSoup]:
    """Theme cards on the list page by title."""
    return {text_of(card.find("h3")): card for card in page.select("article.app-theme-card")}


def section_titles(page: BeautifulSoup) -> list[str]:
    return [text_of(s.find("h2")) for s in page.select("main section")]


def themes_in_section(page: BeautifulSoup, title: str) -> list[str]:
    for section in page.select("main section"):
        if text_of(section.find("h2")) == title:
            return [text_of(h) for h in section.select("article h3")]
    raise AssertionError(f"no section {title!r}")


@pytest.fixture
def story(world):
    """A published theme with feedback, three published answers and some private drafts."""
    cce = world.subgroups["CCE"]
    cce.title = "Co-production, Communication and Engagement"
    db.session.commit()
    coffee = f.make_event(world.partnership, kind="coffee_morning")
    survey = f.make_event(world.partnership, kind="survey", held_on=date(2026, 10, 1))
    feedback = [f.make_feedback(world.partnership, event=coffee) for _ in range(6)]
    feedback += [f.make_feedback(world.partnership, event=survey, respondent="young_person")]
    feedback += [f.make_feedback(world.partnership, received_on=date(2026, 9, 14), channel="email")]
    # Neither of these is ever counted in public.
    feedback += [f.make_feedback(world.partnership, event=coffee, safeguarding_flag=True)]
    feedback += [f.make_feedback(world.partnership, event=coffee, not_for_publication=True)]
    theme = f.make_theme(
        world.partnership,
        title="Waiting for assessments",
        slug="waiting-for-assessments",
        statement="Families told us they wait too long for assessments.",
        subgroup=cce,
        priorities=[world.priorities["AUTISM"], world.priorities["SEMH"]],
        feedback=feedback,
        published=True,
    )
    will = f.make_action(
        theme, published=True, owner_id=world.subgroup_lead.id, target_date=date(2027, 3, 31)
    )
    f.make_update(will, published=True, happened_on=date(2026, 11, 10), new_status="in_progress")
    f.make_update(will, text="A draft update nobody approved yet.")
    did = f.make_action(
        theme,
        published=True,
        kind="we_did",
        text="We opened a new drop-in at the family hub.",
        status="done",
        done_date=date(2026, 10, 20),
        target_date=None,
        evidence_url="https://example.org/drop-in",
    )
    cant = f.make_action(
        theme,
        published=True,
        kind="we_cant",
        text="We cannot change the national assessment rules.",
        reason="The rules are set by the Department for Education",
        status="not_possible",
        target_date=None,
    )
    draft = f.make_action(theme, text="A draft action that is not approved.")
    withdrawn = f.make_action(theme, text="A withdrawn action.", published=True)
    withdrawn.publication = Publication.WITHDRAWN.value
    db.session.commit()
    return {
        "theme": theme,
        "will": will,
        "did": did,
        "cant": cant,
        "draft": draft,
        "withdrawn": withdrawn,
    }


# -- routes and headers --------------------------------------------------------------------


def test_home_redirects_to_the_list(client, world):
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(LIST)


def test_empty_state_when_nothing_is_published(client, world):
    f.make_theme(world.partnership, title="Only a draft")
    page = soup(client.get(LIST))
    assert page.find("h1").get_text(strip=True) == "You said, we did"
    assert "Nothing has been published yet" in text_of(page.find("main"))
    assert "Only a draft" not in text_of(page)
    assert world.partnership.name in text_of(page.find("main"))


def test_public_pages_are_cacheable_for_anonymous_visitors(client, world, story):
    urls = [
        LIST,
        "/you-said-we-did/waiting-for-assessments",
        "/you-said-we-did.json",
        "/you-said-we-did.csv",
        "/you-said-we-did/feed.atom",
        "/open-data",
        "/accessibility",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        cache = response.headers["Cache-Control"]
        assert "public" in cache and "max-age=300" in cache, (url, cache)
        assert "Set-Cookie" not in response.headers, url


@pytest.mark.parametrize(
    "role",
    ["volunteer", "coordinator", "safeguarding_lead", "subgroup_lead", "board_viewer", "admin"],
)
def test_every_role_may_read_the_public_pages_but_shared_caches_may_not_keep_them(
    client, auth, world, story, role
):
    auth.login(getattr(world, role))
    response = client.get(LIST)
    assert response.status_code == 200
    assert "Waiting for assessments" in response.get_data(as_text=True)
    # The signed-in page carries the person's name and a sign-out token.
    assert "public" not in response.headers["Cache-Control"]
    assert "no-store" in response.headers["Cache-Control"]


def test_the_page_after_signing_out_is_kept_out_of_shared_caches(client, auth, world, story):
    auth.login(world.coordinator)
    signed_out = auth.logout()
    assert signed_out.headers["Location"] == LIST
    # This page shows "You have signed out." and sends the emptied session cookie: a shared
    # cache must not hand either to the next visitor.
    response = client.get(LIST)
    page = soup(response)
    assert "You have signed out." in text_of(page.find(class_="govuk-notification-banner"))
    assert "Set-Cookie" in response.headers
    cache = response.headers["Cache-Control"]
    assert "public" not in cache and "max-age" not in cache
    assert "private" in cache and "no-store" in cache

    # The next page, with the message gone and no cookie to send, may be shared again.
    after = client.get(LIST)
    assert after.status_code == 200
    assert "Set-Cookie" not in after.headers
    assert "public" in after.headers["Cache-Control"]


def test_a_public_page_showing_a_message_is_never_shared(client, world, story):
    with client.session_transaction() as sess:
        sess["_flashes"] = [("info", "A message for one person.")]
    for url in (LIST, "/you-said-we-did/waiting-for-assessments", "/open-data"):
        response = client.get(url)
        assert response.status_code == 200, url
        assert "no-store" in response.headers["Cache-Control"], url
        assert "public" not in response.headers["Cache-Control"], url
        with client.session_transaction() as sess:
            sess["_flashes"] = [("info", "A message for one person.")]


def test_a_public_response_that_would_set_a_cookie_is_never_shared(app, world):
    with app.test_request_context(LIST):
        session["chosen"] = "something"
        response = _cacheable(app.make_response("page"))
    assert response.headers["Cache-Control"] == "private, no-store"
    with app.test_request_context(LIST):
        response = _cacheable(app.make_response("page"))
    assert "public" in response.headers["Cache-Control"]


def test_the_list_page_offers_the_feed_and_open_data(client, world, story):
    page = soup(client.get(LIST))
    alternate = page.select_one('head link[rel="alternate"][type="application/atom+xml"]')
    assert alternate is not None and alternate["href"] == "/you-said-we-did/feed.atom"
    hrefs = {a["href"] for a in page.select("main a")}
    assert {
        "/you-said-we-did.json",
        "/you-said-we-did.csv",
        "/you-said-we-did/feed.atom",
        "/open-data",
    } <= hrefs


# -- the list page -------------------------------------------------------------------------


def test_list_groups_themes_by_first_priority_with_a_contents_list(client, world, story):
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    f.make_theme(world.partnership, title="Only about autism", priorities=[autism], published=True)
    f.make_theme(world.partnership, title="About nothing in the strategy", published=True)
    page = soup(client.get(LIST))

    assert section_titles(page) == ["Priority SEMH", "Priority AUTISM", "Other things you told us"]
    # SEMH comes first by position, so a theme about both is listed under SEMH only.
    assert themes_in_section(page, "Priority SEMH") == ["Waiting for assessments"]
    assert themes_in_section(page, "Priority AUTISM") == ["Only about autism"]
    assert themes_in_section(page, "Other things you told us") == ["About nothing in the strategy"]

    card = cards(page)["Waiting for assessments"]
    assert "Also about: Priority AUTISM" in text_of(card)
    assert "Also about" not in text_of(cards(page)["Only about autism"])

    contents = page.select_one("nav.app-contents")
    links = {text_of(a): a["href"] for a in contents.select("a")}
    assert links == {
        "Priority SEMH": f"#priority-{semh.code.lower()}",
        "Priority AUTISM": f"#priority-{autism.code.lower()}",
        "Other things you told us": "#other-things-you-told-us",
    }
    for href in links.values():
        assert page.find(id=href[1:]) is not None


def test_a_priority_with_nothing_published_says_so(client, world):
    f.make_theme(world.partnership, priorities=[world.priorities["SEMH"]], published=True)
    page = soup(client.get(LIST))
    for section in page.select("main section"):
        if text_of(section.find("h2")) == "Priority AUTISM":
            assert "Nothing has been published about this priority yet" in text_of(section)
            break
    else:
        raise AssertionError("no AUTISM section")


def test_list_card_shows_the_whole_answer(client, world, story):
    card = cards(soup(client.get(LIST)))["Waiting for assessments"]
    words = text_of(card)
    assert "Families told us they wait too long for assessments." in words
    assert "Answered by the Co-production, Communication and Engagement sub-group." in words
    # 6 + 1 + 1 counted; the safeguarding and not-for-publication items are left out.
    assert "Voices heard: 8." in words
    assert "We will, by 31 March 2027" in words
    assert "We will write to every family on the waiting list each month." in words
    assert "We did, on 20 October 2026" in words
    assert "We can't Status: Not possible We cannot change the national assessment rules." in words
    assert "Because: The rules are set by the Department for Education" in words
    tags = [text_of(t) for t in card.select(".govuk-tag")]
    assert tags == ["Status: In progress", "Status: Done", "Status: Not possible"]
    assert "Latest progress, 10 November 2026: The first monthly letters went out." in words
    published = story["theme"].published_at
    assert f"Last updated {published.day} {published:%B %Y}" in words
    theme_links = [a["href"] for a in card.select("a")]
    assert theme_links.count("/you-said-we-did/waiting-for-assessments") == 2


def test_list_never_names_a_person(client, world, story):
    words = text_of(soup(client.get(LIST)).find("main"))
    for user in world.users.values():
        assert user.name not in words


def test_drafts_and_withdrawn_rows_never_appear(client, world, story):
    f.make_theme(world.partnership, title="A draft theme", statement="Draft statement.")
    gone = f.make_theme(world.partnership, title="A withdrawn theme", published=True)
    f.make_action(gone, published=True, text="An action under a withdrawn theme.")
    gone.publication = Publication.WITHDRAWN.value
    db.session.commit()

    for url in (LIST, "/you-said-we-did/waiting-for-assessments"):
        words = client.get(url).get_data(as_text=True)
        for hidden in (
            "A draft theme",
            "Draft statement.",
            "A withdrawn theme",
            "An action under a withdrawn theme.",
            "A draft action that is not approved.",
            "A withdrawn action.",
            "A draft update nobody approved yet.",
        ):
            assert hidden not in words, (url, hidden)


def test_a_theme_without_published_answers_says_so(client, world):
    theme = f.make_theme(world.partnership, title="Not answered yet", published=True)
    f.make_action(theme, text="Still a draft.")
    card = cards(soup(client.get(LIST)))["Not answered yet"]
    assert "We have not published our answer yet." in text_of(card)
    assert "Still a draft." not in text_of(card)


def test_counts_below_five_say_fewer_than_5(client, world):
    items = [f.make_feedback(world.partnership) for _ in range(3)]
    f.make_theme(world.partnership, title="Small", feedback=items, published=True)
    card = cards(soup(client.get(LIST)))["Small"]
    assert "Voices heard: fewer than 5." in text_of(card)
    assert "Voices heard: 3" not in text_of(card)


def test_themes_without_an_active_strategy_are_all_listed(client, world):
    world.strategy.status = "archived"
    db.session.commit()
    f.make_theme(
        world.partnership,
        title="Still shown",
        priorities=[world.priorities["SEMH"]],
        published=True,
    )
    page = soup(client.get(LIST))
    assert section_titles(page) == ["What you told us"]
    assert list(cards(page)) == ["Still shown"]
    assert page.select_one("nav.app-contents") is None


# -- the theme page ------------------------------------------------------------------------


def summary_rows(page: BeautifulSoup) -> dict[str, str]:
    return {
        text_of(row.select_one(".govuk-summary-list__key")): text_of(
            row.select_one(".govuk-summary-list__value")
        )
        for row in page.select(".govuk-summary-list__row")
    }


def test_theme_page_tells_the_full_story(client, world, story):
    page = soup(client.get("/you-said-we-did/waiting-for-assessments"))
    main = page.find("main")
    assert page.find("h1").get_text(strip=True) == "Waiting for assessments"
    assert "Families told us they wait too long for assessments." in text_of(main)

    rows = summary_rows(page)
    assert rows["About"] == "Priority SEMH Priority AUTISM"
    assert rows["Answered by"] == "The Co-production, Communication and Engagement sub-group"
    assert rows["Status"] == "Status: Responded"
    assert rows["Voices heard"] == "8"
    assert rows["First heard"] == "14 September 2026"
    published = story["theme"].published_at
    assert rows["Published"] == f"{published.day} {published:%B %Y}"
    assert rows["Last updated"] == f"{published.day} {published:%B %Y}"

    assert "at 2 events" in text_of(main)
    tables = {text_of(t.find("caption")): t for t in main.select("table")}
    who = {text_of(r.find("th")): text_of(r.find("td")) for r in tables["Who told us"].tbody("tr")}
    # One small category is hidden together with its neighbour, so 9 - 7 cannot give it away.
    assert who == {"Parent or carer": "fewer than 5", "Young person": "fewer than 5"}
    where = {
        text_of(r.find("th")): text_of(r.find("td"))
        for r in tables["Where we heard it"].tbody("tr")
    }
    assert where == {"Coffee morning": "6", "Survey": "fewer than 5", "E-mail": "fewer than 5"}

    headlines = [text_of(h) for h in main.select(".app-action-list h3")]
    assert headlines == [
        "We will, by 31 March 2027",
        "We did, on 20 October 2026",
        "We can't",
    ]
    timeline = main.select_one(".app-timeline")
    assert (
        text_of(timeline) == "10 November 2026: now in progress The first monthly letters went out."
    )
    assert timeline.find("time")["datetime"] == "2026-11-10"
    evidence = main.select_one('a[href="https://example.org/drop-in"]')
    assert text_of(evidence).startswith("See the evidence for: We opened a new drop-in")
    assert "noopener" in evidence["rel"]


def cant_answer(container) -> BeautifulSoup:
    (item,) = container.select(".app-action--not_possible")
    return item


@pytest.mark.parametrize("url", [LIST, "/you-said-we-did/waiting-for-assessments"])
def test_we_cant_reads_headline_then_action_then_because(client, world, story, url):
    """A short "We can't" heading, the action text, then the reason as its own paragraph."""
    item = cant_answer(soup(client.get(url)).find("main"))
    assert [text_of(child) for child in item.find_all(["h3", "p"], recursive=False)] == [
        "We can't",
        "Status: Not possible",
        "We cannot change the national assessment rules.",
        "Because: The rules are set by the Department for Education",
    ]
    assert item.select_one(".app-action__because strong").get_text() == "Because:"


def test_a_long_reason_keeps_its_paragraphs_after_the_action(client, world):
    theme = f.make_theme(world.partnership, title="Respite", slug="respite", published=True)
    f.make_action(
        theme,
        published=True,
        kind="we_cant",
        text="We can't open a second respite centre this year.",
        reason="There is no building we can use.\n\nWe will look again in April.",
        status="not_possible",
        target_date=None,
    )
    item = cant_answer(soup(client.get("/you-said-we-did/respite")).find("main"))
    assert text_of(item.find("h3")) == "We can't"
    assert [text_of(p) for p in item.select(".app-action__because")] == [
        "Because: There is no building we can use.",
        "We will look again in April.",
    ]
    # Only the first paragraph starts with "Because:".
    assert len(item.select(".app-action__because strong")) == 1


def test_theme_page_breadcrumbs_lead_back_to_its_priority(client, world, story):
    page = soup(client.get("/you-said-we-did/waiting-for-assessments"))
    crumbs = [(text_of(a), a["href"]) for a in page.select(".govuk-breadcrumbs a")]
    assert crumbs == [
        ("You said, we did", LIST),
        ("Priority SEMH", f"{LIST}#priority-semh"),
    ]


def test_theme_page_hides_unapproved_answers_and_people(client, world, story):
    words = client.get("/you-said-we-did/waiting-for-assessments").get_data(as_text=True)
    assert "A draft action that is not approved." not in words
    assert "A withdrawn action." not in words
    assert "A draft update nobody approved yet." not in words
    for user in world.users.values():
        assert user.name not in words


def test_theme_page_with_no_answer_yet(client, world):
    f.make_theme(
        world.partnership, slug="no-answer", subgroup=world.subgroups["QPMI"], published=True
    )
    page = soup(client.get("/you-said-we-did/no-answer"))
    assert (
        "The Sub-group QPMI has not published an answer yet. The partnership aims to answer "
        "within 42 days" in text_of(page.find("main"))
    )
    rows = summary_rows(page)
    assert rows["Status"] == "Status: Waiting for a response"
    # No feedback that may be counted: no number rather than a bare 0.
    assert "Voices heard" not in rows
    assert "We have not published how many people told us" in text_of(page.find("main"))


def test_theme_page_small_counts_say_fewer_than_5(client, world):
    items = [f.make_feedback(world.partnership, respondent="child") for _ in range(2)]
    f.make_theme(world.partnership, slug="small", feedback=items, published=True)
    page = soup(client.get("/you-said-we-did/small"))
    main = text_of(page.find("main"))
    assert summary_rows(page)["Voices heard"] == "fewer than 5"
    assert "Child fewer than 5" in main
    assert not re.search(r"\bChild 2\b", main)


@pytest.mark.parametrize("state", ["unknown", "draft", "withdrawn"])
def test_unknown_or_unpublished_slug_is_404(client, world, state):
    if state != "unknown":
        theme = f.make_theme(world.partnership, slug="hidden-theme", published=True)
        theme.publication = state
        db.session.commit()
    assert client.get("/you-said-we-did/hidden-theme").status_code == 404


def test_last_updated_follows_public_updated_at(client, world):
    theme = f.make_theme(world.partnership, slug="dated", published=True)
    theme.public_updated_at = datetime(2026, 11, 20, 9, 30)
    db.session.commit()
    assert summary_rows(soup(client.get("/you-said-we-did/dated")))["Last updated"] == (
        "20 November 2026"
    )


def test_an_evidence_link_that_is_not_a_web_address_is_not_linked(client, world):
    theme = f.make_theme(world.partnership, slug="evidence", published=True)
    f.make_action(theme, published=True, evidence_url="javascript:alert(1)")
    html = client.get("/you-said-we-did/evidence").get_data(as_text=True)
    assert "javascript:" not in html


# -- tenancy -------------------------------------------------------------------------------


def test_another_partnerships_themes_are_never_shown(app, client):
    ours = f.make_world("ours")
    theirs = f.make_world("theirs")
    app.config["PARTNERSHIP_SLUG"] = "ours"
    f.make_theme(ours.partnership, title="Our theme", slug="shared-slug", published=True)
    other = f.make_theme(
        theirs.partnership,
        title="Their theme",
        slug="their-theme",
        statement="Their statement.",
        published=True,
    )
    f.make_theme(
        theirs.partnership, title="Their same-slug theme", slug="shared-slug", published=True
    )
    f.make_action(other, published=True, text="Their action.")

    for url in (
        LIST,
        "/you-said-we-did.json",
        "/you-said-we-did.csv",
        "/you-said-we-did/feed.atom",
    ):
        words = client.get(url).get_data(as_text=True)
        assert "Our theme" in words, url
        for hidden in ("Their theme", "Their statement.", "Their action.", "Their same-slug"):
            assert hidden not in words, (url, hidden)
    assert client.get("/you-said-we-did/their-theme").status_code == 404
    page = soup(client.get("/you-said-we-did/shared-slug"))
    assert page.find("h1").get_text(strip=True) == "Our theme"


# -- performance ---------------------------------------------------------------------------


def _add_themes(world, count: int) -> None:
    event = f.make_event(world.partnership)
    for n in range(count):
        items = [f.make_feedback(world.partnership, event=event) for _ in range(2)]
        theme = f.make_theme(
            world.partnership,
            subgroup=world.subgroups["CCE" if n % 2 else "QPMI"],
            priorities=[world.priorities["SEMH" if n % 2 else "AUTISM"]],
            feedback=items,
            published=True,
        )
        action = f.make_action(theme, published=True)
        f.make_update(action, published=True)


def _statements_for(client, url: str) -> int:
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        assert client.get(url).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    return len(statements)


@pytest.mark.parametrize(
    "url", [LIST, "/you-said-we-did.json", "/you-said-we-did.csv", "/you-said-we-did/feed.atom"]
)
def test_query_count_does_not_grow_with_the_number_of_themes(client, world, url):
    client.get(url)
    _add_themes(world, 3)
    few = _statements_for(client, url)
    _add_themes(world, 27)
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 30
    many = _statements_for(client, url)
    assert few == many, (few, many)
    assert many <= 12


# -- accessibility of the markup -----------------------------------------------------------


HTML_PAGES = [LIST, "/you-said-we-did/waiting-for-assessments", "/open-data", "/accessibility"]


def test_pages_have_ordered_headings_captioned_tables_and_no_inline_code(client, world, story):
    for url in HTML_PAGES:
        response = client.get(url)
        page = soup(response)
        main = page.find("main")
        levels = [int(h.name[1]) for h in main.find_all(re.compile(r"^h[1-6]$"))]
        assert levels[0] == 1 and levels.count(1) == 1, url
        for before, after in itertools.pairwise(levels):
            assert after <= before + 1, (url, levels)
        for table in main.find_all("table"):
            assert table.find("caption") is not None, url
            assert table.find("th", scope=True) is not None, url
        assert not page.select("[style]"), url
        # Only scripts carrying this response's CSP nonce (GOV.UK's js-enabled line and ours).
        csp = response.headers["Content-Security-Policy"]
        for script in page.find_all("script"):
            assert f"'nonce-{script.get('nonce')}'" in csp, url
        for link in main.find_all("a"):
            words = text_of(link)
            assert words and words.lower() not in {"here", "click here", "read more", "more"}, url


def test_open_data_page_explains_the_outputs_and_licence(client, world):
    page = soup(client.get("/open-data"))
    main = text_of(page.find("main"))
    assert page.find("h1").get_text(strip=True) == "Open data"
    assert "version 1 of the structure" in main
    assert "Open Government Licence v3.0" in main
    assert "OGL-UK-3.0" in main
    hrefs = {a["href"] for a in page.select("main a")}
    assert {"/you-said-we-did.json", "/you-said-we-did.csv", "/you-said-we-did/feed.atom"} <= hrefs
    assert "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/" in hrefs
    fields = {text_of(code) for code in page.select("#json-theme-fields code")}
    assert {"slug", "statement", "voices", "actions"} <= fields
    csv_fields = {text_of(code) for code in page.select("#csv-fields code")}
    assert {"theme_slug", "you_said", "action_text", "action_status"} <= csv_fields
    assert "fewer than 5" in main


def test_accessibility_statement(client, world):
    world.partnership.settings = {"accessibility_contact_email": "access@example.org"}
    db.session.commit()
    page = soup(client.get("/accessibility"))
    main = text_of(page.find("main"))
    assert page.find("h1").get_text(strip=True) == "Accessibility statement for You said, we did"
    assert "Web Content Accessibility Guidelines version 2.2 AA standard" in main
    assert "Reporting accessibility problems with this website" in main
    assert "Enforcement procedure" in main
    assert "Equality and Human Rights Commission (EHRC)" in main
    assert "Equality Advisory and Support Service (EASS)" in main
    assert page.select_one('main a[href="mailto:access@example.org"]') is not None
    assert world.partnership.name in main


def test_accessibility_statement_without_a_contact_email_points_to_the_local_offer(client, world):
    world.partnership.local_offer_url = "https://www.example.gov.uk/send"
    db.session.commit()
    page = soup(client.get("/accessibility"))
    assert page.select_one('main a[href="https://www.example.gov.uk/send"]') is not None
