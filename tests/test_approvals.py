"""Coordinators approve themes, actions and progress updates for publication, and withdraw them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.models import Action, AuditEntry, ProgressUpdate, Theme
from app.services import publishing
from tests import factories
from tests.conftest import csrf_token_from
from tests.html import error_for, soup, text_of

STATEMENT = "Families told us letters about assessments arrive late and are hard to follow."
RAW = "RAW-FEEDBACK-7731 my daughter Poppy at Elm Street School"


def approve(client, theme_id, **data):
    """Press "Approve and publish" as a person does: the page's own form, digest and all."""
    page = soup(client.get(f"/triage/approvals/{theme_id}"))
    digest = page.find("input", attrs={"name": "digest"})
    assert digest is not None, "no approve form on the page"
    return client.post(f"/triage/approvals/{theme_id}", data={"digest": digest["value"], **data})


@pytest.fixture
def theme(world):
    item = factories.make_feedback(world.partnership, raw_text=RAW)
    return factories.make_theme(
        world.partnership,
        title="Letters about assessments",
        slug="letters-about-assessments",
        statement=STATEMENT,
        subgroup=world.subgroups["CCE"],
        feedback=[item],
        created_by=world.coordinator,
    )


@pytest.fixture
def answered(world, theme):
    """The theme with a lead's draft action and a draft progress update on it."""
    action = factories.make_action(
        theme, created_by=world.subgroup_lead, text="We will rewrite the letters with parents."
    )
    factories.make_update(
        action,
        text="Parents reviewed the first draft.",
        new_status="in_progress",
        created_by_id=world.subgroup_lead.id,
    )
    return theme


def _urls(theme, action):
    return {
        "get": ["/triage/approvals", f"/triage/approvals/{theme.id}"],
        "post": [
            f"/triage/approvals/{theme.id}",
            f"/triage/approvals/{theme.id}/withdraw",
            f"/triage/approvals/actions/{action.id}/withdraw",
        ],
    }


@pytest.mark.parametrize(
    "role", ["subgroup_lead", "other_lead", "volunteer", "board_viewer", "safeguarding_lead"]
)
def test_only_coordinators_and_admins_may_approve(client, auth, world, answered, role):
    action = answered.actions[0]
    auth.login(getattr(world, role))
    urls = _urls(answered, action)
    for url in urls["get"]:
        assert client.get(url).status_code == 403, url
    for url in urls["post"]:
        assert client.post(url, data={"reason": "Because"}).status_code == 403, url
    db.session.expire_all()
    assert db.session.get(Theme, answered.id).publication == "draft"
    assert db.session.get(Action, action.id).publication == "draft"


def test_another_partnerships_theme_is_404(client, auth, world):
    elsewhere = factories.make_world()
    theme = factories.make_theme(
        elsewhere.partnership, subgroup=elsewhere.subgroups["CCE"], published=True
    )
    action = factories.make_action(theme, published=True)
    auth.login(world.admin)
    urls = _urls(theme, action)
    assert client.get(urls["get"][1]).status_code == 404
    for url in urls["post"]:
        assert client.post(url, data={"reason": "Because"}).status_code == 404, url
    assert theme.title not in text_of(client.get("/triage/approvals"))
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "published"


def test_approvals_list_shows_what_is_waiting_published_and_withdrawn(
    client, auth, world, answered
):
    factories.make_theme(
        world.partnership, title="Short breaks", subgroup=world.subgroups["QPMI"], published=True
    )
    gone = factories.make_theme(
        world.partnership,
        title="Transport to college",
        subgroup=world.subgroups["QPMI"],
        published=True,
    )
    gone.publication = "withdrawn"
    gone.withdrawn_reason = "Named a driver"
    factories.make_theme(world.partnership, title="Not written yet", statement="")
    db.session.commit()
    auth.login(world.coordinator)
    page = soup(client.get("/triage/approvals"))
    assert page.find("h1").get_text(strip=True) == "Approve for publication"

    def table_after(heading_id):
        return " ".join(page.find(id=heading_id).find_next("table").get_text(" ").split())

    waiting = table_after("waiting")
    assert "Letters about assessments" in waiting
    assert "Theme wording, 1 action, 1 progress update" in waiting
    assert "Short breaks" not in waiting
    assert "Not written yet" not in waiting
    assert "Short breaks" in table_after("published")
    withdrawn = table_after("withdrawn")
    assert "Transport to college" in withdrawn and "Named a driver" in withdrawn
    captions = [c.get_text(strip=True) for c in page.find_all("caption")]
    assert "Themes with something waiting for approval" in captions
    link = page.find("a", string="Letters about assessments")
    assert link["href"] == f"/triage/approvals/{answered.id}"


def test_approval_page_shows_exactly_the_public_text(client, auth, world, answered):
    auth.login(world.coordinator2)
    response = client.get(f"/triage/approvals/{answered.id}")
    assert response.status_code == 200
    text = text_of(response)
    assert "What will be published" in text
    assert STATEMENT in text
    assert "We will rewrite the letters with parents." in text
    assert "31 March 2027" in text
    assert "Parents reviewed the first draft." in text
    # Raw feedback is never part of what gets published, so it is not shown here.
    assert "RAW-FEEDBACK-7731" not in text
    button = soup(response).find("button", string=lambda s: s and "Approve and publish" in s)
    assert button is not None


def test_approve_and_publish(client, auth, world, answered):
    auth.login(world.coordinator2)
    response = approve(client, answered.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/triage/approvals/{answered.id}"
    assert "Published the theme, 1 action and 1 progress update." in text_of(
        client.get(response.headers["Location"])
    )
    db.session.expire_all()
    theme = db.session.get(Theme, answered.id)
    action = theme.actions[0]
    update = action.updates[0]
    for obj in (theme, action, update):
        assert obj.publication == "published"
        assert obj.approved_by_id == world.coordinator2.id
        assert obj.published_at is not None
    assert theme.public_updated_at is not None
    assert action.status == "in_progress"
    verbs = set(db.session.scalars(sa.select(AuditEntry.verb)))
    assert {"theme.published", "action.published", "progress_update.published"} <= verbs
    assert client.get("/you-said-we-did/letters-about-assessments").status_code == 200


def test_four_eyes_refusal_and_self_approval(client, auth, world, answered):
    auth.login(world.coordinator)
    page = client.get(f"/triage/approvals/{answered.id}")
    assert "someone else must approve it" in text_of(page)
    assert soup(page).find("button", string=lambda s: s and "Approve and publish" in s) is None
    refused = client.post(f"/triage/approvals/{answered.id}")
    assert refused.status_code == 409
    assert "someone else must approve it" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Theme, answered.id).publication == "draft"
    assert "theme.published" not in set(db.session.scalars(sa.select(AuditEntry.verb)))

    world.partnership.allow_self_approval = True
    db.session.commit()
    assert approve(client, answered.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, answered.id).publication == "published"


def test_a_theme_with_safeguarding_feedback_cannot_be_published(client, auth, world, theme):
    flagged = factories.make_feedback(world.partnership, safeguarding_flag=True)
    flagged.theme_id = theme.id
    db.session.commit()
    auth.login(world.admin)
    response = client.post(f"/triage/approvals/{theme.id}")
    assert response.status_code == 409
    assert "flagged as a safeguarding concern" in text_of(response)
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "draft"


def test_a_theme_without_a_subgroup_cannot_be_published(client, auth, world):
    theme = factories.make_theme(world.partnership, created_by=world.coordinator)
    auth.login(world.admin)
    response = client.post(f"/triage/approvals/{theme.id}")
    assert response.status_code == 409
    assert "Choose the sub-group that owns this theme" in text_of(response)


def test_withdrawing_a_theme_needs_a_reason(client, auth, world, theme):
    factories._publish(theme)
    db.session.commit()
    auth.login(world.coordinator)
    response = client.post(
        f"/triage/approvals/{theme.id}/withdraw", data={"withdraw-theme-reason": "  "}
    )
    assert response.status_code == 200
    page = soup(response)
    assert page.title.get_text().startswith("Error:")
    summary = page.find(class_="govuk-error-summary")
    assert summary.find("a")["href"] == "#withdraw-theme-reason"
    assert error_for(page, "withdraw-theme-reason") == "Error: Enter why you are withdrawing it"
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "published"


def test_withdrawn_theme_leaves_the_public_pages_and_can_be_republished(
    client, auth, world, answered
):
    auth.login(world.coordinator2)
    approve(client, answered.id)
    assert client.get("/you-said-we-did/letters-about-assessments").status_code == 200

    response = client.post(
        f"/triage/approvals/{answered.id}/withdraw",
        data={"withdraw-theme-reason": "The statement could identify a family."},
    )
    assert response.status_code == 302
    assert "withdrawn from the public pages" in text_of(client.get(response.headers["Location"]))
    db.session.expire_all()
    theme = db.session.get(Theme, answered.id)
    assert theme.publication == "withdrawn"
    assert theme.withdrawn_reason == "The statement could identify a family."
    assert theme.withdrawn_at is not None
    entry = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "theme.withdrawn")
    ).one()
    assert entry.user_id == world.coordinator2.id
    assert entry.details["reason"] == "The statement could identify a family."
    assert client.get("/you-said-we-did/letters-about-assessments").status_code == 404
    assert "Letters about assessments" not in text_of(client.get("/you-said-we-did"))

    # Approving it again republishes it, its earlier actions with it.
    page = client.get(f"/triage/approvals/{answered.id}")
    assert "Published again" in text_of(page)
    assert approve(client, answered.id).status_code == 302
    db.session.expire_all()
    theme = db.session.get(Theme, answered.id)
    assert theme.publication == "published"
    assert theme.withdrawn_reason is None
    assert client.get("/you-said-we-did/letters-about-assessments").status_code == 200


def test_withdrawing_one_action(client, auth, world, answered):
    auth.login(world.coordinator2)
    approve(client, answered.id)
    action = db.session.scalars(sa.select(Action)).one()
    page = soup(client.get(f"/triage/approvals/{answered.id}"))
    form = page.find("form", action=f"/triage/approvals/actions/{action.id}/withdraw")
    assert form is not None and form.find("textarea", id=f"withdraw-action-{action.id}-reason")

    empty = client.post(f"/triage/approvals/actions/{action.id}/withdraw", data={})
    assert error_for(soup(empty), f"withdraw-action-{action.id}-reason") == (
        "Error: Enter why you are withdrawing it"
    )
    response = client.post(
        f"/triage/approvals/actions/{action.id}/withdraw",
        data={f"withdraw-action-{action.id}-reason": "The target date was wrong."},
    )
    assert response.status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.publication == "withdrawn"
    assert action.withdrawn_reason == "The target date was wrong."
    assert action.theme.publication == "published"
    assert db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.verb == "action.withdrawn")
    ).one()
    public = text_of(client.get("/you-said-we-did/letters-about-assessments"))
    assert "We will rewrite the letters with parents." not in public
    # Withdrawing something that is not published is a conflict, not a silent success.
    again = client.post(
        f"/triage/approvals/actions/{action.id}/withdraw",
        data={f"withdraw-action-{action.id}-reason": "Again"},
    )
    assert again.status_code == 409


def test_progress_update_status_applies_only_once_published(client, auth, world, theme):
    factories._publish(theme)
    action = factories.make_action(theme, published=True, status="in_progress")
    auth.login(world.subgroup_lead)
    client.post(
        f"/respond/actions/{action.id}/updates/new",
        data={"happened_on": ["2", "11", "2026"], "text": "Finished.", "new_status": "done"},
    )
    db.session.expire_all()
    assert db.session.get(Action, action.id).status == "in_progress"
    auth.logout()
    auth.login(world.coordinator)
    assert approve(client, theme.id).status_code == 302
    db.session.expire_all()
    action = db.session.get(Action, action.id)
    assert action.status == "done"
    assert action.done_date is not None
    assert db.session.scalars(sa.select(ProgressUpdate)).one().publication == "published"


def test_approval_and_withdrawal_work_with_csrf_protection_on(csrf_app, world):
    client = csrf_app.test_client()
    sign_in = client.get("/sign-in")
    client.post(
        "/sign-in",
        data={
            "email": world.coordinator2.email,
            "password": factories.PASSWORD,
            "csrf_token": csrf_token_from(sign_in.get_data(as_text=True)),
        },
    )
    theme = factories.make_theme(
        world.partnership, subgroup=world.subgroups["CCE"], created_by=world.coordinator
    )
    page = soup(client.get(f"/triage/approvals/{theme.id}"))
    form = page.find("form", action=f"/triage/approvals/{theme.id}")
    fields = {field["name"]: field["value"] for field in form.find_all("input", type="hidden")}
    assert set(fields) == {"csrf_token", "digest"}
    approved = client.post(f"/triage/approvals/{theme.id}", data=fields)
    assert approved.status_code == 302
    page = soup(client.get(f"/triage/approvals/{theme.id}"))
    form = page.find("form", action=f"/triage/approvals/{theme.id}/withdraw")
    token = form.find("input", type="hidden")
    withdraw = client.post(
        form["action"],
        data={token["name"]: token["value"], "withdraw-theme-reason": "Duplicate theme."},
    )
    assert withdraw.status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "withdrawn"
    # Without a token nothing changes.
    assert client.post(f"/triage/approvals/{theme.id}").status_code == 400
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "withdrawn"


# --- Four eyes covers whoever changed the theme's wording ------------------------------------


def _edit_wording(client, theme, world, statement):
    return client.post(
        f"/triage/themes/{theme.id}/edit",
        data={
            "title": theme.title,
            "statement": statement,
            "priorities": [p.id for p in theme.priorities],
            "subgroup": world.subgroups["CCE"].id,
        },
    )


def test_an_approver_who_changed_the_wording_cannot_approve_it(client, auth, world, theme):
    auth.login(world.coordinator2)
    assert _edit_wording(client, theme, world, "Words only coordinator2 wrote.").status_code == 302

    page = client.get(f"/triage/approvals/{theme.id}")
    assert "someone else must approve it" in text_of(page)
    assert soup(page).find("button", string=lambda s: s and "Approve and publish" in s) is None
    # Even with the right digest, as if the button had been there.
    db.session.expire_all()
    digest = publishing.digest(publishing.pending_for(db.session.get(Theme, theme.id)))
    refused = client.post(f"/triage/approvals/{theme.id}", data={"digest": digest})
    assert refused.status_code == 409
    assert "someone else must approve it" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "draft"
    assert "theme.published" not in set(db.session.scalars(sa.select(AuditEntry.verb)))

    # Someone who neither wrote nor changed it can approve it.
    auth.logout()
    auth.login(world.admin)
    assert approve(client, theme.id).status_code == 302
    db.session.expire_all()
    published = db.session.get(Theme, theme.id)
    assert published.publication == "published"
    assert published.approved_by_id == world.admin.id
    assert "Words only coordinator2 wrote." in text_of(
        client.get("/you-said-we-did/letters-about-assessments")
    )


def test_an_editor_may_approve_when_the_partnership_allows_self_approval(
    client, auth, world, theme
):
    world.partnership.allow_self_approval = True
    db.session.commit()
    auth.login(world.coordinator2)
    assert _edit_wording(client, theme, world, "Words coordinator2 wrote.").status_code == 302
    assert approve(client, theme.id).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).approved_by_id == world.coordinator2.id


def test_changing_a_withdrawn_theme_needs_someone_else_to_approve_it_again(
    client, auth, world, theme
):
    auth.login(world.coordinator2)
    assert approve(client, theme.id).status_code == 302
    client.post(
        f"/triage/approvals/{theme.id}/withdraw",
        data={"withdraw-theme-reason": "It could identify a family."},
    )
    assert _edit_wording(client, theme, world, "Rewritten after withdrawal.").status_code == 302
    refused = client.post(f"/triage/approvals/{theme.id}")
    assert refused.status_code == 409
    assert "someone else must approve it" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Theme, theme.id).publication == "withdrawn"
    assert client.get("/you-said-we-did/letters-about-assessments").status_code == 404


# --- Approving publishes only what the approver was shown ------------------------------------


def _change_statement(world, theme):
    theme.statement = "Changed while the approver was reading."


def _change_subgroup(world, theme):
    theme.subgroup = world.subgroups["QPMI"]


def _change_action(world, theme):
    theme.actions[0].text = "We will send the letters by text message instead."


def _add_update(world, theme):
    factories.make_update(
        theme.actions[0], text="Added while the approver was reading.", created_by_id=None
    )


@pytest.mark.parametrize(
    "change", [_change_statement, _change_subgroup, _change_action, _add_update]
)
def test_approval_is_refused_when_the_text_changed_after_the_page_was_opened(
    client, auth, world, answered, change
):
    auth.login(world.coordinator2)
    url = f"/triage/approvals/{answered.id}"
    first = soup(client.get(url)).find("input", attrs={"name": "digest"})["value"]
    # Nothing changed yet: the page shows the same digest each time.
    assert soup(client.get(url)).find("input", attrs={"name": "digest"})["value"] == first

    change(world, db.session.get(Theme, answered.id))
    db.session.commit()

    refused = client.post(url, data={"digest": first})
    assert refused.status_code == 409
    page = soup(refused)
    assert page.title.get_text().startswith("Error:")
    summary = page.find(class_="govuk-error-summary")
    assert " ".join(summary.get_text(" ").split()) == (
        "There is a problem Something changed since you opened this page. "
        "Check it again before you approve."
    )
    assert summary.find("a")["href"] == "#to-publish"
    assert page.find(id="to-publish") is not None
    # The page now shows what would be published, with a digest for that.
    again = page.find("input", attrs={"name": "digest"})["value"]
    assert again != first
    db.session.expire_all()
    theme = db.session.get(Theme, answered.id)
    assert theme.publication == "draft"
    assert all(a.publication == "draft" for a in theme.actions)
    assert (
        db.session.scalar(
            sa.select(sa.func.count(AuditEntry.id)).where(AuditEntry.verb.like("%.published"))
        )
        == 0
    )

    # Having seen it, the approver can approve it.
    assert client.post(url, data={"digest": again}).status_code == 302
    db.session.expire_all()
    assert db.session.get(Theme, answered.id).publication == "published"


def test_approval_without_the_pages_digest_is_refused(client, auth, world, answered):
    auth.login(world.coordinator2)
    for data in ({}, {"digest": ""}, {"digest": "0" * 64}):
        refused = client.post(f"/triage/approvals/{answered.id}", data=data)
        assert refused.status_code == 409
        assert "Something changed since you opened this page" in text_of(refused)
    db.session.expire_all()
    assert db.session.get(Theme, answered.id).publication == "draft"
