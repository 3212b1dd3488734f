"""Subject access and erasure pages (admins only).

The person's e-mail address or phone number travels in POST bodies, never in a URL, so that it
stays out of server logs, browser history and Referer headers. Looking someone up changes
nothing but the audit log, so the results answer the POST directly rather than redirecting.
"""

from __future__ import annotations

import json

from flask import abort, flash, redirect, render_template, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovSubmitInput, GovTextInput
from werkzeug.wrappers import Response
from wtforms import HiddenField, StringField, SubmitField
from wtforms.validators import Length

from app.admin import bp
from app.extensions import db
from app.forms import BaseForm
from app.services import subject_access
from app.services.permissions import requires
from app.services.scoping import current_partnership


class SubjectSearchForm(BaseForm):
    email = StringField(
        "Email address",
        widget=GovTextInput(),
        validators=[Length(max=320, message="Email address must be 320 characters or fewer")],
    )
    phone = StringField(
        "Phone number",
        widget=GovTextInput(),
        description="A UK number, like 07700 900 982 or 0161 496 0000",
        validators=[Length(max=40, message="Phone number must be 40 characters or fewer")],
    )
    submit = SubmitField("Find what we hold", widget=GovSubmitInput())


class SubjectForm(BaseForm):
    """The subject, carried from the results page to the export and erasure buttons."""

    email = HiddenField()
    phone = HiddenField()
    # What the admin saw when they confirmed; an erasure of anything else is refused.
    fingerprint = HiddenField()
    confirm = HiddenField()
    format = HiddenField()


def _subject_or_400(form: SubjectForm) -> subject_access.Subject:
    """The buttons only ever send what the search already accepted: anything else was not
    sent by our pages."""
    if not form.validate():
        abort(400)
    try:
        return subject_access.subject_from(form.email.data, form.phone.data)
    except subject_access.SubjectAccessError:
        abort(400)


def _results(form: SubjectSearchForm | None, held: subject_access.Held) -> str:
    return render_template(
        "admin/subject_access_results.html",
        search_form=form,
        held=held,
        reference=held.subject.reference(),
    )


@bp.route("/subject-access", methods=["GET", "POST"])
@requires("administer")
def subject_access_search() -> str:
    form = SubjectSearchForm()
    if form.validate_on_submit():
        try:
            subject = subject_access.subject_from(form.email.data, form.phone.data)
        except subject_access.SubjectAccessError as exc:
            field = getattr(form, exc.field)
            field.errors = [*field.errors, str(exc)]
        else:
            held = subject_access.find(current_partnership(), subject)
            subject_access.record_search(held, current_user)
            db.session.commit()
            return _results(form, held)
    return render_template("admin/subject_access.html", form=form)


@bp.route("/subject-access/export", methods=["POST"])
@requires("administer")
def subject_access_export() -> str | Response:
    form = SubjectForm()
    subject = _subject_or_400(form)
    export_format = form.format.data or ""
    if export_format not in subject_access.EXPORT_FORMATS:
        abort(400)
    held = subject_access.find(current_partnership(), subject)
    subject_access.record_export(held, current_user, export_format)
    db.session.commit()
    if export_format == "page":
        return render_template(
            "admin/subject_access_page.html", held=held, reference=held.subject.reference()
        )
    body = json.dumps(subject_access.as_json(held), indent=2, ensure_ascii=False)
    filename = f"subject-access-{held.subject.reference()}-{held.looked_up_at:%Y-%m-%d}.json"
    return Response(
        body + "\n",
        mimetype="application/json",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@bp.route("/subject-access/erase", methods=["POST"])
@requires("administer")
def subject_access_erase() -> str | Response:
    form = SubjectForm()
    subject = _subject_or_400(form)
    held = subject_access.find(current_partnership(), subject)
    if not held.found:
        flash("Nothing is held for these details, so there is nothing to erase.", "info")
        return redirect(url_for("admin.subject_access_search"))
    changed = form.confirm.data == "yes" and form.fingerprint.data != held.fingerprint()
    if form.confirm.data != "yes" or changed:
        return render_template(
            "admin/subject_access_erase.html",
            held=held,
            reference=held.subject.reference(),
            changed=changed,
        )
    erasure = subject_access.erase(held, current_user)
    db.session.commit()
    flash(_erased_message(erasure), "success")
    return redirect(url_for("admin.subject_access_search"))


def _erased_message(erasure: subject_access.Erasure) -> str:
    """What was erased, in counts: the banner never repeats the address or number."""

    def n(count: int, one: str, many: str) -> str:
        return f"{count} {one if count == 1 else many}"

    parts = [
        n(erasure.contacts, "contact record", "contact records") + " deleted",
        "the words of " + n(erasure.items, "feedback item", "feedback items") + " deleted",
    ]
    if erasure.mentions:
        parts.append(
            "their details taken out of " + n(erasure.mentions, "other item", "other items")
        )
    if erasure.messages:
        parts.append(n(erasure.messages, "message", "messages") + " deleted")
    return f"Erased: {', '.join(parts)}. Reference {erasure.reference}"
