"""Families and young people say it themselves: the event's link, its poster and the public form
behind it, through the pages people use."""

from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
import sqlalchemy as sa
import textstat
from flask import g
from itsdangerous import TimestampSigner

from app import create_app
from app.config import TestConfig
from app.extensions import db, limiter
from app.models import AuditEntry, Event, Feedback, FeedbackContact
from app.models.vocab import Channel
from app.services import capture, consent
from app.services import self_submission as svc
from tests import factories
from tests.conftest import _empty_all_tables, csrf_token_from
from tests.html import error_for, soup, text_of

TEXT = "The bus to school leaves before my daughter's taxi arrives, so she misses it."


@pytest.fixture
def event(world) -> Event:
    return factories.make_event(
        world.partnership, created_by=world.volunteer, name="Coffee morning at Marple Library"
    )


@pytest.fixture
def open_event(world, event) -> Event:
    svc.open_link(event, world.volunteer)
    db.session.commit()
    return event


def form_url(event: Event, young: bool = False) -> str:
    return f"/say/{event.self_submission_token}" + ("/young" if young else "")


def say_data(**overrides) -> dict:
    data = {
        "text": TEXT,
        "respondent": "parent_carer",
        "sentiment": "needs_change",
        "idempotency_key": "4f1c2a8e9b7d4c3a8e2f1a0b9c8d7e6f",
        "website": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def feedback_rows() -> list[Feedback]:
    return list(db.session.scalars(sa.select(Feedback).order_by(Feedback.id)))


def audit_verbs(event: Event) -> list[str]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry.verb)
            .where(AuditEntry.object_type == "Event", AuditEntry.object_id == event.id)
            .order_by(AuditEntry.id)
        )
    )


# The volunteer's side: opening, closing and reopening the link


def test_the_events_volunteer_opens_closes_and_reopens_the_link(client, auth, world, event):
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{event.id}"))
    panel = page.find(id="self-submission")
    assert panel is not None, "the event page shows the link panel"
    assert panel.find("button", string=re.compile("Open a link for this event"))

    response = client.post(f"/capture/events/{event.id}/self-submission/open")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/capture/events/{event.id}#self-submission")
    db.session.refresh(event)
    token = event.self_submission_token
    assert token and event.self_submission_open

    page = client.get(f"/capture/events/{event.id}")
    assert "The link is open." in text_of(page)
    panel = soup(page).find(id="self-submission")
    assert "Open" in panel.select_one(".govuk-tag").get_text()
    urls = [i["value"] for i in panel.select("input[readonly]")]
    assert urls == [f"http://localhost/say/{token}", f"http://localhost/say/{token}/young"]
    posters = [a["href"] for a in panel.select("a")]
    assert f"/capture/events/{event.id}/poster" in posters
    assert f"/capture/events/{event.id}/poster/young" in posters
    assert client.get(form_url(event)).status_code == 200

    response = client.post(f"/capture/events/{event.id}/self-submission/close")
    assert response.status_code == 302
    db.session.refresh(event)
    assert event.self_submission_open is False
    page = client.get(f"/capture/events/{event.id}")
    panel = soup(page).find(id="self-submission")
    assert "Closed" in panel.select_one(".govuk-tag").get_text()
    assert panel.find("button", string=re.compile("Open the link again"))
    assert "This form is closed" in text_of(client.get(form_url(event)))

    client.post(f"/capture/events/{event.id}/self-submission/open")
    db.session.refresh(event)
    assert event.self_submission_open is True
    assert event.self_submission_token == token
    assert audit_verbs(event) == [
        "self_submission.opened",
        "self_submission.closed",
        "self_submission.reopened",
    ]


def test_a_coordinator_may_manage_any_events_link(client, auth, world, event):
    auth.login(world.coordinator)
    assert client.post(f"/capture/events/{event.id}/self-submission/open").status_code == 302
    db.session.refresh(event)
    assert event.self_submission_open is True
    assert client.get(f"/capture/events/{event.id}/poster").status_code == 200


@pytest.mark.parametrize("who", ["other_volunteer", "subgroup_lead", "board_viewer"])
def test_nobody_else_may_open_close_or_print_the_link(client, auth, world, open_event, who):
    user = (
        factories.make_user(world.partnership, "volunteer")
        if who == "other_volunteer"
        else getattr(world, who)
    )
    auth.login(user)
    for url in ("self-submission/open", "self-submission/close"):
        assert client.post(f"/capture/events/{open_event.id}/{url}").status_code == 403
    for url in ("poster", "poster/young"):
        assert client.get(f"/capture/events/{open_event.id}/{url}").status_code == 403
    db.session.refresh(open_event)
    assert open_event.self_submission_open is True
    assert audit_verbs(open_event) == ["self_submission.opened"]


def test_another_partnerships_event_is_not_found(client, auth, world):
    other = factories.make_world("elsewhere")
    event = factories.make_event(other.partnership, created_by=other.volunteer)
    auth.login(world.coordinator)
    assert client.post(f"/capture/events/{event.id}/self-submission/open").status_code == 404
    assert client.get(f"/capture/events/{event.id}/poster").status_code == 404
    db.session.refresh(event)
    assert event.self_submission_token is None


# The poster


def test_the_poster_has_a_qr_code_the_address_and_instructions(client, auth, world, open_event):
    auth.login(world.volunteer)
    response = client.get(f"/capture/events/{open_event.id}/poster")
    assert response.status_code == 200
    page = soup(response)
    url = f"http://localhost{form_url(open_event)}"
    svg = page.select_one(".app-poster__qr svg")
    assert svg is not None
    assert svg["role"] == "img"
    assert url in svg["aria-label"]
    assert svg.find("title").get_text() == "QR code for the form"
    assert page.select_one(".app-poster__url").get_text(strip=True) == url
    assert page.select_one("h1").get_text(strip=True) == "Tell us what you think"
    steps = [li.get_text(" ", strip=True) for li in page.select(".app-poster__steps li")]
    assert steps[0] == "Scan the code with your phone camera."
    assert 3 <= len(steps) <= 4
    assert "We never publish your name" in page.select_one(".app-poster__privacy").get_text()
    # Printed alone on A4: the print stylesheet is there, for print only.
    sheets = {link["href"]: link.get("media") for link in page.select("link[rel=stylesheet]")}
    assert sheets["/static/css/print.css"] == "print"
    assert "Coffee morning at Marple Library" in page.select_one(".app-poster").get_text()


def test_the_young_peoples_poster_points_at_the_young_peoples_form(client, auth, world, open_event):
    auth.login(world.volunteer)
    page = soup(client.get(f"/capture/events/{open_event.id}/poster/young"))
    url = f"http://localhost{form_url(open_event, young=True)}"
    assert page.select_one(".app-poster__url").get_text(strip=True) == url
    assert url in page.select_one(".app-poster__qr svg")["aria-label"]
    assert page.select_one("h1").get_text(strip=True) == "Have your say"


def test_a_poster_needs_a_link_and_warns_when_it_is_closed(client, auth, world, event):
    auth.login(world.volunteer)
    response = client.get(f"/capture/events/{event.id}/poster")
    assert response.status_code == 302
    assert "Open the link first" in text_of(client.get(response.headers["Location"]))

    svc.open_link(event, world.volunteer)
    svc.close_link(event, world.volunteer)
    db.session.commit()
    page = client.get(f"/capture/events/{event.id}/poster")
    assert page.status_code == 200
    assert "The link is closed." in text_of(page)


# The public form


def test_the_form_asks_what_who_and_which_kind_with_a_privacy_notice(client, world, open_event):
    response = client.get(form_url(open_event))
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "Tell us what you think"
    assert page.find("label", attrs={"for": "text"}).get_text(strip=True) == (
        "What do you want to tell us?"
    )
    legends = [lg.get_text(" ", strip=True) for lg in page.select("legend")]
    assert legends == [
        "Who are you?",
        "What is it about?",
        "Can we quote you?",
        "Do you want to hear what happens?",
    ]
    who = [label.get_text(strip=True) for label in page.select("label")]
    for choice in ("A parent or carer", "A young person", "A child", "Someone else"):
        assert choice in who
    # The contact boxes sit inside the "I want to hear what happens" reveal.
    reveal = page.select_one(".govuk-checkboxes__conditional")
    assert reveal.find(id="email") and reveal.find(id="phone")
    assert page.select_one("#wants_reply")["data-aria-controls"] == reveal["id"]
    # The notice shown is the current version, linked in full.
    assert "We never publish your name" in text_of(response)
    assert page.find("a", href=f"/privacy-notice/{consent.CURRENT_NOTICE.version}")
    # A key for this send, and the CSRF token.
    assert len(page.select_one("input[name=idempotency_key]")["value"]) == 32
    assert page.select_one("input[name=csrf_token]")
    # Signed-out people see no navigation to private pages.
    assert not page.select(".govuk-service-navigation__item")


def test_a_parent_sends_what_they_think_and_is_told_what_happens_next(client, world, open_event):
    response = client.post(
        form_url(open_event),
        data=say_data(may_quote="y", wants_reply="y", email="parent@example.org", phone=""),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{form_url(open_event)}/thanks"

    (item,) = feedback_rows()
    assert item.raw_text == TEXT
    assert item.channel == Channel.SELF_SUBMISSION.value
    assert item.entered_by_id is None
    assert item.event_id == open_event.id
    assert item.status == "new"
    assert (item.respondent, item.sentiment) == ("parent_carer", "needs_change")
    assert item.may_quote is True and item.wants_reply is True
    assert item.consent_notice_version == consent.CURRENT_NOTICE.version
    assert item.consent_channel == Channel.SELF_SUBMISSION.value
    assert item.consent_recorded_at is not None
    contact = db.session.scalars(sa.select(FeedbackContact)).one()
    assert (contact.feedback_id, contact.email, contact.phone) == (
        item.id,
        "parent@example.org",
        None,
    )
    assert contact.delete_after == capture.today() + timedelta(
        days=world.partnership.contact_retention_days
    )

    thanks = client.get(response.headers["Location"])
    assert thanks.status_code == 200
    words = text_of(thanks)
    assert "Thank you" in words
    assert "What happens next" in words
    assert "You asked to hear what happens" in words
    assert "We never publish your name" in words
    # What they said is not repeated on the page.
    assert TEXT not in thanks.get_data(as_text=True)
    assert soup(thanks).find("a", href=form_url(open_event), string="Tell us something else")


def test_contact_typed_then_unticked_is_not_kept(client, world, open_event):
    client.post(form_url(open_event), data=say_data(email="parent@example.org", phone="0161"))
    (item,) = feedback_rows()
    assert item.wants_reply is False
    assert db.session.scalars(sa.select(FeedbackContact)).all() == []


def test_sending_twice_saves_once(client, world, open_event):
    for _ in range(2):
        assert client.post(form_url(open_event), data=say_data()).status_code == 302
    assert len(feedback_rows()) == 1


def test_wanting_to_hear_back_without_contact_is_an_error_next_to_the_field(
    client, world, open_event
):
    response = client.post(form_url(open_event), data=say_data(wants_reply="y"))
    assert response.status_code == 200
    page = soup(response)
    message = "Enter an email address or a phone number, so we can tell you what happens"
    assert message in error_for(page, "email")
    assert page.select_one(".govuk-error-summary a")["href"] == "#email"
    assert page.title.get_text().startswith("Error: ")
    # What they typed is kept, the box stays ticked and revealed, and nothing is saved.
    assert page.find(id="text").get_text() == TEXT
    assert page.find(id="wants_reply").has_attr("checked")
    assert page.select_one("input[name=respondent][value=parent_carer]").has_attr("checked")
    assert feedback_rows() == []


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"text": ""}, "text", "Enter what you want to tell us"),
        ({"text": "x" * 10_001}, "text", "What you tell us must be 10,000 characters or fewer"),
        ({"text": "<b></b>"}, "text", capture.ENTER_TEXT),
        ({"respondent": None}, "respondent", "Select who you are"),
        ({"respondent": "professional"}, "respondent", "Select who you are"),
        (
            {"sentiment": None},
            "sentiment",
            "Select whether it is working well, needs to change or an idea",
        ),
        (
            {"wants_reply": "y", "email": "not an email"},
            "email",
            consent.EMAIL_INVALID,
        ),
        ({"wants_reply": "y", "phone": "12"}, "phone", consent.PHONE_INVALID),
    ],
)
def test_mistakes_are_explained_and_nothing_is_saved(
    client, world, open_event, overrides, field, message
):
    response = client.post(form_url(open_event), data=say_data(**overrides))
    assert response.status_code == 200
    assert message in error_for(soup(response), field)
    assert feedback_rows() == []


def test_the_honeypot_answers_as_if_saved_but_saves_nothing(client, world, open_event):
    page = soup(client.get(form_url(open_event)))
    trap = page.find(id="website")
    wrapper = trap.find_parent(class_="app-honeypot")
    assert wrapper["aria-hidden"] == "true"
    assert trap["tabindex"] == "-1"
    assert trap["autocomplete"] == "off"
    assert page.find("label", attrs={"for": "website"}).get_text() == "Leave this empty"

    response = client.post(form_url(open_event), data=say_data(website="https://spam.example"))
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/thanks")
    assert feedback_rows() == []


def test_a_closed_link_says_so_and_what_to_do_instead(client, world, open_event):
    partnership = world.partnership
    partnership.local_offer_url = "https://localoffer.example.gov.uk/send"
    partnership.settings = {"contact_email": "forum@example.org"}
    svc.close_link(open_event, world.volunteer)
    db.session.commit()

    for young in (False, True):
        response = client.get(form_url(open_event, young=young))
        # 200: the page exists and explains; the link may be opened again.
        assert response.status_code == 200
        page = soup(response)
        assert page.select_one("h1").get_text(strip=True) == "This form is closed"
        assert page.find("a", href="mailto:forum@example.org")
        assert page.find("a", href="https://localoffer.example.gov.uk/send")
        assert not page.find("form", attrs={"method": "post", "action": form_url(open_event)})

    # Someone who filled it in before it closed gets their words back, and nothing is saved.
    response = client.post(form_url(open_event), data=say_data())
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "This form is closed"
    assert page.select_one(".app-kept-text").get_text() == TEXT
    assert feedback_rows() == []


@pytest.mark.parametrize(
    "url", ["/say/AAAAAAAAAAAAAAAAAAAAAA", "/say/not-a-token", "/say/x'--", "/say/abc/young"]
)
def test_an_unknown_link_gets_a_clear_page(client, world, open_event, url):
    for response in (client.get(url), client.post(url, data=say_data())):
        assert response.status_code == 404
        page = soup(response)
        assert page.select_one("h1").get_text(strip=True) == "We cannot find this form"
        assert "Traceback" not in response.get_data(as_text=True)
    assert feedback_rows() == []


def test_an_unknown_links_thank_you_page_is_not_found(client, world):
    assert client.get("/say/AAAAAAAAAAAAAAAAAAAAAA/thanks").status_code == 404
    assert client.get("/say/AAAAAAAAAAAAAAAAAAAAAA/young/thanks").status_code == 404


def test_the_young_peoples_form_saves_in_simple_words(client, world, open_event):
    response = client.get(form_url(open_event, young=True))
    assert response.status_code == 200
    page = soup(response)
    assert page.select_one("h1").get_text(strip=True) == "Have your say"
    feelings = [
        label.get_text(" ", strip=True) for label in page.select("input[name=sentiment] + label")
    ]
    assert feelings == ["Good", "Not good", "I have an idea"]
    # The faces are decoration: the words carry the meaning.
    for face in page.select("input[name=sentiment] + label svg"):
        assert face["aria-hidden"] == "true"

    response = client.post(form_url(open_event, young=True), data=say_data(respondent=None))
    assert "Choose how old you are" in error_for(soup(response), "respondent")
    response = client.post(form_url(open_event, young=True), data=say_data(wants_reply="y"))
    assert "Give us an email or a phone number, so we can tell you" in error_for(
        soup(response), "email"
    )
    # Every mistake is shown at once, in the same simple words.
    response = client.post(
        form_url(open_event, young=True),
        data=say_data(respondent=None, wants_reply="y", email="nope", phone="12"),
    )
    page = soup(response)
    assert "Check your email" in error_for(page, "email")
    assert "Check your phone number" in error_for(page, "phone")
    assert "Choose how old you are" in error_for(page, "respondent")
    assert feedback_rows() == []

    response = client.post(
        form_url(open_event, young=True),
        data=say_data(respondent="child", sentiment="working_well", may_quote="y"),
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"{form_url(open_event, young=True)}/thanks"
    (item,) = feedback_rows()
    assert (item.respondent, item.sentiment, item.may_quote) == ("child", "working_well", True)
    assert item.channel == Channel.SELF_SUBMISSION.value
    thanks = client.get(response.headers["Location"])
    assert "We got your message" in text_of(thanks)


def _visible_sentences(root) -> str:
    """The words a person sees, each block (heading, label, hint, button, list item) ending as
    a sentence: a label is read as one short utterance, not run into the next."""
    for hidden in root.select("[aria-hidden=true], script, style, title"):
        hidden.decompose()
    sentences = []
    for text in root.stripped_strings:
        text = " ".join(text.split())
        sentences.append(text if re.search(r"[.!?:]$", text) else text + ".")
    return " ".join(sentences)


def test_the_young_peoples_form_reads_at_about_age_nine(client, world, open_event):
    page = client.get(form_url(open_event, young=True)).get_data(as_text=True)
    main = _visible_sentences(soup_of(page).find("main"))
    whole = _visible_sentences(soup_of(page).body)
    for words in ("How do you feel about it?", "Send", "What we do with what you tell us"):
        assert words in main
    grade = textstat.flesch_kincaid_grade(main)
    whole_grade = textstat.flesch_kincaid_grade(whole)
    # Also without our sentence endings, in case that flatters the figure.
    plain = textstat.flesch_kincaid_grade(
        " ".join(soup_of(page).find("main").get_text(" ").split())
    )
    print(
        f"\nYoung people's form: Flesch-Kincaid grade {grade:.1f} (the form), "
        f"{whole_grade:.1f} (whole page), {plain:.1f} (form text run together); "
        f"text standard {textstat.text_standard(main)}"
    )
    # US grade 4 is a UK reading age of about 9.
    assert grade <= 4
    assert whole_grade <= 4
    assert plain <= 4


def soup_of(html: str):
    from bs4 import BeautifulSoup

    return BeautifulSoup(html, "html.parser")


def test_every_privacy_notice_version_has_a_young_peoples_wording(app):
    from app.say.routes import young_notice_template

    for notice in consent.NOTICES:
        app.jinja_env.get_template(notice.template)
        app.jinja_env.get_template(young_notice_template(notice))


def test_public_pages_are_not_framed_cached_or_indexed(client, world, open_event):
    for url in (form_url(open_event), form_url(open_event, young=True), "/say/unknown-token"):
        response = client.get(url)
        assert response.headers["X-Frame-Options"] == "DENY"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Robots-Tag"] == "noindex, nofollow"
        page = soup(response)
        assert all(s.get("src") and not s.string for s in page.find_all("script")), url
        assert not page.select("[style]"), url


def test_nothing_sent_is_public_until_approved(client, world, open_event):
    client.post(form_url(open_event), data=say_data(text="ZEBRA-SAID-THIS on the form"))
    assert len(feedback_rows()) == 1
    for url in ("/you-said-we-did", "/you-said-we-did.json", "/you-said-we-did.csv"):
        assert "ZEBRA-SAID-THIS" not in client.get(url).get_data(as_text=True), url
    for url in (form_url(open_event), form_url(open_event) + "/thanks"):
        assert "ZEBRA-SAID-THIS" not in client.get(url).get_data(as_text=True), url


# With CSRF on, as in production


def test_the_form_works_with_csrf_protection_on(csrf_app):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    svc.open_link(event, world.volunteer)
    db.session.commit()
    client = csrf_app.test_client()
    page = client.get(form_url(event)).get_data(as_text=True)
    response = client.post(
        form_url(event), data={**say_data(), "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    assert len(feedback_rows()) == 1


@pytest.mark.parametrize("problem", ["missing", "wrong", "expired", "no_session"])
def test_a_stale_form_is_shown_again_with_every_word_kept(csrf_app, monkeypatch, problem):
    world = factories.make_world()
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    svc.open_link(event, world.volunteer)
    db.session.commit()
    client = csrf_app.test_client()
    if problem == "expired":
        # The form was fetched long ago: its token is older than WTF_CSRF_TIME_LIMIT.
        earlier = int(time.time()) - csrf_app.config["WTF_CSRF_TIME_LIMIT"] - 60
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: earlier)
    token = csrf_token_from(client.get(form_url(event, young=True)).get_data(as_text=True))
    monkeypatch.undo()
    g.pop("csrf_token", None)
    data = say_data(respondent="child", wants_reply="y", email="me@example.org")
    if problem == "wrong":
        data["csrf_token"] = token[:-4] + "AAAA"
    elif problem in ("expired", "no_session"):
        data["csrf_token"] = token
    if problem == "no_session":
        client.delete_cookie("session")

    response = client.post(form_url(event, young=True), data=data)
    assert response.status_code == 400
    page = soup(response)
    assert "Please send it again" in page.select_one(".govuk-notification-banner").get_text()
    assert page.find(id="text").get_text() == TEXT
    assert page.select_one("input[name=respondent][value=child]").has_attr("checked")
    assert page.find(id="email")["value"] == "me@example.org"
    assert feedback_rows() == []

    g.pop("csrf_token", None)
    fresh = csrf_token_from(response.get_data(as_text=True))
    response = client.post(form_url(event, young=True), data={**data, "csrf_token": fresh})
    assert response.status_code == 302
    assert len(feedback_rows()) == 1


# Rate limits


@pytest.fixture
def limited_app(migrated):
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=migrated,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=True,
        SELF_SUBMISSION_LIMITS="3 per minute",
        SELF_SUBMISSION_LINK_LIMITS="4 per minute",
    )
    with app.app_context():
        try:
            yield app
        finally:
            limiter.reset()
            db.session.remove()
            _empty_all_tables()
            db.engine.dispose()


def _two_open_events():
    world = factories.make_world()
    events = [factories.make_event(world.partnership, created_by=world.volunteer) for _ in "ab"]
    for event in events:
        svc.open_link(event, world.volunteer)
    db.session.commit()
    return events


def _send(client, event, n: int, *, young: bool = False, ip: str = "192.0.2.1"):
    return client.post(
        form_url(event, young=young),
        data=say_data(respondent="other", idempotency_key=f"key-{event.id}-{n}-{ip}-0000"),
        environ_base={"REMOTE_ADDR": ip},
    )


def test_one_address_is_limited_across_links_and_forms(limited_app):
    first, second = _two_open_events()
    client = limited_app.test_client()
    assert _send(client, first, 1).status_code == 302
    assert _send(client, first, 2, young=True).status_code == 302
    assert _send(client, second, 3).status_code == 302
    refused = _send(client, second, 4)
    assert refused.status_code == 429
    page = soup(refused)
    assert page.select_one("h1").get_text(strip=True) == "Too many messages sent"
    # Their words are given back to copy.
    assert page.select_one(".app-kept-text").get_text() == TEXT
    assert "Content-Security-Policy" in refused.headers
    assert len(feedback_rows()) == 3
    # Reading the form is never limited; another address may still send.
    assert (
        client.get(form_url(second), environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 200
    )
    assert _send(client, second, 5, ip="192.0.2.2").status_code == 302


def test_one_link_is_limited_across_addresses(limited_app):
    first, second = _two_open_events()
    client = limited_app.test_client()
    for n in range(4):
        assert _send(client, first, n, ip=f"198.51.100.{n}").status_code == 302
    refused = _send(client, first, 9, ip="198.51.100.99")
    assert refused.status_code == 429
    assert "Too many messages sent" in text_of(refused)
    assert len(feedback_rows()) == 4
    # Another event's link is not affected.
    assert _send(client, second, 1, ip="198.51.100.99").status_code == 302


def test_a_link_typed_from_the_poster_works_in_any_case_and_with_a_slash(client, world):
    event = factories.make_event(world.partnership, created_by=world.volunteer)
    token = svc.open_link(event, world.volunteer).self_submission_token
    db.session.commit()
    assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", token)
    assert not set(token) & set("01ilo")
    for typed in (token, token.upper(), f"{token}/", f"{token.upper()}/young/"):
        assert client.get(f"/say/{typed}").status_code == 200, typed
