"""Reshaping themes: move items between themes, merge two themes, split one; and the "Themes
like this" suggestions on an item's triage page.

Each operation is one transaction with its audit entries, confirmed by a banner on the page it
lands on. Everything works without JavaScript: the theme page's item checkboxes post here
through their buttons' formaction.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSelect, GovSubmitInput
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import HiddenField, SelectChoice, SelectField, SelectMultipleField, SubmitField
from wtforms.validators import ValidationError

from app.extensions import db
from app.forms import BaseForm
from app.models import Feedback, Priority, Strategy, SubGroup, Theme
from app.services import themes as theme_service
from app.services import triage as triage_service
from app.services.permissions import requires
from app.services.scoping import current_partnership, get_scoped, get_scoped_or_404, scoped
from app.triage import bp
from app.triage.forms import ThemeForm, int_or_none

IN_THIS_THEME = "Select items that are in this theme"


# ---------------------------------------------------------------------------------------------
# Forms


def _items_field(label: str) -> SelectMultipleField:
    # Rendered as the rows of a table of items (triage/_macros.html item_table), not a widget.
    return SelectMultipleField(
        label,
        coerce=int,
        invalid_value_message=IN_THIS_THEME,
        invalid_choice_message=IN_THIS_THEME,
    )


class MoveForm(BaseForm):
    feedback = _items_field("Which items do you want to move?")
    target = SelectField(
        "Which theme should they move to?",
        coerce=int_or_none,
        default=None,
        widget=GovSelect(),
        invalid_value_message="Select a theme from the list",
        invalid_choice_message="Select a theme from the list",
    )
    submit = SubmitField("Move items", widget=GovSubmitInput())

    def validate_feedback(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select the items to move")

    def validate_target(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError("Select the theme to move them to")


class SplitForm(ThemeForm):
    feedback = _items_field("Which items go into the new theme?")
    submit = SubmitField("Create the new theme", widget=GovSubmitInput())

    def validate_feedback(self, field: SelectMultipleField) -> None:
        if not field.data:
            raise ValidationError("Select the items to take into the new theme")


class MergeChooseForm(BaseForm):
    source = SelectField(
        "Which theme do you want to merge into this one?",
        coerce=int_or_none,
        default=None,
        widget=GovSelect(),
        description="Its feedback items and actions move into this theme, and it is removed.",
        invalid_value_message="Select a theme from the list",
        invalid_choice_message="Select a theme from the list",
    )
    submit = SubmitField("Continue", widget=GovSubmitInput())

    def validate_source(self, field: SelectField) -> None:
        if field.data is None:
            raise ValidationError("Select the theme to merge into this one")


class MergeConfirmForm(BaseForm):
    # MergePlan.fingerprint of what the check page showed: merging does only that.
    seen = HiddenField()
    submit = SubmitField("Merge themes", widget=GovSubmitInput())


# ---------------------------------------------------------------------------------------------
# Loading, always through the partnership scope


def _theme_items(theme: Theme) -> list[Feedback]:
    return list(
        db.session.scalars(
            scoped(Feedback, Feedback.theme_id == theme.id, Feedback.safeguarding_flag.is_(False))
            .options(joinedload(Feedback.event), selectinload(Feedback.priorities))
            .order_by(Feedback.received_on.desc(), Feedback.id.desc())
        )
    )


def _posted_ids(name: str = "feedback") -> list[int]:
    """The ids posted under `name`; a value that is not a number is nobody's item: 404."""
    try:
        return [int(value) for value in request.form.getlist(name)]
    except ValueError:
        abort(404)


def _refuse_unknown_items(ids: Iterable[int]) -> None:
    """404 for an item id that is not this partnership's, or is safeguarding-flagged: their
    existence is private. This partnership's items that are simply not in the theme (a page
    opened before someone moved them) get a message next to the field instead."""
    wanted = set(ids)
    if not wanted:
        return
    found = db.session.scalars(
        scoped(
            Feedback, Feedback.id.in_(wanted), Feedback.safeguarding_flag.is_(False)
        ).with_only_columns(Feedback.id)
    ).all()
    if len(set(found)) != len(wanted):
        abort(404)


def _theme_or_404(value: str | None) -> Theme | None:
    """The theme a form names, if it names one; 404 if it is not this partnership's."""
    if value is None or value == "":
        return None
    theme = get_scoped(Theme, int(value)) if value.isdigit() else None
    if theme is None:
        abort(404)
    return theme


def _by_id(rows: Iterable[Any], ids: Iterable[int] | None) -> list[Any]:
    wanted = set(ids or [])
    return [row for row in rows if row.id in wanted]


def _field_error(form: Any, error: theme_service.ThemeError) -> bool:
    """Put a service's refusal next to its field; False if the form has no such field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message]
    return True


def _item_choices(form: Any, items: Sequence[Feedback]) -> None:
    form.feedback.choices = [SelectChoice(str(i.id), str(i.id)) for i in items]


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else (many or one + 's')}"


# ---------------------------------------------------------------------------------------------
# Move items to another theme


def _move_targets(theme: Theme) -> list[Theme]:
    return [t for t in triage_service.themes_to_add_to(current_partnership()) if t.id != theme.id]


def _render_move(theme: Theme, form: MoveForm, items: list[Feedback]) -> str:
    return render_template(
        "triage/theme_move.html",
        theme=theme,
        items=items,
        move_form=form,
        selected=set(form.feedback.data or []),
        form=form if form.errors else None,
    )


@bp.route("/themes/<int:theme_id>/move", methods=["GET", "POST"])
@requires("triage")
def theme_move(theme_id: int) -> str | Response:
    theme = get_scoped_or_404(Theme, theme_id)
    items = _theme_items(theme)
    targets = _move_targets(theme)
    # Arriving from the theme page's checkboxes: the choice of theme is still to make.
    arriving = request.method == "POST" and "choose" in request.form
    if request.method == "GET":
        form = MoveForm(formdata=None)
    else:
        _refuse_unknown_items(_posted_ids())
        _theme_or_404(request.form.get("target"))
        form = MoveForm()
    _item_choices(form, items)
    form.target.choices = [SelectChoice("", "Choose a theme")] + [
        SelectChoice(str(t.id), t.title) for t in targets
    ]
    if arriving:
        form.validate()
        form.target.errors = []
        return _render_move(theme, form, items)
    if request.method == "POST" and form.validate():
        target = next(t for t in targets if t.id == form.target.data)
        try:
            moved = theme_service.move_items(
                theme, target, _by_id(items, form.feedback.data), current_user
            )
        except theme_service.SafeguardingItem as error:
            db.session.rollback()
            abort(409, description=error.message)
        except theme_service.ThemeError as error:
            db.session.rollback()
            if not _field_error(form, error):
                abort(409, description=error.message)
        else:
            db.session.commit()
            flash(f'{_plural(moved, "item")} moved to "{target.title}".', "success")
            return redirect(url_for("triage.theme", theme_id=theme.id))
    return _render_move(theme, form, items)


# ---------------------------------------------------------------------------------------------
# Split some items into a new theme


def _split_choices(
    form: SplitForm, strategy: Strategy | None, theme: Theme
) -> tuple[list[Priority], list[SubGroup]]:
    priorities = list(strategy.priorities) if strategy else []
    subgroups = list(strategy.subgroups) if strategy else []
    # The source theme's tags stay offered, even from an earlier strategy.
    priorities += [p for p in theme.priorities if p not in priorities]
    if theme.subgroup is not None and theme.subgroup not in subgroups:
        subgroups.append(theme.subgroup)
    form.priorities.choices = [SelectChoice(str(p.id), f"{p.code}: {p.title}") for p in priorities]
    form.subgroup.choices = [SelectChoice(str(s.id), s.title) for s in subgroups]
    return priorities, subgroups


def _split_defaults(theme: Theme, chosen: Sequence[Feedback]) -> dict[str, Any]:
    """Priorities and owner the new theme most likely has: its items' tags, else the source's."""
    priority_ids = sorted({p.id for item in chosen for p in item.priorities}) or [
        p.id for p in theme.priorities
    ]
    routed = [i.routed_subgroup_id for i in chosen if i.routed_subgroup_id]
    subgroup_id = max(set(routed), key=routed.count) if routed else theme.subgroup_id
    return {"priorities": priority_ids, "subgroup": subgroup_id}


@bp.route("/themes/<int:theme_id>/split", methods=["GET", "POST"])
@requires("triage")
def theme_split(theme_id: int) -> str | Response:
    theme = get_scoped_or_404(Theme, theme_id)
    items = _theme_items(theme)
    strategy = triage_service.active_strategy(current_partnership())
    arriving = request.method == "POST" and "choose" in request.form
    if request.method == "GET":
        form = SplitForm(formdata=None, data=_split_defaults(theme, []))
    elif arriving:
        ids = _posted_ids()
        _refuse_unknown_items(ids)
        data = {"feedback": [i for i in ids if i in {item.id for item in items}]}
        form = SplitForm(formdata=None, data=data | _split_defaults(theme, _by_id(items, ids)))
        if not ids:
            form.feedback.errors = ["Select the items to take into the new theme"]
        elif len(data["feedback"]) != len(ids):
            form.feedback.errors = [IN_THIS_THEME]
    else:
        _refuse_unknown_items(_posted_ids())
        form = SplitForm()
    priorities, subgroups = _split_choices(form, strategy, theme)
    _item_choices(form, items)
    if request.method == "POST" and not arriving and form.validate():
        try:
            new = theme_service.split_theme(
                theme,
                current_user,
                title=form.title.data,
                statement=form.statement.data,
                priorities=_by_id(priorities, form.priorities.data),
                subgroup=next(iter(_by_id(subgroups, [form.subgroup.data])), None),
                items=_by_id(items, form.feedback.data),
            )
        except theme_service.SafeguardingItem as error:
            db.session.rollback()
            abort(409, description=error.message)
        except theme_service.ThemeError as error:
            db.session.rollback()
            if not _field_error(form, error):
                abort(409, description=error.message)
        else:
            db.session.commit()
            flash(
                f'Theme "{new.title}" is saved with {_plural(len(form.feedback.data), "item")} '
                f'taken from "{theme.title}". It is not public until a coordinator approves it.',
                "success",
            )
            return redirect(url_for("triage.theme", theme_id=new.id))
    return render_template(
        "triage/theme_split.html",
        theme=theme,
        items=items,
        split_form=form,
        selected=set(form.feedback.data or []),
        strategy=strategy,
        form=form if form.errors else None,
    )


# ---------------------------------------------------------------------------------------------
# Merge another theme into this one


def _merge_sources(theme: Theme) -> list[Theme]:
    return list(
        db.session.scalars(
            scoped(Theme, Theme.id != theme.id).order_by(Theme.created_at.desc(), Theme.id.desc())
        )
    )


def _source_label(theme: Theme) -> str:
    if theme.is_published:
        return f"{theme.title} (published)"
    if theme.publication == "withdrawn":
        return f"{theme.title} (withdrawn)"
    return theme.title


@bp.route("/themes/<int:theme_id>/merge", methods=["GET", "POST"])
@requires("triage")
def theme_merge(theme_id: int) -> str | Response:
    theme = get_scoped_or_404(Theme, theme_id)
    sources = _merge_sources(theme)
    if request.method == "POST":
        _theme_or_404(request.form.get("source"))
        form = MergeChooseForm()
    else:
        form = MergeChooseForm(formdata=None, data={"source": request.args.get("source", type=int)})
    form.source.choices = [SelectChoice("", "Choose a theme")] + [
        SelectChoice(str(t.id), _source_label(t)) for t in sources
    ]
    if request.method == "POST" and form.validate():
        return redirect(
            url_for("triage.theme_merge_check", theme_id=theme.id, source_id=form.source.data)
        )
    return render_template(
        "triage/theme_merge.html",
        theme=theme,
        merge_form=form,
        sources=sources,
        form=form if form.errors else None,
    )


def _render_merge_check(plan: theme_service.MergePlan, form: MergeConfirmForm) -> str:
    partnership = current_partnership()
    voices = theme_service.voice_counts(partnership, [plan.target.id, plan.source.id])
    return render_template(
        "triage/theme_merge_check.html",
        plan=plan,
        theme=plan.target,
        source=plan.source,
        voices=voices,
        confirm_form=form,
        form=form if form.errors else None,
    )


@bp.route("/themes/<int:theme_id>/merge/<int:source_id>", methods=["GET", "POST"])
@requires("triage")
def theme_merge_check(theme_id: int, source_id: int) -> str | Response:
    theme = get_scoped_or_404(Theme, theme_id)
    source = get_scoped_or_404(Theme, source_id)
    try:
        plan = theme_service.plan_merge(theme, source)
    except theme_service.SafeguardingItem as error:
        abort(409, description=error.message)
    except theme_service.ThemeError as error:
        flash(error.message, "error")
        return redirect(url_for("triage.theme_merge", theme_id=theme.id))
    if request.method == "GET":
        form = MergeConfirmForm(formdata=None, data={"seen": plan.fingerprint})
        return _render_merge_check(plan, form)
    form = MergeConfirmForm()
    if form.validate():
        source_title = source.title
        try:
            done = theme_service.merge_themes(theme, source, current_user, seen=form.seen.data)
        except theme_service.MergeChanged as error:
            db.session.rollback()
            form.submit.errors = [error.message]
            fresh = theme_service.plan_merge(theme, source)
            form.seen.data = fresh.fingerprint
            return _render_merge_check(fresh, form)
        except theme_service.SafeguardingItem as error:
            db.session.rollback()
            abort(409, description=error.message)
        except theme_service.ThemeError as error:
            db.session.rollback()
            abort(409, description=error.message)
        db.session.commit()
        flash(_merged_message(done, source_title), "success")
        return redirect(url_for("triage.theme", theme_id=theme.id))
    return _render_merge_check(plan, form)


def _merged_message(plan: theme_service.MergePlan, source_title: str) -> str:
    parts = [
        f'"{source_title}" is merged into this theme: {_plural(len(plan.items), "feedback item")} '
        f"and {_plural(len(plan.actions), 'action')} moved."
    ]
    parts.append(
        {
            "withdrawn": f'"{source_title}" is withdrawn from the public pages.',
            "deleted": f'"{source_title}" is deleted.',
            "kept": f'"{source_title}" stays withdrawn, with nothing in it.',
        }[plan.source_outcome]
    )
    if plan.actions_to_draft:
        n = len(plan.actions_to_draft)
        parts.append(
            f"{_plural(n, 'action')} that {'was' if n == 1 else 'were'} published "
            f"{'is' if n == 1 else 'are'} waiting for approval again."
        )
    return " ".join(parts)


# ---------------------------------------------------------------------------------------------
# "Themes like this" on an item's triage page


@dataclass(frozen=True)
class Suggestion:
    theme: Theme
    voices: theme_service.VoiceCount


def themes_like(item: Feedback) -> list[Suggestion]:
    """Up to three existing themes most like the item, with their voice counts."""
    themes = theme_service.suggest_themes(item)
    if not themes:
        return []
    voices = theme_service.voice_counts(current_partnership(), [t.id for t in themes])
    return [Suggestion(theme=t, voices=voices[t.id]) for t in themes]


@bp.context_processor
def _theme_suggestions() -> dict[str, Any]:
    # Called by templates/triage/_theme_suggestions.html, so the item page that includes it
    # needs no change to its view.
    return {"themes_like": themes_like}
