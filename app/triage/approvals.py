"""Approving themes, actions and progress updates for publication, and withdrawing them."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import HiddenField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.extensions import db
from app.forms import BaseForm
from app.models import Action, Feedback, ProgressUpdate, Theme
from app.services import publishing
from app.services.permissions import requires
from app.services.publishing import PublishingError
from app.services.scoping import current_partnership, get_scoped_or_404, scoped
from app.triage import bp


class ApproveForm(BaseForm):
    # publishing.digest() of what the page showed: approving publishes only that.
    digest = HiddenField()
    submit = SubmitField("Approve and publish", widget=GovSubmitInput())


class OverrideForm(BaseForm):
    """Publish one text despite the personal-details check, for a reason kept in the audit log."""

    # Which text (TextCheck.key) and the hash of the words the coordinator was shown.
    check = HiddenField()
    sha256 = HiddenField()
    reason = TextAreaField(
        "Why is it safe to publish this text as it is?",
        widget=GovTextArea(),
        description=(
            "For example, it names a service, not a person. This is kept in the audit log. It "
            "applies to these exact words only: if they change, they are checked again."
        ),
        validators=[
            DataRequired(message="Enter why this text is safe to publish as it is"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Publish this text as it is", widget=GovSubmitInput())


def _override_form(check: publishing.TextCheck) -> OverrideForm:
    # formdata=None: a fresh form for each text, never filled from another text's post.
    form = OverrideForm(formdata=None, prefix=f"override-{check.key}")
    form.check.data = check.key
    form.sha256.data = check.sha256
    return form


class WithdrawForm(BaseForm):
    reason = TextAreaField(
        "Why are you withdrawing it?",
        widget=GovTextArea(),
        description="This is kept in the audit log. It is not shown on the public page.",
        validators=[
            DataRequired(message="Enter why you are withdrawing it"),
            Length(max=2000, message="Reason must be 2,000 characters or fewer"),
        ],
    )
    submit = SubmitField("Withdraw", widget=GovSubmitInput())


def _theme_withdraw_form() -> WithdrawForm:
    return WithdrawForm(prefix="withdraw-theme")


def _action_withdraw_form(action: Action) -> WithdrawForm:
    form = WithdrawForm(prefix=f"withdraw-action-{action.id}")
    form.submit.label.text = "Withdraw this action"
    return form


def _load_theme(theme_id: int) -> Theme:
    theme = get_scoped_or_404(Theme, theme_id)
    # One query for the actions and their updates, not one per action.
    db.session.scalars(
        scoped(Action, Action.theme_id == theme.id).options(selectinload(Action.updates))
    ).all()
    return theme


def _render_approval(
    theme: Theme,
    *,
    approve_form: ApproveForm | None = None,
    theme_form: WithdrawForm | None = None,
    action_forms: dict[int, WithdrawForm] | None = None,
    override_forms: dict[str, OverrideForm] | None = None,
    errored: BaseForm | None = None,
    changed: bool = False,
    status: int = 200,
) -> tuple[str, int]:
    pending = publishing.pending_for(theme)
    checks = publishing.text_checks(pending) if pending.anything else []
    blockers = publishing.problems(theme, current_user, pending, checks) if pending.anything else []
    override_forms = dict(override_forms or {})
    for check in checks:
        if check.blocking:
            override_forms.setdefault(check.key, _override_form(check))
    approve_form = approve_form or ApproveForm()
    # Always what this page shows now, never what was posted: that is what the person sees.
    approve_form.digest.data = publishing.digest(pending)
    action_forms = dict(action_forms or {})
    published_actions = [a for a in theme.actions if a.publication == "published"]
    for action in published_actions:
        action_forms.setdefault(action.id, _action_withdraw_form(action))
    feedback_count = db.session.scalar(
        sa.select(sa.func.count(Feedback.id)).where(
            Feedback.partnership_id == theme.partnership_id,
            Feedback.theme_id == theme.id,
            Feedback.safeguarding_flag.is_(False),
        )
    )
    context: dict[str, Any] = {
        "theme": theme,
        "pending": pending,
        "blockers": blockers,
        "approve_form": approve_form,
        "theme_form": theme_form or _theme_withdraw_form(),
        "action_forms": action_forms,
        "published_actions": published_actions,
        "withdrawn_actions": [a for a in theme.actions if a.publication == "withdrawn"],
        "published_updates": {
            a.id: [u for u in a.updates if u.publication == "published"] for a in theme.actions
        },
        "feedback_count": feedback_count or 0,
        # Keyed by TextCheck.key; the page shows each text's findings next to it.
        "checks": {c.key: c for c in checks},
        "override_forms": override_forms,
        # base.html shows the error summary and "Error:" title for the form passed as `form`.
        "form": errored,
        "changed_message": publishing.CHANGED_MESSAGE if changed else None,
    }
    return render_template("triage/approval.html", **context), status


@bp.route("/approvals")
@requires("publish")
def approvals() -> str:
    return render_template(
        "triage/approvals.html", overview=publishing.overview(current_partnership())
    )


@bp.route("/approvals/<int:theme_id>", methods=["GET", "POST"])
@requires("publish")
def approval(theme_id: int) -> tuple[str, int] | Response:
    theme = _load_theme(theme_id)
    form = ApproveForm()
    if form.validate_on_submit():
        try:
            # A post without the page's digest has not seen the text either.
            published = publishing.approve_theme(theme, current_user, seen=form.digest.data or "")
        except publishing.PendingChanged:
            db.session.rollback()
            return _render_approval(theme, changed=True, status=409)
        except PublishingError:
            db.session.rollback()
            # The page lists every reason it cannot be published (problems()), the error among
            # them, in place of the button.
            return _render_approval(theme, status=409)
        db.session.commit()
        flash(_published_message(published), "success")
        return redirect(url_for("triage.approval", theme_id=theme.id))
    return _render_approval(theme, approve_form=form)


def _published_message(published: list[publishing.Publishable]) -> str:
    parts = []
    if any(isinstance(p, Theme) for p in published):
        parts.append("the theme")
    n = sum(1 for p in published if isinstance(p, Action))
    if n:
        parts.append(f"{n} action" if n == 1 else f"{n} actions")
    n = sum(1 for p in published if isinstance(p, ProgressUpdate))
    if n:
        parts.append(f"{n} progress update" if n == 1 else f"{n} progress updates")
    listed = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f"Published {listed}."


@bp.route("/approvals/<int:theme_id>/overrides", methods=["POST"])
@requires("publish")
def override_check(theme_id: int) -> tuple[str, int] | Response:
    theme = _load_theme(theme_id)
    checks = {c.key: c for c in publishing.text_checks(publishing.pending_for(theme))}
    # The key says which text; the form is the one that text's box posted (its prefix).
    key = next(
        (k for k in checks if request.form.get(f"override-{k}-check") == k),
        None,
    )
    if key is None:
        abort(409, description="That text is no longer waiting for approval.")
    form = OverrideForm(prefix=f"override-{key}")
    if not form.validate_on_submit():
        return _render_approval(theme, override_forms={key: form}, errored=form)
    try:
        publishing.override_check(
            theme, current_user, key=key, seen_sha256=form.sha256.data, reason=form.reason.data
        )
    except publishing.PendingChanged:
        db.session.rollback()
        return _render_approval(theme, changed=True, status=409)
    except PublishingError as error:
        db.session.rollback()
        if error.field != "reason":
            abort(409, description=error.message)
        form.reason.errors = [error.message]
        return _render_approval(theme, override_forms={key: form}, errored=form)
    db.session.commit()
    flash(
        f"The {checks[key].label} can now be published as it is. Your reason is in the audit log.",
        "success",
    )
    return redirect(url_for("triage.approval", theme_id=theme.id, _anchor=f"check-{key}"))


@bp.route("/approvals/<int:theme_id>/withdraw", methods=["POST"])
@requires("publish")
def withdraw_theme(theme_id: int) -> tuple[str, int] | Response:
    theme = _load_theme(theme_id)
    form = _theme_withdraw_form()
    if form.validate_on_submit():
        try:
            publishing.withdraw_theme(theme, current_user, form.reason.data)
        except PublishingError as error:
            db.session.rollback()
            if error.field != "reason":
                abort(409, description=error.message)
            form.reason.errors = [error.message]
            return _render_approval(theme, theme_form=form, errored=form)
        db.session.commit()
        flash("The theme has been withdrawn from the public pages.", "success")
        return redirect(url_for("triage.approval", theme_id=theme.id))
    return _render_approval(theme, theme_form=form, errored=form)


@bp.route("/approvals/actions/<int:action_id>/withdraw", methods=["POST"])
@requires("publish")
def withdraw_action(action_id: int) -> tuple[str, int] | Response:
    action = get_scoped_or_404(Action, action_id)
    theme = _load_theme(action.theme_id)
    form = _action_withdraw_form(action)
    if form.validate_on_submit():
        try:
            publishing.withdraw_action(action, current_user, form.reason.data)
        except PublishingError as error:
            db.session.rollback()
            if error.field != "reason":
                abort(409, description=error.message)
            form.reason.errors = [error.message]
            return _render_approval(theme, action_forms={action.id: form}, errored=form)
        db.session.commit()
        flash("The action has been withdrawn from the public pages.", "success")
        return redirect(
            url_for("triage.approval", theme_id=theme.id, _anchor=f"action-{action.id}")
        )
    return _render_approval(theme, action_forms={action.id: form}, errored=form)
