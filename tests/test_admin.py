"""The admin area: the partnership overview, users, the strategy and the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import sqlalchemy as sa
from bs4 import BeautifulSoup
from sqlalchemy import event

from app import create_app
from app.config import TestConfig
from app.extensions import db
from app.models import AuditEntry, Outcome, Principle, User
from app.models.vocab import Role
from app.services import admin as admin_service
from app.services import audit, capture, triage
from tests import factories
from tests.conftest import csrf_token_from

ADMIN_PAGES = ["/admin/", "/admin/users", "/admin/users/new", "/admin/strategy", "/admin/audit"]
NOT_ADMINS = [
    "volunteer",
    "coordinator",
    "coordinator2",
    "safeguarding_lead",
    "subgroup_lead",
    "other_lead",
    "board_viewer",
]


def soup_of(response) -> BeautifulSoup:
    return BeautifulSoup(response.get_data(as_text=True), "html.parser")


def error_next_to(page: BeautifulSoup, field_id: str) -> str:
    """The error message inside the form group of the field (or fieldset) with this id."""
    field = page.find(id=field_id)
    assert field is not None, f"no field {field_id}"
    group = field.find_parent(class_="govuk-form-group")
    message = group.find(class_="govuk-error-message") if group else None
    assert message is not None, f"no error next to {field_id}"
    return message.get_text(" ", strip=True)


def summary_errors(page: BeautifulSoup) -> list[str]:
    box = page.find(class_="govuk-error-summary")
    return [a.get_text(strip=True) for a in box.find_all("a")] if box else []


def audit_entries(verb: str) -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.verb == verb)))


def new_user_form(world, **overrides):
    data = {
        "name": "Alex Example",
        "email": "alex@example.org",
        "roles": ["subgroup_lead"],
        "subgroups": [str(world.subgroups["QPMI"].id)],
        "password": "a long enough password",
    }
    data.update(overrides)
    return data


# ---------------------------------------------------------------------------------------------
# Who may use the admin area


def test_every_admin_page_works_for_an_admin(client, auth, world):
    auth.login(world.admin)
    for url in [*ADMIN_PAGES, f"/admin/users/{world.volunteer.id}/edit"]:
        response = client.get(url)
        assert response.status_code == 200, url
        assert soup_of(response).find("h1"), url


@pytest.mark.parametrize("who", NOT_ADMINS)
def test_every_other_role_is_refused(client, auth, world, who):
    auth.login(getattr(world, who))
    edit = f"/admin/users/{world.volunteer.id}/edit"
    for url in [*ADMIN_PAGES, edit]:
        assert client.get(url).status_code == 403, url
    for url in ["/admin/users/new", edit]:
        assert client.post(url, data=new_user_form(world)).status_code == 403, url
    assert db.session.scalar(sa.select(User).where(User.email == "alex@example.org")) is None


def test_signed_out_people_are_sent_to_sign_in(client, world):
    for url in [*ADMIN_PAGES, f"/admin/users/{world.volunteer.id}/edit"]:
        response = client.get(url)
        assert response.status_code == 302
        assert "/sign-in" in response.headers["Location"]


def test_another_partnerships_user_is_not_found(client, auth, world):
    theirs = factories.make_world("theirs")
    auth.login(world.admin)
    url = f"/admin/users/{theirs.volunteer.id}/edit"
    assert client.get(url).status_code == 404
    response = client.post(url, data={"roles": ["admin"], "active": "yes"})
    assert response.status_code == 404
    db.session.refresh(theirs.volunteer)
    assert theirs.volunteer.roles == {"volunteer"}
    # Nor do their accounts appear in our list.
    page = client.get("/admin/users").get_data(as_text=True)
    assert theirs.volunteer.email not in page
    assert world.volunteer.email in page


# ---------------------------------------------------------------------------------------------
# Overview and strategy


def test_overview_shows_the_partnership_and_its_strategy(client, auth, world):
    world.partnership.members = ["Testshire Council", "Testshire Parent Carer Forum"]
    world.partnership.parent_carer_forum = "Testshire Parent Carer Forum"
    world.partnership.local_offer_url = "https://localoffer.example.org/send"
    db.session.commit()
    auth.login(world.admin)
    page = soup_of(client.get("/admin/"))
    text = page.get_text(" ", strip=True)
    assert world.partnership.name in page.find("h1").get_text()
    assert "Testshire Council" in text
    assert "Testshire Parent Carer Forum" in text
    link = page.find("a", href="https://localoffer.example.org/send")
    assert link is not None
    assert world.strategy.title in text
    rows = {
        row.find("dt").get_text(strip=True): row.find("dd").get_text(strip=True)
        for row in page.find_all(class_="govuk-summary-list__row")
    }
    assert rows["Priorities"] == "2"
    assert rows["Sub-groups"] == "2"
    assert rows["Outcomes"] == "1"
    assert rows["Principles"] == "0"
    hrefs = {a["href"] for a in page.find_all("a")}
    assert {"/admin/users", "/admin/strategy", "/admin/audit"} <= hrefs


def test_a_local_offer_address_that_is_not_a_web_address_is_not_a_link(client, auth, world):
    world.partnership.local_offer_url = "javascript:alert(1)"
    db.session.commit()
    auth.login(world.admin)
    page = soup_of(client.get("/admin/"))
    assert not page.find("a", href="javascript:alert(1)")


def test_strategy_page_shows_the_active_strategy_read_only(client, auth, world):
    semh, autism = world.priorities["SEMH"], world.priorities["AUTISM"]
    cce = world.subgroups["CCE"]
    semh.summary = "One of the areas of highest need."
    semh.kind = "need"
    cce.purpose = "Work with families on clear and timely communication."
    cce.heard = ["Families feel they must chase information."]
    cce.focus = ["Tell it once."]
    cce.priorities = [semh]
    world.strategy.vision = "Every child has the best start in life."
    db.session.add(
        Principle(
            partnership_id=world.partnership.id, strategy=world.strategy, text="Be open and honest"
        )
    )
    db.session.commit()
    auth.login(world.admin)
    response = client.get("/admin/strategy")
    page = soup_of(response)
    text = page.get_text(" ", strip=True)
    assert world.strategy.title in page.find("h1").get_text()
    assert "Every child has the best start in life." in text
    table = page.find("table")
    rows = {
        r.find("td").get_text(strip=True): r.get_text(" ", strip=True)
        for r in table.find("tbody").find_all("tr")
    }
    assert "Co-production" not in rows["AUTISM"]
    assert "Not routed" in rows["AUTISM"]
    assert f"{cce.title} (CCE)" in rows["SEMH"]
    assert "Area of need" in rows["SEMH"]
    assert "One of the areas of highest need." in rows["SEMH"]
    assert autism.title in text
    assert "Work with families on clear and timely communication." in text
    assert "Families feel they must chase information." in text
    assert "Tell it once." in text
    assert world.subgroup_lead.name in text  # a member of CCE
    assert "My voice is heard" in text
    assert "Be open and honest" in text
    assert "flask --app wsgi strategy import PATH.yaml" in text
    assert f"flask --app wsgi strategy export {world.strategy.slug}" in text
    # Read-only: no form posts anywhere from this page except signing out.
    forms = [f for f in page.find_all("form") if f.get("action") != "/sign-out"]
    assert forms == []


def test_strategy_page_without_a_strategy_says_how_to_import_one(client, auth):
    partnership = factories.make_partnership()
    admin = factories.make_user(partnership, Role.ADMIN)
    auth.login(admin)
    text = soup_of(client.get("/admin/strategy")).get_text(" ", strip=True)
    assert "There is no active strategy" in text
    assert "flask --app wsgi strategy import PATH.yaml" in text
    overview = soup_of(client.get("/admin/")).get_text(" ", strip=True)
    assert "There is no active strategy yet" in overview


# ---------------------------------------------------------------------------------------------
# Users


def test_users_list_shows_each_account(client, auth, world):
    world.other_lead.active = False
    db.session.commit()
    auth.login(world.admin)
    page = soup_of(client.get("/admin/users"))
    rows = {r.find("th").get_text(strip=True): r for r in page.find("tbody").find_all("tr")}
    assert len(rows) == 8
    lead = rows[world.subgroup_lead.name]
    cells = [td.get_text(" ", strip=True) for td in lead.find_all("td")]
    assert cells[0] == world.subgroup_lead.email
    assert cells[1] == "Sub-group lead"
    assert cells[2].startswith("CCE")
    assert cells[3] == "Active"
    assert cells[4] == "Never"
    assert "Deactivated" in rows[world.other_lead.name].get_text()
    # The admin has just signed in.
    assert "Never" not in rows[world.admin.name].find_all("td")[4].get_text()
    edit = lead.find("a", href=f"/admin/users/{world.subgroup_lead.id}/edit")
    assert edit is not None


def test_users_list_does_not_query_per_user(app, client, auth, world):
    auth.login(world.admin)

    def statements() -> int:
        seen: list[str] = []

        def count(conn, cursor, statement, *args):
            seen.append(statement)

        event.listen(db.engine, "before_cursor_execute", count)
        try:
            assert client.get("/admin/users").status_code == 200
        finally:
            event.remove(db.engine, "before_cursor_execute", count)
        return len(seen)

    few = statements()
    for _ in range(25):
        factories.make_user(
            world.partnership, Role.SUBGROUP_LEAD, subgroups=[world.subgroups["CCE"]]
        )
    assert statements() == few


def test_an_admin_creates_a_user(client, auth, world):
    auth.login(world.admin)
    form = soup_of(client.get("/admin/users/new"))
    legends = [lg.get_text(strip=True) for lg in form.find_all("legend")]
    assert legends == ["Roles", "Sub-groups"]
    assert form.find("input", attrs={"type": "password", "name": "password"})
    assert form.find("input", attrs={"type": "checkbox", "name": "roles", "value": "coordinator"})
    sg_boxes = form.find_all("input", attrs={"type": "checkbox", "name": "subgroups"})
    assert {b["value"] for b in sg_boxes} == {str(sg.id) for sg in world.subgroups.values()}

    response = client.post(
        "/admin/users/new", data=new_user_form(world, roles=["subgroup_lead", "volunteer"])
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/admin/users")
    user = db.session.scalars(sa.select(User).where(User.email == "alex@example.org")).one()
    assert user.name == "Alex Example"
    assert user.roles == {"subgroup_lead", "volunteer"}
    assert [sg.code for sg in user.subgroups] == ["QPMI"]
    assert user.partnership_id == world.partnership.id
    (entry,) = audit_entries("user.created")
    assert entry.user_id == world.admin.id
    assert entry.object_id == user.id
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "Account created for Alex Example" in listing

    auth.logout()
    signed_in = client.post(
        "/sign-in", data={"email": "alex@example.org", "password": "a long enough password"}
    )
    assert signed_in.status_code == 302


def test_user_form_errors_are_shown_next_to_each_field(client, auth, world):
    auth.login(world.admin)
    response = client.post(
        "/admin/users/new", data={"name": "", "email": "", "password": "", "roles": []}
    )
    assert response.status_code == 200
    page = soup_of(response)
    assert page.title.get_text().startswith("Error: ")
    assert error_next_to(page, "name").endswith("Enter the person's full name")
    assert error_next_to(page, "email").endswith("Enter their email address")
    assert error_next_to(page, "roles").endswith("Select at least one role")
    assert error_next_to(page, "password").endswith("Enter an initial password")
    assert summary_errors(page) == [
        "Enter the person's full name",
        "Enter their email address",
        "Select at least one role",
        "Enter an initial password",
    ]
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 8


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "Enter an email address in the correct format"),
        ({"password": "short"}, "password", "Password must be 10 characters or more"),
        ({"subgroups": []}, "subgroups", "Select the sub-groups this sub-group lead works in"),
        ({"roles": ["superuser"]}, "roles", "Select roles from the list"),
        ({"subgroups": ["x"]}, "subgroups", "Select sub-groups from the list"),
    ],
)
def test_service_errors_are_shown_next_to_the_right_field(
    client, auth, world, overrides, field, message
):
    auth.login(world.admin)
    response = client.post("/admin/users/new", data=new_user_form(world, **overrides))
    assert response.status_code == 200
    page = soup_of(response)
    assert message in error_next_to(page, field)
    assert any(message in e for e in summary_errors(page))
    assert db.session.scalar(sa.select(User).where(User.email == "alex@example.org")) is None
    assert audit_entries("user.created") == []


def test_a_duplicate_email_is_refused_and_what_was_typed_is_kept(client, auth, world):
    auth.login(world.admin)
    response = client.post(
        "/admin/users/new",
        data=new_user_form(world, email=world.volunteer.email.upper(), name="Someone Else"),
    )
    page = soup_of(response)
    assert "already exists" in error_next_to(page, "email")
    assert page.find(id="name")["value"] == "Someone Else"
    assert page.find(id="email")["value"] == world.volunteer.email.upper()
    checked = page.find("input", attrs={"name": "roles", "value": "subgroup_lead"})
    assert checked.has_attr("checked")
    qpmi = page.find("input", attrs={"name": "subgroups", "value": str(world.subgroups["QPMI"].id)})
    assert qpmi.has_attr("checked")
    # The password is never sent back to the browser.
    assert "a long enough password" not in response.get_data(as_text=True)
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 8


def test_another_partnerships_sub_group_cannot_be_chosen(client, auth, world):
    theirs = factories.make_world("theirs")
    auth.login(world.admin)
    response = client.post(
        "/admin/users/new",
        data=new_user_form(world, subgroups=[str(theirs.subgroups["CCE"].id)]),
    )
    assert response.status_code == 200
    assert "Select sub-groups from the list" in error_next_to(soup_of(response), "subgroups")
    assert db.session.scalar(sa.select(User).where(User.email == "alex@example.org")) is None


def test_changing_roles_writes_an_audit_entry(client, auth, world):
    auth.login(world.admin)
    user = world.volunteer
    page = soup_of(client.get(f"/admin/users/{user.id}/edit"))
    legends = [lg.get_text(strip=True) for lg in page.find_all("legend")]
    assert legends == ["Roles", "Sub-groups", "Can they sign in?"]
    assert page.find("input", attrs={"name": "roles", "value": "volunteer"}).has_attr("checked")
    assert page.find("input", attrs={"name": "active", "value": "yes"}).has_attr("checked")

    response = client.post(
        f"/admin/users/{user.id}/edit",
        data={
            "roles": ["volunteer", "subgroup_lead"],
            "subgroups": [str(world.subgroups["CCE"].id)],
            "active": "yes",
        },
    )
    assert response.status_code == 302
    db.session.refresh(user)
    assert user.roles == {"volunteer", "subgroup_lead"}
    assert [sg.code for sg in user.subgroups] == ["CCE"]
    (entry,) = audit_entries("user.roles_changed")
    assert entry.user_id == world.admin.id
    assert entry.actor == world.admin.email
    assert entry.object_type == "User"
    assert entry.object_id == user.id
    assert entry.details["before"] == ["volunteer"]
    assert entry.details["after"] == ["subgroup_lead", "volunteer"]
    assert entry.details["added"] == ["subgroup_lead"]
    (sg_entry,) = audit_entries("user.subgroups_changed")
    assert sg_entry.details == {"email": user.email, "before": [], "after": ["CCE"]}
    assert "Changes saved for" in client.get("/admin/users").get_data(as_text=True)


def test_saving_without_changes_writes_nothing(client, auth, world):
    auth.login(world.admin)
    lead = world.subgroup_lead
    response = client.post(
        f"/admin/users/{lead.id}/edit",
        data={
            "roles": ["subgroup_lead"],
            "subgroups": [str(world.subgroups["CCE"].id)],
            "active": "yes",
        },
    )
    assert response.status_code == 302
    assert db.session.scalar(sa.select(sa.func.count(AuditEntry.id))) == 0


@pytest.fixture
def other_app(migrated):
    """Makes a second app on the same database. The fixtures keep an app context open for the
    whole test, and requests of that same app share it (and so share flask.g); requests of
    another app get fresh contexts, as every request does in production."""
    made = []

    def make(**config):
        made.append(create_app(TestConfig, SQLALCHEMY_DATABASE_URI=migrated, **config))
        return made[-1]

    yield make
    for extra in made:
        with extra.app_context():
            db.engine.dispose()


def test_deactivating_someone_signs_them_out(other_app, client, auth, world):
    coordinator_client = other_app(WTF_CSRF_ENABLED=False).test_client()
    coordinator_client.post(
        "/sign-in", data={"email": world.coordinator.email, "password": factories.PASSWORD}
    )
    assert coordinator_client.get("/home").status_code == 200

    auth.login(world.admin)
    response = client.post(
        f"/admin/users/{world.coordinator.id}/edit",
        data={"roles": ["coordinator"], "active": "no"},
    )
    assert response.status_code == 302
    db.session.refresh(world.coordinator)
    assert world.coordinator.active is False
    (entry,) = audit_entries("user.deactivated")
    assert entry.object_id == world.coordinator.id
    assert coordinator_client.get("/home").status_code == 302
    again = coordinator_client.post(
        "/sign-in", data={"email": world.coordinator.email, "password": factories.PASSWORD}
    )
    assert again.status_code == 200

    client.post(
        f"/admin/users/{world.coordinator.id}/edit",
        data={"roles": ["coordinator"], "active": "yes"},
    )
    assert len(audit_entries("user.reactivated")) == 1


def test_an_admin_cannot_remove_their_own_admin_role(client, auth, world):
    auth.login(world.admin)
    page = soup_of(client.get(f"/admin/users/{world.admin.id}/edit"))
    assert "This is your own account" in page.get_text()
    response = client.post(
        f"/admin/users/{world.admin.id}/edit",
        data={"roles": ["coordinator"], "active": "yes"},
    )
    assert response.status_code == 200
    page = soup_of(response)
    assert "You cannot remove your own admin role" in error_next_to(page, "roles")
    assert page.title.get_text().startswith("Error: ")
    db.session.refresh(world.admin)
    assert world.admin.roles == {"admin"}
    assert audit_entries("user.roles_changed") == []


def test_an_admin_cannot_deactivate_themselves(client, auth, world):
    auth.login(world.admin)
    response = client.post(
        f"/admin/users/{world.admin.id}/edit", data={"roles": ["admin"], "active": "no"}
    )
    assert response.status_code == 200
    assert "You cannot deactivate your own account" in error_next_to(soup_of(response), "active")
    db.session.refresh(world.admin)
    assert world.admin.active is True
    assert client.get("/admin/").status_code == 200


def test_an_admin_may_remove_another_admins_role(client, auth, world):
    other = factories.make_user(world.partnership, Role.ADMIN, Role.COORDINATOR)
    auth.login(world.admin)
    response = client.post(
        f"/admin/users/{other.id}/edit", data={"roles": ["coordinator"], "active": "yes"}
    )
    assert response.status_code == 302
    db.session.refresh(other)
    assert other.roles == {"coordinator"}
    (entry,) = audit_entries("user.roles_changed")
    assert entry.details["removed"] == ["admin"]


def test_editing_needs_at_least_one_role(client, auth, world):
    auth.login(world.admin)
    response = client.post(f"/admin/users/{world.volunteer.id}/edit", data={"active": "yes"})
    assert "Select at least one role" in error_next_to(soup_of(response), "roles")
    db.session.refresh(world.volunteer)
    assert world.volunteer.roles == {"volunteer"}


def test_the_user_forms_work_with_csrf_protection_on(other_app, world):
    client = other_app(WTF_CSRF_ENABLED=True).test_client()
    page = client.get("/sign-in").get_data(as_text=True)
    client.post(
        "/sign-in",
        data={
            "email": world.admin.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(page),
        },
    )
    form = client.get("/admin/users/new").get_data(as_text=True)
    refused = client.post("/admin/users/new", data=new_user_form(world))
    assert refused.status_code == 400
    accepted = client.post(
        "/admin/users/new", data={**new_user_form(world), "csrf_token": csrf_token_from(form)}
    )
    assert accepted.status_code == 302
    assert db.session.scalar(sa.select(User).where(User.email == "alex@example.org")) is not None


# ---------------------------------------------------------------------------------------------
# The audit log


def _entries(world, n: int, verb: str = "test.thing", obj=None) -> None:
    for i in range(n):
        audit.record(
            verb,
            obj or world.strategy,
            user=world.coordinator,
            partnership=world.partnership,
            number=i,
        )
    db.session.commit()


def _table_rows(response) -> list[list[str]]:
    table = soup_of(response).find("table")
    if table is None:
        return []
    return [
        [td.get_text(" ", strip=True) for td in tr.find_all("td")]
        for tr in table.find("tbody").find_all("tr")
    ]


def test_audit_log_lists_entries_newest_first(client, auth, world):
    audit.record(
        "user.roles_changed",
        world.volunteer,
        user=world.admin,
        before=["volunteer"],
        after=["coordinator"],
    )
    db.session.commit()
    audit.record("theme.published", world.strategy, user=world.coordinator, slug="a-theme")
    db.session.commit()
    auth.login(world.admin)
    rows = _table_rows(client.get("/admin/audit"))
    assert [r[2] for r in rows] == ["Theme published", "Roles changed"]
    assert rows[1][1] == world.admin.email
    assert rows[1][3] == f"User {world.volunteer.id}"
    assert rows[1][4] == "Roles before Forum volunteer Roles after Coordinator"
    assert rows[0][3] == f"Strategy {world.strategy.id}"
    assert rows[0][4] == "Page address ending a-theme"


def test_audit_log_filters_by_verb_and_object_type(client, auth, world):
    _entries(world, 3, "theme.published")
    _entries(world, 2, "user.roles_changed", world.volunteer)
    _entries(world, 1, "theme.published", world.volunteer)
    auth.login(world.admin)
    page = soup_of(client.get("/admin/audit"))
    form = page.find("form", attrs={"method": "get"})
    assert form is not None
    options = [
        (o["value"], o.get_text(strip=True))
        for o in form.find("select", attrs={"name": "verb"}).find_all("option")
    ]
    assert options == [
        ("", "All actions"),
        ("user.roles_changed", "Roles changed"),
        ("theme.published", "Theme published"),
    ]
    objects = [
        (o["value"], o.get_text(strip=True))
        for o in form.find("select", attrs={"name": "object_type"}).find_all("option")
    ]
    assert objects == [("", "All objects"), ("Strategy", "Strategy"), ("User", "User")]

    by_verb = _table_rows(client.get("/admin/audit?verb=theme.published"))
    assert len(by_verb) == 4
    assert {r[2] for r in by_verb} == {"Theme published"}
    by_type = _table_rows(client.get("/admin/audit?object_type=User"))
    assert len(by_type) == 3
    both = _table_rows(client.get("/admin/audit?verb=theme.published&object_type=User"))
    assert len(both) == 1
    filtered = soup_of(client.get("/admin/audit?verb=theme.published"))
    selected = filtered.find("select", attrs={"name": "verb"}).find("option", selected=True)
    assert selected["value"] == "theme.published"
    # An unknown value in a hand-edited address does not filter.
    assert len(_table_rows(client.get("/admin/audit?verb=nonsense"))) == 6


def test_audit_log_is_paginated_in_fifties(client, auth, world):
    """Keyset pages: "Older entries" carries the last entry shown, not a page number (more
    cases in tests/test_audit_admin.py)."""
    _entries(world, 120, "theme.published")
    _entries(world, 3, "user.roles_changed")
    auth.login(world.admin)
    first = client.get("/admin/audit")
    assert len(_table_rows(first)) == 50
    page = soup_of(first)
    assert "Entries 1 to 50 of 123" in page.find("caption").get_text(" ", strip=True)
    nav = page.find("nav", class_="govuk-pagination")
    (older,) = [a["href"] for a in nav.find_all("a")]
    assert older.startswith("/admin/audit?older=")
    second = client.get(older)
    assert len(_table_rows(second)) == 50
    assert "Entries 51 to 100 of 123" in soup_of(second).find("caption").get_text(" ", strip=True)
    hrefs = [a["href"] for a in soup_of(second).find("nav", class_="govuk-pagination")("a")]
    assert len(hrefs) == 2
    last = client.get(hrefs[1])
    assert len(_table_rows(last)) == 23
    # A cursor that names no entry shows the first page rather than an empty one.
    assert len(_table_rows(client.get("/admin/audit?older=999999"))) == 50
    assert len(_table_rows(client.get("/admin/audit?older=nonsense"))) == 50

    filtered = soup_of(client.get("/admin/audit?verb=theme.published"))
    hrefs = [a["href"] for a in filtered.find("nav", class_="govuk-pagination").find_all("a")]
    assert hrefs[0].startswith("/admin/audit?verb=theme.published&older=")


def test_audit_log_shows_only_this_partnerships_entries(client, auth, world):
    theirs = factories.make_world("theirs")
    audit.record("secret.thing", theirs.strategy, user=theirs.admin)
    audit.record("our.thing", world.strategy, user=world.admin)
    # Installation-wide entries (no partnership) are not any one partnership's to read.
    audit.record("installation.thing", world.partnership, user=None)
    db.session.commit()
    auth.login(world.admin)
    text = client.get("/admin/audit").get_data(as_text=True)
    assert "Our thing" in text
    assert "Secret thing" not in text
    assert "Installation thing" not in text


def test_audit_log_is_read_only(app, client, auth, world):
    rules = [r for r in app.url_map.iter_rules() if r.rule.startswith("/admin/audit")]
    assert [r.rule for r in rules] == ["/admin/audit"]
    assert rules[0].methods == {"GET", "HEAD", "OPTIONS"}
    auth.login(world.admin)
    assert client.post("/admin/audit").status_code == 405


def _details(cell) -> dict[str, str]:
    """The Details cell of an audit row as {label: value}."""
    return {
        dt.get_text(" ", strip=True): dt.find_next_sibling("dd").get_text(" ", strip=True)
        for dt in cell.find_all("dt")
    }


def _audit_rows(response) -> list[dict]:
    rows = []
    for tr in soup_of(response).find("table").find("tbody").find_all("tr"):
        cells = tr.find_all("td")
        rows.append(
            {
                "action": cells[2].get_text(" ", strip=True),
                "object": cells[3].get_text(" ", strip=True),
                "details": _details(cells[4]),
                "html": str(tr),
            }
        )
    return rows


def test_audit_log_reads_as_plain_english(client, auth, world):
    theme = factories.make_theme(world.partnership)
    action = factories.make_action(theme)
    update = factories.make_update(action)
    item = factories.make_feedback(world.partnership)
    cce, qpmi = world.subgroups["CCE"], world.subgroups["QPMI"]
    theirs = factories.make_world("theirs").subgroups["CCE"]
    long_statement = "Families told us " + "they wait and wait " * 10
    entries = [
        (
            "strategy.imported",
            world.strategy,
            {
                "source": "strategy.yaml",
                "created": True,
                "partnership_created": False,
                "changes": {"added": 24, "changed": 0, "removed": 0},
                "counts": {"priorities": 2, "subgroups": 2, "outcomes": 3, "principles": 4},
                "archived": [],
            },
        ),
        (
            "theme.updated",
            theme,
            {
                "slug": theme.slug,
                "changes": {
                    "title": {"from": "Old title", "to": "New title"},
                    "statement": {"from": "Short.", "to": long_statement},
                    "priorities": {"from": ["SEMH"], "to": ["AUTISM", "SEMH"]},
                    "subgroup": {"from": None, "to": "CCE"},
                },
            },
        ),
        (
            "action.created",
            action,
            {
                "theme_id": theme.id,
                "kind": "we_will",
                "status": "planned",
                "text": action.text,
                # Another partnership's sub-group is never named, only numbered.
                "subgroup_id": theirs.id,
            },
        ),
        (
            "progress_update.published",
            update,
            {
                "action_id": action.id,
                "happened_on": "2026-11-10",
                "new_status": "in_progress",
                "action_status_before": "planned",
                "action_status_after": "in_progress",
            },
        ),
        (
            "action.updated",
            action,
            {
                "changed": {
                    "kind": {"from": "we_will", "to": "we_cant"},
                    "target_date": {"from": "2027-03-31", "to": None},
                    "subgroup_id": {"from": cce.id, "to": qpmi.id},
                },
                "resubmitted": True,
            },
        ),
        ("feedback.safeguarding_flagged", item, {"removed_from_theme_id": theme.id}),
        (
            "user.roles_changed",
            world.volunteer,
            {
                "email": world.volunteer.email,
                "before": ["volunteer"],
                "after": ["subgroup_lead", "volunteer"],
                "added": ["subgroup_lead"],
                "removed": [],
            },
        ),
        ("board.report_sent", world.strategy, {"sent_to": ["a@example.org"], "extra": {"a": 1}}),
    ]
    for verb, obj, details in entries:
        audit.record(verb, obj, user=world.coordinator, partnership=world.partnership, **details)
        db.session.commit()
    auth.login(world.admin)
    rows = {r["action"]: r for r in _audit_rows(client.get("/admin/audit"))}

    assert list(rows) == [
        "Board report sent",  # an unknown verb still reads as words
        "Roles changed",
        "Item flagged as a safeguarding concern",
        "Action changed",
        "Progress update published",
        "Action created",
        "Theme changed",
        "Strategy imported",
    ]
    imported = rows["Strategy imported"]
    assert imported["object"] == f"Strategy {world.strategy.id}"
    assert imported["details"] == {
        "File": "strategy.yaml",
        "New strategy": "Yes",
        "New partnership": "No",
        "Rows": "24 added, 0 changed, 0 removed",
        "Contents": "2 priorities, 2 sub-groups, 3 outcomes, 4 principles",
        "Strategies archived": "none",
    }
    changed = rows["Theme changed"]
    assert changed["object"] == f"Theme {theme.id}"
    assert changed["details"] == {
        "Page address ending": theme.slug,
        "Title": "Changed from Old title to New title",
        "Statement": "Changed",
        "Priorities": "Changed from SEMH to AUTISM, SEMH",
        "Sub-group": "Added: CCE",
    }
    created = rows["Action created"]
    assert created["object"] == f"Action {action.id}"
    assert created["details"] == {
        "Theme": str(theme.id),
        "Answer": "We will",
        "Text": action.text,
        "Status": "Planned",
        "Sub-group": str(theirs.id),
    }
    progress = rows["Progress update published"]
    assert progress["object"] == f"Progress update {update.id}"
    assert progress["details"] == {
        "Action": str(action.id),
        "Date": "10 November 2026",
        "New status": "In progress",
        "Action status before": "Planned",
        "Action status after": "In progress",
    }
    assert rows["Action changed"]["details"] == {
        "Answer": "Changed from We will to We can't",
        "Target date": "Removed (was 31 March 2027)",
        "Sub-group": "Changed from CCE to QPMI",
        "Sent back after being withdrawn": "Yes",
    }
    flagged = rows["Item flagged as a safeguarding concern"]
    assert flagged["object"] == f"Feedback item {item.id}"
    assert flagged["details"] == {"Taken out of theme": str(theme.id)}
    roles = rows["Roles changed"]
    assert roles["details"] == {
        "Email address": world.volunteer.email,
        "Roles before": "Forum volunteer",
        "Roles after": "Sub-group lead, Forum volunteer",
        "Roles added": "Sub-group lead",
        "Roles removed": "none",
    }
    unknown = rows["Board report sent"]
    assert unknown["details"] == {"Extra": "a: 1", "Sent to": "a@example.org"}

    # No codes, JSON or brackets anywhere in the table.
    table = soup_of(client.get("/admin/audit")).find("table")
    words = table.get_text(" ", strip=True)
    codes = ("action.created", "strategy.imported", "board.report_sent", "ProgressUpdate")
    for raw in ("{", "}", "[", "]", '"', "we_will", "in_progress", "theme_id", *codes):
        assert raw not in words, raw
    assert table.find("code") is None


def test_every_recorded_verb_has_a_label():
    root = Path(__file__).resolve().parent.parent / "app"
    call = re.compile(
        r"(?:audit\.record|self\._record)\(\s*((?:\"[a-z_.]+\"\s*(?:if .+? else\s*)?)+)"
    )
    verbs: set[str] = set()
    for path in root.rglob("*.py"):
        for match in call.finditer(path.read_text()):
            verbs.update(re.findall(r'"([a-z_]+\.[a-z_]+)"', match.group(1)))
    # The scan must find the verbs, or this test proves nothing.
    assert {"theme.created", "user.deactivated", "user.reactivated", "strategy.imported"} <= verbs
    assert sorted(verbs - set(admin_service.VERB_LABELS)) == []
    # And every label reads as words, not a code.
    for label in admin_service.VERB_LABELS.values():
        assert "_" not in label and "." not in label and label[0].isupper()


def test_audit_log_never_shows_feedback_text(client, auth, world):
    secret = "My son Sam at Oak Primary was hurt on the bus."
    item = factories.make_feedback(world.partnership, raw_text=secret)
    theme = factories.make_theme(world.partnership, feedback=[item])
    coordinator = world.coordinator
    capture.update_feedback(
        item,
        coordinator,
        capture.ItemDetails(
            text=secret + " Again.", respondent="young_person", sentiment=item.sentiment
        ),
    )
    triage.redact(item, coordinator, "A child was hurt on the bus.")
    triage.flag_safeguarding(item, coordinator, "Named child, possible harm.")
    # Even an entry that wrongly held the words would not show them.
    audit.record("feedback.changed", item, user=coordinator, text=secret, fields=["text"])
    db.session.commit()

    auth.login(world.admin)
    response = client.get("/admin/audit")
    html = response.get_data(as_text=True)
    for private in (secret, "Sam", "Oak Primary", "A child was hurt", "Named child"):
        assert private not in html
    rows = {r["action"]: r for r in _audit_rows(response)}
    assert rows["Item flagged as a safeguarding concern"]["details"] == {
        "Taken out of theme": str(theme.id)
    }
    assert rows["Feedback item reworded to remove personal details"]["details"] == {
        "Reworded text": "Added"
    }
    corrected = [r for r in _audit_rows(response) if r["action"] == "Feedback item corrected"]
    assert [r["details"] for r in corrected] == [
        {"What changed": "text"},
        {"What changed": "text, who said it"},
    ]
    assert all(r["object"] == f"Feedback item {item.id}" for r in corrected)


def test_outcomes_and_principles_count_only_the_active_strategy(client, auth, world):
    old = factories.make_strategy(world.partnership)
    old.status = "archived"
    db.session.add(Outcome(partnership_id=world.partnership.id, strategy=old, text="Old"))
    db.session.commit()
    auth.login(world.admin)
    page = soup_of(client.get("/admin/"))
    rows = {
        row.find("dt").get_text(strip=True): row.find("dd").get_text(strip=True)
        for row in page.find_all(class_="govuk-summary-list__row")
    }
    assert rows["Outcomes"] == "1"
    assert "1 older strategy" in page.get_text(" ", strip=True)
