"""The volunteer's side of an event's own link: open it, close it, print its poster."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from werkzeug.wrappers import Response

from app.capture import bp
from app.capture.routes import managed_event_or_abort
from app.extensions import db
from app.models import Event
from app.services import qr
from app.services import self_submission as svc
from app.services.permissions import requires

PANEL_ANCHOR = "self-submission"


def _back_to_panel(event: Event) -> Response:
    return redirect(url_for("capture.event", event_id=event.id, _anchor=PANEL_ANCHOR))


@bp.route("/events/<int:event_id>/self-submission/open", methods=["POST"])
@requires("capture")
def open_self_submission(event_id: int) -> Response:
    event = managed_event_or_abort(event_id)
    reopening = event.self_submission_token is not None
    svc.open_link(event, current_user)
    db.session.commit()
    if reopening:
        flash("The link is open again. Posters you printed before work again.", "success")
    else:
        flash("The link is open. Families and young people can now use it.", "success")
    return _back_to_panel(event)


@bp.route("/events/<int:event_id>/self-submission/close", methods=["POST"])
@requires("capture")
def close_self_submission(event_id: int) -> Response:
    event = managed_event_or_abort(event_id)
    svc.close_link(event, current_user)
    db.session.commit()
    flash("The link is closed. Nobody can send anything through it now.", "success")
    return _back_to_panel(event)


@bp.route("/events/<int:event_id>/poster")
@requires("capture")
def poster(event_id: int) -> str | Response:
    return _poster(event_id, young=False)


@bp.route("/events/<int:event_id>/poster/young")
@requires("capture")
def young_poster(event_id: int) -> str | Response:
    return _poster(event_id, young=True)


def _poster(event_id: int, *, young: bool) -> str | Response:
    """A printable A4 page: the QR code, the address written out, and what to do."""
    event = managed_event_or_abort(event_id)
    if event.self_submission_token is None:
        flash("Open the link first, then print the poster.", "info")
        return _back_to_panel(event)
    endpoint = "say.young" if young else "say.form"
    url = url_for(endpoint, token=event.self_submission_token, _external=True)
    whose = "the young people's form" if young else "the form"
    return render_template(
        "capture/poster.html",
        event=event,
        young=young,
        url=url,
        qr_svg=qr.svg(
            url,
            title="QR code for the form",
            description=f"QR code. Scan it to open {whose} for {event.name}, at {url}",
        ),
        is_open=event.self_submission_open,
    )
