"""`flask retention purge`: contact details and people's words go when their time is up, with
the clock frozen either side of the date, and every count stays the same."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
import time_machine

from app.extensions import db
from app.models import AuditEntry, Feedback, FeedbackContact, SafeguardingDecision, Theme
from app.models.base import utcnow
from app.services import dashboard, retention
from tests import factories
from tests.html import soup

LONDON = ZoneInfo("Europe/London")
RECEIVED = date(2024, 1, 15)
# 24 months after RECEIVED: the last day the words are kept.
EXPIRES = date(2026, 1, 15)
RAW = "My son Alfie at Oakfield Primary waited 40 weeks for his assessment."
REWORDED = "My son waited 40 weeks for his assessment."


def at(day: date, hour: int = 9) -> time_machine.travel:
    """The clock stopped at a time on a day in England, when the daily job might run."""
    return time_machine.travel(
        datetime(day.year, day.month, day.day, hour, tzinfo=LONDON), tick=False
    )


def item(world, *, status: str = "closed", received_on: date = RECEIVED, **kw) -> Feedback:
    defaults = {"raw_text": RAW, "redacted_text": REWORDED, "setting": "Oakfield Primary"}
    defaults.update(kw)
    return factories.make_feedback(
        world.partnership, status=status, received_on=received_on, **defaults
    )


def contact(feedback: Feedback, *, delete_after: date, told_at: datetime | None = None):
    row = FeedbackContact(
        partnership_id=feedback.partnership_id,
        feedback_id=feedback.id,
        email=f"parent{feedback.id}@example.org",
        phone="07700900982",
        delete_after=delete_after,
        told_at=told_at,
        notice_version="2026-11",
    )
    db.session.add(row)
    db.session.commit()
    return row


def run(runner, *args: str):
    result = runner.invoke(args=["retention", "purge", *args])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def words_of(feedback_id: int) -> tuple[str, str | None, str | None, datetime | None]:
    row = db.session.get(Feedback, feedback_id)
    return row.raw_text, row.redacted_text, row.setting, row.raw_text_deleted_at


def contact_ids() -> set[int]:
    return set(db.session.scalars(sa.select(FeedbackContact.feedback_id)))


def purge_entries() -> list[AuditEntry]:
    return list(
        db.session.scalars(
            sa.select(AuditEntry).where(AuditEntry.verb.like("retention.%")).order_by(AuditEntry.id)
        )
    )


# ---------------------------------------------------------------------------------------------
# Months


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (date(2024, 1, 15), 24, date(2026, 1, 15)),
        (date(2025, 8, 31), 6, date(2026, 2, 28)),
        (date(2023, 8, 31), 6, date(2024, 2, 29)),
        (date(2024, 2, 29), 12, date(2025, 2, 28)),
        (date(2024, 12, 31), 1, date(2025, 1, 31)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
        (date(2026, 1, 10), 0, date(2026, 1, 10)),
    ],
)
def test_months_are_added_as_people_count_them(start, months, expected):
    assert retention.add_months(start, months) == expected


# ---------------------------------------------------------------------------------------------
# Contact details


def test_contact_details_go_once_the_contributor_has_been_told(app, runner, world):
    told = item(world, status="new")
    contact(told, delete_after=date(2027, 1, 1), told_at=datetime(2025, 6, 1, 10))
    waiting = item(world, status="new")
    contact(waiting, delete_after=date(2027, 1, 1))

    with at(date(2025, 6, 2)):
        run(runner)
    assert contact_ids() == {waiting.id}
    # The item stays, words and all: only how to reach them has gone.
    assert words_of(told.id) == (RAW, REWORDED, "Oakfield Primary", None)


def test_contact_details_go_the_day_after_their_deletion_date(app, runner, world):
    due = item(world, status="new")
    contact(due, delete_after=date(2025, 3, 1))
    later = item(world, status="new")
    contact(later, delete_after=date(2025, 3, 2))

    with at(date(2025, 3, 1), hour=23):
        run(runner)
    assert contact_ids() == {due.id, later.id}, "nothing goes on the deletion date itself"

    with at(date(2025, 3, 2)):
        run(runner)
    assert contact_ids() == {later.id}

    with at(date(2025, 3, 3)):
        run(runner)
    assert contact_ids() == set()


# ---------------------------------------------------------------------------------------------
# The words of closed items


@pytest.fixture
def items(world):
    """One item of each kind the rules tell apart, all received on RECEIVED unless said."""
    cce = world.subgroups["CCE"]
    made = {
        "closed": item(world),
        "young": item(world, received_on=RECEIVED + timedelta(days=1)),
        "new": item(world, status="new"),
        "triaged": item(world, status="triaged"),
        "flagged": item(
            world,
            safeguarding_flag=True,
            safeguarding_note="Possible harm at home.",
        ),
    }
    # A published theme whose answers are all finished: its work is done.
    done = [item(world, status="answered") for _ in range(5)]
    quoted = item(world, status="answered", may_quote=True)
    finished = factories.make_theme(
        world.partnership, subgroup=cce, feedback=[*done, quoted], published=True
    )
    factories.make_action(finished, published=True, kind="we_did", status="done")
    factories.make_action(finished, published=True, kind="we_cant", status="not_possible")
    for row in (*done, quoted):
        row.status = "answered"
    # A theme still being answered: "We will", in progress.
    ongoing_items = [item(world, status="answered") for _ in range(2)]
    ongoing = factories.make_theme(
        world.partnership, subgroup=cce, feedback=ongoing_items, published=True
    )
    factories.make_action(ongoing, published=True, status="in_progress")
    for row in ongoing_items:
        row.status = "answered"
    # A theme closed by the coordinator, with no answers.
    closed_theme_item = item(world, status="themed")
    factories.make_theme(world.partnership, feedback=[closed_theme_item], status="closed")
    closed_theme_item.status = "themed"
    db.session.commit()
    made.update(
        {
            "done": done,
            "quoted": quoted,
            "ongoing": ongoing_items,
            "closed_theme": closed_theme_item,
        }
    )
    return made


def _ids(items, *names) -> set[int]:
    found: set[int] = set()
    for name in names:
        value = items[name]
        found |= {i.id for i in value} if isinstance(value, list) else {value.id}
    return found


def _emptied() -> set[int]:
    return set(
        db.session.scalars(sa.select(Feedback.id).where(Feedback.raw_text_deleted_at.is_not(None)))
    )


def test_nothing_goes_before_the_retention_period_ends(app, runner, items):
    with at(EXPIRES, hour=23):
        output = run(runner)
    assert _emptied() == set()
    assert "Words of closed items older than 24 months: nothing due" in output
    for row in db.session.scalars(sa.select(Feedback)):
        assert row.raw_text == RAW


def test_after_the_period_exactly_the_closed_items_lose_their_words(app, runner, items):
    with at(EXPIRES + timedelta(days=1)):
        run(runner)
        now = utcnow()
    gone = _ids(items, "closed", "done", "quoted", "closed_theme")
    assert _emptied() == gone
    for feedback_id in gone - {items["quoted"].id}:
        assert words_of(feedback_id) == ("", None, None, now)
    # Quoted on a public page with consent: the reworded text stays, the raw words go.
    assert words_of(items["quoted"].id) == ("", REWORDED, None, now)
    # Not closed (new, triaged, answered while a "We will" is in progress), too young, or a
    # safeguarding record: untouched.
    for name in ("young", "new", "triaged", "ongoing", "flagged"):
        for feedback_id in _ids(items, name):
            assert words_of(feedback_id) == (RAW, REWORDED, "Oakfield Primary", None), name


def test_the_young_item_goes_a_day_later(app, runner, items):
    with at(EXPIRES + timedelta(days=1)):
        run(runner)
    assert items["young"].id not in _emptied()
    with at(EXPIRES + timedelta(days=2)):
        run(runner)
    assert items["young"].id in _emptied()


def test_each_partnership_keeps_words_for_its_own_period(app, runner, world):
    ours = item(world, received_on=date(2025, 1, 10))
    theirs_world = factories.make_world("theirs")
    theirs_world.partnership.raw_text_retention_months = 6
    db.session.commit()
    theirs = item(theirs_world, received_on=date(2025, 1, 10))

    with at(date(2025, 7, 11)):
        output = run(runner)
    assert _emptied() == {theirs.id}
    assert "older than 6 months: deleted from 1 item" in output
    assert words_of(ours.id)[0] == RAW


def test_tags_theme_and_consent_stay(app, runner, world, items):
    quoted = items["quoted"]
    quoted.priorities = [world.priorities["SEMH"]]
    quoted.need_types = ["semh"]
    quoted.routed_subgroup_id = world.subgroups["CCE"].id
    quoted.consent_notice_version = "2026-11"
    db.session.commit()
    theme_id = quoted.theme_id

    with at(EXPIRES + timedelta(days=1)):
        run(runner)
    row = db.session.get(Feedback, quoted.id)
    assert [p.code for p in row.priorities] == ["SEMH"]
    assert row.need_types == ["semh"]
    assert row.routed_subgroup_id == world.subgroups["CCE"].id
    assert row.theme_id == theme_id
    assert (row.status, row.respondent, row.sentiment, row.received_on) == (
        "answered",
        "parent_carer",
        "needs_change",
        RECEIVED,
    )
    assert (row.may_quote, row.consent_notice_version) == (True, "2026-11")


# ---------------------------------------------------------------------------------------------
# Safeguarding records


def test_safeguarding_records_keep_their_words_and_contact_until_a_decision(
    app, runner, world, items
):
    flagged = items["flagged"]
    contact(flagged, delete_after=date(2025, 1, 1))

    with at(EXPIRES + timedelta(days=400)):
        output = run(runner)
    assert words_of(flagged.id) == (RAW, REWORDED, "Oakfield Primary", None)
    assert db.session.get(Feedback, flagged.id).safeguarding_note == "Possible harm at home."
    assert flagged.id in contact_ids()
    assert "Kept as safeguarding records: 1 item, 1 contact record" in output

    db.session.add(
        SafeguardingDecision(
            partnership_id=world.partnership.id,
            feedback_id=flagged.id,
            outcome="referral_made",
            reason="Referred to children's social care.",
            acted_at=datetime(2026, 2, 1, 10),
            recorded_by_id=world.safeguarding_lead.id,
            recorded_by_name=world.safeguarding_lead.name,
        )
    )
    db.session.commit()
    with at(EXPIRES + timedelta(days=401)):
        run(runner)
    # Decided: the contact follows the usual rule; the words stay a safeguarding record.
    assert flagged.id not in contact_ids()
    assert words_of(flagged.id)[0] == RAW


# ---------------------------------------------------------------------------------------------
# Dry run, output, audit, counts


def test_a_dry_run_says_what_would_go_and_changes_nothing(app, runner, world, items):
    told = items["new"]
    contact(told, delete_after=date(2030, 1, 1), told_at=datetime(2025, 1, 1))
    expired = items["triaged"]
    contact(expired, delete_after=date(2025, 1, 1))

    with at(EXPIRES + timedelta(days=1)):
        output = run(runner, "--dry-run")
    assert output.splitlines() == [
        "Retention purge for 16 January 2026 (dry run: nothing was changed)",
        f"{world.partnership.name} ({world.partnership.slug}):",
        "  Contact details: would delete 2 (1 told what happened, 1 past their deletion date)",
        "  Words of closed items older than 24 months: would delete from 8 items "
        "(reworded text from 7; reworded text kept for 1 quoted on a public page)",
        "  Kept as safeguarding records: 1 item, 0 contact records",
    ]
    assert _emptied() == set()
    assert contact_ids() == {told.id, expired.id}
    assert purge_entries() == []

    with at(EXPIRES + timedelta(days=1)):
        output = run(runner)
    assert output.splitlines()[0] == "Retention purge for 16 January 2026"
    assert "  Contact details: deleted 2 (1 told what happened, 1 past their deletion date)" in (
        output.splitlines()
    )
    assert len(_emptied()) == 8
    assert contact_ids() == set()


def test_each_deletion_is_audited_with_counts_only(app, runner, client, auth, world, items):
    contact(items["new"], delete_after=date(2025, 1, 1))
    with at(EXPIRES + timedelta(days=1)):
        run(runner)
    entries = purge_entries()
    assert [(e.verb, e.actor, e.user_id, e.object_type, e.object_id) for e in entries] == [
        ("retention.contacts_deleted", "system", None, "Partnership", world.partnership.id),
        ("retention.raw_text_deleted", "system", None, "Partnership", world.partnership.id),
    ]
    assert [e.partnership_id for e in entries] == [world.partnership.id] * 2
    assert entries[0].details == {"contacts": 1, "told": 0, "expired": 1}
    assert entries[1].details == {
        "items": 8,
        "reworded_deleted": 7,
        "reworded_kept": 1,
        "months": 24,
    }

    # Running again finds nothing more, and writes nothing.
    with at(EXPIRES + timedelta(days=1), hour=10):
        output = run(runner)
    assert len(purge_entries()) == 2
    assert "Contact details: nothing due" in output

    auth.login(world.admin)
    page = soup(client.get("/admin/audit?actor=system"))
    text = page.find("table").get_text(" ", strip=True)
    assert "Contact details deleted by the daily retention purge" in text
    assert "Words of closed items deleted by the daily retention purge" in text
    assert "The system (automatic)" in text
    assert "Reworded text kept (quoted on a public page) 1" in text
    for private in (RAW, "Oakfield", "example.org", "07700"):
        assert private not in str(page)


def _main(response) -> str:
    assert response.status_code == 200
    return soup(response).find("main").get_text(" ", strip=True)


def test_counts_on_the_dashboard_and_public_pages_are_unchanged(
    app, runner, client, auth, world, items
):
    slugs = list(db.session.scalars(sa.select(Theme.slug).where(Theme.publication == "published")))
    assert len(slugs) == 2

    public = app.test_client()

    def look() -> dict:
        return {
            "evidence": dashboard.evidence_for(world.coordinator),
            "home": _main(client.get("/home")),
            "public": _main(public.get("/you-said-we-did")),
            "json": public.get("/you-said-we-did.json").get_data(as_text=True),
            "csv": public.get("/you-said-we-did.csv").get_data(as_text=True),
            "themes": [_main(public.get(f"/you-said-we-did/{slug}")) for slug in slugs],
        }

    with at(EXPIRES + timedelta(days=1)):
        auth.login(world.coordinator)
        before = look()
        run(runner)
        assert len(_emptied()) == 8
        after = look()
    assert before == after
    # There were counts to keep: every item but the safeguarding record, and the six voices
    # of the finished theme on its public page.
    assert before["evidence"].feedback_items == 13
    assert any("Voices heard 6 " in page for page in before["themes"])


def test_a_purged_item_still_opens_in_triage(app, runner, client, auth, world, items):
    with at(EXPIRES + timedelta(days=1)):
        run(runner)
    auth.login(world.coordinator)
    response = client.get(f"/triage/feedback/{items['closed'].id}")
    assert response.status_code == 200
    assert RAW not in response.get_data(as_text=True)
    assert "What was said was deleted on" in response.get_data(as_text=True)


def test_one_partnership_only(app, runner, world):
    ours = item(world)
    theirs = item(factories.make_world("theirs"))
    with at(EXPIRES + timedelta(days=1)):
        output = run(runner, "--partnership", world.partnership.slug)
    assert _emptied() == {ours.id}
    assert "theirs" not in output
    assert words_of(theirs.id)[0] == RAW


def test_an_unknown_partnership_is_an_error(app, runner, world):
    result = runner.invoke(args=["retention", "purge", "--partnership", "nowhere"])
    assert result.exit_code == 1
    assert "No partnership with the slug 'nowhere'" in result.output
