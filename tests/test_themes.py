"""Themes: the "You said" statements coordinators write from many feedback items."""

from __future__ import annotations

from datetime import date

import pytest
import sqlalchemy as sa
from sqlalchemy import event as sa_event

from app.extensions import db
from app.models import AuditEntry, Feedback, Theme
from app.models.base import utcnow
from app.services import themes as svc
from tests import factories
from tests.html import soup, text_of
from tests.test_triage import error_summary, field_error

STATEMENT = "Families told us they wait too long for an autism assessment and hear nothing."


@pytest.fixture
def event(world):
    return factories.make_event(world.partnership, created_by=world.volunteer)


def theme_data(world, **overrides) -> dict:
    data = {
        "title": "Waiting for autism assessments",
        "statement": STATEMENT,
        "priorities": [world.priorities["AUTISM"].id],
        "subgroup": world.subgroups["QPMI"].id,
    }
    data.update(overrides)
    return data


# --- Creating and changing a theme --------------------------------------------------------------


def test_create_a_theme_with_no_items_yet(client, auth, world):
    auth.login(world.coordinator)
    response = client.post("/triage/themes/new", data=theme_data(world))
    assert response.status_code == 302
    theme = db.session.scalars(sa.select(Theme)).one()
    assert theme.title == "Waiting for autism assessments"
    assert theme.statement == STATEMENT
    assert [p.code for p in theme.priorities] == ["AUTISM"]
    assert theme.subgroup_id == world.subgroups["QPMI"].id
    assert theme.created_by_id == world.coordinator.id
    assert (theme.status, theme.publication) == ("open", "draft")
    entry = db.session.scalars(sa.select(AuditEntry)).one()
    assert (entry.verb, entry.object_id) == ("theme.created", theme.id)

    page = client.get(response.headers["Location"])
    assert soup(page).select_one("h1").get_text(strip=True) == theme.title
    assert STATEMENT in soup(page).select_one("#statement").get_text()
    assert "0 feedback items from 0 events" in text_of(page)
    assert "Not published" in text_of(page)


def test_theme_errors_are_shown_next_to_fields_and_what_was_typed_is_kept(client, auth, world):
    auth.login(world.coordinator)
    response = client.post(
        "/triage/themes/new",
        data=theme_data(world, title="   ", subgroup="", statement=STATEMENT),
    )
    assert response.status_code == 200
    assert error_summary(response) == ["Enter a title", "Select the sub-group that owns this theme"]
    assert soup(response).title.get_text().startswith("Error:")
    assert field_error(response, "title") == "Enter a title"
    assert field_error(response, "subgroup") == "Select the sub-group that owns this theme"
    assert soup(response).select_one("#statement").get_text() == STATEMENT
    checked = soup(response).select("input[name=priorities][checked]")
    assert [c["value"] for c in checked] == [str(world.priorities["AUTISM"].id)]

    response = client.post(
        "/triage/themes/new", data=theme_data(world, statement="", title="x" * 201)
    )
    assert field_error(response, "statement") == 'Enter the "You said" statement'
    assert field_error(response, "title") == "The title must be 200 characters or fewer"
    assert soup(response).select_one("#title")["value"] == "x" * 201
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 0


def test_another_partnerships_sub_group_or_priority_is_refused(client, auth, world):
    theirs = factories.make_world()
    auth.login(world.coordinator)
    response = client.post(
        "/triage/themes/new",
        data=theme_data(
            world,
            subgroup=theirs.subgroups["CCE"].id,
            priorities=[theirs.priorities["SEMH"].id],
        ),
    )
    assert set(error_summary(response)) == {
        "Select the sub-group that owns this theme",
        "Select priorities from the list",
    }
    assert db.session.scalar(sa.select(sa.func.count(Theme.id))) == 0


def test_slugs_are_unique_in_a_partnership_and_follow_the_title_until_published(
    client, auth, world
):
    theirs = factories.make_world()
    factories.make_theme(theirs.partnership, title="Short breaks", slug="short-breaks")
    auth.login(world.coordinator)
    for _ in range(3):
        client.post("/triage/themes/new", data=theme_data(world, title="Short breaks!"))
    slugs = db.session.scalars(
        sa.select(Theme.slug).where(Theme.partnership_id == world.partnership.id).order_by(Theme.id)
    ).all()
    assert slugs == ["short-breaks", "short-breaks-2", "short-breaks-3"]

    first = db.session.scalars(
        sa.select(Theme).where(
            Theme.slug == "short-breaks", Theme.partnership_id == world.partnership.id
        )
    ).one()
    client.post(f"/triage/themes/{first.id}/edit", data=theme_data(world, title="Respite care"))
    db.session.expire_all()
    assert first.slug == "respite-care"
    # Its old slug is free again, and editing without changing the title keeps the slug.
    client.post(
        f"/triage/themes/{first.id}/edit",
        data=theme_data(world, title="Respite care", statement="New words."),
    )
    db.session.expire_all()
    assert first.slug == "respite-care" and first.statement == "New words."
    assert svc.unique_slug(world.partnership.id, "Short breaks") == "short-breaks"

    # Once published, the address never changes, even after the theme is withdrawn.
    first.publication = "withdrawn"
    first.published_at = utcnow()
    db.session.commit()
    client.post(f"/triage/themes/{first.id}/edit", data=theme_data(world, title="Day trips"))
    db.session.expire_all()
    assert first.title == "Day trips"
    assert first.slug == "respite-care"


def test_a_published_theme_cannot_be_changed_here(client, auth, world):
    theme = factories.make_theme(
        world.partnership, subgroup=world.subgroups["CCE"], published=True, title="Transport"
    )
    auth.login(world.coordinator)
    page = client.get(f"/triage/themes/{theme.id}/edit")
    assert page.status_code == 200
    assert "Withdraw it before changing its wording" in text_of(page)
    assert soup(page).select("input[name=title], textarea[name=statement]") == []
    assert theme.statement in text_of(page)

    response = client.post(f"/triage/themes/{theme.id}/edit", data=theme_data(world))
    assert response.status_code == 409
    assert "Withdraw it before changing its wording" in text_of(response)
    db.session.expire_all()
    assert theme.title == "Transport"
    assert theme.subgroup_id == world.subgroups["CCE"].id

    theme_page = client.get(f"/triage/themes/{theme.id}")
    assert "Withdraw it before changing its wording" in text_of(theme_page)
    assert not soup(theme_page).find("a", string="Change this theme")


def test_change_a_draft_theme(client, auth, world):
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    page = client.get(f"/triage/themes/{theme.id}/edit")
    assert soup(page).select_one("#title")["value"] == theme.title
    assert soup(page).select_one("input[name=subgroup][checked]")["value"] == str(
        world.subgroups["CCE"].id
    )
    assert soup(page).select("input[name=feedback]") == []
    response = client.post(
        f"/triage/themes/{theme.id}/edit",
        data=theme_data(world, priorities=[world.priorities["SEMH"].id]),
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert theme.title == "Waiting for autism assessments"
    assert theme.subgroup_id == world.subgroups["QPMI"].id
    assert [p.code for p in theme.priorities] == ["SEMH"]
    response = client.post(f"/triage/themes/{theme.id}/edit", data=theme_data(world, statement=""))
    assert error_summary(response) == ['Enter the "You said" statement']


# --- Items in a theme ----------------------------------------------------------------------------


def test_add_and_remove_items_on_the_theme_page(client, auth, world, event):
    other_event = factories.make_event(world.partnership, name="Drop-in", kind="drop_in")
    a = factories.make_feedback(world.partnership, event=event, status="triaged")
    b = factories.make_feedback(world.partnership, event=other_event, status="triaged")
    c = factories.make_feedback(world.partnership, event=event, status="triaged")
    new = factories.make_feedback(world.partnership, event=event)
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)

    page = client.get(f"/triage/themes/{theme.id}")
    offered = {int(i["value"]) for i in soup(page).select("input[name=feedback]")}
    assert offered == {a.id, b.id, c.id}  # triaged and not in a theme; new items wait

    response = client.post(
        f"/triage/themes/{theme.id}/items", data={"feedback": [a.id, b.id, c.id], "add": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert {f.id for f in theme.feedback} == {a.id, b.id, c.id}
    assert {a.status, b.status, c.status} == {"themed"}
    page = client.get(f"/triage/themes/{theme.id}")
    assert '3 items added to "' in text_of(page)
    assert "3 feedback items from 2 events" in text_of(page)

    response = client.post(
        f"/triage/themes/{theme.id}/items", data={"feedback": [b.id], "remove": "y"}
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert b.theme_id is None and b.status == "triaged"
    page = client.get(f"/triage/themes/{theme.id}")
    assert "1 item removed from this theme" in text_of(page)
    assert "2 feedback items from 1 event" in text_of(page)
    assert new.theme_id is None


def test_items_form_errors_on_the_theme_page(client, auth, world, event):
    factories.make_feedback(world.partnership, event=event, status="triaged")
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"])
    auth.login(world.coordinator)
    response = client.post(f"/triage/themes/{theme.id}/items", data={"add": "y"})
    assert response.status_code == 200
    assert error_summary(response) == ["Select at least one feedback item"]
    assert field_error(response, "feedback") == "Select at least one feedback item"


def test_the_theme_page_shows_items_privately_and_its_actions(client, auth, world, event):
    redacted = factories.make_feedback(
        world.partnership,
        event=event,
        raw_text="Amelia at Hollywood Park school waited 2 years",
        redacted_text="A parent waited two years",
    )
    plain = factories.make_feedback(world.partnership, event=event, raw_text="Plain words here")
    theme = factories.make_theme(
        world.partnership, subgroup=world.subgroups["CCE"], feedback=[redacted, plain]
    )
    factories.make_action(theme, published=True)
    factories.make_action(theme, kind="we_did", status="done", text="We hired two therapists.")
    auth.login(world.coordinator)
    page = client.get(f"/triage/themes/{theme.id}")
    text = text_of(page)
    assert "A parent waited two years" in text
    assert "Plain words here" in text
    assert "Amelia" not in text  # the rewritten wording is shown where there is one
    assert "We hired two therapists." in text
    assert "2 actions" in text
    respond = soup(page).find("a", href=f"/respond/themes/{theme.id}")
    assert respond is not None
    assert soup(page).find("a", href=f"/triage/approvals/{theme.id}") is not None


def test_the_themes_list(client, auth, world, event):
    other_event = factories.make_event(world.partnership, name="Drop-in", kind="drop_in")
    items = [
        factories.make_feedback(world.partnership, event=e) for e in (event, event, other_event)
    ]
    flagged = factories.make_feedback(world.partnership, event=other_event)
    published = factories.make_theme(
        world.partnership,
        title="Published theme",
        subgroup=world.subgroups["QPMI"],
        feedback=[*items, flagged],
        published=True,
    )
    flagged.safeguarding_flag = True
    db.session.commit()
    factories.make_action(published)
    factories.make_theme(world.partnership, title="Draft theme")
    theirs = factories.make_world()
    factories.make_theme(theirs.partnership, title="Their theme")
    auth.login(world.coordinator)

    page = client.get("/triage/themes")
    rows = {
        tr.select_one("td a").get_text(strip=True): [
            td.get_text(" ", strip=True) for td in tr.select("td")
        ]
        for tr in soup(page).select("tbody tr")
    }
    assert set(rows) == {"Published theme", "Draft theme"}
    assert rows["Published theme"] == [
        "Published theme",
        "Sub-group QPMI",
        "3 from 2 events",
        "1",
        "Waiting for a response",
        "Published",
    ]
    assert rows["Draft theme"][1:] == [
        "None yet",
        "0 from 0 events",
        "0",
        "Waiting for a response",
        "Not published",
    ]


def test_the_themes_list_runs_the_same_number_of_queries_for_3_and_30_themes(
    client, auth, world, event
):
    def add(n: int) -> None:
        for i in range(n):
            item = factories.make_feedback(world.partnership, event=event)
            theme = factories.make_theme(
                world.partnership, subgroup=world.subgroups["CCE"], feedback=[item]
            )
            factories.make_action(theme)
            if i % 2:
                theme.priorities = [world.priorities["SEMH"]]
        db.session.commit()

    def count() -> int:
        statements: list[str] = []

        def listener(*args):
            statements.append(args[2])

        db.session.expire_all()
        sa_event.listen(db.engine, "before_cursor_execute", listener)
        try:
            assert client.get("/triage/themes").status_code == 200
        finally:
            sa_event.remove(db.engine, "before_cursor_execute", listener)
        return len(statements)

    add(3)
    auth.login(world.coordinator)
    at_3 = count()
    add(27)
    assert count() == at_3


# --- The service, without HTTP --------------------------------------------------------------------


def test_voice_counts_are_distinct_items_and_events_and_skip_flagged_items(world, event):
    other_event = factories.make_event(world.partnership, name="Online", kind="online")
    a = factories.make_feedback(world.partnership, event=event)
    b = factories.make_feedback(world.partnership, event=event)
    c = factories.make_feedback(world.partnership, event=None, channel="email")
    d = factories.make_feedback(world.partnership, event=other_event, safeguarding_flag=True)
    one = factories.make_theme(world.partnership, feedback=[a, b, c, d])
    two = factories.make_theme(world.partnership)
    counts = svc.voice_counts(world.partnership, [one.id, two.id])
    assert counts[one.id] == svc.VoiceCount(items=3, events=1, respondents=("parent_carer",))
    assert counts[two.id] == svc.VoiceCount(items=0, events=0)
    assert svc.voice_counts(world.partnership, []) == {}


def test_add_items_moves_an_item_between_themes_and_refuses_flagged_ones(world, event):
    item = factories.make_feedback(world.partnership, event=event)
    first = factories.make_theme(world.partnership, feedback=[item])
    second = factories.make_theme(world.partnership)
    result = svc.add_items(second, [item], world.coordinator)
    db.session.commit()
    assert result == svc.ItemsAdded(added=1, moved=1)
    assert item.theme_id == second.id and first.feedback == []
    assert svc.add_items(second, [item], world.coordinator) == svc.ItemsAdded(0, 0)

    flagged = factories.make_feedback(world.partnership, event=event, safeguarding_flag=True)
    with pytest.raises(svc.SafeguardingItem):
        svc.add_items(second, [flagged], world.coordinator)
    with pytest.raises(svc.SafeguardingItem):
        svc.create_theme(
            world.partnership,
            world.coordinator,
            title="T",
            statement="S",
            priorities=[],
            subgroup=world.subgroups["CCE"],
            items=[flagged],
        )
    db.session.rollback()
    assert flagged.theme_id is None
    assert svc.remove_items(first, [item], world.coordinator) == 0


def test_update_theme_refuses_a_published_theme(world):
    theme = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"], published=True)
    with pytest.raises(svc.ThemeIsPublished, match="Withdraw it before changing its wording"):
        svc.update_theme(
            theme,
            world.coordinator,
            title="New",
            statement="New",
            priorities=[],
            subgroup=world.subgroups["CCE"],
        )


def test_create_theme_cleans_markup_and_items_count_as_triaged(world, event):
    item = factories.make_feedback(world.partnership, event=event, received_on=date(2026, 9, 1))
    theme = svc.create_theme(
        world.partnership,
        world.coordinator,
        title="  Speech <script>x</script>and   language ",
        statement="<p>Families want <b>more</b> therapy.</p>",
        priorities=[world.priorities["SEMH"]],
        subgroup=world.subgroups["CCE"],
        items=[item],
    )
    db.session.commit()
    assert theme.title == "Speech xand language"
    assert theme.statement == "Families want more therapy."
    assert theme.slug == "speech-xand-language"
    assert item.status == "themed" and item.triaged_at is not None
    assert db.session.get(Feedback, item.id).theme_id == theme.id


def test_changing_a_theme_is_audited_with_what_changed(client, auth, world):
    theme = factories.make_theme(
        world.partnership,
        title="Respite care",
        slug="respite-care",
        statement="Old words.",
        subgroup=world.subgroups["CCE"],
        priorities=[world.priorities["SEMH"]],
        created_by=world.coordinator,
    )
    auth.login(world.coordinator2)
    response = client.post(
        f"/triage/themes/{theme.id}/edit",
        data=theme_data(
            world,
            title="Short breaks",
            statement="New words.",
            priorities=[world.priorities["AUTISM"].id, world.priorities["SEMH"].id],
        ),
    )
    assert response.status_code == 302
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "theme.updated")
    ).one()
    assert entry.user_id == world.coordinator2.id
    assert (entry.object_type, entry.object_id) == ("Theme", theme.id)
    assert entry.partnership_id == world.partnership.id
    assert entry.details["changes"] == {
        "title": {"from": "Respite care", "to": "Short breaks"},
        "statement": {"from": "Old words.", "to": "New words."},
        "priorities": {"from": ["SEMH"], "to": ["AUTISM", "SEMH"]},
        "subgroup": {"from": "CCE", "to": "QPMI"},
    }

    # Saving the same wording again changes nothing, so there is nothing to audit.
    again = client.post(
        f"/triage/themes/{theme.id}/edit",
        data=theme_data(
            world,
            title="Short breaks",
            statement="New words.",
            priorities=[world.priorities["AUTISM"].id, world.priorities["SEMH"].id],
        ),
    )
    assert again.status_code == 302
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.verb == "theme.updated")
        )
        == 1
    )


def test_update_theme_audits_only_the_fields_that_changed(world):
    theme = factories.make_theme(
        world.partnership,
        title="Transport",
        statement="Buses are late.",
        subgroup=world.subgroups["CCE"],
    )
    svc.update_theme(
        theme,
        world.admin,
        title="Transport",
        statement="Buses to college are late.",
        priorities=[],
        subgroup=world.subgroups["CCE"],
    )
    db.session.commit()
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "theme.updated")
    ).one()
    assert entry.user_id == world.admin.id
    assert entry.details["changes"] == {
        "statement": {"from": "Buses are late.", "to": "Buses to college are late."}
    }
