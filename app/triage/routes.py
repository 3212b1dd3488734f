"""Triage: the queue of new feedback, tagging and redaction, safeguarding, and themes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.extensions import db
from app.models import Action, Feedback, Outcome, Priority, Strategy, SubGroup, Theme
from app.models.vocab import FeedbackStatus
from app.services import themes as theme_service
from app.services import triage as triage_service
from app.services.permissions import can_see_feedback, requires
from app.services.scoping import current_partnership, get_scoped_or_404, scoped
from app.triage import bp
from app.triage.forms import (
    AddToThemeForm,
    BulkForm,
    ItemsForm,
    QueueFilterForm,
    SafeguardingForm,
    ThemeForm,
    TriageForm,
)

STATUS_FILTERS = [
    ("new", "New: waiting for triage"),
    ("triaged", "Triaged, not in a theme"),
    ("themed", "In a theme"),
    ("all", "All"),
]
CANDIDATES_LIMIT = 50


# ---------------------------------------------------------------------------------------------
# Loading, always through the partnership scope


def _visible_item(feedback_id: int) -> Feedback:
    """404 for another partnership's item, and for a flagged one: its existence is private."""
    item = get_scoped_or_404(Feedback, feedback_id)
    if not can_see_feedback(current_user, item):
        abort(404)
    return item


def _items_by_ids(ids: Iterable[int]) -> list[Feedback]:
    """The items asked for, in queue order; 404 if any is not this partnership's or is flagged.

    A flagged item's existence is private, so asking for one answers exactly as an unknown id
    does, the same as _visible_item.
    """
    wanted = set(ids)
    if not wanted:
        return []
    items = list(
        db.session.scalars(
            scoped(Feedback, Feedback.id.in_(wanted), Feedback.safeguarding_flag.is_(False))
            .options(joinedload(Feedback.event), joinedload(Feedback.theme))
            .order_by(Feedback.received_on.desc(), Feedback.id.desc())
        )
    )
    if len(items) != len(wanted):
        abort(404)
    return items


def _strategy() -> Strategy | None:
    return triage_service.active_strategy(current_partnership())


def _theme_choices(themes: Sequence[Theme], exclude: int | None = None) -> list[SelectChoice]:
    return [SelectChoice("", "Choose a theme")] + [
        SelectChoice(str(t.id), t.title) for t in themes if t.id != exclude
    ]


def _by_id(rows: Iterable[Any], ids: Iterable[int] | None) -> list[Any]:
    wanted = set(ids or [])
    return [row for row in rows if row.id in wanted]


def _apply_field_error(
    form: Any, error: theme_service.ThemeError | triage_service.TriageError
) -> bool:
    """Put a service's refusal next to the field it concerns; False if it names no field."""
    field = getattr(form, error.field, None) if error.field else None
    if field is None:
        return False
    field.errors = [*field.errors, error.message]
    return True


# ---------------------------------------------------------------------------------------------
# The queue


def _queue_filters() -> tuple[QueueFilterForm, str, int | None, list[Any]]:
    partnership = current_partnership()
    events = triage_service.queue_events(partnership)
    filters = QueueFilterForm(formdata=request.args)
    filters.status.choices = [SelectChoice(v, text) for v, text in STATUS_FILTERS]
    filters.event.choices = [SelectChoice("", "All events")] + [
        SelectChoice(str(e.id), f"{e.name} ({e.held_on.day} {e.held_on:%B %Y})") for e in events
    ]
    status = filters.status.data if filters.status.data in triage_service.QUEUE_FILTERS else "new"
    event_id = filters.event.data if filters.event.data in {e.id for e in events} else None
    filters.status.data = status
    filters.event.data = event_id
    return filters, status, event_id, events


def _render_queue(bulk: BulkForm, *, errors: bool = False) -> str:
    filters, status, event_id, _events = _queue_filters()
    partnership = current_partnership()
    queue = triage_service.triage_queue(
        partnership, status=status, event_id=event_id, page=request.args.get("page", 1, type=int)
    )
    themes = triage_service.themes_to_add_to(partnership)
    bulk.theme.choices = _theme_choices(themes)
    args = {"status": status, "event": event_id}
    return render_template(
        "triage/index.html",
        queue=queue,
        filters=filters,
        status=status,
        status_label=dict(STATUS_FILTERS)[status],
        event_id=event_id,
        bulk=bulk,
        themes=themes,
        selected=set(bulk.feedback.data or []),
        args={k: v for k, v in args.items() if v is not None},
        form=bulk if errors else None,
    )


@bp.route("/")
@requires("triage")
def index() -> str:
    return _render_queue(BulkForm(formdata=None))


@bp.route("/bulk", methods=["POST"])
@requires("triage")
def bulk() -> str | Response:
    form = BulkForm()
    form.theme.choices = _theme_choices(triage_service.themes_to_add_to(current_partnership()))
    back: dict[str, Any] = {
        k: v for k, v in request.args.items() if k in ("status", "event", "page")
    }
    if not (form.new_theme.data or form.add_to_theme.data):
        # A post naming neither button counts as the first one, as browsers' implicit submit does.
        form.new_theme.data = True
    if not form.validate():
        return _render_queue(form, errors=True)
    items = _items_by_ids(form.feedback.data or [])
    if form.new_theme.data and not form.add_to_theme.data:
        return redirect(url_for("triage.theme_new", feedback=[i.id for i in items]))
    theme = get_scoped_or_404(Theme, form.theme.data)
    try:
        result = theme_service.add_items(theme, items, current_user)
    except theme_service.SafeguardingItem as error:
        abort(409, description=error.message)
    db.session.commit()
    flash(_added_message(result, theme), "success")
    return redirect(url_for("triage.index", **back))


def _added_message(result: theme_service.ItemsAdded, theme: Theme) -> str:
    noun = "item" if result.added == 1 else "items"
    message = f'{result.added} {noun} added to "{theme.title}".'
    if result.moved:
        message += f" {result.moved} of them moved from another theme."
    if result.added == 0:
        message = f'Those items were already in "{theme.title}".'
    return message


# ---------------------------------------------------------------------------------------------
# One feedback item


def _triage_choices(
    form: TriageForm, item: Feedback, strategy: Strategy | None
) -> tuple[list[Priority], list[Outcome], list[SubGroup]]:
    priorities = list(strategy.priorities) if strategy else []
    outcomes = list(strategy.outcomes) if strategy else []
    subgroups = list(strategy.subgroups) if strategy else []
    # Tags from an earlier strategy stay offered, so saving the form does not silently drop them.
    priorities += [p for p in item.priorities if p not in priorities]
    outcomes += [o for o in item.outcomes if o not in outcomes]
    if item.routed_subgroup is not None and item.routed_subgroup not in subgroups:
        subgroups.append(item.routed_subgroup)
    form.priorities.choices = [SelectChoice(str(p.id), f"{p.code}: {p.title}") for p in priorities]
    form.outcomes.choices = [SelectChoice(str(o.id), o.text) for o in outcomes]
    form.routed_subgroup.choices = [SelectChoice(str(s.id), s.title) for s in subgroups]
    return priorities, outcomes, subgroups


def _render_item(
    item: Feedback,
    *,
    triage_form: TriageForm | None = None,
    theme_form: AddToThemeForm | None = None,
    flag_form: SafeguardingForm | None = None,
    failed: Any = None,
    status: int = 200,
) -> tuple[str, int]:
    partnership = current_partnership()
    strategy = triage_service.active_strategy(partnership)
    if triage_form is None:
        suggested = item.routed_subgroup or triage_service.suggest_subgroup(item.priorities)
        triage_form = TriageForm(
            formdata=None,
            data={
                "priorities": [p.id for p in item.priorities],
                "outcomes": [o.id for o in item.outcomes],
                "routed_subgroup": suggested.id if suggested else None,
                "redacted_text": item.redacted_text or "",
                "contains_personal_details": item.contains_personal_details,
                "not_for_publication": item.not_for_publication,
            },
        )
    priorities, _outcomes, subgroups = _triage_choices(triage_form, item, strategy)
    suggestion = triage_service.suggest_subgroup(item.priorities)
    themes = triage_service.themes_to_add_to(partnership)
    theme_form = theme_form or AddToThemeForm(formdata=None)
    theme_form.theme.choices = _theme_choices(themes, exclude=item.theme_id)
    flag_form = flag_form or SafeguardingForm(formdata=None)
    next_item = db.session.scalars(
        scoped(
            Feedback,
            Feedback.status == FeedbackStatus.NEW.value,
            Feedback.safeguarding_flag.is_(False),
            Feedback.id != item.id,
        )
        .order_by(Feedback.received_on.desc(), Feedback.id.desc())
        .limit(1)
    ).first()
    return render_template(
        "triage/feedback.html",
        item=item,
        strategy=strategy,
        priorities=priorities,
        subgroups=subgroups,
        suggestion=suggestion,
        triage_form=triage_form,
        theme_form=theme_form,
        flag_form=flag_form,
        themes=themes,
        next_item=next_item,
        form=failed,
    ), status


@bp.route("/feedback/<int:feedback_id>", methods=["GET", "POST"])
@requires("triage")
def feedback(feedback_id: int) -> tuple[str, int] | Response:
    item = _visible_item(feedback_id)
    if request.method == "GET":
        return _render_item(item)
    form = TriageForm()
    priorities, outcomes, subgroups = _triage_choices(
        form, item, triage_service.active_strategy(current_partnership())
    )
    if form.validate():
        chosen_subgroup = _by_id(subgroups, [form.routed_subgroup.data])
        try:
            triage_service.tag_feedback(
                item,
                current_user,
                priorities=_by_id(priorities, form.priorities.data),
                outcomes=_by_id(outcomes, form.outcomes.data),
                routed_subgroup=chosen_subgroup[0] if chosen_subgroup else None,
                redacted_text=form.redacted_text.data,
                contains_personal_details=bool(form.contains_personal_details.data),
                not_for_publication=bool(form.not_for_publication.data),
            )
        except triage_service.TriageError as error:
            db.session.rollback()
            if not _apply_field_error(form, error):
                abort(409, description=error.message)
        else:
            db.session.commit()
            flash(f"Item {item.id} is saved as triaged.", "success")
            return redirect(url_for("triage.feedback", feedback_id=item.id))
    return _render_item(item, triage_form=form, failed=form)


@bp.route("/feedback/<int:feedback_id>/theme", methods=["POST"])
@requires("triage")
def feedback_theme(feedback_id: int) -> tuple[str, int] | Response:
    item = _visible_item(feedback_id)
    form = AddToThemeForm()
    form.theme.choices = _theme_choices(
        triage_service.themes_to_add_to(current_partnership()), exclude=item.theme_id
    )
    if not form.validate():
        return _render_item(item, theme_form=form, failed=form)
    theme = get_scoped_or_404(Theme, form.theme.data)
    try:
        theme_service.add_items(theme, [item], current_user)
    except theme_service.SafeguardingItem as error:
        abort(409, description=error.message)
    db.session.commit()
    flash(f'Item {item.id} is added to "{theme.title}".', "success")
    return redirect(url_for("triage.feedback", feedback_id=item.id))


@bp.route("/feedback/<int:feedback_id>/safeguarding", methods=["POST"])
@requires("triage")
def flag(feedback_id: int) -> tuple[str, int] | Response:
    item = _visible_item(feedback_id)
    form = SafeguardingForm()
    if form.validate():
        try:
            triage_service.flag_safeguarding(item, current_user, form.note.data)
        except triage_service.TriageError as error:
            db.session.rollback()
            if not _apply_field_error(form, error):
                abort(409, description=error.message)
        else:
            db.session.commit()
            flash(
                f"Item {item.id} is flagged as a safeguarding concern. It has left triage, and "
                "only the safeguarding lead can see it now.",
                "success",
            )
            return redirect(url_for("triage.index"))
    return _render_item(item, flag_form=form, failed=form)


# ---------------------------------------------------------------------------------------------
# Themes


@bp.route("/themes")
@requires("triage")
def themes() -> str:
    partnership = current_partnership()
    page = max(request.args.get("page", 1, type=int), 1)
    total = (
        db.session.scalar(scoped(Theme).with_only_columns(db.func.count(Theme.id)).order_by(None))
        or 0
    )
    pages = max((total + triage_service.PAGE_SIZE - 1) // triage_service.PAGE_SIZE, 1)
    page = min(page, pages)
    rows = list(
        db.session.scalars(
            scoped(Theme)
            .options(joinedload(Theme.subgroup))
            .order_by(Theme.created_at.desc(), Theme.id.desc())
            .limit(triage_service.PAGE_SIZE)
            .offset((page - 1) * triage_service.PAGE_SIZE)
        )
    )
    ids = [t.id for t in rows]
    return render_template(
        "triage/themes.html",
        themes=rows,
        voices=theme_service.voice_counts(partnership, ids),
        actions=theme_service.action_counts(partnership, ids),
        total=total,
        page=page,
        pages=pages,
    )


def _theme_form_choices(
    form: ThemeForm, strategy: Strategy | None, theme: Theme | None = None
) -> tuple[list[Priority], list[SubGroup]]:
    priorities = list(strategy.priorities) if strategy else []
    subgroups = list(strategy.subgroups) if strategy else []
    if theme is not None:
        priorities += [p for p in theme.priorities if p not in priorities]
        if theme.subgroup is not None and theme.subgroup not in subgroups:
            subgroups.append(theme.subgroup)
    form.priorities.choices = [SelectChoice(str(p.id), f"{p.code}: {p.title}") for p in priorities]
    form.subgroup.choices = [SelectChoice(str(s.id), s.title) for s in subgroups]
    return priorities, subgroups


def _suggested_for(items: Sequence[Feedback]) -> tuple[list[int], int | None]:
    """Priorities and owner a new theme most likely has, from the items it is written from."""
    priority_ids = sorted({p.id for item in items for p in item.priorities})
    routed = Counter(item.routed_subgroup_id for item in items if item.routed_subgroup_id)
    if routed:
        return priority_ids, routed.most_common(1)[0][0]
    suggestion = triage_service.suggest_subgroup({p for item in items for p in item.priorities})
    return priority_ids, suggestion.id if suggestion else None


@bp.route("/themes/new", methods=["GET", "POST"])
@requires("triage")
def theme_new() -> str | Response:
    ids = request.args.getlist("feedback", type=int)
    items = _items_by_ids(ids)
    strategy = _strategy()
    if request.method == "GET":
        priority_ids, subgroup_id = _suggested_for(items)
        form = ThemeForm(
            formdata=None,
            data={
                "priorities": priority_ids,
                "subgroup": subgroup_id,
                "feedback": [i.id for i in items],
            },
        )
    else:
        form = ThemeForm()
    priorities, subgroups = _theme_form_choices(form, strategy)
    form.feedback.choices = [SelectChoice(str(i.id), _excerpt(i)) for i in items]
    if request.method == "POST" and form.validate():
        try:
            theme = theme_service.create_theme(
                current_partnership(),
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
            if not _apply_field_error(form, error):
                raise
        else:
            db.session.commit()
            flash(
                f'Theme "{theme.title}" is saved. It is not public until a coordinator '
                "approves it.",
                "success",
            )
            return redirect(url_for("triage.theme", theme_id=theme.id))
    return render_template(
        "triage/theme_form.html", form=form, items=items, theme=None, strategy=strategy
    )


def _excerpt(item: Feedback, length: int = 140) -> str:
    text = item.redacted_text or item.raw_text
    if len(text) <= length:
        return text
    return text[:length].rsplit(" ", 1)[0].rstrip(" ,.;:") + "…"


def _load_theme(theme_id: int) -> Theme:
    return get_scoped_or_404(Theme, theme_id)


def _render_theme(theme: Theme, items_form: ItemsForm | None = None, section: str = "") -> str:
    partnership = current_partnership()
    items = list(
        db.session.scalars(
            scoped(Feedback, Feedback.theme_id == theme.id, Feedback.safeguarding_flag.is_(False))
            .options(joinedload(Feedback.event), selectinload(Feedback.priorities))
            .order_by(Feedback.received_on.desc(), Feedback.id.desc())
        )
    )
    candidates = list(
        db.session.scalars(
            scoped(
                Feedback,
                Feedback.theme_id.is_(None),
                Feedback.status == FeedbackStatus.TRIAGED.value,
                Feedback.safeguarding_flag.is_(False),
            )
            .options(joinedload(Feedback.event), selectinload(Feedback.priorities))
            .order_by(Feedback.received_on.desc(), Feedback.id.desc())
            .limit(CANDIDATES_LIMIT)
        )
    )
    actions = list(
        db.session.scalars(
            scoped(Action, Action.theme_id == theme.id)
            .options(selectinload(Action.updates))
            .order_by(Action.id)
        )
    )
    return render_template(
        "triage/theme.html",
        theme=theme,
        items=items,
        candidates=candidates,
        actions=actions,
        voices=theme_service.voice_counts(partnership, [theme.id])[theme.id],
        items_form=items_form or ItemsForm(formdata=None),
        section=section,
        form=items_form if items_form is not None and items_form.errors else None,
    )


@bp.route("/themes/<int:theme_id>")
@requires("triage")
def theme(theme_id: int) -> str:
    return _render_theme(_load_theme(theme_id))


@bp.route("/themes/<int:theme_id>/edit", methods=["GET", "POST"])
@requires("triage")
def theme_edit(theme_id: int) -> str | tuple[str, int] | Response:
    theme = _load_theme(theme_id)
    strategy = _strategy()
    if theme.is_published:
        # Public wording changes only through withdrawal and a fresh approval.
        status = 409 if request.method == "POST" else 200
        return render_template(
            "triage/theme_locked.html", theme=theme, message=theme_service.PUBLISHED_MESSAGE
        ), status
    if request.method == "GET":
        form = ThemeForm(
            formdata=None,
            data={
                "title": theme.title,
                "statement": theme.statement,
                "priorities": [p.id for p in theme.priorities],
                "subgroup": theme.subgroup_id,
            },
        )
    else:
        form = ThemeForm()
    del form.feedback
    priorities, subgroups = _theme_form_choices(form, strategy, theme)
    if request.method == "POST" and form.validate():
        try:
            theme_service.update_theme(
                theme,
                current_user,
                title=form.title.data,
                statement=form.statement.data,
                priorities=_by_id(priorities, form.priorities.data),
                subgroup=next(iter(_by_id(subgroups, [form.subgroup.data])), None),
            )
        except theme_service.ThemeIsPublished as error:
            db.session.rollback()
            abort(409, description=error.message)
        except theme_service.ThemeError as error:
            db.session.rollback()
            if not _apply_field_error(form, error):
                raise
        else:
            db.session.commit()
            flash(f'Theme "{theme.title}" is saved.', "success")
            return redirect(url_for("triage.theme", theme_id=theme.id))
    return render_template(
        "triage/theme_form.html", form=form, items=[], theme=theme, strategy=strategy
    )


@bp.route("/themes/<int:theme_id>/items", methods=["POST"])
@requires("triage")
def theme_items(theme_id: int) -> str | Response:
    theme = _load_theme(theme_id)
    form = ItemsForm()
    section = "remove" if form.remove.data else "add"
    if not form.validate():
        return _render_theme(theme, items_form=form, section=section)
    items = _items_by_ids(form.feedback.data or [])
    try:
        if section == "remove":
            removed = theme_service.remove_items(theme, items, current_user)
            message = f"{removed} {'item' if removed == 1 else 'items'} removed from this theme."
        else:
            message = _added_message(theme_service.add_items(theme, items, current_user), theme)
    except theme_service.SafeguardingItem as error:
        db.session.rollback()
        abort(409, description=error.message)
    except theme_service.ThemeError as error:
        db.session.rollback()
        abort(409, description=error.message)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("triage.theme", theme_id=theme.id))
