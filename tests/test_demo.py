"""`flask demo load`: a demo partnership that looks real, loads twice without change, and never
puts what someone said on a public page."""

from __future__ import annotations

import shutil
from collections import Counter
from datetime import date, datetime

import pytest
import sqlalchemy as sa
import yaml
from bs4 import BeautifulSoup

from app.extensions import db
from app.models import (
    Action,
    AuditEntry,
    Event,
    Feedback,
    Partnership,
    ProgressUpdate,
    Strategy,
    Theme,
    User,
)
from app.models.vocab import Role
from app.services import permissions
from app.services.demo import DATA_DIR, DemoError, load_demo

DEMO_PASSWORD = "demo-password"
ACCOUNTS = {
    "volunteer@demo.example.org": {"volunteer"},
    "coordinator@demo.example.org": {"coordinator"},
    "safeguarding@demo.example.org": {"safeguarding_lead"},
    "cce-lead@demo.example.org": {"subgroup_lead"},
    "jciw-lead@demo.example.org": {"subgroup_lead"},
    "board@demo.example.org": {"board_viewer"},
    "admin@demo.example.org": {"admin"},
}
# Made-up names and schools in raw text that a coordinator redacted: never public.
PERSONAL_DETAILS = [
    "Maisie",
    "Oakfield",
    "Mrs Kaur",
    "Tyler",
    "Hillcrest",
    "Oliver",
    "Ava ",
    "Meadowbank",
]


def dump_every_table() -> dict[str, list[tuple]]:
    dump = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(sa.select(table)).all()
        dump[table.name] = sorted(tuple(map(repr, row)) for row in rows)
    return dump


@pytest.fixture
def demo(runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result


def all_of(model) -> list:
    return list(db.session.scalars(sa.select(model)))


# ---------------------------------------------------------------------------------------------
# Loading


def test_loading_twice_changes_nothing_and_prints_the_sign_ins(runner, demo):
    first = dump_every_table()
    counts = {name: len(rows) for name, rows in first.items()}
    assert counts["partnership"] == 1
    assert counts["user_account"] == 7
    assert counts["feedback"] >= 55

    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    db.session.expire_all()
    again = dump_every_table()
    assert {name: len(rows) for name, rows in again.items()} == counts
    assert again == first
    assert "Nothing added: the demo was already loaded." in second.output

    for output in (demo.output, second.output):
        assert f"password: {DEMO_PASSWORD}" in output
        for email in ACCOUNTS:
            assert email in output
    assert "Added: 7 users, 9 events" in demo.output


def test_a_missing_row_is_added_back_and_changes_are_kept(runner, demo):
    theme = db.session.scalars(
        sa.select(Theme).where(Theme.slug == "speech-and-language-therapy")
    ).one()
    theme.title = "Speech and language therapy services"
    item = db.session.scalars(
        sa.select(Feedback).where(Feedback.idempotency_key == "demo-059")
    ).one()
    db.session.delete(item)
    db.session.commit()

    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Added: 1 feedback item." in result.output
    db.session.expire_all()
    assert (
        db.session.scalar(
            sa.select(sa.func.count(Feedback.id)).where(Feedback.idempotency_key == "demo-059")
        )
        == 1
    )
    theme = db.session.scalars(
        sa.select(Theme).where(Theme.slug == "speech-and-language-therapy")
    ).one()
    assert theme.title == "Speech and language therapy services"


def test_the_demo_is_refused_in_production(app, runner):
    app.config["ENV_NAME"] = "production"
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "never loaded into a production database" in result.output
    assert db.session.scalar(sa.select(sa.func.count(Partnership.id))) == 0
    assert db.session.scalar(sa.select(sa.func.count(User.id))) == 0


def test_the_demo_is_never_loaded_beside_a_real_partnership(runner, world):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert (
        "The database already holds real partnerships: load the demo into an empty database."
        in result.output
    )
    db.session.expire_all()
    assert db.session.scalar(sa.select(sa.func.count(Partnership.id))) == 1
    assert not db.session.scalars(
        sa.select(User).where(User.email.like("%@demo.example.org"))
    ).all()
    assert "demo-password" not in result.output


def test_the_demo_is_never_merged_into_a_partnership_with_real_accounts(runner, demo):
    partnership = db.session.scalars(sa.select(Partnership)).one()
    real = User(
        partnership_id=partnership.id,
        email="head.of.send@stockport.example.gov.uk",
        name="A real person",
        password_hash="not-a-real-hash",
        session_token="t",
    )
    db.session.add(real)
    item = db.session.scalars(
        sa.select(Feedback).where(Feedback.idempotency_key == "demo-059")
    ).one()
    db.session.delete(item)
    db.session.commit()
    before = dump_every_table()

    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 1
    assert "already has an account that the demo did not make" in result.output
    assert "load the demo into an empty database" in result.output
    db.session.expire_all()
    # Refused whole: the deleted item is not put back and nothing else changes.
    assert dump_every_table() == before


def test_loading_into_the_demo_partnership_alone_still_works_after_a_refusal(runner, demo):
    # A second partnership appears: the demo refuses, and works again once it is gone.
    other = Partnership(name="Somewhere real", slug="somewhere-real")
    db.session.add(other)
    db.session.commit()
    refused = runner.invoke(args=["demo", "load"])
    assert refused.exit_code == 1
    assert "already holds real partnerships" in refused.output
    db.session.delete(other)
    db.session.commit()
    again = runner.invoke(args=["demo", "load"])
    assert again.exit_code == 0, again.output
    assert "Nothing added: the demo was already loaded." in again.output


def _broken_copy(tmp_path, change):
    folder = tmp_path / "demo_data"
    shutil.copytree(DATA_DIR, folder)
    change(folder)
    return folder


def _edit_yaml(path, edit):
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    edit(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")


def test_broken_demo_files_are_refused_whole_naming_each_problem(app, tmp_path):
    def break_files(folder):
        def self_approve(data):
            data["themes"][0]["approved_by"] = data["themes"][0]["created_by"]

        def unknown_event(data):
            data["feedback"][0]["event"] = "no-such-event"
            data["feedback"][1]["sentiment"] = "grumpy"

        _edit_yaml(folder / "themes.yaml", self_approve)
        _edit_yaml(folder / "feedback.yaml", unknown_event)

    with pytest.raises(DemoError) as caught:
        load_demo(_broken_copy(tmp_path, break_files))
    message = str(caught.value)
    assert "four eyes: the approver must not be the author" in message
    assert "feedback.yaml demo-001: 'event' is 'no-such-event'" in message
    assert "'sentiment' is 'grumpy'" in message
    db.session.rollback()
    assert dump_every_table() == {t.name: [] for t in db.metadata.sorted_tables}


def test_demo_files_must_name_the_strategys_codes(app, tmp_path):
    def unknown_priority(folder):
        _edit_yaml(
            folder / "themes.yaml",
            lambda data: data["themes"][0].update(priorities=["NOT-A-PRIORITY"]),
        )

    with pytest.raises(DemoError) as caught:
        load_demo(_broken_copy(tmp_path, unknown_priority))
    assert "no priority 'NOT-A-PRIORITY'" in str(caught.value)
    # The CLI rolls back, so nothing of the strategy import stays either.
    db.session.rollback()
    assert db.session.scalar(sa.select(sa.func.count(Partnership.id))) == 0


# ---------------------------------------------------------------------------------------------
# Who can sign in


def test_one_account_per_role_and_each_can_sign_in(client, demo):
    users = {u.email: u for u in all_of(User)}
    assert {email: u.roles for email, u in users.items()} == ACCOUNTS
    assert {r for roles in ACCOUNTS.values() for r in roles} == {r.value for r in Role}
    assert [sg.code for sg in users["cce-lead@demo.example.org"].subgroups] == ["CCE"]
    assert [sg.code for sg in users["jciw-lead@demo.example.org"].subgroups] == ["JCIW"]
    for email, user in users.items():
        response = client.post("/sign-in", data={"email": email, "password": DEMO_PASSWORD})
        assert response.status_code == 302, email
        home = client.get("/home")
        assert home.status_code == 200
        assert user.name in home.get_data(as_text=True)
        client.post("/sign-out")


# ---------------------------------------------------------------------------------------------
# What the demo holds


def test_the_strategy_comes_from_the_projects_example_file(demo):
    (partnership,) = all_of(Partnership)
    assert partnership.slug == "stockport"
    (strategy,) = all_of(Strategy)
    assert strategy.slug == "stockport-send-2024-2027"
    assert strategy.status == "active"
    assert [p.code for p in strategy.priorities] == [
        "SEMH",
        "AUTISM",
        "SLCN",
        "TIMELINESS",
        "SEN-SUPPORT",
    ]
    assert {sg.code for sg in strategy.subgroups} == {"CCE", "QPMI", "JCIW", "WDSC"}
    assert partnership.safeguarding_contact_email == "safeguarding@demo.example.org"


def test_events_across_autumn_2026_with_headcounts(demo):
    events = all_of(Event)
    assert len(events) >= 6
    kinds = {e.kind for e in events}
    assert {"coffee_morning", "drop_in", "park_event", "focus_group", "online", "survey"} <= kinds
    for e in events:
        assert date(2026, 9, 1) <= e.held_on <= date(2026, 11, 30)
        assert e.people_count > 0
        assert e.created_by is not None


def test_about_sixty_feedback_items_in_every_state(demo):
    items = all_of(Feedback)
    assert 55 <= len(items) <= 70
    assert all(i.idempotency_key.startswith("demo-") for i in items)
    assert {i.respondent for i in items} == {
        "parent_carer",
        "young_person",
        "child",
        "professional",
    }
    assert {i.sentiment for i in items} == {"working_well", "needs_change", "idea"}
    normal = [i for i in items if not i.safeguarding_flag]
    statuses = Counter(i.status for i in normal)
    assert statuses["new"] >= 5  # the triage queue
    assert statuses["triaged"] >= 3  # triaged but not in a theme
    assert statuses["themed"] >= 3  # in a theme with no published answer yet
    assert statuses["answered"] >= 20
    for i in normal:
        if i.status in ("triaged", "themed", "answered"):
            assert i.triaged_at is not None and i.routed_subgroup is not None
        if i.status in ("themed", "answered"):
            assert i.theme is not None and i.routed_subgroup_id == i.theme.subgroup_id
            assert i.priorities
        if i.status == "answered":
            assert i.theme.is_published
            assert any(a.is_published for a in i.theme.actions)
        assert i.entered_by is not None

    (flagged,) = [i for i in items if i.safeguarding_flag]
    assert flagged.safeguarding_note
    assert flagged.theme is None

    redacted = [i for i in items if i.contains_personal_details]
    assert len(redacted) >= 3
    for i in redacted:
        assert i.redacted_text and i.redacted_text != i.raw_text
        assert i.status != "new"
    assert any(i.contact is not None and i.wants_reply for i in items)
    assert len([e for e in all_of(AuditEntry) if e.verb == "feedback.redacted"]) == len(
        [i for i in items if i.redacted_text]
    )


def test_themes_in_every_state(demo):
    themes = {t.slug: t for t in all_of(Theme)}
    by_publication = Counter(t.publication for t in themes.values())
    assert by_publication["published"] >= 6
    assert by_publication["draft"] >= 1
    assert by_publication["withdrawn"] >= 1

    for t in themes.values():
        if t.actions:
            assert t.status in ("responded", "closed"), t.slug
        else:
            assert t.status == "open", t.slug
    withdrawn = [t for t in themes.values() if t.publication == "withdrawn"]
    assert all(t.withdrawn_reason and t.withdrawn_at for t in withdrawn)
    no_response = [t for t in themes.values() if t.is_published and not t.actions]
    assert no_response, "a published theme still waiting for a response"
    draft = [t for t in themes.values() if t.publication == "draft"]
    assert all(t.published_at is None for t in draft)

    actions = all_of(Action)
    published = [a for a in actions if a.is_published]
    assert {a.kind for a in published} == {"we_did", "we_will", "we_cant"}
    assert {a.status for a in published} >= {"done", "in_progress", "planned", "not_possible"}
    for a in actions:
        if a.kind == "we_will":
            assert a.target_date is not None
        if a.kind == "we_cant":
            assert a.reason and a.status == "not_possible"
        if a.status == "done":
            assert a.done_date is not None
    assert any(a.publication == "draft" for a in actions), "an action waiting for approval"

    updates = all_of(ProgressUpdate)
    assert len([u for u in updates if u.is_published]) >= 3
    assert len([u for u in updates if u.publication == "draft"]) == 1


def test_four_eyes_and_realistic_dates_hold_everywhere(demo):
    users = {u.id: u for u in all_of(User)}
    for t in all_of(Theme):
        assert users[t.created_by_id].has_role("coordinator")
        if t.published_at:
            assert t.approved_by_id not in (None, t.created_by_id)
            assert users[t.approved_by_id].has_role("coordinator", "admin")
            assert datetime(2026, 9, 1) <= t.published_at <= datetime(2026, 11, 30)
            assert t.public_updated_at >= t.published_at
            assert t.public_updated_at >= max(
                [a.published_at for a in t.actions if a.published_at] or [t.published_at]
            )
    for obj in [*all_of(Action), *all_of(ProgressUpdate)]:
        author = users[obj.created_by_id]
        theme = obj.theme if isinstance(obj, Action) else obj.action.theme
        # Leads answer only for their own sub-groups.
        assert permissions.can_respond_to_theme(author, theme)
        if obj.published_at:
            assert obj.approved_by_id not in (None, obj.created_by_id)
            assert permissions.can_approve(users[obj.approved_by_id], obj.created_by_id, False)


# ---------------------------------------------------------------------------------------------
# The public page


def test_the_public_page_looks_real_and_never_shows_what_someone_said(client, demo):
    themes = all_of(Theme)
    published = [t for t in themes if t.is_published]
    hidden = [t for t in themes if not t.is_published]
    page = client.get("/you-said-we-did")
    assert page.status_code == 200
    text = BeautifulSoup(page.get_data(as_text=True), "html.parser").get_text(" ", strip=True)
    for t in published:
        assert t.title in text
    for t in hidden:
        assert t.title not in text
    assert "We can't" in text and "We will" in text and "We did" in text

    outputs = [page.get_data(as_text=True)]
    for url in ["/you-said-we-did.json", "/you-said-we-did.csv", "/you-said-we-did/feed.atom"]:
        response = client.get(url)
        assert response.status_code == 200, url
        outputs.append(response.get_data(as_text=True))
    for t in published:
        response = client.get(f"/you-said-we-did/{t.slug}")
        assert response.status_code == 200
        outputs.append(response.get_data(as_text=True))
    for t in hidden:
        assert client.get(f"/you-said-we-did/{t.slug}").status_code == 404

    private = [
        i.raw_text for i in all_of(Feedback) if not i.may_quote or i.contains_personal_details
    ]
    for output in outputs:
        for words in PERSONAL_DETAILS:
            assert words not in output
        for raw in private:
            assert raw not in output
