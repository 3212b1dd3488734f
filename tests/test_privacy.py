"""The privacy firewall (DESIGN.md section 6): nothing private reaches a public page or output.

A distinctive string is planted everywhere private text lives: what people said (raw and
redacted), contact details, event facilitators, safeguarding notes, the settings people named
and the names of staff. Every public URL is then fetched, and the string must be absent, while
the approved theme statement is present wherever the public should read it.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
import sqlalchemy as sa
from flask import Flask

from app.extensions import db
from app.models import FeedbackContact
from app.models.vocab import Publication, Role
from tests import factories as f

SECRET = "ZEBRA-7731-PRIVATE"
STATEMENT = "Families told us that letters about assessments arrive too late to plan."
SAY_TOKEN = "planted-link-0123456789"
OUTPUTS = [
    "/you-said-we-did",
    "/you-said-we-did/{slug}",
    "/you-said-we-did.json",
    "/you-said-we-did.csv",
    "/you-said-we-did/feed.atom",
]


@pytest.fixture
def planted(world):
    p = world.partnership
    staff = f.make_user(
        p,
        Role.SUBGROUP_LEAD,
        subgroups=[world.subgroups["CCE"]],
        name=f"Alex {SECRET}",
        email="alex.zebra@example.org",
    )
    event = f.make_event(p, created_by=staff, facilitators=f"Sam and {SECRET}")
    # The event's own link is open, so its public form and thank-you pages are walked too.
    event.self_submission_token = SAY_TOKEN
    event.self_submission_open = True
    items = []
    for n in range(6):
        item = f.make_feedback(
            p,
            event=event,
            entered_by=staff,
            raw_text=f"My son {SECRET} at Oak School waited {n} months.",
            redacted_text=f"My son waited months. {SECRET}",
            setting=f"Oak School {SECRET}",
            may_quote=True,
            wants_reply=True,
            priorities=[world.priorities["SEMH"]],
        )
        item.contact = FeedbackContact(
            partnership_id=p.id,
            email=f"{SECRET.lower()}@example.org",
            phone="07700 900123",
            delete_after=date(2027, 11, 2),
        )
        items.append(item)
    flagged = f.make_feedback(
        p,
        event=event,
        raw_text=f"A safeguarding worry {SECRET}",
        safeguarding_flag=True,
        safeguarding_note=f"Referred {SECRET}",
    )
    items.append(flagged)
    db.session.commit()

    theme = f.make_theme(
        p,
        title="Letters about assessments",
        slug="letters-about-assessments",
        statement=STATEMENT,
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["SEMH"]],
        feedback=items,
        published=True,
        created_by=staff,
    )
    action = f.make_action(theme, published=True, created_by=staff, owner_id=staff.id)
    f.make_update(action, published=True)
    # Unapproved wording is not public either.
    f.make_action(theme, text=f"Draft answer {SECRET}")
    f.make_update(action, text=f"Draft progress {SECRET}")
    hidden = f.make_theme(p, title=f"Draft theme {SECRET}", statement=f"Draft {SECRET}")
    withdrawn = f.make_theme(p, title=f"Withdrawn {SECRET}", published=True)
    withdrawn.publication = Publication.WITHDRAWN.value
    withdrawn.withdrawn_reason = f"Named a child {SECRET}"
    db.session.commit()
    assert hidden.slug != theme.slug
    return theme


def public_urls(app: Flask, slug: str) -> list[str]:
    """Every GET route whose view is marked @public, with real values for its arguments."""
    from app.services.consent import CURRENT_NOTICE

    values = {
        "slug": slug,
        "filename": "images/favicon.svg",
        "token": SAY_TOKEN,
        "version": CURRENT_NOTICE.version,
    }
    # A rule whose arguments all have defaults (/privacy-notice) is reached without them too.
    urls = ["/privacy-notice"]
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if not getattr(view, "is_public", False) or "GET" not in (rule.methods or ()):
            continue
        # Arguments this test does not know get a harmless value: the page is still fetched.
        args = {name: values.get(name, "1") for name in rule.arguments}
        with app.test_request_context():
            from flask import url_for

            urls.append(url_for(rule.endpoint, **args))
    return sorted(set(urls))


def test_planted_private_text_never_reaches_a_public_url(app, client, world, planted):
    urls = public_urls(app, planted.slug)
    for expected in [*OUTPUTS, "/open-data", "/accessibility", "/", f"/say/{SAY_TOKEN}/young"]:
        assert expected.format(slug=planted.slug) in urls
    for url in urls:
        response = client.get(url, follow_redirects=True)
        body = response.get_data(as_text=True)
        response.close()
        assert SECRET.lower() not in body.lower(), url
        assert SECRET.lower() not in str(response.headers).lower(), url
        assert "Oak School" not in body, url
        assert "07700 900123" not in body, url


def test_the_approved_statement_is_public_everywhere(client, world, planted):
    for url in OUTPUTS:
        response = client.get(url.format(slug=planted.slug))
        assert response.status_code == 200, url
        assert STATEMENT in response.get_data(as_text=True), url


def test_public_reads_never_select_private_columns(client, world, planted):
    statements: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        statements.append(statement.lower())

    sa.event.listen(db.engine, "before_cursor_execute", capture)
    try:
        for url in OUTPUTS:
            assert client.get(url.format(slug=planted.slug)).status_code == 200
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", capture)

    assert any("from feedback" in s or "join feedback" in s for s in statements)
    for statement in statements:
        for private in (
            "raw_text",
            "redacted_text",
            "facilitators",
            "safeguarding_note",
            "feedback_contact",
            "user_account",
            "withdrawn_reason",
        ):
            # Whole names only: partnership.raw_text_retention_months is a setting, not text.
            assert not re.search(rf"\b{private}\b", statement), (private, statement)


def test_safeguarding_and_unpublishable_items_are_not_counted(client, world, planted):
    theme = client.get("/you-said-we-did.json").get_json()["themes"][0]
    # Six items counted; the safeguarding-flagged one is not.
    assert theme["voices"]["total"] == 6


def test_one_small_category_cannot_be_worked_out_from_the_total(client, world):
    """Six voices: five parents and one child. Showing "5" for parents next to a total of 6
    would give the child away, so the parents' count is hidden too."""
    event = f.make_event(world.partnership)
    items = [
        f.make_feedback(world.partnership, event=event, respondent="parent_carer") for _ in range(5)
    ]
    items.append(f.make_feedback(world.partnership, event=event, respondent="child"))
    theme = f.make_theme(world.partnership, feedback=items, published=True)

    data = client.get("/you-said-we-did.json").get_json()
    voices = data["themes"][0]["voices"]
    assert voices["total"] == 6
    counts = {row["respondent"]: row["count"] for row in voices["by_respondent"]}
    assert counts == {"parent_carer": "fewer than 5", "child": "fewer than 5"}

    page = client.get(f"/you-said-we-did/{theme.slug}").get_data(as_text=True)
    assert "Parent or carer" in page
    assert ">5<" not in page.replace(" ", "")


# --- personal details planted in what families said, published through the services -----------

CHILD = "Ottilie Quillfeather"
STAFF = "Mrs Okonkwo-Hartley"
SCHOOL = "Brambleworth Primary"
EMAIL = "ottilie.mum@example.net"
PHONES = ("07700 900418", "0161 496 0777")
POSTCODE = "SK4 9ZZ"
RAW_PHRASE = "HERON-WHISTLE-4417"
PLANTED = (
    CHILD,
    "Ottilie",
    "Quillfeather",
    "Okonkwo",
    SCHOOL,
    EMAIL,
    *PHONES,
    POSTCODE,
    RAW_PHRASE,
)
# The planted values, as they might be spelt or escaped anywhere.
PLANTED_FORMS = {v.lower() for v in PLANTED} | {
    "okonkwo&#45;hartley",
    "ottilie.mum&#64;example.net",
    "07700900418",
    "01614960777",
    "sk49zz",
}
PUBLIC_STATEMENT = "Families told us the school bus leaves children waiting in the cold."
PUBLIC_ACTION = "We will ask Brookfield Academy to share its bus rota with every family."
PUBLIC_UPDATE = "Families can ring the transport team on 0161 474 4444 on weekdays."


@pytest.fixture
def published_through_services(world):
    """Feedback full of personal details, taken through triage, themes and approval."""
    from app.services import actions, capture, personal_details, publishing, themes, triage

    p = world.partnership
    event = f.make_event(p, created_by=world.volunteer)
    event.self_submission_token = SAY_TOKEN
    event.self_submission_open = True
    db.session.commit()
    raw = (
        f"{RAW_PHRASE} My daughter {CHILD}, 7, at {SCHOOL} is left on the bus. {STAFF} never "
        f"rings back. Call me on {PHONES[0]} or {PHONES[1]}, email {EMAIL}. We live at {POSTCODE}."
    )
    items = []
    for n in range(6):
        item, _ = capture.record_feedback(
            event,
            world.volunteer,
            capture.ItemDetails(
                text=f"{raw} Day {n}.",
                respondent="parent_carer",
                sentiment="needs_change",
                priorities=[world.priorities["SEMH"]],
                setting=SCHOOL,
                may_quote=True,
                wants_reply=True,
                email=EMAIL,
                phone=PHONES[0],
            ),
        )
        # The coordinator takes the suggestions, then saves the item as triaged.
        personal_details.apply_suggested_redactions(item, world.coordinator)
        triage.tag_feedback(
            item,
            world.coordinator,
            priorities=[world.priorities["SEMH"]],
            outcomes=[],
            routed_subgroup=world.subgroups["CCE"],
            redacted_text=item.redacted_text,
            contains_personal_details=True,
            not_for_publication=False,
        )
        items.append(item)
    db.session.commit()
    # The suggestions took every personal detail out (the raw phrase is no personal detail).
    for item in items:
        for value in set(PLANTED) - {RAW_PHRASE}:
            assert value not in (item.redacted_text or ""), value

    # A statement written in a hurry, straight from the raw words: the check stops it.
    theme = themes.create_theme(
        p,
        world.coordinator,
        title="Waiting for the school bus",
        statement=f"{CHILD} at {SCHOOL} waits in the cold. Call {PHONES[0]}.",
        priorities=[world.priorities["SEMH"]],
        subgroup=world.subgroups["CCE"],
        items=items,
    )
    db.session.commit()
    with pytest.raises(publishing.PublishingError, match="personal-details check"):
        publishing.approve_theme(theme, world.coordinator2)
    db.session.rollback()
    themes.update_theme(
        theme,
        world.coordinator,
        title="Waiting for the school bus",
        statement=PUBLIC_STATEMENT,
        priorities=[world.priorities["SEMH"]],
        subgroup=world.subgroups["CCE"],
    )
    action = actions.create_action(
        theme,
        world.subgroup_lead,
        kind="we_will",
        text=PUBLIC_ACTION,
        target_date=date(2027, 3, 31),
        today=date(2026, 11, 20),
    )
    actions.add_progress_update(
        action,
        world.subgroup_lead,
        happened_on=date(2026, 11, 20),
        text=PUBLIC_UPDATE,
        today=date(2026, 11, 20),
    )
    db.session.commit()

    # What is left are a trust's name and the council's own phone line: public on purpose.
    pending = publishing.pending_for(theme)
    flagged = [c for c in publishing.text_checks(pending) if c.findings]
    assert [c.summary for c in flagged] == ["a school", "a phone number"]
    for check in flagged:
        publishing.override_check(
            theme,
            world.coordinator2,
            key=check.key,
            seen_sha256=check.sha256,
            reason="It names the council's own service and partner, not a family.",
        )
    published = publishing.approve_theme(theme, world.coordinator2)
    db.session.commit()
    assert len(published) == 3
    return theme


def test_planted_personal_details_never_reach_any_public_url(
    app, client, world, published_through_services
):
    theme = published_through_services
    urls = public_urls(app, theme.slug)
    for expected in [
        *OUTPUTS,
        "/open-data",
        "/accessibility",
        "/privacy-notice",
        f"/say/{SAY_TOKEN}",
        f"/say/{SAY_TOKEN}/young",
    ]:
        assert expected.format(slug=theme.slug) in urls, expected
    seen_statement = False
    for url in urls:
        response = client.get(url, follow_redirects=True)
        # Every public page was really read, not an error page in its place.
        assert response.status_code == 200, url
        body = response.get_data(as_text=True)
        headers = str(response.headers)
        response.close()
        lowered = body.lower()
        compact = re.sub(r"\s+", "", lowered)
        for value in PLANTED_FORMS:
            assert value not in lowered, (value, url)
            assert value.replace(" ", "") not in compact, (value, url)
            assert value not in headers.lower(), (value, url)
        seen_statement = seen_statement or PUBLIC_STATEMENT in body
    # The crawl saw the published theme, so the absence above means something.
    assert seen_statement
    page = client.get(f"/you-said-we-did/{theme.slug}").get_data(as_text=True)
    assert PUBLIC_ACTION in page and PUBLIC_UPDATE in page
