"""Admin: the partnership's own words for the personal-details check (PrivateTerm rows).

Schools, settings, staff and places the first-name list cannot know. The checker looks for each
one in every text about to be published and in the raw feedback shown in triage.
"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_login import current_user
from govuk_frontend_wtf.wtforms_widgets import GovRadioInput, GovSubmitInput, GovTextArea
from werkzeug.wrappers import Response
from wtforms import RadioField, SubmitField, TextAreaField
from wtforms.validators import DataRequired, InputRequired

from app.admin import bp
from app.extensions import db
from app.forms import BaseForm, vocab_choices
from app.models import PrivateTerm
from app.models.vocab import PrivateTermKind
from app.services import personal_details
from app.services.permissions import requires
from app.services.personal_details import KINDS, TERM_KINDS, PersonalDetailsError
from app.services.scoping import current_partnership, get_scoped_or_404

KIND_HINTS = {
    PrivateTermKind.SCHOOL.value: "Replaced with [school]",
    PrivateTermKind.SETTING.value: (
        "A nursery, club, respite service or unit. Replaced with [setting]"
    ),
    PrivateTermKind.PERSON.value: "A member of staff or anyone else. Replaced with [name]",
    PrivateTermKind.PLACE.value: "An estate, street or village. Replaced with [place]",
    PrivateTermKind.OTHER.value: "Replaced with [removed]",
}


class TermsForm(BaseForm):
    terms = TextAreaField(
        "Words to look for",
        widget=GovTextArea(),
        description=(
            "Put each one on its own line, for example Oakfield Primary. Capital letters do not "
            "matter: oakfield primary is found too."
        ),
        validators=[DataRequired(message="Enter a name, school, setting or place")],
    )
    kind = RadioField(
        "What are they?",
        choices=vocab_choices(PrivateTermKind),
        # The service checks the choice, with GOV.UK wording.
        validate_choice=False,
        widget=GovRadioInput(),
        validators=[InputRequired(message="Select what kind of word it is")],
    )
    submit = SubmitField("Add to the list", widget=GovSubmitInput())


def _render(form: TermsForm, status: int = 200) -> tuple[str, int]:
    terms = personal_details.list_terms(current_partnership())
    return render_template(
        "admin/terms.html",
        form=form,
        terms=terms,
        kind_items=[{"hint": {"text": KIND_HINTS[k.value]}} for k in PrivateTermKind],
        kind_label=lambda kind: PrivateTermKind(kind).label,
        replacement=lambda kind: KINDS[TERM_KINDS.get(kind, personal_details.PRIVATE)].replacement,
    ), status


@bp.route("/private-words", methods=["GET", "POST"])
@requires("administer")
def terms() -> tuple[str, int] | Response:
    form = TermsForm()
    if not form.validate_on_submit():
        return _render(form)
    try:
        added = personal_details.add_terms(
            current_partnership(), current_user, form.kind.data, form.terms.data
        )
    except PersonalDetailsError as error:
        db.session.rollback()
        field = getattr(form, error.field or "terms")
        field.errors = [*field.errors, error.message]
        return _render(form)
    db.session.commit()
    if len(added) == 1:
        flash(f"“{added[0].term}” is added to the list.", "success")
    else:
        flash(f"{len(added)} words are added to the list.", "success")
    return redirect(url_for("admin.terms"))


@bp.route("/private-words/<int:term_id>/delete", methods=["POST"])
@requires("administer")
def delete_term(term_id: int) -> Response:
    term = get_scoped_or_404(PrivateTerm, term_id)
    word = term.term
    personal_details.delete_term(term, current_user)
    db.session.commit()
    flash(f"“{word}” is taken off the list. The check no longer looks for it.", "success")
    return redirect(url_for("admin.terms"))
