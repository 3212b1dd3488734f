"""The public form behind an event's link and poster: /say/<token> for parents, carers and
anyone else, /say/<token>/young for young people. Nobody signs in.

What arrives is saved as a new, private feedback item, exactly like one a volunteer logged; it
reaches a public page only if a coordinator later uses it in a theme and approves that.
"""

from __future__ import annotations

import uuid
from typing import Any

from flask import abort, current_app, redirect, render_template, request, session, url_for
from flask_wtf.csrf import validate_csrf
from werkzeug.wrappers import Response
from wtforms.validators import ValidationError

from app.extensions import csrf, db, limiter
from app.models import Event, Partnership
from app.say import bp
from app.say.forms import SayForm, YoungSayForm, message_for
from app.services import capture, consent, public_content
from app.services import self_submission as svc
from app.services.permissions import public
from app.services.scoping import speak_for

# What the thank-you page needs to know about the send it follows; never what was said.
SENT_SESSION_KEY = "self_submission_sent"


def _ip_limits() -> str:
    return current_app.config["SELF_SUBMISSION_LIMITS"]


def _link_limits() -> str:
    return current_app.config["SELF_SUBMISSION_LINK_LIMITS"]


def _link_key() -> str:
    return "say-link:" + str((request.view_args or {}).get("token", ""))


# Shared scopes: the parents' and the young people's form count together, per address and
# per link. Only sending counts; reading the form is never limited.
_per_address = limiter.shared_limit(_ip_limits, scope="self-submission", methods=["POST"])
_per_link = limiter.shared_limit(
    _link_limits, scope="self-submission-link", key_func=_link_key, methods=["POST"]
)


def young_notice_template(notice: consent.PrivacyNotice) -> str:
    """The young people's wording of a privacy notice version: same promises, simpler words."""
    return notice.template.removesuffix(".html") + "_young.html"


def _event_or_404(token: str) -> Event:
    event = svc.find_event(token)
    if event is None:
        abort(404)
    partnership = db.session.get(Partnership, event.partnership_id)
    assert partnership is not None
    speak_for(partnership)
    return event


def _form_endpoint(young: bool) -> str:
    return "say.young" if young else "say.form"


def _contact(event: Event) -> Any:
    partnership = db.session.get(Partnership, event.partnership_id)
    return public_content.public_partnership(partnership)


def _render_form(event: Event, form: SayForm | YoungSayForm, young: bool, **extra: Any) -> str:
    return render_template(
        "say/young.html" if young else "say/form.html",
        event=event,
        form=form,
        notice=consent.CURRENT_NOTICE,
        young_notice=young_notice_template(consent.CURRENT_NOTICE),
        **extra,
    )


def _closed(event: Event, young: bool, kept_text: str | None = None) -> str:
    # 200, not 410: the page is there and says what is going on, and a closed link can be
    # opened again (410 would tell browsers and search engines it has gone for good).
    return render_template(
        "say/closed.html",
        event=event,
        young=young,
        contact=_contact(event),
        kept_text=kept_text,
    )


def _csrf_valid() -> bool:
    """Checked here rather than by CSRFProtect, whose error page would lose what was typed."""
    if not current_app.config.get("WTF_CSRF_ENABLED", True):
        return True
    try:
        validate_csrf(request.form.get("csrf_token"))
    except ValidationError:
        return False
    return True


def _attach_error(form: SayForm | YoungSayForm, error: capture.CaptureError) -> None:
    field = getattr(form, error.field, None)
    if field is None:
        raise error
    field.errors = [*field.errors, message_for(form, error)]


def _say(token: str, young: bool) -> str | Response | tuple[str, int]:
    event = _event_or_404(token)
    form_class = YoungSayForm if young else SayForm
    thanks = url_for("say.thanks_young" if young else "say.thanks", token=token)
    if request.method == "GET":
        if not event.self_submission_open:
            return _closed(event, young)
        return _render_form(event, form_class(idempotency_key=uuid.uuid4().hex), young)

    form = form_class()
    if form.is_spam():
        # Answered as if saved, so the program learns nothing; nothing is kept.
        return redirect(thanks)
    if not event.self_submission_open:
        return _closed(event, young, kept_text=form.text.data)
    if not _csrf_valid():
        # A form left open for hours, or a phone that lost its cookies: keep every word, give
        # it a fresh token, and ask them to send it again. 400, as for any refused token.
        return _render_form(event, form, young, send_again=True), 400
    if form.validate():
        try:
            svc.submit(event, form.details(), form.idempotency_key.data)
        except capture.CaptureError as error:
            db.session.rollback()
            _attach_error(form, error)
        except svc.LinkClosed:
            db.session.rollback()
            return _closed(event, young, kept_text=form.text.data)
        else:
            db.session.commit()
            session[SENT_SESSION_KEY] = {"wants_reply": bool(form.wants_reply.data)}
            return redirect(thanks)
    return _render_form(event, form, young)


def _thanks(token: str, young: bool) -> str:
    event = _event_or_404(token)
    sent = session.pop(SENT_SESSION_KEY, None) or {}
    return render_template(
        "say/thanks.html",
        event=event,
        young=young,
        wants_reply=bool(sent.get("wants_reply")),
        form_url=url_for(_form_endpoint(young), token=token),
        contact=_contact(event),
    )


@bp.route("/<token>", methods=["GET", "POST"], strict_slashes=False)
@public
@csrf.exempt
@_per_address
@_per_link
def form(token: str) -> str | Response | tuple[str, int]:
    return _say(token, young=False)


@bp.route("/<token>/young", methods=["GET", "POST"], strict_slashes=False)
@public
@csrf.exempt
@_per_address
@_per_link
def young(token: str) -> str | Response | tuple[str, int]:
    return _say(token, young=True)


@bp.route("/<token>/thanks")
@public
def thanks(token: str) -> str:
    return _thanks(token, young=False)


@bp.route("/<token>/young/thanks")
@public
def thanks_young(token: str) -> str:
    return _thanks(token, young=True)


@bp.after_request
def _not_for_search_engines(response: Response) -> Response:
    # Each link belongs to one event's families; it has no place in search results.
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


@bp.errorhandler(404)
def _unknown_link(error: Any) -> tuple[str, int]:
    return render_template("say/unknown.html"), 404


@bp.errorhandler(429)
def _too_many(error: Any) -> tuple[str, int]:
    # Refused before the view ran: the link still names whose page this is.
    event = svc.find_event((request.view_args or {}).get("token"))
    if event is not None:
        partnership = db.session.get(Partnership, event.partnership_id)
        if partnership is not None:
            speak_for(partnership)
    # Shown instead of the form, so the words they typed are given back to copy.
    return render_template("say/too_many.html", kept_text=request.form.get("text")), 429
