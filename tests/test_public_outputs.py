"""The open data outputs: JSON, CSV and the Atom feed."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime

import pytest

from app.extensions import db
from app.models.vocab import Publication
from app.public.outputs import CSV_FIELDS, csv_safe
from app.services.public_content import public_count, subgroup_phrase
from tests import factories as f

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def published(world):
    items = [f.make_feedback(world.partnership, respondent="parent_carer") for _ in range(5)]
    items += [f.make_feedback(world.partnership, respondent="young_person") for _ in range(2)]
    theme = f.make_theme(
        world.partnership,
        title="Waiting for assessments",
        slug="waiting-for-assessments",
        statement="Families told us they wait too long for assessments.",
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["SEMH"]],
        feedback=items,
        published=True,
    )
    theme.public_updated_at = datetime(2026, 11, 20, 9, 30)
    will = f.make_action(theme, published=True, target_date=date(2027, 3, 31))
    f.make_update(will, published=True, happened_on=date(2026, 11, 10))
    f.make_update(will, text="Draft update text.")
    f.make_action(
        theme,
        published=True,
        kind="we_cant",
        text="We cannot change national rules.",
        reason="They are set by the government",
        status="not_possible",
        target_date=None,
    )
    f.make_action(theme, text="Draft action text.")
    lonely = f.make_theme(
        world.partnership, title="No answer yet", slug="no-answer-yet", published=True
    )
    lonely.public_updated_at = datetime(2026, 11, 1, 8, 0)
    f.make_theme(world.partnership, title="Draft theme title", slug="draft-theme")
    gone = f.make_theme(world.partnership, title="Withdrawn theme title", published=True)
    f.make_action(gone, published=True, text="Action under a withdrawn theme.")
    gone.publication = Publication.WITHDRAWN.value
    db.session.commit()
    return theme


HIDDEN = (
    "Draft update text.",
    "Draft action text.",
    "Draft theme title",
    "Withdrawn theme title",
    "Action under a withdrawn theme.",
)


# -- JSON -----------------------------------------------------------------------------------


def test_json_has_the_documented_versioned_shape(client, world, published):
    response = client.get("/you-said-we-did.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    data = response.get_json()
    assert list(data) == [
        "schema_version",
        "partnership",
        "strategy",
        "licence",
        "licence_url",
        "attribution",
        "generated_at",
        "themes",
    ]
    assert data["schema_version"] == 1
    assert data["licence"] == "OGL-UK-3.0"
    assert data["licence_url"] == (
        "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
    )
    assert data["partnership"] == {
        "name": world.partnership.name,
        "slug": world.partnership.slug,
        "page_url": "http://localhost/you-said-we-did",
        "local_offer_url": None,
    }
    assert [p["code"] for p in data["strategy"]["priorities"]] == ["SEMH", "AUTISM"]
    assert datetime.fromisoformat(data["generated_at"]).tzinfo is not None

    # Most recently updated first.
    assert [t["slug"] for t in data["themes"]] == ["waiting-for-assessments", "no-answer-yet"]
    theme = data["themes"][0]
    assert theme["url"] == "http://localhost/you-said-we-did/waiting-for-assessments"
    assert theme["title"] == "Waiting for assessments"
    assert theme["statement"] == "Families told us they wait too long for assessments."
    assert theme["status"] == "responded"
    assert theme["priorities"] == [{"code": "SEMH", "title": "Priority SEMH"}]
    assert theme["subgroup"] == {"code": "CCE", "title": "Sub-group CCE"}
    assert theme["voices"]["total"] == 7
    assert {r["respondent"]: r["count"] for r in theme["voices"]["by_respondent"]} == {
        # Hidden too: otherwise 7 - 5 would give the young people's count away.
        "parent_carer": "fewer than 5",
        "young_person": "fewer than 5",
    }
    assert theme["first_heard"] == "2026-11-02"
    assert theme["last_updated"] == "2026-11-20T09:30:00Z"

    will, cant = theme["actions"]
    assert will["kind"] == "we_will"
    assert will["headline"] == "We will, by 31 March 2027"
    assert will["target_date"] == "2027-03-31"
    assert will["status"] == "in_progress"
    assert will["status_label"] == "In progress"
    assert will["updates"] == [
        {
            "date": "2026-11-10",
            "text": "The first monthly letters went out.",
            "new_status": None,
            "new_status_label": None,
        }
    ]
    assert cant["kind"] == "we_cant"
    assert cant["reason"] == "They are set by the government"
    assert cant["headline"] == "We can't"

    empty = data["themes"][1]
    assert empty["actions"] == []
    assert empty["status"] == "open"
    assert empty["voices"]["total"] == 0


def test_json_leaves_out_drafts_and_withdrawn(client, world, published):
    text = client.get("/you-said-we-did.json").get_data(as_text=True)
    for hidden in HIDDEN:
        assert hidden not in text


def test_json_when_nothing_is_published(client, world):
    data = client.get("/you-said-we-did.json").get_json()
    assert data["schema_version"] == 1
    assert data["themes"] == []


# -- CSV ------------------------------------------------------------------------------------


def read_csv(client) -> tuple[list[str], list[dict[str, str]]]:
    response = client.get("/you-said-we-did.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    reader = csv.DictReader(io.StringIO(response.get_data(as_text=True)))
    return list(reader.fieldnames or []), list(reader)


def test_csv_has_one_row_per_action_and_one_for_a_theme_without_actions(client, world, published):
    header, rows = read_csv(client)
    assert header == [name for name, _ in CSV_FIELDS]
    assert [(r["theme_slug"], r["action_kind"]) for r in rows] == [
        ("waiting-for-assessments", "We will"),
        ("waiting-for-assessments", "We can't"),
        ("no-answer-yet", ""),
    ]
    first = rows[0]
    assert first["you_said"] == "Families told us they wait too long for assessments."
    assert first["theme_url"] == "http://localhost/you-said-we-did/waiting-for-assessments"
    assert first["priority_codes"] == "SEMH"
    assert first["subgroup"] == "Sub-group CCE"
    assert first["voices"] == "7"
    assert first["action_target_date"] == "2027-03-31"
    assert first["action_status"] == "In progress"
    assert first["action_progress"] == "2026-11-10: The first monthly letters went out."
    assert rows[1]["action_headline"] == "We can't"
    assert rows[1]["action_reason"] == "They are set by the government"
    assert rows[2]["action_text"] == ""
    assert rows[2]["voices"] == "0"


def test_csv_small_counts_say_fewer_than_5(client, world):
    items = [f.make_feedback(world.partnership) for _ in range(4)]
    f.make_theme(world.partnership, feedback=items, published=True)
    _, rows = read_csv(client)
    assert rows[0]["voices"] == "fewer than 5"


def test_csv_leaves_out_drafts_and_withdrawn(client, world, published):
    text = client.get("/you-said-we-did.csv").get_data(as_text=True)
    for hidden in HIDDEN:
        assert hidden not in text


@pytest.mark.parametrize("danger", ['=HYPERLINK("http://x")', "+1+2", "-2+3", "@SUM(A1)"])
def test_csv_cells_cannot_run_as_formulas(client, world, danger):
    theme = f.make_theme(
        world.partnership, title=danger, statement=danger, slug="formula", published=True
    )
    f.make_action(
        theme, published=True, kind="we_cant", text=danger, reason=danger, target_date=None
    )
    _, rows = read_csv(client)
    row = rows[0]
    for column in ("theme_title", "you_said", "action_text", "action_reason"):
        assert row[column] == "'" + danger, column
    for row in rows:
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_csv_safe_leaves_ordinary_text_alone():
    assert csv_safe("Families told us") == "Families told us"
    assert csv_safe(None) == ""
    assert csv_safe(7) == "7"
    assert csv_safe("\t=1") == "'\t=1"


# -- Atom -----------------------------------------------------------------------------------


def test_atom_feed_has_an_entry_per_theme(client, world, published):
    response = client.get("/you-said-we-did/feed.atom")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/atom+xml; charset=utf-8"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    assert root.findtext(f"{ATOM}title") == f"You said, we did: {world.partnership.name}"
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"] == "http://localhost/you-said-we-did/feed.atom"
    assert links["alternate"] == "http://localhost/you-said-we-did"
    assert datetime.fromisoformat(root.findtext(f"{ATOM}updated")) == datetime(
        2026, 11, 20, 9, 30, tzinfo=UTC
    )

    entries = root.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}title") for e in entries] == [
        "Waiting for assessments",
        "No answer yet",
    ]
    entry = entries[0]
    url = "http://localhost/you-said-we-did/waiting-for-assessments"
    assert entry.findtext(f"{ATOM}id") == url
    assert entry.find(f"{ATOM}link").get("href") == url
    assert datetime.fromisoformat(entry.findtext(f"{ATOM}updated")) == datetime(
        2026, 11, 20, 9, 30, tzinfo=UTC
    )
    content = entry.find(f"{ATOM}content")
    assert content.get("type") == "text"
    assert "Families told us they wait too long for assessments." in content.text
    assert "We will, by 31 March 2027 (In progress)" in content.text
    assert "We can't (Not possible): " in content.text
    assert "\nBecause: They are set by the government" in content.text
    assert "Progress, 10 November 2026: The first monthly letters went out." in content.text
    assert [c.get("term") for c in entry.findall(f"{ATOM}category")] == ["SEMH"]

    assert "We have not published a response" in entries[1].find(f"{ATOM}content").text


def test_atom_feed_leaves_out_drafts_and_withdrawn(client, world, published):
    text = client.get("/you-said-we-did/feed.atom").get_data(as_text=True)
    for hidden in HIDDEN:
        assert hidden not in text


def test_atom_feed_when_nothing_is_published(client, world):
    root = ET.fromstring(client.get("/you-said-we-did/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == []
    assert root.findtext(f"{ATOM}updated")


# -- wording helpers ------------------------------------------------------------------------


def test_public_count_hides_numbers_below_five():
    assert [public_count(n) for n in (0, 1, 4, 5, 12)] == [0, "fewer than 5", "fewer than 5", 5, 12]


def test_subgroup_phrase_names_a_group_not_a_person():
    assert subgroup_phrase("Co-production, Communication and Engagement") == (
        "the Co-production, Communication and Engagement sub-group"
    )
    assert subgroup_phrase("Preparing for Adulthood Sub-group") == (
        "the Preparing for Adulthood Sub-group"
    )
