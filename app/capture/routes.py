"""Log feedback: events, and what people said at them. Built for a phone at a coffee morning."""

from __future__ import annotations

import math
import uuid
from typing import Any

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user
from werkzeug.wrappers import Response

from app.auth.routes import WRONG_SIGN_IN, sign_in_limits, signing_in_email
from app.capture import bp
from app.capture.forms import EventForm, FeedbackForm, ResumeForm
from app.extensions import db, limiter
from app.models import Event, Feedback
from app.models.vocab import Respondent
from app.services import capture as svc
from app.services.permissions import (
    can,
    can_edit_feedback,
    can_manage_event,
    can_see_feedback,
    public,
    requires,
)
from app.services.scoping import current_partnership, get_scoped_or_404
from app.services.users import authenticate

EVENTS_PER_PAGE = 25
# Most items at one event come from the same kind of person: remember the last choice.
RESPONDENT_SESSION_KEY = "capture_respondent"


def managed_event_or_abort(event_id: int) -> Event:
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
    event = managed_event_or_abort(event_id)
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
    event = managed_event_or_abort(event_id)
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


# A page left open for hours must not lose what was typed. An expired form token (the CSRF
# check refuses the post before the view runs) re-shows the form with everything kept; an
# expired session gets a page that signs in and saves in one step. See `on_expired_form` in
# app/__init__.py.
KEPT_MESSAGE = (
    "This page was open for a long time, so we did not save it yet. "
    "Everything you typed is still here: check it and select the button again."
)


def _save_new_item(event: Event, form: FeedbackForm) -> Response | None:
    """Save the posted item; None if the form needs showing again with its errors."""
    if not form.validate():
        return None
    try:
        svc.record_feedback(
            event, current_user, form.details(), idempotency_key=form.idempotency_key.data
        )
    except svc.CaptureError as error:
        db.session.rollback()
        _attach_error(form, error)
        return None
    db.session.commit()
    if form.respondent.data in Respondent._value2member_map_:
        session[RESPONDENT_SESSION_KEY] = form.respondent.data
    flash(_items_saved_message(svc.item_count(event)), "success")
    return redirect(url_for("capture.event", event_id=event.id))


def _add_feedback_signed_out(event_id: int) -> tuple[str, int]:
    return _signed_out_page(f"add:{event_id}")


def _add_feedback_expired(event_id: int) -> tuple[str, int]:
    if not current_user.is_authenticated:
        return _signed_out_page(f"add:{event_id}")
    if not can(current_user, "capture"):
        abort(403)
    event = managed_event_or_abort(event_id)
    # Not validated: only re-shown, with a fresh token in place of the stale one.
    form = FeedbackForm()
    form.set_priority_options(svc.priority_options(current_partnership()))
    flash(KEPT_MESSAGE, "important")
    return _render_event(event, form), 400


@bp.route("/events/<int:event_id>/feedback", methods=["POST"])
@requires("capture", signed_out=_add_feedback_signed_out)
def add_feedback(event_id: int) -> str | Response | tuple[str, int]:
    event = managed_event_or_abort(event_id)
    form = FeedbackForm()
    form.set_priority_options(svc.priority_options(current_partnership()))
    return _save_new_item(event, form) or _render_event(event, form)


def _item_back_link(item: Feedback) -> str:
    if item.event_id is not None:
        return url_for("capture.event", event_id=item.event_id)
    return url_for("capture.index")


def _save_changes(item: Feedback, form: FeedbackForm) -> Response | None:
    if not form.validate():
        return None
    try:
        svc.update_feedback(item, current_user, form.details())
    except svc.CaptureError as error:
        db.session.rollback()
        _attach_error(form, error)
        return None
    db.session.commit()
    flash("Item saved.", "success")
    return redirect(_item_back_link(item))


def _edit_feedback_signed_out(feedback_id: int) -> tuple[str, int]:
    return _signed_out_page(f"edit:{feedback_id}")


def _edit_feedback_expired(feedback_id: int) -> tuple[str, int]:
    if not current_user.is_authenticated:
        return _signed_out_page(f"edit:{feedback_id}")
    if not can(current_user, "capture"):
        abort(403)
    item = _visible_feedback_or_404(feedback_id)
    if not can_edit_feedback(current_user, item):
        abort(403)
    form = FeedbackForm()
    form.set_priority_options(svc.priority_options(current_partnership(), keep=item.priorities))
    form.submit.label.text = "Save changes"
    flash(KEPT_MESSAGE, "important")
    return _render_edit(item, form, _item_back_link(item)), 400


@bp.route("/feedback/<int:feedback_id>/edit", methods=["GET", "POST"])
@requires("capture", signed_out=_edit_feedback_signed_out)
def edit_feedback(feedback_id: int) -> str | Response | tuple[str, int]:
    item = _visible_feedback_or_404(feedback_id)
    back = _item_back_link(item)
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
            age_phase=item.age_phase,
            need_types=item.need_types,
            setting=item.setting,
            may_quote=item.may_quote,
            wants_reply=item.wants_reply,
            email=item.contact.email if item.contact else None,
            phone=item.contact.phone if item.contact else None,
        )
    form.set_priority_options(svc.priority_options(current_partnership(), keep=item.priorities))
    form.submit.label.text = "Save changes"
    if request.method == "POST":
        return _save_changes(item, form) or _render_edit(item, form, back)
    return _render_edit(item, form, back)


add_feedback.on_expired_form = _add_feedback_expired  # type: ignore[attr-defined]
edit_feedback.on_expired_form = _edit_feedback_expired  # type: ignore[attr-defined]


def _render_edit(item: Feedback, form: FeedbackForm, back: str) -> str:
    return render_template("capture/feedback_form.html", form=form, item=item, back=back)


# Signed out while the form was open


def _signed_out_page(resume: str, sign_in: ResumeForm | None = None) -> tuple[str, int]:
    """What they typed, kept on a page that signs them in and saves it in one step."""
    item_form = FeedbackForm(meta={"csrf": False})
    return (
        render_template(
            "capture/signed_out.html",
            item_form=item_form,
            form=sign_in or ResumeForm(resume=resume),
            kept_fields=_kept_fields(),
        ),
        401,
    )


def _kept_fields() -> list[tuple[str, str]]:
    """Every posted item field except the text (shown in a box) and the old tokens."""
    skip = {"text", "csrf_token", "submit", "resume"}
    return [
        (name, value)
        for name in request.form
        if name not in skip and not name.startswith("signin-")
        for value in request.form.getlist(name)
    ]


def _still_signed_out(response: Response) -> bool:
    # Only a refused sign-in counts towards the limit, as on the sign-in page.
    return response.status_code == 401


@bp.route("/resume", methods=["POST"])
@public
@limiter.limit(sign_in_limits, methods=["POST"], deduct_when=_still_signed_out)
@limiter.limit(
    sign_in_limits,
    methods=["POST"],
    key_func=lambda: signing_in_email("signin-email"),
    deduct_when=_still_signed_out,
)
def resume() -> str | Response | tuple[str, int]:
    """Sign in again and save the item that was typed before the session ended."""
    sign_in = ResumeForm()
    if not current_user.is_authenticated:
        if not sign_in.validate():
            return _signed_out_page(sign_in.resume.data or "", sign_in)
        user = authenticate(sign_in.email.data or "", sign_in.password.data or "")
        if user is None:
            sign_in.email.errors = [*sign_in.email.errors, WRONG_SIGN_IN]
            return _signed_out_page(sign_in.resume.data or "", sign_in)
        session.clear()
        login_user(user)
        db.session.commit()
    if not can(current_user, "capture"):
        abort(403)
    kind, _, raw_id = (sign_in.resume.data or "").partition(":")
    if not raw_id.isdigit() or kind not in ("add", "edit"):
        abort(400)
    # The sign-in form checked the token; the item's fields come from the same post.
    form = FeedbackForm(meta={"csrf": False})
    if kind == "add":
        event = managed_event_or_abort(int(raw_id))
        form.set_priority_options(svc.priority_options(current_partnership()))
        return _save_new_item(event, form) or _render_event(event, form)
    item = _visible_feedback_or_404(int(raw_id))
    back = _item_back_link(item)
    if not can_edit_feedback(current_user, item):
        return render_template("capture/cannot_edit.html", item=item, back=back), 403
    form.set_priority_options(svc.priority_options(current_partnership(), keep=item.priorities))
    form.submit.label.text = "Save changes"
    return _save_changes(item, form) or _render_edit(item, form, back)
