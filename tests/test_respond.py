"""Sub-group leads answer themes with actions and progress updates (the respond pages)."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Action, AuditEntry, ProgressUpdate, Theme
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of
from tests.test_approvals import approve

RAW = "My son Jaden at Hillside Primary waited two years for his assessment."
REDACTED = "A parent said their child waited two years for an assessment."
OTHER_RAW = "Nobody rang me back about the EHCP."
FLAGGED_RAW = "SAFEGUARDING-ITEM-TEXT should never reach a lead."


@pytest.fixture
def cce_theme(world):
    p = world.partnership
    items = [
        factories.make_feedback(p, raw_text=RAW, redacted_text=REDACTED),
        factories.make_feedback(p, raw_text=OTHER_RAW),
    ]
    theme = factories.make_theme(
        p,
        title="Waiting for assessments",
        statement="Families told us they wait too long for autism assessments.",
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["AUTISM"]],
        feedback=items,
        created_by=world.coordinator,
    )
    flagged = factories.make_feedback(p, raw_text=FLAGGED_RAW, safeguarding_flag=True)
    flagged.theme_id = theme.id
    db.session.commit()
    return theme


@pytest.fixture
def qpmi_theme(world):
    return factories.make_theme(
        world.partnership,
        title="Short breaks",
        statement="Families said short breaks are hard to find.",
        subgroup=world.subgroups["QPMI"],
        created_by=world.coordinator,
    )


def action_form(**overrides):
    data = {
        "kind": "we_will",
        "text": "We will write to every family on the waiting list each month.",
        "target_date": ["31", "3", "2027"],
        "done_date": ["", "", ""],
        "reason": "",
        "status": "",
        "evidence_url": "",
    }
    data.update(overrides)
    return data


def post_action(client, theme, **overrides):
    data = action_form(**overrides)
    if "subgroup_id" not in data:
        data["subgroup_id"] = str(theme.subgroup_id)
    return client.post(f"/respond/themes/{theme.id}/actions/new", data=data)


# --- who may use the respond pages -----------------------------------------------------------


def _respond_urls(theme, action):
    return [
        "/respond/",
        f"/respond/themes/{theme.id}",
        f"/respond/themes/{theme.id}/actions/new",
        f"/respond/actions/{action.id}/edit",
        f"/respond/actions/{action.id}/updates/new",
    ]


@pytest.mark.parametrize("role", ["volunteer", "board_viewer", "safeguarding_lead"])
def test_roles_without_respond_permission_are_refused(client, auth, world, cce_theme, role):
    action = factories.make_action(cce_theme)
    auth.login(getattr(world, role))
    for url in _respond_urls(cce_theme, action):
        assert client.get(url).status_code == 403, url
    for url in _respond_urls(cce_theme, action)[2:]:
        assert client.post(url, data=action_form()).status_code == 403, url
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 1


def test_signed_out_people_are_sent_to_sign_in(client, world, cce_theme):
    response = client.get(f"/respond/themes/{cce_theme.id}")
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_lead_of_another_subgroup_gets_404_for_the_theme_and_its_actions(
    client, auth, world, cce_theme
):
    action = factories.make_action(cce_theme, created_by=world.subgroup_lead)
    auth.login(world.other_lead)
    for url in _respond_urls(cce_theme, action)[1:]:
        assert client.get(url).status_code == 404, url
    for url in _respond_urls(cce_theme, action)[2:]:
        assert client.post(url, data=action_form(text="Sneaky")).status_code == 404, url
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 1
    assert db.session.scalar(sa.select(sa.func.count(ProgressUpdate.id))) == 0
    index = text_of(client.get("/respond/"))
    assert "Waiting for assessments" not in index


def test_another_partnerships_theme_is_404_even_for_an_admin(client, auth, world):
    elsewhere = factories.make_world()
    theme = factories.make_theme(elsewhere.partnership, subgroup=elsewhere.subgroups["CCE"])
    action = factories.make_action(theme)
    auth.login(world.admin)
    for url in _respond_urls(theme, action)[1:]:
        assert client.get(url).status_code == 404, url
    assert post_action(client, theme).status_code == 404


# --- the list of themes ---------------------------------------------------------------------


def test_lead_sees_only_the_themes_their_subgroups_own(client, auth, world, cce_theme, qpmi_theme):
    auth.login(world.subgroup_lead)
    page = client.get("/respond/")
    assert page.status_code == 200
    text = text_of(page)
    assert "Themes your sub-groups own" in text
    assert "Waiting for assessments" in text
    assert "Families told us they wait too long for autism assessments." in text
    assert "Short breaks" not in text
    # Two visible items of feedback; the safeguarding-flagged one is not counted.
    assert "2 items of feedback" in text
    assert "No response yet" in text


def test_coordinator_sees_every_theme_and_can_filter_by_subgroup(
    client, auth, world, cce_theme, qpmi_theme
):
    auth.login(world.coordinator)
    text = text_of(client.get("/respond/"))
    assert "All themes" in text
    assert "Waiting for assessments" in text and "Short breaks" in text
    filtered = text_of(client.get(f"/respond/?subgroup={world.subgroups['QPMI'].id}"))
    assert "Short breaks" in filtered
    assert "Waiting for assessments" not in filtered
    # A made-up filter value is ignored, not an error.
    assert client.get("/respond/?subgroup=banana").status_code == 200


def test_list_shows_actions_statuses_and_what_needs_doing(client, auth, world, cce_theme):
    factories.make_action(cce_theme, status="in_progress", published=True)
    factories.make_action(cce_theme, kind="we_did", status="done", target_date=None)
    auth.login(world.subgroup_lead)
    text = text_of(client.get("/respond/"))
    assert "2 actions: 1 done, 1 in progress" in text
    assert "Waiting for approval" in text
    assert "Not published" in text


def _count_queries(app, fn) -> int:
    statements: list[str] = []

    def listener(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", listener)
    try:
        fn()
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", listener)
    return len(statements)


def test_theme_list_queries_do_not_grow_with_the_number_of_themes(app, client, auth, world):
    def make(n):
        for _ in range(n):
            theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
            action = factories.make_action(theme)
            factories.make_update(action)
            factories.make_feedback(world.partnership).theme_id = theme.id
        db.session.commit()

    auth.login(world.coordinator)
    make(3)
    few = _count_queries(app, lambda: client.get("/respond/"))
    make(20)
    many = _count_queries(app, lambda: client.get("/respond/"))
    assert many == few


# --- one theme ------------------------------------------------------------------------------


def test_theme_page_shows_the_statement_feedback_and_actions(client, auth, world, cce_theme):
    action = factories.make_action(cce_theme, created_by=world.subgroup_lead)
    factories.make_update(action, text="Letters went out in November.")
    auth.login(world.subgroup_lead)
    page = client.get(f"/respond/themes/{cce_theme.id}")
    assert page.status_code == 200
    text = text_of(page)
    assert "Families told us they wait too long for autism assessments." in text
    # Redacted wording where there is one, the raw text otherwise; never a flagged item.
    assert REDACTED in text
    assert RAW not in text
    assert OTHER_RAW in text
    assert "SAFEGUARDING-ITEM-TEXT" not in text
    assert "We will write to every family on the waiting list each month." in text
    assert "31 March 2027" in text
    assert "Letters went out in November." in text
    links = {a.get_text(" ", strip=True): a["href"] for a in soup(page).find_all("a")}
    assert links["Add an action"] == f"/respond/themes/{cce_theme.id}/actions/new"
    assert any(href == f"/respond/actions/{action.id}/edit" for href in links.values())
    assert any(href == f"/respond/actions/{action.id}/updates/new" for href in links.values())


# --- adding and changing actions ------------------------------------------------------------


def test_new_action_form_defaults_the_owner_to_the_themes_subgroup(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    page = soup(client.get(f"/respond/themes/{cce_theme.id}/actions/new"))
    assert page.find("h1").get_text(strip=True) == "Add an action"
    selected = page.find("select", id="subgroup_id").find("option", selected=True)
    assert selected["value"] == str(world.subgroups["CCE"].id)
    legends = [legend.get_text(" ", strip=True) for legend in page.find_all("legend")]
    assert "What kind of answer is this?" in legends
    assert "When do you expect it to be done?" in legends
    assert page.find("main").find("form").has_attr("novalidate")


def test_lead_adds_a_we_will_action(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    response = post_action(client, cce_theme, evidence_url="https://example.org/plan")
    assert response.status_code == 302
    assert response.headers["Location"].startswith(f"/respond/themes/{cce_theme.id}")
    action = db.session.scalars(sa.select(Action)).one()
    assert action.kind == "we_will"
    assert action.target_date == date(2027, 3, 31)
    assert action.status == "planned"
    assert action.publication == "draft"
    assert action.created_by_id == world.subgroup_lead.id
    assert action.subgroup_id == world.subgroups["CCE"].id
    assert action.evidence_url == "https://example.org/plan"
    db.session.refresh(cce_theme)
    assert cce_theme.status == "responded"
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "action.created")
    ).one()
    assert entry.user_id == world.subgroup_lead.id
    assert entry.object_id == action.id
    page = client.get(response.headers["Location"])
    assert "Action saved" in text_of(page)
    assert "Waiting for approval" in text_of(page)


@pytest.mark.parametrize(
    ("kind", "extra", "status"),
    [
        ("we_did", {"done_date": ["3", "11", "2026"], "target_date": ["", "", ""]}, "done"),
        (
            "we_cant",
            {"reason": "The service is run by the NHS.", "target_date": ["", "", ""]},
            "not_possible",
        ),
        ("we_will", {}, "planned"),
    ],
)
def test_status_defaults_by_kind(client, auth, world, cce_theme, kind, extra, status):
    auth.login(world.coordinator)
    assert post_action(client, cce_theme, kind=kind, **extra).status_code == 302
    action = db.session.scalars(sa.select(Action)).one()
    assert action.status == status
    if kind == "we_did":
        assert action.done_date == date(2026, 11, 3)
    if kind == "we_cant":
        assert action.reason == "The service is run by the NHS."
        assert action.target_date is None


def test_a_chosen_status_is_kept(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    assert post_action(client, cce_theme, status="in_progress").status_code == 302
    assert db.session.scalars(sa.select(Action)).one().status == "in_progress"


def test_we_will_needs_a_target_date(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    typed = "We will hire two more assessors."
    response = post_action(client, cce_theme, text=typed, target_date=["", "", ""])
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    summary = page.find(class_="govuk-error-summary")
    assert "Enter the date you expect it to be done" in summary.get_text()
    assert error_for(page, "target_date") == "Error: Enter the date you expect it to be done"
    # What the person typed is kept.
    assert page.find("textarea", id="text").get_text() == typed
    assert page.find("input", {"name": "kind", "value": "we_will"}).has_attr("checked")
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0


def test_we_cant_needs_a_reason(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    response = post_action(client, cce_theme, kind="we_cant", target_date=["", "", ""])
    assert response.status_code == 200
    page = soup(response)
    assert error_for(page, "reason") == "Error: Enter why it cannot be done"
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0


def test_kind_and_text_are_required(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    response = client.post(
        f"/respond/themes/{cce_theme.id}/actions/new",
        data={"text": "", "subgroup_id": str(cce_theme.subgroup_id)},
    )
    page = soup(response)
    assert error_for(page, "kind") == (
        "Error: Select whether you did it, will do it or cannot do it"
    )
    assert error_for(page, "text") == "Error: Enter what was done or what will be done"


@pytest.mark.parametrize(
    ("parts", "message"),
    [
        (["31", "", "2027"], "The date you expect it to be done must include a month"),
        (["31", "2", "2027"], "The date you expect it to be done must be a real date"),
        (["1", "2", "27"], "Year must include 4 numbers"),
        (["a", "2", "2027"], "The date you expect it to be done must be a real date"),
    ],
)
def test_bad_dates_are_explained(client, auth, world, cce_theme, parts, message):
    auth.login(world.subgroup_lead)
    page = soup(post_action(client, cce_theme, target_date=parts))
    assert error_for(page, "target_date") == f"Error: {message}"
    # The boxes keep what was typed.
    assert page.find("input", id="target_date-day")["value"] == parts[0]


def test_done_date_cannot_be_in_the_future(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    page = soup(
        post_action(
            client, cce_theme, kind="we_did", done_date=["1", "1", str(date.today().year + 2)]
        )
    )
    assert error_for(page, "done_date") == (
        "Error: The date it was done must be today or in the past"
    )


@pytest.mark.parametrize(
    "url", ["javascript:alert(1)", "ftp://example.org/file", "example.org", "https://"]
)
def test_evidence_link_must_be_a_web_address(client, auth, world, cce_theme, url):
    auth.login(world.subgroup_lead)
    page = soup(post_action(client, cce_theme, evidence_url=url))
    assert error_for(page, "evidence_url") == (
        "Error: Enter a web address that starts with https:// or http://"
    )
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 0


def test_markup_in_action_text_is_stripped(client, auth, world, cce_theme):
    auth.login(world.subgroup_lead)
    post_action(client, cce_theme, text="We will <script>alert(1)</script>phone families.")
    assert db.session.scalars(sa.select(Action)).one().text == "We will alert(1)phone families."


def test_lead_changes_a_draft_action(client, auth, world, cce_theme):
    action = factories.make_action(cce_theme, created_by=world.subgroup_lead)
    auth.login(world.subgroup_lead)
    page = soup(client.get(f"/respond/actions/{action.id}/edit"))
    assert page.find("textarea", id="text").get_text() == action.text
    assert page.find("input", id="target_date-year")["value"] == "2027"
    response = client.post(
        f"/respond/actions/{action.id}/edit",
        data=action_form(
            text="We will phone every family instead.",
            target_date=["30", "6", "2027"],
            subgroup_id=str(world.subgroups["QPMI"].id),
        ),
    )
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.text == "We will phone every family instead."
    assert action.target_date == date(2027, 6, 30)
    assert action.subgroup_id == world.subgroups["QPMI"].id
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "action.updated")
    ).one()
    assert entry.details["changed"]["text"]["to"] == "We will phone every family instead."


def test_a_published_action_is_read_only(client, auth, world, cce_theme):
    factories._publish(cce_theme)
    action = factories.make_action(cce_theme, published=True)
    auth.login(world.subgroup_lead)
    page = client.get(f"/respond/actions/{action.id}/edit")
    assert page.status_code == 200
    html = soup(page)
    assert html.find("h1").get_text(strip=True) == "This action is published"
    assert html.find("textarea") is None
    link = html.find("a", string=lambda s: s and "Add a progress update" in s)
    assert link["href"] == f"/respond/actions/{action.id}/updates/new"
    response = client.post(f"/respond/actions/{action.id}/edit", data=action_form(text="Changed"))
    assert response.status_code == 409
    db.session.refresh(action)
    assert action.text != "Changed"


def test_changing_a_withdrawn_action_sends_it_back_for_approval(client, auth, world, cce_theme):
    action = factories.make_action(cce_theme)
    action.publication = "withdrawn"
    action.withdrawn_reason = "Wrong date"
    db.session.commit()
    auth.login(world.subgroup_lead)
    assert "withdrawn" in text_of(client.get(f"/respond/actions/{action.id}/edit"))
    assert client.get(f"/respond/actions/{action.id}/updates/new").status_code == 409
    response = client.post(f"/respond/actions/{action.id}/edit", data=action_form())
    assert response.status_code == 302
    db.session.refresh(action)
    assert action.publication == "draft"


# --- progress updates -----------------------------------------------------------------------


def test_progress_update_is_a_draft_and_does_not_change_the_status_yet(
    client, auth, world, cce_theme
):
    factories._publish(cce_theme)
    action = factories.make_action(cce_theme, published=True, status="in_progress")
    auth.login(world.subgroup_lead)
    page = soup(client.get(f"/respond/actions/{action.id}/updates/new"))
    assert page.find("h1").get_text(strip=True) == "Add a progress update"
    response = client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={
            "happened_on": ["14", "11", "2026"],
            "text": "All the letters have gone out.",
            "new_status": "done",
        },
    )
    assert response.status_code == 302
    update = db.session.scalars(sa.select(ProgressUpdate)).one()
    assert update.publication == "draft"
    assert update.new_status == "done"
    assert update.happened_on == date(2026, 11, 14)
    assert update.created_by_id == world.subgroup_lead.id
    db.session.refresh(action)
    assert action.status == "in_progress"
    assert action.done_date is None
    assert db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "progress_update.created")
    ).one()
    text = text_of(client.get(f"/respond/themes/{cce_theme.id}"))
    assert "All the letters have gone out." in text
    assert "Waiting for approval" in text


def test_progress_update_needs_a_date_and_what_happened(client, auth, world, cce_theme):
    action = factories.make_action(cce_theme)
    auth.login(world.subgroup_lead)
    response = client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={"happened_on": ["", "", ""], "text": ""},
    )
    page = soup(response)
    assert error_for(page, "happened_on") == "Error: Enter the date it happened"
    assert error_for(page, "text") == "Error: Enter what happened"
    future = client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={"happened_on": ["1", "1", str(date.today().year + 1)], "text": "Soon"},
    )
    assert error_for(soup(future), "happened_on") == (
        "Error: The date it happened must be today or in the past"
    )
    assert db.session.scalar(sa.select(sa.func.count(ProgressUpdate.id))) == 0


# --- the whole loop, as people do it --------------------------------------------------------


def test_lead_answers_coordinator_approves_progress_follows(client, auth, world):
    cce_theme = factories.make_theme(
        world.partnership,
        subgroup=world.subgroups["CCE"],
        feedback=[factories.make_feedback(world.partnership)],
        created_by=world.coordinator,
    )
    # The lead answers.
    auth.login(world.subgroup_lead)
    post_action(client, cce_theme)
    action = db.session.scalars(sa.select(Action)).one()
    auth.logout()

    # The theme's author may not approve their own theme; another coordinator does.
    auth.login(world.coordinator)
    refused = client.post(f"/triage/approvals/{cce_theme.id}")
    assert refused.status_code == 409
    assert "someone else must approve it" in text_of(refused)
    auth.logout()
    auth.login(world.coordinator2)
    assert approve(client, cce_theme.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, cce_theme.id).publication == "published"
    assert db.session.get(Action, action.id).publication == "published"
    auth.logout()

    # Later, the lead reports it done; the status waits for approval.
    auth.login(world.subgroup_lead)
    assert "This action is published" in text_of(client.get(f"/respond/actions/{action.id}/edit"))
    client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={
            "happened_on": ["20", "11", "2026"],
            "text": "Letters now go out monthly.",
            "new_status": "done",
        },
    )
    db.session.expire_all()
    assert db.session.get(Action, action.id).status == "planned"
    auth.logout()

    auth.login(world.coordinator2)
    assert approve(client, cce_theme.id).status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.status == "done"
    assert action.done_date == date(2026, 11, 20)
    assert action.updates[0].publication == "published"


def test_forms_work_with_csrf_protection_on(csrf_app, world):
    client = csrf_app.test_client()
    sign_in = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.subgroup_lead.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in.get_data(as_text=True)),
        },
    )
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    form_page = client.get(f"/respond/themes/{theme.id}/actions/new")
    assert form_page.status_code == 200
    data = action_form(subgroup_id=str(theme.subgroup_id))
    data["csrf_token"] = csrf_token_from(form_page.get_data(as_text=True))
    assert client.post(f"/respond/themes/{theme.id}/actions/new", data=data).status_code == 302
    action = db.session.scalars(sa.select(Action)).one()
    update_page = client.get(f"/respond/actions/{action.id}/updates/new")
    response = client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={
            "happened_on": ["1", "11", "2026"],
            "text": "Started.",
            "csrf_token": csrf_token_from(update_page.get_data(as_text=True)),
        },
    )
    assert response.status_code == 302
    # Without the token, nothing is saved.
    bad = client.post(f"/respond/themes/{theme.id}/actions/new", data=action_form())
    assert bad.status_code == 400
    assert db.session.scalar(sa.select(sa.func.count(Action.id))) == 1
