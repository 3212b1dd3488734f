"""Subject access and erasure: an admin finds everything held about a contact e-mail address or
phone number, exports it, and erases it, leaving every count as it was."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup

from app.extensions import db
from app.models import AuditEntry, Feedback, FeedbackContact, OutboxMessage, Theme
from app.services import consent, dashboard, subject_access
from tests import factories
from tests.html import soup, text_of

SEARCH = "/admin/subject-access"
EXPORT = "/admin/subject-access/export"
ERASE = "/admin/subject-access/erase"

EMAIL = "Parent.One@example.org"
PHONE = "07700900982"
RAW_A = "The wait for Alfie's assessment at Oakfield Primary was 40 weeks."
RAW_B = "Nobody answers the SEND team's phone."
RAW_MENTION = "Please ring me on 07700 900 982 about the transport, Sam's mum"
RAW_OTHER = "Someone else's words about short breaks."
RAW_FLAGGED = "Something happened at home that worries me."


@dataclass
class Held:
    a: Feedback
    b: Feedback
    other: Feedback
    mention: Feedback
    flagged: Feedback
    theirs: Feedback
    theme: Theme
    message: OutboxMessage
    alert: OutboxMessage


def _contact(item: Feedback, email: str | None, phone: str | None = None) -> FeedbackContact:
    row = FeedbackContact(
        partnership_id=item.partnership_id,
        feedback_id=item.id,
        email=email,
        phone=phone,
        delete_after=date(2027, 11, 2),
        notice_version="2026-11",
    )
    db.session.add(row)
    db.session.commit()
    return row


def _message(partnership, to: str, template: str, subject: str) -> OutboxMessage:
    message = OutboxMessage(
        partnership_id=partnership.id,
        reference=f"{template}-{to}",
        to=to,
        subject=subject,
        body=f"{subject}. Read more on the You said, we did page.",
        template=template,
    )
    db.session.add(message)
    db.session.commit()
    return message


@pytest.fixture
def held(world) -> Held:
    p = world.partnership
    event = factories.make_event(p, created_by=world.volunteer, name="Marple coffee morning")
    common = {"event": event, "entered_by": world.volunteer, "wants_reply": True}
    a = factories.make_feedback(
        p,
        raw_text=RAW_A,
        redacted_text="The wait for an assessment was 40 weeks.",
        setting="Oakfield Primary",
        may_quote=True,
        consent_notice_version="2026-11",
        consent_recorded_at=datetime(2026, 11, 2, 10, 30),
        priorities=[world.priorities["SEMH"]],
        need_types=["semh"],
        **common,
    )
    b = factories.make_feedback(p, raw_text=RAW_B, status="new", **common)
    other = factories.make_feedback(p, raw_text=RAW_OTHER, **common)
    mention = factories.make_feedback(p, raw_text=RAW_MENTION, event=event)
    flagged = factories.make_feedback(
        p,
        raw_text=RAW_FLAGGED,
        safeguarding_flag=True,
        safeguarding_note="Worried about home.",
        **common,
    )
    _contact(a, EMAIL, PHONE)
    _contact(b, EMAIL)
    _contact(other, "someone.else@example.org", "07700900111")
    _contact(flagged, EMAIL, PHONE)
    theirs_world = factories.make_world("theirs")
    theirs = factories.make_feedback(
        theirs_world.partnership, raw_text="Their partnership's words."
    )
    _contact(theirs, EMAIL, PHONE)
    theme = factories.make_theme(
        p,
        title="Waiting for assessments",
        subgroup=world.subgroups["CCE"],
        feedback=[a, *[factories.make_feedback(p, event=event) for _ in range(5)]],
        published=True,
    )
    message = _message(p, EMAIL.lower(), "told_what_happened", "What happened after you told us")
    alert = _message(p, EMAIL.lower(), "safeguarding_flagged", "A safeguarding concern")
    return Held(a, b, other, mention, flagged, theirs, theme, message, alert)


def _search(client, **data):
    return client.post(SEARCH, data={"email": "", "phone": "", **data})


def _entries(verb: str) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.verb == verb).order_by(AuditEntry.id)
        )
    )


def _no_personal_data(entry: AuditEntry) -> None:
    stored = json.dumps(entry.details).lower()
    for private in ("example.org", "parent.one", "07700", "7700 900", "alfie", "oakfield"):
        assert private not in stored, private


# ---------------------------------------------------------------------------------------------
# Who may use it


NOT_ADMINS = [
    "volunteer",
    "coordinator",
    "coordinator2",
    "safeguarding_lead",
    "subgroup_lead",
    "other_lead",
    "board_viewer",
]


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_only_admins_may_look_people_up(client, auth, world, held, who):
    auth.login(getattr(world, who))
    assert client.get(SEARCH).status_code == 403
    assert _search(client, email=EMAIL).status_code == 403
    form = {"email": EMAIL, "phone": "", "format": "json"}
    assert client.post(EXPORT, data=form).status_code == 403
    assert client.post(ERASE, data={**form, "confirm": "yes"}).status_code == 403
    assert db.session.scalar(sa.select(sa.func.count(FeedbackContact.id))) == 5
    assert _entries(subject_access.SEARCHED) == []


def test_signed_out_people_are_sent_to_sign_in(client, held):
    for response in (client.get(SEARCH), client.post(EXPORT), client.post(ERASE)):
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


def test_the_admin_overview_links_to_it(client, auth, world):
    auth.login(world.admin)
    page = soup(client.get("/admin/"))
    link = page.find("a", href=SEARCH)
    assert link is not None and "what we hold" in link.get_text().lower()


# ---------------------------------------------------------------------------------------------
# Searching


def test_the_search_page_asks_for_an_email_address_or_phone_number(client, auth, world):
    auth.login(world.admin)
    page = soup(client.get(SEARCH))
    assert page.find("h1").get_text(strip=True) == "Find what we hold about someone"
    form = page.find("form", attrs={"method": "post"}, action=SEARCH)
    assert form.has_attr("novalidate")
    labels = [label.get_text(strip=True) for label in form.find_all("label")]
    assert labels == ["Email address", "Phone number"]


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({}, "email", "Enter an email address or a phone number"),
        ({"email": "not an address"}, "email", consent.EMAIL_INVALID),
        ({"phone": "12345"}, "phone", consent.PHONE_INVALID),
        ({"email": "a@example.org", "phone": "0770"}, "phone", consent.PHONE_INVALID),
    ],
)
def test_a_search_that_cannot_run_says_why(client, auth, world, data, field, message):
    auth.login(world.admin)
    response = _search(client, **data)
    assert response.status_code == 200
    page = soup(response)
    assert page.find("title").get_text().startswith("Error: ")
    summary = page.find(class_="govuk-error-summary")
    assert [a.get_text(strip=True) for a in summary.find_all("a")] == [message]
    assert summary.find("a")["href"] == f"#{field}"
    # What they typed is kept.
    for name, value in data.items():
        assert page.find("input", attrs={"name": name})["value"] == value
    assert _entries(subject_access.SEARCHED) == []


def test_a_search_by_email_finds_their_items_and_nothing_else(client, auth, world, held):
    auth.login(world.admin)
    # Typed as a person might: other capitals, spaces around it.
    response = _search(client, email="  parent.one@EXAMPLE.org ")
    assert response.status_code == 200
    page = soup(response)
    assert page.find("h1").get_text(strip=True) == "What we hold"
    # The address is never in the page title, which browsers keep in their history.
    assert "example.org" not in page.find("title").get_text().lower()
    text = text_of(response)
    headings = [h.get_text(strip=True) for h in page.find_all("h3")]
    assert headings == [
        f"Feedback item {held.a.id}",
        f"Feedback item {held.b.id}",
        held.message.subject,
    ]
    for shown in (
        RAW_A,
        "The wait for an assessment was 40 weeks.",
        RAW_B,
        "Oakfield Primary",
        "Marple coffee morning",
        "Waiting for assessments (Published)",
        "Priority SEMH",
        "Social, emotional and mental health",
        "May be quoted without their name: Yes",
        "Privacy notice shown: 2026-11",
        "2 November 2026 at 10:30 UTC",
        "What happened after you told us",
    ):
        assert shown in text, shown
    table = page.find("table")
    rows = [[td.get_text(strip=True) for td in tr("td")] for tr in table.tbody("tr")]
    assert [r[:3] for r in rows] == [
        [str(held.a.id), EMAIL, PHONE],
        [str(held.b.id), EMAIL, "None"],
    ]
    # Never: someone else's, a safeguarding record, another partnership's, a safeguarding alert.
    for hidden in (RAW_OTHER, RAW_FLAGGED, "Worried about home", "Their partnership", RAW_MENTION):
        assert hidden not in text
    assert "A safeguarding concern" not in text
    # Said every time, found or not, so that it reveals nothing.
    assert "Feedback flagged as a safeguarding concern is never shown here" in text


def test_a_search_by_phone_also_finds_words_that_mention_the_number(client, auth, world, held):
    auth.login(world.admin)
    response = _search(client, phone="+44 7700 900982")
    text = text_of(response)
    page = soup(response)
    assert [h.get_text(strip=True) for h in page.find_all("h2")][:4] == [
        "Send it to them, or erase it",
        "Contact details",
        "What they told us",
        "Other feedback that mentions them",
    ]
    assert RAW_A in text and RAW_MENTION in text
    assert RAW_B not in text and RAW_FLAGGED not in text


def test_every_search_is_audited_without_the_address(client, auth, world, held):
    auth.login(world.admin)
    _search(client, email=EMAIL)
    _search(client, email="nobody@example.org")
    found, nothing = _entries(subject_access.SEARCHED)
    assert (found.actor, found.object_type, found.object_id) == (
        world.admin.email,
        "Partnership",
        world.partnership.id,
    )
    assert found.details == {
        "subject": subject_access.Subject(EMAIL, None).reference(),
        "searched_by": "email address",
        "contacts": 2,
        "items": 2,
        "mentions": 0,
        "messages": 1,
    }
    assert nothing.details["items"] == 0
    assert nothing.details["subject"] != found.details["subject"]
    for entry in (found, nothing):
        _no_personal_data(entry)
    log = text_of(client.get("/admin/audit"))
    assert "Contact's details looked up (subject access)" in log
    assert f"Reference {found.details['subject']}" in log


def test_nothing_found_offers_nothing_to_export_or_erase(client, auth, world, held):
    auth.login(world.admin)
    response = _search(client, email="nobody@example.org")
    page = soup(response)
    assert "We hold no contact details, feedback or messages for email address." in text_of(
        response
    )
    assert page.find("form", action=EXPORT) is None
    assert page.find("form", action=ERASE) is None


def test_the_reference_is_stable_and_keyed(app):
    one = subject_access.Subject("a@example.org", None)
    reference = one.reference()
    assert len(reference) == 16
    assert reference == subject_access.Subject("A@example.org", None).reference()
    assert reference != subject_access.Subject("b@example.org", None).reference()
    assert reference != subject_access.Subject("a@example.org", PHONE).reference()
    # Keyed by the app's secret: without it, a list of addresses cannot be hashed to match.
    key = app.config["SECRET_KEY"]
    try:
        app.config["SECRET_KEY"] = "another key"
        assert one.reference() != reference
    finally:
        app.config["SECRET_KEY"] = key


@pytest.mark.parametrize(
    "written",
    [
        "07700900982",
        "07700 900982",
        "07700 900 982",
        "07700-900-982",
        "(07700) 900 982",
        "+447700900982",
        "+44 7700 900982",
        "+44 (0)7700 900 982",
        "call 07700 900982.",
    ],
)
def test_a_number_is_found_however_it_is_written(written):
    assert subject_access.Subject(None, PHONE).pattern().search(written)


@pytest.mark.parametrize(
    "written", ["077009009821", "1077009009822", "07700 900 983", "447700900982"]
)
def test_a_different_number_is_not_found(written):
    assert not subject_access.Subject(None, PHONE).pattern().search(written)


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("write to parent.one@example.org please", True),
        ("PARENT.ONE@EXAMPLE.ORG", True),
        ("(parent.one@example.org)", True),
        ("xparent.one@example.org", False),
        ("parent.one@example.org.uk", False),
    ],
)
def test_an_address_is_found_only_whole(written, found):
    assert bool(subject_access.Subject(EMAIL, None).pattern().search(written)) is found


# ---------------------------------------------------------------------------------------------
# Exporting


def _form_data(form: BeautifulSoup) -> dict[str, str]:
    return {i["name"]: i.get("value", "") for i in form.find_all("input") if i.get("name")}


def _button_form(page: BeautifulSoup, action: str, **match: str) -> dict[str, str]:
    for form in page.find_all("form", action=action):
        data = _form_data(form)
        if all(data.get(k) == v for k, v in match.items()):
            return data
    raise AssertionError(f"no form posting to {action} with {match}")


def test_the_json_download_holds_everything_found(client, auth, world, held):
    auth.login(world.admin)
    page = soup(_search(client, email=EMAIL))
    data = _button_form(page, EXPORT, format="json")
    assert data["email"] == EMAIL and data["phone"] == ""
    response = client.post(EXPORT, data=data)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith('attachment; filename="subject-access-')
    assert "example" not in disposition
    assert response.headers["Cache-Control"] == "no-store"
    export = response.get_json()
    assert export["looked_up_by"] == {"email": EMAIL, "phone": None}
    assert [c["feedback_id"] for c in export["contact_details"]] == [held.a.id, held.b.id]
    first = export["feedback"][0]
    assert first["id"] == held.a.id
    assert first["what_was_said"] == RAW_A
    assert first["reworded_without_personal_details"] == "The wait for an assessment was 40 weeks."
    assert first["who_said_it"] == "Parent or carer"
    assert first["need_types"] == ["Social, emotional and mental health"]
    assert first["event"]["name"] == "Marple coffee morning"
    assert first["theme"] == {"title": "Waiting for assessments", "published": True}
    assert first["consent"]["may_quote_without_name"] is True
    assert first["consent"]["recorded_at"] == "2026-11-02T10:30:00"
    assert [m["subject"] for m in export["messages"]] == [held.message.subject]
    assert RAW_FLAGGED not in response.get_data(as_text=True)
    assert "Their partnership" not in response.get_data(as_text=True)

    (entry,) = _entries(subject_access.EXPORTED)
    assert entry.details["format"] == "JSON file"
    _no_personal_data(entry)


def test_the_readable_page_can_be_printed(client, auth, world, held):
    auth.login(world.admin)
    page = soup(_search(client, email=EMAIL))
    response = client.post(EXPORT, data=_button_form(page, EXPORT, format="page"))
    assert response.status_code == 200
    printable = soup(response)
    assert printable.find("h1").get_text(strip=True) == "Information we hold about you"
    assert printable.find("link", rel="stylesheet", media="print") is not None
    assert printable.find(class_="app-no-print") is not None
    text = text_of(response)
    assert RAW_A in text and RAW_B in text and "Oakfield Primary" in text
    assert RAW_FLAGGED not in text
    (entry,) = _entries(subject_access.EXPORTED)
    assert entry.details["format"] == "Readable page"


@pytest.mark.parametrize(
    "data",
    [
        {"email": "not an address", "format": "json"},
        {"email": "", "phone": "", "format": "json"},
        {"email": EMAIL, "format": "xml"},
        {"email": EMAIL},
    ],
)
def test_an_export_not_sent_by_our_pages_is_refused(client, auth, world, held, data):
    auth.login(world.admin)
    assert client.post(EXPORT, data=data).status_code == 400
    assert _entries(subject_access.EXPORTED) == []


# ---------------------------------------------------------------------------------------------
# Erasing


def _counts(client, world, theme_slug: str) -> tuple:
    evidence = dashboard.evidence_for(world.coordinator)
    public = text_of(client.application.test_client().get(f"/you-said-we-did/{theme_slug}"))
    items = db.session.scalar(sa.select(sa.func.count(Feedback.id)))
    return evidence, public, items


def test_erasing_asks_first_then_empties_their_items_and_keeps_the_counts(
    client, auth, world, held
):
    before = _counts(client, world, held.theme.slug)
    auth.login(world.admin)
    page = soup(_search(client, email=EMAIL, phone=PHONE))
    first = client.post(ERASE, data=_button_form(page, ERASE))
    assert first.status_code == 200
    confirm = soup(first)
    assert confirm.find("h1").get_text(strip=True) == (
        "Are you sure you want to erase these details?"
    )
    warning = confirm.find(class_="govuk-warning-text")
    assert "You cannot undo this" in warning.get_text()
    listed = [
        li.get_text(" ", strip=True) for li in confirm.find("ul", class_="govuk-list--bullet")("li")
    ]
    assert listed == [
        "delete 2 contact records",
        "delete what was said, the reworded text and the setting of 2 feedback items",
        "take the email address or phone number out of the words of 1 other item",
        "delete 1 message to them",
    ]
    # Asking changed nothing.
    assert db.session.get(Feedback, held.a.id).raw_text == RAW_A
    assert _entries(subject_access.ERASED) == []

    response = client.post(ERASE, data=_form_data(confirm.find("form", action=ERASE)))
    assert response.status_code == 302
    assert response.headers["Location"].endswith(SEARCH)
    db.session.expire_all()

    for item in (held.a, held.b):
        row = db.session.get(Feedback, item.id)
        assert (row.raw_text, row.redacted_text, row.setting) == ("", None, None)
        assert row.raw_text_deleted_at is not None
        assert row.contact is None
    # The item stays, with its tags, theme and consent record, so every count stays.
    a = db.session.get(Feedback, held.a.id)
    assert [p.code for p in a.priorities] == ["SEMH"] and a.theme_id == held.theme.id
    assert a.may_quote is True and a.consent_notice_version == "2026-11"
    # Only the number is taken out of words that mention it.
    assert db.session.get(Feedback, held.mention.id).raw_text == (
        "Please ring me on [phone] about the transport, Sam's mum"
    )
    # Someone else, the safeguarding record and the other partnership are untouched.
    assert db.session.get(Feedback, held.other.id).contact is not None
    flagged = db.session.get(Feedback, held.flagged.id)
    assert flagged.raw_text == RAW_FLAGGED and flagged.contact is not None
    theirs = db.session.get(Feedback, held.theirs.id)
    assert theirs.raw_text == "Their partnership's words." and theirs.contact is not None
    # Their message goes; the safeguarding alert to staff stays.
    assert db.session.get(OutboxMessage, held.message.id) is None
    assert db.session.get(OutboxMessage, held.alert.id) is not None

    assert _counts(client, world, held.theme.slug) == before

    banner = text_of(client.get(SEARCH))
    reference = subject_access.Subject(EMAIL, PHONE).reference()
    assert (
        "Erased: 2 contact records deleted, the words of 2 feedback items deleted, their "
        f"details taken out of 1 other item, 1 message deleted. Reference {reference}"
    ) in banner
    (entry,) = _entries(subject_access.ERASED)
    assert entry.details == {
        "subject": reference,
        "searched_by": "email address and phone number",
        "contacts": 2,
        "items": 2,
        "mentions": 1,
        "messages": 1,
    }
    _no_personal_data(entry)

    # Nothing is left to find.
    after = text_of(_search(client, email=EMAIL, phone=PHONE))
    assert "Nothing found" in after


def test_erasing_what_changed_since_it_was_confirmed_is_refused(client, auth, world, held):
    auth.login(world.admin)
    page = soup(_search(client, email=EMAIL))
    confirm = soup(client.post(ERASE, data=_button_form(page, ERASE)))
    data = _form_data(confirm.find("form", action=ERASE))
    # Another item with their address arrives while the admin reads the warning.
    late = factories.make_feedback(world.partnership, raw_text="A late one.")
    _contact(late, EMAIL)

    response = client.post(ERASE, data=data)
    assert response.status_code == 200
    assert "has changed since you looked" in text_of(response)
    assert "delete 3 contact records" in text_of(response)
    assert db.session.get(Feedback, held.a.id).raw_text == RAW_A
    assert _entries(subject_access.ERASED) == []


def test_erasing_nothing_says_so(client, auth, world, held):
    auth.login(world.admin)
    response = client.post(ERASE, data={"email": "nobody@example.org", "confirm": "yes"})
    assert response.status_code == 302
    assert "there is nothing to erase" in text_of(client.get(SEARCH))
    assert _entries(subject_access.ERASED) == []


def test_an_erasure_not_sent_by_our_pages_is_refused(client, auth, world, held):
    auth.login(world.admin)
    response = client.post(ERASE, data={"email": "not an address", "confirm": "yes"})
    assert response.status_code == 400
    assert db.session.get(Feedback, held.a.id).raw_text == RAW_A


def test_the_whole_journey_works_with_csrf_protection_on(csrf_app):
    world = factories.make_world()
    item = factories.make_feedback(world.partnership, raw_text=RAW_A)
    _contact(item, EMAIL)
    client = csrf_app.test_client()
    sign_in = soup(client.get("/sign-in"))
    data = _form_data(sign_in.find("main").find("form", attrs={"method": "post"}))
    data.update(email=world.admin.email, password=factories.PASSWORD)
    assert client.post("/sign-in", data=data).status_code == 302

    search = soup(client.get(SEARCH)).find("form", action=SEARCH)
    results = client.post(SEARCH, data={**_form_data(search), "email": EMAIL})
    assert results.status_code == 200 and RAW_A in text_of(results)
    page = soup(results)
    for form in page.find_all("form", attrs={"method": "post"}):
        assert form.find("input", attrs={"name": "csrf_token"}), form.get("action")
    exported = client.post(EXPORT, data=_button_form(page, EXPORT, format="json"))
    assert exported.status_code == 200
    confirm = soup(client.post(ERASE, data=_button_form(page, ERASE)))
    done = client.post(ERASE, data=_form_data(confirm.find("form", action=ERASE)))
    assert done.status_code == 302
    db.session.expire_all()
    assert db.session.get(Feedback, item.id).raw_text == ""
