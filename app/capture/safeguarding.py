"""Flag a safeguarding concern from capture: a volunteer who hears something worrying passes the
item to the safeguarding leads from the event page, without waiting for triage."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextArea
from sqlalchemy.exc import IntegrityError
from werkzeug.wrappers import Response
from wtforms import SubmitField, TextAreaField
from wtforms.validators import DataRequired, Length

from app.capture import bp
from app.extensions import db
from app.forms import BaseForm
from app.models import Feedback
from app.services import safeguarding as safeguarding_service
from app.services.permissions import can, can_manage_event, can_see_feedback, requires
from app.services.scoping import get_scoped_or_404

KEPT_MESSAGE = (
    "This page was open for a long time, so we did not send it yet. What you typed is still "
    "here: check it and select the button again."
)


class FlagForm(BaseForm):
    note = TextAreaField(
        "What is the concern?",
        widget=GovTextArea(),
        description=(
            "A short note for the safeguarding lead: what worried you, and anything you have "
            "already done."
        ),
        validators=[
            DataRequired(message=safeguarding_service.ENTER_NOTE),
            Length(
                max=safeguarding_service.NOTE_MAX_LENGTH,
                message=safeguarding_service.NOTE_TOO_LONG,
            ),
        ],
    )
    submit = SubmitField("Flag as a safeguarding concern", widget=GovSubmitInput())


def _item_or_404(feedback_id: int) -> Feedback:
    item = get_scoped_or_404(Feedback, feedback_id)
    # Raw feedback is private: someone who may not read it is not told it exists. A flagged
    # item has left capture for everyone; only the safeguarding pages show it.
    if item.safeguarding_flag or not can_see_feedback(current_user, item):
        abort(404)
    return item


def _back(item: Feedback) -> str:
    if item.event is not None and can_manage_event(current_user, item.event):
        return url_for("capture.event", event_id=item.event.id)
    return url_for("capture.index")


def _render(item: Feedback, form: FlagForm, status: int = 200) -> tuple[str, int]:
    return render_template(
        "capture/safeguarding_flag.html",
        item=item,
        flag_form=form,
        back=_back(item),
        form=form if form.errors else None,
    ), status


@bp.route("/feedback/<int:feedback_id>/safeguarding", methods=["GET", "POST"])
@requires("capture")
def flag_safeguarding(feedback_id: int) -> tuple[str, int] | Response:
    item = _item_or_404(feedback_id)
    form = FlagForm()
    if not form.validate_on_submit():
        return _render(item, form)
    back = _back(item)
    try:
        told = safeguarding_service.flag(item, current_user, form.note.data)
        db.session.commit()
    except safeguarding_service.SafeguardingError as error:
        db.session.rollback()
        if error.field != "note":
            abort(409, description=error.message)
        form.note.errors = [*form.note.errors, error.message]
        return _render(item, form)
    except IntegrityError:
        # Someone flagged it in the same moment: their alerts (same references) went first.
        db.session.rollback()
        told = 1
    if told:
        flash(
            "Thank you. The safeguarding lead has been told, and the item has been taken out of "
            "the lists: only safeguarding leads can see it now.",
            "success",
        )
    else:
        # Nobody to e-mail: the volunteer must not walk away thinking someone knows.
        flash(
            "The item is flagged and has been taken out of the lists, but your partnership has "
            "no safeguarding lead to tell. Follow your safeguarding procedure now and tell your "
            "coordinator.",
            "important",
        )
    return redirect(back)


def _flag_expired(feedback_id: int) -> tuple[str, int]:
    """An expired form token: the form again with the note kept, not the general error page."""
    if not current_user.is_authenticated:
        abort(400)
    if not can(current_user, "capture"):
        abort(403)
    item = _item_or_404(feedback_id)
    flash(KEPT_MESSAGE, "important")
    # Not validated: only re-shown, with a fresh token in place of the stale one.
    return _render(item, FlagForm(), status=400)


flag_safeguarding.on_expired_form = _flag_expired  # type: ignore[attr-defined]
