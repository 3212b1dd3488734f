"""Log feedback: events, and what people said at them. Built for a phone at a coffee morning."""

from __future__ import annotations

import math
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.capture import bp
from app.capture.forms import EventForm, FeedbackForm
from app.extensions import db
from app.models import Event, Feedback
from app.models.vocab import Respondent
from app.services import capture as svc
from app.services.permissions import (
    can_edit_feedback,
    can_manage_event,
    can_see_feedback,
    requires,
)
from app.services.scoping import current_partnership, get_scoped_or_404

EVENTS_PER_PAGE = 25
# Most items at one event come from the same kind of person: remember the last choice.
RESPONDENT_SESSION_KEY = "capture_respondent"


def _event_or_abort(event_id: int) -> Event:
    """404 for ids outside the partnership; 403 for someone else's event within it."""
    event = get_scoped_or_404(Event, event_id)
    if not can_manage_event(current_user, event):
        abort(403)
    return event


def _visible_feedback_or_404(feedback_id: int) -> Feedback:
    item = get_scoped_or_404(Feedback, feedback_id)
    # Raw feedback is private: someone who may not read it is not told it exists.
    if not can_see_feedback(current_user, item):
        abort(404)
    return item


def _attach_error(form: Any, error: svc.CaptureError) -> None:
    field = getattr(form, error.field, None)
    if field is None:
        raise error
    field.errors = [*field.errors, error.message]


def _items_saved_message(count: int) -> str:
    return f"Saved. This event has {count} item{'' if count == 1 else 's'}."


@bp.route("/")
@requires("capture")
def index() -> str:
    page = request.args.get("page", 1, type=int) or 1
    page = max(page, 1)
    todays, others, total = svc.events_for(
        current_partnership(), current_user, page=page, per_page=EVENTS_PER_PAGE
    )
    pages = max(1, math.ceil(total / EVENTS_PER_PAGE))
    if page > pages:
        abort(404)
    return render_template(
        "capture/index.html",
        todays=todays if page == 1 else [],
        others=others,
        page=page,
        pages=pages,
        sees_all=svc.sees_all_events(current_user),
    )


@bp.route("/events/new", methods=["GET", "POST"])
@requires("capture")
def new_event() -> str | Response:
    form = EventForm() if request.method == "POST" else EventForm(held_on=svc.today())
    if form.validate_on_submit():
        try:
            event = svc.create_event(current_partnership(), current_user, **form.event_fields())
        except svc.CaptureError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            flash("Event created. Now log what people said.", "success")
            return redirect(url_for("capture.event", event_id=event.id))
    return render_template("capture/event_form.html", form=form, event=None)


@bp.route("/events/<int:event_id>")
@requires("capture")
def event(event_id: int) -> str:
    event = _event_or_abort(event_id)
    form = FeedbackForm(
        respondent=session.get(RESPONDENT_SESSION_KEY), idempotency_key=uuid.uuid4().hex
    )
    return _render_event(event, form)


def _render_event(event: Event, form: FeedbackForm) -> str:
    form.set_priority_options(svc.priority_options(current_partnership()))
    items = svc.items_for(event, current_user)
    return render_template(
        "capture/event.html",
        event=event,
        form=form,
        item_count=svc.item_count(event),
        items=items,
        editable={item.id for item in items if can_edit_feedback(current_user, item)},
        sees_all=svc.sees_all_events(current_user),
        safeguarding_email=current_partnership().safeguarding_contact_email,
    )


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
@requires("capture")
def edit_event(event_id: int) -> str | Response:
    event = _event_or_abort(event_id)
    form = EventForm() if request.method == "POST" else EventForm(obj=event)
    form.submit.label.text = "Save changes"
    if form.validate_on_submit():
        try:
            svc.update_event(event, current_user, **form.event_fields())
        except svc.CaptureError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            flash("Event details saved.", "success")
            return redirect(url_for("capture.event", event_id=event.id))
    return render_template("capture/event_form.html", form=form, event=event)


@bp.route("/events/<int:event_id>/feedback", methods=["POST"])
@requires("capture")
def add_feedback(event_id: int) -> str | Response:
    event = _event_or_abort(event_id)
    form = FeedbackForm()
    form.set_priority_options(svc.priority_options(current_partnership()))
    if form.validate_on_submit():
        try:
            _item, _created = svc.record_feedback(
                event,
                current_user,
                text=form.text.data,
                respondent=form.respondent.data,
                sentiment=form.sentiment.data,
                priorities=form.priorities.data or [],
                idempotency_key=form.idempotency_key.data,
            )
        except svc.CaptureError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            if form.respondent.data in Respondent._value2member_map_:
                session[RESPONDENT_SESSION_KEY] = form.respondent.data
            flash(_items_saved_message(svc.item_count(event)), "success")
            return redirect(url_for("capture.event", event_id=event.id))
    return _render_event(event, form)


@bp.route("/feedback/<int:feedback_id>/edit", methods=["GET", "POST"])
@requires("capture")
def edit_feedback(feedback_id: int) -> str | Response | tuple[str, int]:
    item = _visible_feedback_or_404(feedback_id)
    back = (
        url_for("capture.event", event_id=item.event_id)
        if item.event_id is not None
        else url_for("capture.index")
    )
    if not can_edit_feedback(current_user, item):
        # They may read it but not change it: most often a coordinator has triaged it already.
        return render_template("capture/cannot_edit.html", item=item, back=back), 403
    if request.method == "POST":
        form = FeedbackForm()
    else:
        form = FeedbackForm(
            text=item.raw_text,
            respondent=item.respondent,
            sentiment=item.sentiment,
            priorities=[p.id for p in item.priorities],
        )
    form.set_priority_options(svc.priority_options(current_partnership(), keep=item.priorities))
    form.submit.label.text = "Save changes"
    if form.validate_on_submit():
        try:
            svc.update_feedback(
                item,
                current_user,
                text=form.text.data,
                respondent=form.respondent.data,
                sentiment=form.sentiment.data,
                priorities=form.priorities.data or [],
            )
        except svc.CaptureError as error:
            db.session.rollback()
            _attach_error(form, error)
        else:
            db.session.commit()
            flash("Item saved.", "success")
            return redirect(back)
    return render_template("capture/feedback_form.html", form=form, item=item, back=back)
