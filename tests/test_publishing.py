"""Publishing rules as plain functions (app.services.publishing), without HTTP."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import AuditEntry
from app.services import actions, publishing
from app.services import themes as theme_service
from app.services.publishing import PendingChanged, PublishingError
from tests import factories


@pytest.fixture
def theme(world):
    item = factories.make_feedback(world.partnership)
    return factories.make_theme(
        world.partnership,
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )


def verbs() -> list[str]:
    return list(db.session.scalars(sa.select(AuditEntry.verb).order_by(AuditEntry.id)))


def test_approving_publishes_the_theme_its_draft_actions_and_updates(world, theme):
    action = actions.create_action(
        theme,
        world.subgroup_lead,
        kind="we_will",
        text="We will phone families.",
        target_date=date(2027, 3, 31),
    )
    update = actions.add_progress_update(
        action,
        world.subgroup_lead,
        happened_on=date(2026, 11, 1),
        text="Calls began.",
        new_status="in_progress",
    )
    db.session.commit()

    published = publishing.approve_theme(theme, world.coordinator2)
    db.session.commit()

    assert published == [theme, action, update]
    for obj in (theme, action, update):
        assert obj.publication == "published"
        assert obj.published_at is not None
        assert obj.approved_by_id == world.coordinator2.id
    assert theme.public_updated_at == theme.published_at
    assert action.status == "in_progress"
    # The feedback in the theme has now been answered.
    assert theme.feedback[0].status == "answered"
    assert verbs()[-3:] == ["theme.published", "action.published", "progress_update.published"]
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "theme.published")
    ).one()
    assert entry.details["statement"] == theme.statement
    assert entry.user_id == world.coordinator2.id


def test_a_theme_can_be_published_with_no_actions(world, theme):
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]
    assert theme.is_published
    # Nothing answered it yet.
    assert theme.feedback[0].status == "themed"


def test_four_eyes_the_author_of_the_theme_cannot_approve_it(world, theme):
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator)
    assert theme.publication == "draft"


def test_four_eyes_the_author_of_an_action_cannot_approve_it(world, theme):
    factories._publish(theme)
    actions.create_action(theme, world.coordinator2, kind="we_did", text="We did it.")
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator2)
    # The theme's author did not write the action, and the theme is already public.
    assert len(publishing.approve_theme(theme, world.coordinator)) == 1


def test_four_eyes_the_author_of_an_update_cannot_approve_it(world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True)
    actions.add_progress_update(
        action, world.admin, happened_on=date(2026, 11, 1), text="Progress."
    )
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.admin)


def test_self_approval_when_the_partnership_allows_it(world, theme):
    world.partnership.allow_self_approval = True
    db.session.commit()
    assert publishing.approve_theme(theme, world.coordinator) == [theme]


def test_only_coordinators_and_admins_may_approve(world, theme):
    for user in (world.subgroup_lead, world.volunteer, world.board_viewer):
        with pytest.raises(PublishingError, match="permission"):
            publishing.approve_theme(theme, user)
    with pytest.raises(PublishingError):
        publishing.withdraw_theme(theme, world.subgroup_lead, "A reason")


def test_a_theme_needs_a_statement_and_a_subgroup(world):
    no_group = factories.make_theme(world.partnership, created_by=world.coordinator)
    with pytest.raises(PublishingError, match="sub-group"):
        publishing.approve_theme(no_group, world.admin)
    blank = factories.make_theme(world.partnership, subgroup=world.subgroups["CCE"], statement="  ")
    factories.make_action(blank)
    with pytest.raises(PublishingError, match="statement"):
        publishing.approve_theme(blank, world.admin)


def test_a_theme_with_safeguarding_feedback_is_never_published(world, theme):
    flagged = factories.make_feedback(world.partnership, safeguarding_flag=True)
    flagged.theme_id = theme.id
    db.session.commit()
    with pytest.raises(PublishingError, match="safeguarding"):
        publishing.approve_theme(theme, world.coordinator2)
    assert theme.publication == "draft"
    assert "theme.published" not in verbs()


def test_nothing_waiting_is_refused(world, theme):
    publishing.approve_theme(theme, world.coordinator2)
    with pytest.raises(PublishingError, match="nothing"):
        publishing.approve_theme(theme, world.coordinator2)


def test_progress_status_applies_only_when_published(world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True, status="in_progress")
    finished = date.today() - timedelta(days=2)
    update = actions.add_progress_update(
        action, world.subgroup_lead, happened_on=finished, text="Finished.", new_status="done"
    )
    assert action.status == "in_progress"
    assert action.done_date is None
    before = theme.public_updated_at
    publishing.approve_theme(theme, world.coordinator2)
    assert update.is_published
    assert action.status == "done"
    assert action.done_date == finished
    assert theme.public_updated_at is not None and theme.public_updated_at >= before


def test_later_updates_win_when_several_are_approved_together(world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True, status="planned")
    lead = world.subgroup_lead
    today = date.today()
    actions.add_progress_update(
        action, lead, happened_on=today - timedelta(days=1), text="Done.", new_status="done"
    )
    actions.add_progress_update(
        action,
        lead,
        happened_on=today - timedelta(days=30),
        text="Started.",
        new_status="in_progress",
    )
    publishing.approve_theme(theme, world.coordinator2)
    assert action.status == "done"


def test_withdrawal_needs_a_reason(world, theme):
    publishing.approve_theme(theme, world.coordinator2)
    for reason in (None, "", "   ", "<b></b>"):
        with pytest.raises(PublishingError, match="Enter why") as caught:
            publishing.withdraw_theme(theme, world.coordinator2, reason)
        assert caught.value.field == "reason"
    assert theme.is_published


def test_withdrawing_and_republishing_a_theme(world, theme):
    action = factories.make_action(theme, created_by=world.subgroup_lead)
    publishing.approve_theme(theme, world.coordinator2)
    first_update = theme.public_updated_at

    publishing.withdraw_theme(theme, world.coordinator2, "It named a school.")
    assert theme.publication == "withdrawn"
    assert theme.withdrawn_reason == "It named a school."
    assert theme.withdrawn_at is not None
    assert theme.public_updated_at >= first_update
    # Its action stays published, but only shows under a published theme.
    assert action.is_published
    overview = publishing.overview(world.partnership)
    assert overview.withdrawn == [theme]
    assert overview.published == []

    republished = publishing.approve_theme(theme, world.coordinator2)
    assert republished == [theme]
    assert theme.is_published
    assert theme.withdrawn_at is None and theme.withdrawn_reason is None
    assert verbs().count("theme.published") == 2
    assert "theme.withdrawn" in verbs()
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "theme.withdrawn")
    ).one()
    assert entry.details["reason"] == "It named a school."


def test_withdrawing_an_action_keeps_the_theme_and_is_not_undone_by_approval(world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True)
    publishing.withdraw_action(action, world.coordinator, "The date was wrong.")
    assert action.publication == "withdrawn"
    assert theme.is_published
    assert theme.public_updated_at is not None
    # A new draft action is approved: the withdrawn one stays withdrawn.
    other = factories.make_action(theme, kind="we_did", text="We did.", target_date=None)
    assert publishing.approve_theme(theme, world.coordinator2) == [other]
    assert action.publication == "withdrawn"
    # Once a lead changes it, it goes back for approval and is published again.
    actions.update_action(
        action,
        world.subgroup_lead,
        kind="we_will",
        text=action.text,
        target_date=date(2027, 6, 30),
    )
    assert action.publication == "draft"
    assert publishing.approve_theme(theme, world.coordinator2) == [action]
    assert action.withdrawn_reason is None


def test_only_published_things_can_be_withdrawn(world, theme):
    action = factories.make_action(theme)
    with pytest.raises(PublishingError, match="not published"):
        publishing.withdraw_theme(theme, world.coordinator, "Reason")
    with pytest.raises(PublishingError, match="not published"):
        publishing.withdraw_action(action, world.coordinator, "Reason")


def test_overview_lists_what_is_waiting(world, theme):
    published = factories.make_theme(
        world.partnership, subgroup=world.subgroups["QPMI"], published=True
    )
    action = factories.make_action(published, published=True)
    factories.make_update(action)
    quiet = factories.make_theme(
        world.partnership, subgroup=world.subgroups["QPMI"], published=True
    )
    overview = publishing.overview(world.partnership)
    waiting = {p.theme.id: p.describe() for p in overview.waiting}
    assert waiting == {theme.id: ["theme wording"], published.id: ["1 progress update"]}
    assert {t.id for t in overview.published} == {published.id, quiet.id}


def test_services_clean_text_and_check_conditional_fields(world, theme):
    with pytest.raises(actions.ActionError) as caught:
        actions.create_action(theme, world.subgroup_lead, kind="we_will", text="Soon")
    assert caught.value.field == "target_date"
    with pytest.raises(actions.ActionError) as caught:
        actions.create_action(theme, world.subgroup_lead, kind="we_cant", text="No", reason=" ")
    assert caught.value.field == "reason"
    with pytest.raises(actions.ActionError) as caught:
        actions.create_action(
            theme, world.subgroup_lead, kind="we_did", text="Done", evidence_url="data:x"
        )
    assert caught.value.field == "evidence_url"
    action = actions.create_action(
        theme,
        world.subgroup_lead,
        kind="we_did",
        text="  We <i>did</i>  it. ",
        reason="left over",
        target_date=date(2027, 1, 1),
    )
    assert action.text == "We did it."
    # Fields that do not belong to the kind are not kept.
    assert action.reason is None and action.target_date is None
    assert action.status == "done"


def test_a_published_action_cannot_be_changed_by_the_service(world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True)
    with pytest.raises(actions.ActionError, match="published"):
        actions.update_action(action, world.coordinator, kind="we_did", text="Changed")


def test_four_eyes_whoever_changed_an_action_cannot_approve_it(world, theme):
    factories._publish(theme)
    action = actions.create_action(
        theme, world.subgroup_lead, kind="we_did", text="We ran a drop-in."
    )
    actions.update_action(action, world.coordinator2, kind="we_did", text="We ran two drop-ins.")
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator2)
    assert publishing.approve_theme(theme, world.admin) == [action]


def _reword(theme, user, **changes):
    wording = {
        "title": theme.title,
        "statement": theme.statement,
        "priorities": list(theme.priorities),
        "subgroup": theme.subgroup,
    }
    wording.update(changes)
    theme_service.update_theme(theme, user, **wording)


def test_four_eyes_whoever_changed_a_themes_wording_cannot_approve_it(world, theme):
    _reword(theme, world.coordinator2, statement="Words coordinator2 wrote.")
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator2)
    assert theme.publication == "draft"
    # Neither the author nor the editor may, but a third person can.
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator)
    assert publishing.approve_theme(theme, world.admin) == [theme]
    assert theme.approved_by_id == world.admin.id


def test_four_eyes_covers_changes_to_a_withdrawn_theme(world, theme):
    publishing.approve_theme(theme, world.coordinator2)
    publishing.withdraw_theme(theme, world.coordinator2, "It named a school.")
    _reword(theme, world.coordinator2, subgroup=world.subgroups["QPMI"])
    with pytest.raises(PublishingError, match="someone else must approve"):
        publishing.approve_theme(theme, world.coordinator2)
    assert theme.publication == "withdrawn"
    assert publishing.approve_theme(theme, world.admin) == [theme]


def test_changing_nothing_does_not_make_an_author(world, theme):
    _reword(theme, world.coordinator2)
    assert "theme.updated" not in verbs()
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]


def test_an_editor_may_approve_when_the_partnership_allows_self_approval(world, theme):
    _reword(theme, world.coordinator2, title="A better title")
    world.partnership.allow_self_approval = True
    db.session.commit()
    assert publishing.approve_theme(theme, world.coordinator2) == [theme]


def test_the_digest_follows_every_part_of_the_public_text(world, theme):
    def current() -> str:
        return publishing.digest(publishing.pending_for(theme))

    seen = {current()}
    assert current() in seen, "the same text gives the same digest"

    def changed() -> None:
        digest = current()
        assert digest not in seen
        seen.add(digest)

    _reword(theme, world.coordinator, title="A new title")
    changed()
    _reword(theme, world.coordinator, statement="A new statement.")
    changed()
    _reword(theme, world.coordinator, subgroup=world.subgroups["QPMI"])
    changed()
    _reword(theme, world.coordinator, priorities=[world.priorities["AUTISM"]])
    changed()
    world.subgroups["QPMI"].title = "Renamed sub-group"
    changed()
    action = actions.create_action(
        theme,
        world.subgroup_lead,
        kind="we_will",
        text="We will phone families.",
        target_date=date(2027, 3, 31),
    )
    changed()
    actions.update_action(
        action,
        world.subgroup_lead,
        kind="we_will",
        text="We will phone every family.",
        target_date=date(2027, 3, 31),
    )
    changed()
    action.target_date = date(2027, 1, 31)
    changed()
    action.evidence_url = "https://example.org/calls"
    changed()
    update = actions.add_progress_update(
        action, world.subgroup_lead, happened_on=date(2026, 11, 1), text="Calls began."
    )
    changed()
    update.new_status = "in_progress"
    changed()
    update.text = "Calls began in November."
    changed()


def test_approving_what_was_seen_publishes_and_anything_else_is_refused(world, theme):
    seen = publishing.digest(publishing.pending_for(theme))
    _reword(theme, world.coordinator, statement="Changed after the page was opened.")
    db.session.commit()
    for digest in (seen, "", "not-a-digest"):
        with pytest.raises(PendingChanged) as caught:
            publishing.approve_theme(theme, world.coordinator2, seen=digest)
        assert caught.value.message == (
            "Something changed since you opened this page. Check it again before you approve."
        )
    assert theme.publication == "draft"
    assert "theme.published" not in verbs()

    now = publishing.digest(publishing.pending_for(theme))
    assert publishing.approve_theme(theme, world.coordinator2, seen=now) == [theme]
    assert theme.is_published
