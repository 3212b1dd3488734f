"""Sub-group leads answer the themes their sub-groups own, and keep progress current."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.extensions import db
from app.models import Action, Feedback, SubGroup, Theme
from app.models.vocab import Publication, Role
from app.respond import bp
from app.respond.forms import ActionForm, ProgressUpdateForm
from app.services import actions as action_service
from app.services.actions import ActionError
from app.services.permissions import (
    can_edit_action,
    can_respond_to_theme,
    can_see_feedback,
    requires,
)
from app.services.scoping import get_scoped_or_404, scoped


def _theme_or_404(theme_id: int) -> Theme:
    theme = get_scoped_or_404(Theme, theme_id)
    # Leads of other sub-groups must not learn that another sub-group's drafts exist.
    if not can_respond_to_theme(current_user, theme):
        abort(404)
    return theme


def _action_or_404(action_id: int) -> Action:
    action = get_scoped_or_404(Action, action_id)
    if not can_edit_action(current_user, action):
        abort(404)
    return action


def _sees_all_themes() -> bool:
    return current_user.has_role(Role.COORDINATOR, Role.ADMIN)


def _subgroup_choices() -> list[SubGroup]:
    return list(
        db.session.scalars(
            scoped(SubGroup).order_by(SubGroup.strategy_id.desc(), SubGroup.position)
        )
    )


@bp.route("/")
@requires("respond")
def index() -> str:
    all_subgroups = _subgroup_choices()
    stmt = scoped(Theme).options(
        selectinload(Theme.subgroup),
        selectinload(Theme.actions).selectinload(Action.updates),
    )
    if _sees_all_themes():
        filter_options = all_subgroups
    else:
        mine = {sg.id for sg in current_user.subgroups}
        filter_options = [sg for sg in all_subgroups if sg.id in mine]
        stmt = stmt.where(Theme.subgroup_id.in_(mine))

    chosen = request.args.get("subgroup", "")
    if chosen == "none" and _sees_all_themes():
        stmt = stmt.where(Theme.subgroup_id.is_(None))
    elif chosen.isdigit() and int(chosen) in {sg.id for sg in filter_options}:
        stmt = stmt.where(Theme.subgroup_id == int(chosen))
    else:
        chosen = ""

    themes = list(db.session.scalars(stmt.order_by(Theme.created_at.desc(), Theme.id.desc())))
    progress = {t.id: action_service.theme_progress(t) for t in themes}
    # Themes waiting for an answer first: that is what a lead comes here to do.
    order = {"No response yet": 0, "Waiting for approval": 1, "Keep progress up to date": 2}
    themes.sort(key=lambda t: order.get(progress[t.id].needs, 3))
    return render_template(
        "respond/index.html",
        themes=themes,
        progress=progress,
        voices=action_service.voice_counts(t.id for t in themes),
        filter_options=filter_options,
        chosen=chosen,
        sees_all=_sees_all_themes(),
        no_response=sum(1 for p in progress.values() if p.needs == "No response yet"),
    )


@bp.route("/themes/<int:theme_id>")
@requires("respond")
def theme(theme_id: int) -> str:
    theme = _theme_or_404(theme_id)
    items = db.session.scalars(
        scoped(Feedback, Feedback.theme_id == theme.id)
        .options(selectinload(Feedback.event))
        .order_by(Feedback.received_on.desc(), Feedback.id.desc())
    ).all()
    visible = [item for item in items if can_see_feedback(current_user, item)]
    actions = db.session.scalars(
        scoped(Action, Action.theme_id == theme.id)
        .options(selectinload(Action.updates), selectinload(Action.subgroup))
        .order_by(Action.id)
    ).all()
    return render_template(
        "respond/theme.html",
        theme=theme,
        items=visible,
        actions=actions,
        progress=action_service.theme_progress(theme),
    )


def _bind_subgroups(form: ActionForm, default: SubGroup | None) -> None:
    options = _subgroup_choices()
    form.subgroup_id.choices = [SelectChoice(sg.id, sg.title) for sg in options]
    if default is not None and form.subgroup_id.data is None:
        form.subgroup_id.data = default.id


def _apply_action_error(form: ActionForm, error: ActionError) -> None:
    field = getattr(form, error.field, None) if error.field else None
    target = field if field is not None else form.text
    target.errors = [*target.errors, error.message]


def _action_fields(form: ActionForm) -> dict:
    return {
        "kind": form.kind.data,
        "text": form.text.data,
        "status": form.status.data or None,
        "reason": form.reason.data,
        "target_date": form.target_date.data,
        "done_date": form.done_date.data,
        "evidence_url": form.evidence_url.data,
        "subgroup": db.session.get(SubGroup, form.subgroup_id.data)
        if form.subgroup_id.data
        else None,
    }


@bp.route("/themes/<int:theme_id>/actions/new", methods=["GET", "POST"])
@requires("respond")
def action_new(theme_id: int) -> str | Response:
    theme = _theme_or_404(theme_id)
    form = ActionForm()
    _bind_subgroups(form, theme.subgroup)
    if form.validate_on_submit():
        try:
            action = action_service.create_action(theme, current_user, **_action_fields(form))
        except ActionError as error:
            db.session.rollback()
            _apply_action_error(form, error)
        else:
            db.session.commit()
            flash("Action saved. A coordinator will check it before it is published.", "success")
            return redirect(
                url_for("respond.theme", theme_id=theme.id, _anchor=f"action-{action.id}")
            )
    return render_template("respond/action_form.html", form=form, theme=theme, action=None)


@bp.route("/actions/<int:action_id>/edit", methods=["GET", "POST"])
@requires("respond")
def action_edit(action_id: int) -> str | Response | tuple[str, int]:
    action = _action_or_404(action_id)
    theme = action.theme
    if action.publication == Publication.PUBLISHED.value:
        # Public text changes only through approval: show it, and offer a progress update.
        status = 409 if request.method == "POST" else 200
        return render_template("respond/action_published.html", action=action, theme=theme), status
    form = ActionForm(obj=None if request.method == "POST" else action)
    form.submit.label.text = "Save changes"
    if request.method != "POST":
        form.subgroup_id.data = action.subgroup_id
    _bind_subgroups(form, theme.subgroup)
    if form.validate_on_submit():
        try:
            action_service.update_action(action, current_user, **_action_fields(form))
        except ActionError as error:
            db.session.rollback()
            _apply_action_error(form, error)
        else:
            db.session.commit()
            flash("Action saved. A coordinator will check it before it is published.", "success")
            return redirect(
                url_for("respond.theme", theme_id=theme.id, _anchor=f"action-{action.id}")
            )
    return render_template("respond/action_form.html", form=form, theme=theme, action=action)


@bp.route("/actions/<int:action_id>/updates/new", methods=["GET", "POST"])
@requires("respond")
def update_new(action_id: int) -> str | Response:
    action = _action_or_404(action_id)
    theme = action.theme
    if action.publication == Publication.WITHDRAWN.value:
        abort(
            409,
            description="This action has been withdrawn. Change it and send it for approval "
            "again before adding progress.",
        )
    form = ProgressUpdateForm()
    if form.validate_on_submit():
        try:
            action_service.add_progress_update(
                action,
                current_user,
                happened_on=form.happened_on.data,
                text=form.text.data,
                new_status=form.new_status.data or None,
            )
        except ActionError as error:
            db.session.rollback()
            field = getattr(form, error.field, None) if error.field else None
            if field is None:
                abort(409, description=error.message)
            field.errors = [*field.errors, error.message]
        else:
            db.session.commit()
            flash(
                "Progress update saved. A coordinator will check it before it is published.",
                "success",
            )
            return redirect(
                url_for("respond.theme", theme_id=theme.id, _anchor=f"action-{action.id}")
            )
    return render_template("respond/update_form.html", form=form, action=action, theme=theme)
