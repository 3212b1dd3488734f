"""Admins list the partnership's own schools, settings, staff and places for the checker."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry, PrivateTerm
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of

URL = "/admin/private-words"


def terms(partnership) -> list[tuple[str, str]]:
    return [
        (t.term, t.kind)
        for t in db.session.scalars(
            sa.select(PrivateTerm)
            .where(PrivateTerm.partnership_id == partnership.id)
            .order_by(PrivateTerm.id)
        )
    ]


def test_an_admin_adds_several_words_at_once(client, auth, world):
    auth.login(world.admin)
    page = soup(client.get(URL))
    assert page.find("h1").get_text(strip=True) == (
        "Names and places the personal-details check looks for"
    )
    assert "There is nothing on the list yet." in page.get_text()
    response = client.post(
        URL,
        data={
            "terms": "Oakfield Primary\n\n  Hillcrest   High \noakfield primary",
            "kind": "school",
        },
    )
    assert response.status_code == 302
    assert response.headers["Location"] == URL
    # Spaces tidied; the same word twice in one go is added once.
    assert terms(world.partnership) == [
        ("Oakfield Primary", "school"),
        ("Hillcrest High", "school"),
    ]
    page = soup(client.get(URL))
    assert "2 words are added to the list." in page.get_text()
    table = page.find("table")
    assert table.find("caption").get_text(strip=True) == "2 words the check looks for"
    rows = [" ".join(r.get_text(" ").split()) for r in table.find("tbody").find_all("tr")]
    assert rows[0].startswith("Hillcrest High School [school]")
    assert rows[1].startswith("Oakfield Primary School [school]")
    entries = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "private_term.added").order_by(AuditEntry.id)
    ).all()
    assert [(e.details["term"], e.details["kind"], e.user_id) for e in entries] == [
        ("Oakfield Primary", "school", world.admin.id),
        ("Hillcrest High", "school", world.admin.id),
    ]


def test_each_kind_says_what_replaces_it(client, auth, world):
    auth.login(world.admin)
    for word, kind in (
        ("Sunflower Club", "setting"),
        ("Kath Rowe", "person"),
        ("Lancashire Hill", "place"),
        ("Project Phoenix", "other"),
    ):
        assert client.post(URL, data={"terms": word, "kind": kind}).status_code == 302
    table = soup(client.get(URL)).find("table")
    cells = {
        row.find("th").get_text(strip=True): [td.get_text(strip=True) for td in row.find_all("td")]
        for row in table.find("tbody").find_all("tr")
    }
    assert cells["Sunflower Club"][:2] == ["Setting or service", "[setting]"]
    assert cells["Kath Rowe"][:2] == ["Person (staff or other)", "[name]"]
    assert cells["Lancashire Hill"][:2] == ["Place", "[place]"]
    assert cells["Project Phoenix"][:2] == ["Other", "[removed]"]


def test_empty_and_unchosen_are_errors_and_what_was_typed_is_kept(client, auth, world):
    auth.login(world.admin)
    response = client.post(URL, data={"terms": "  \n "})
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    summary = page.find(class_="govuk-error-summary").get_text(" ")
    assert "Enter a name, school, setting or place" in summary
    assert "Select what kind of word it is" in summary
    assert error_for(page, "terms") == "Error: Enter a name, school, setting or place"

    page = soup(client.post(URL, data={"terms": "Oakfield Primary"}))
    assert page.find("textarea", id="terms").get_text() == "Oakfield Primary"
    assert error_for(page, "kind") == "Error: Select what kind of word it is"
    assert terms(world.partnership) == []


def test_a_word_already_on_the_list_is_refused_and_nothing_is_half_saved(client, auth, world):
    db.session.add(
        PrivateTerm(partnership_id=world.partnership.id, kind="school", term="Oakfield Primary")
    )
    db.session.commit()
    auth.login(world.admin)
    response = client.post(URL, data={"terms": "Brookside\nOAKFIELD PRIMARY", "kind": "school"})
    assert response.status_code == 200
    page = soup(response)
    assert "“Oakfield Primary” is already on the list" in page.find(
        class_="govuk-error-summary"
    ).get_text(" ")
    assert page.find("textarea", id="terms").get_text() == "Brookside\nOAKFIELD PRIMARY"
    assert terms(world.partnership) == [("Oakfield Primary", "school")]
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.verb == "private_term.added")
        )
        == 0
    )


def test_a_word_too_short_to_look_for_is_refused(client, auth, world):
    auth.login(world.admin)
    page = soup(client.post(URL, data={"terms": "Oakfield\nX", "kind": "place"}))
    assert "“X” is too short to look for" in error_for(page, "terms")
    assert terms(world.partnership) == []


def test_the_same_word_may_be_on_another_partnerships_list(client, auth, world):
    elsewhere = factories.make_partnership()
    db.session.add(PrivateTerm(partnership_id=elsewhere.id, kind="school", term="Brookside"))
    db.session.commit()
    auth.login(world.admin)
    assert client.post(URL, data={"terms": "Brookside", "kind": "school"}).status_code == 302
    assert terms(world.partnership) == [("Brookside", "school")]
    # And the other partnership's words are not listed here.
    assert len(soup(client.get(URL)).find("tbody").find_all("tr")) == 1


def test_an_admin_deletes_a_word(client, auth, world):
    term = PrivateTerm(partnership_id=world.partnership.id, kind="person", term="Kath Rowe")
    db.session.add(term)
    db.session.commit()
    term_id = term.id
    auth.login(world.admin)
    page = soup(client.get(URL))
    button = page.find(id=f"term-{term_id}").find("button")
    assert " ".join(button.get_text(" ").split()) == "Delete Kath Rowe"
    response = client.post(f"{URL}/{term_id}/delete")
    assert response.status_code == 302
    assert "“Kath Rowe” is taken off the list" in text_of(client.get(URL))
    assert terms(world.partnership) == []
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "private_term.deleted")
    ).one()
    assert (entry.object_type, entry.object_id) == ("PrivateTerm", term_id)
    assert entry.details == {"term": "Kath Rowe", "kind": "person"}


def test_another_partnerships_word_cannot_be_deleted(client, auth, world):
    elsewhere = factories.make_partnership()
    term = PrivateTerm(partnership_id=elsewhere.id, kind="school", term="Brookside")
    db.session.add(term)
    db.session.commit()
    auth.login(world.admin)
    assert client.post(f"{URL}/{term.id}/delete").status_code == 404
    assert db.session.get(PrivateTerm, term.id) is not None


@pytest.mark.parametrize(
    "role",
    ["coordinator", "subgroup_lead", "volunteer", "board_viewer", "safeguarding_lead"],
)
def test_only_admins_manage_the_list(client, auth, world, role):
    term = PrivateTerm(partnership_id=world.partnership.id, kind="school", term="Brookside")
    db.session.add(term)
    db.session.commit()
    auth.login(getattr(world, role))
    assert client.get(URL).status_code == 403
    assert client.post(URL, data={"terms": "Hillcrest", "kind": "school"}).status_code == 403
    assert client.post(f"{URL}/{term.id}/delete").status_code == 403
    assert terms(world.partnership) == [("Brookside", "school")]


def test_signed_out_people_are_sent_to_sign_in(client, world):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/sign-in" in response.headers["Location"]


def test_the_forms_need_their_csrf_token(csrf_app, world):
    term = PrivateTerm(partnership_id=world.partnership.id, kind="school", term="Brookside")
    db.session.add(term)
    db.session.commit()
    client = csrf_app.test_client()
    sign_in = client.get("/sign-in").get_data(as_text=True)
    client.post(
        "/sign-in",
        data={
            "email": world.admin.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in),
        },
    )
    assert client.post(URL, data={"terms": "Hillcrest", "kind": "school"}).status_code == 400
    assert client.post(f"{URL}/{term.id}/delete").status_code == 400
    page = soup(client.get(URL))
    add_token = page.find("form", action=URL).find("input", attrs={"name": "csrf_token"})["value"]
    response = client.post(
        URL, data={"terms": "Hillcrest", "kind": "school", "csrf_token": add_token}
    )
    assert response.status_code == 302
    delete_form = soup(client.get(URL)).find(id=f"term-{term.id}").find("form")
    token = delete_form.find("input", attrs={"name": "csrf_token"})["value"]
    assert client.post(delete_form["action"], data={"csrf_token": token}).status_code == 302
    assert terms(world.partnership) == [("Hillcrest", "school")]


def test_the_admin_overview_links_to_the_list(client, auth, world):
    auth.login(world.admin)
    links = soup(client.get("/admin/")).find_all("a", href=URL)
    assert [a.get_text(strip=True) for a in links] == [
        "Names and places the personal-details check looks for"
    ]
