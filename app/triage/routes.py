"""Triage: the queue of new feedback, tagging and redaction, safeguarding, and themes."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm import joinedload, selectinload
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.extensions import db
from app.forms import vocab_choices
from app.models import Action, Feedback, Outcome, Partnership, Priority, Strategy, SubGroup, Theme
from app.models.vocab import FeedbackStatus, Respondent, Sentiment
from app.services import themes as theme_service
from app.services import triage as triage_service
from app.services.permissions import can_see_feedback, requires
from app.services.scoping import current_partnership, get_scoped_or_404, scoped
from app.services.triage import NO_PRIORITY, QUEUE_STATUSES, QueueCursor
from app.templating import govuk_date
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
            .options(
                joinedload(Feedback.event),
                joinedload(Feedback.theme),
                joinedload(Feedback.routed_subgroup),
                selectinload(Feedback.priorities),
            )
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

# The query-string keys that say what the queue shows, and where a page of it starts.
FILTER_ARGS = (
    "status",
    "event",
    "respondent",
    "sentiment",
    "priority",
    "received_from",
    "received_to",
)
PAGE_ARGS = ("older", "newer")


def _date_args(value: date | None) -> list[str] | None:
    """A date as the three boxes of a GOV.UK date input send it: day, month, year."""
    return [str(value.day), str(value.month), str(value.year)] if value else None


def _read_filters(
    partnership: Partnership, strategy: Strategy | None
) -> tuple[QueueFilterForm, triage_service.QueueFilters, dict[str, Any]]:
    """The filters from the query string, the form that shows them, and the canonical query
    arguments that apply them again (links to other pages of the queue carry these)."""
    events = triage_service.queue_events(partnership)
    priorities = list(strategy.priorities) if strategy else []
    form = QueueFilterForm(formdata=request.args)
    form.status.choices = [SelectChoice(v, text) for v, text in QUEUE_STATUSES.items()]
    form.event.choices = [SelectChoice("", "Any event")] + [
        SelectChoice(str(e.id), f"{e.name} ({govuk_date(e.held_on)})") for e in events
    ]
    form.respondent.choices = [SelectChoice("", "Anyone"), *vocab_choices(Respondent)]
    form.sentiment.choices = [SelectChoice("", "Any kind"), *vocab_choices(Sentiment)]
    form.priority.choices = [
        SelectChoice("", "Any priority"),
        SelectChoice(NO_PRIORITY, "No priority yet"),
    ] + [SelectChoice(str(p.id), f"{p.code}: {p.title}") for p in priorities]
    form.validate()

    def offered(field: Any, values: Iterable[Any], default: Any = None) -> Any:
        value = field.data if field.data in set(values) else default
        field.data = value if value is not None else ""
        return value

    status = offered(form.status, QUEUE_STATUSES, FeedbackStatus.NEW.value)
    event_id = offered(form.event, [e.id for e in events])
    form.event.data = event_id
    respondent = offered(form.respondent, [r.value for r in Respondent])
    sentiment = offered(form.sentiment, [s.value for s in Sentiment])
    priority = offered(form.priority, [NO_PRIORITY, *(str(p.id) for p in priorities)])
    received_from = None if form.received_from.errors else form.received_from.data
    received_to = None if form.received_to.errors else form.received_to.data
    filters = triage_service.QueueFilters(
        status=status,
        event_id=event_id,
        received_from=received_from,
        received_to=received_to,
        respondent=respondent,
        sentiment=sentiment,
        priority_id=int(priority) if priority and priority != NO_PRIORITY else None,
        untagged=priority == NO_PRIORITY,
    )
    args = {
        "status": status if status != FeedbackStatus.NEW.value else None,
        "event": event_id,
        "respondent": respondent,
        "sentiment": sentiment,
        "priority": priority,
        "received_from": _date_args(received_from),
        "received_to": _date_args(received_to),
    }
    return form, filters, {k: v for k, v in args.items() if v is not None}


def _queue_args() -> dict[str, Any]:
    """This request's filters and page, to go back to the same view of the queue."""
    return {k: request.args.getlist(k) for k in (*FILTER_ARGS, *PAGE_ARGS) if k in request.args}


def _bulk_choices(form: BulkForm, strategy: Strategy | None, themes: Sequence[Theme]) -> list[str]:
    """Fill the bulk form's lists; returns the actions the page offers, in page order."""
    priorities = list(strategy.priorities) if strategy else []
    subgroups = list(strategy.subgroups) if strategy else []
    form.priorities.choices = [SelectChoice(str(p.id), f"{p.code}: {p.title}") for p in priorities]
    form.subgroup.choices = [SelectChoice("", "Choose a sub-group")] + [
        SelectChoice(str(s.id), f"{s.code}: {s.title}") for s in subgroups
    ]
    form.theme.choices = _theme_choices(themes)
    present = {
        "add_priorities": bool(priorities),
        "route": bool(subgroups),
        "add_to_theme": bool(themes),
        "new_theme": True,
        "not_for_publication": True,
    }
    return [action for action in BulkForm.ACTIONS if present[action]]


def _render_queue(bulk: BulkForm, *, errors: bool = False) -> str:
    partnership = current_partnership()
    strategy = _strategy()
    filters_form, filters, args = _read_filters(partnership, strategy)
    older = QueueCursor.parse(request.args.get("older"))
    newer = None if older else QueueCursor.parse(request.args.get("newer"))
    queue = triage_service.triage_queue(partnership, filters, older=older, newer=newer)
    themes = triage_service.themes_to_add_to(partnership)
    offered = _bulk_choices(bulk, strategy, themes)
    page_args = {"older": str(older)} if older else ({"newer": str(newer)} if newer else {})
    select_all = request.args.get("select") == "all"
    if bulk.feedback.data:
        selected = set(bulk.feedback.data)
    else:
        selected = {item.id for item in queue.items} if select_all else set()
    return render_template(
        "triage/index.html",
        queue=queue,
        filters=filters_form,
        applied=filters,
        status_label=QUEUE_STATUSES[filters.status],
        args=args,
        here={**args, **page_args},
        bulk=bulk,
        offered=offered,
        themes=themes,
        selected=selected,
        select_all=select_all,
        past_end=older is not None and not queue.items,
        form=bulk if errors else (filters_form if filters_form.errors else None),
    )


@bp.route("/")
@requires("triage")
def index() -> str:
    return _render_queue(BulkForm(formdata=None))


@bp.route("/bulk", methods=["POST"])
@requires("triage")
def bulk() -> str | Response:
    """One form for every bulk action: validated whole, applied whole, or nothing is saved."""
    strategy = _strategy()
    themes = triage_service.themes_to_add_to(current_partnership())
    form = BulkForm()
    action = form.choose_action(_bulk_choices(form, strategy, themes))
    if not form.validate():
        return _render_queue(form, errors=True)
    items = _items_by_ids(form.feedback.data or [])
    if action == "new_theme":
        return redirect(url_for("triage.theme_new", feedback=[i.id for i in items]))
    try:
        message = _apply_bulk(action, form, items, strategy)
    except theme_service.SafeguardingItem as error:
        db.session.rollback()
        abort(409, description=error.message)
    except (triage_service.TriageError, theme_service.ThemeError) as error:
        db.session.rollback()
        if not _apply_field_error(form, error):
            abort(409, description=error.message)
        return _render_queue(form, errors=True)
    db.session.commit()
    flash(message, "success")
    return redirect(url_for("triage.index", **_queue_args()))


def _apply_bulk(
    action: str, form: BulkForm, items: list[Feedback], strategy: Strategy | None
) -> str:
    """Apply one validated bulk action; returns the confirmation to show."""
    if action == "add_priorities":
        chosen = _by_id(strategy.priorities if strategy else [], form.priorities.data)
        tagged = triage_service.add_priorities(items, chosen, current_user)
        return _tagged_message(tagged, chosen)
    if action == "route":
        subgroup = next(
            iter(_by_id(strategy.subgroups if strategy else [], [form.subgroup.data])), None
        )
        routed = triage_service.route_items(items, subgroup, current_user)
        return _routed_message(routed, subgroup)
    if action == "add_to_theme":
        theme = get_scoped_or_404(Theme, form.theme.data)
        return _added_message(triage_service.add_to_theme(items, theme, current_user), theme)
    marked = triage_service.mark_not_for_publication(items, current_user)
    if not marked.changed:
        return "The selected items were already marked not for publication."
    message = f"Marked {_items(marked.changed)} not for publication."
    if marked.unchanged:
        message += f" {_items(marked.unchanged)} {_was(marked.unchanged)} already marked."
    return message


def _items(n: int) -> str:
    return f"{n} {'item' if n == 1 else 'items'}"


def _was(n: int) -> str:
    return "was" if n == 1 else "were"


def _and(words: Sequence[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def _tagged_message(result: triage_service.BulkResult, priorities: Sequence[Priority]) -> str:
    codes = _and([p.code for p in priorities])
    if not result.changed:
        message = f"The selected items already had {codes}."
    else:
        message = f"Tagged {_items(result.changed)} with {codes}."
        if result.unchanged:
            them = "it" if len(priorities) == 1 else "them"
            message += f" {_items(result.unchanged)} already had {them}."
    if result.routed:
        their = "its" if result.routed == 1 else "their"
        message += (
            f" {_items(result.routed)} with no sub-group {_was(result.routed)} routed by "
            f"{their} priorities."
        )
    return message


def _routed_message(result: triage_service.BulkResult, subgroup: SubGroup | None) -> str:
    code = subgroup.code if subgroup else ""
    if not result.changed:
        return f"The selected items were already routed to {code}."
    message = f"Routed {_items(result.changed)} to {code}."
    if result.unchanged:
        message += f" {_items(result.unchanged)} {_was(result.unchanged)} already routed there."
    return message


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
    form.routed_subgroup.choices = [SelectChoice("", "Where its priorities route it")] + [
        SelectChoice(str(s.id), s.title) for s in subgroups
    ]
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
        triage_form = TriageForm(
            formdata=None,
            data={
                "priorities": [p.id for p in item.priorities],
                "outcomes": [o.id for o in item.outcomes],
                # Not routed yet: the first choice, routing by the priorities when saved.
                "routed_subgroup": item.routed_subgroup_id,
                "need_types": list(item.need_types or []),
                "redacted_text": item.redacted_text or "",
                "contains_personal_details": item.contains_personal_details,
                "not_for_publication": item.not_for_publication,
            },
        )
    priorities, _outcomes, subgroups = _triage_choices(triage_form, item, strategy)
    # Where the priorities ticked on the page would route it, for the first choice's hint.
    suggestion = triage_service.suggest_subgroup(_by_id(priorities, triage_form.priorities.data))
    themes = triage_service.themes_to_add_to(partnership)
    theme_form = theme_form or AddToThemeForm(formdata=None)
    theme_form.theme.choices = _theme_choices(themes, exclude=item.theme_id)
    flag_form = flag_form or SafeguardingForm(formdata=None)
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
        next_item=triage_service.next_waiting(partnership, item),
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
                need_types=form.need_types.data or [],
            )
        except triage_service.TriageError as error:
            db.session.rollback()
            if not _apply_field_error(form, error):
                abort(409, description=error.message)
        else:
            db.session.commit()
            saved = f"Item {item.id} is saved as triaged."
            if not form.save_next.data:
                flash(saved, "success")
                return redirect(url_for("triage.feedback", feedback_id=item.id))
            following = triage_service.next_waiting(current_partnership(), item)
            if following is None:
                flash(f"{saved} Nothing else is waiting for triage.", "success")
                return redirect(url_for("triage.index"))
            flash(f"{saved} This is the next item waiting.", "success")
            return redirect(url_for("triage.feedback", feedback_id=following.id))
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
        triage_service.add_to_theme([item], theme, current_user)
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
