"""The admin area: the partnership, its users, its strategy and the audit log (admins only)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.wrappers import Response
from wtforms import SelectChoice

from app.admin import bp
from app.admin.forms import ROLE_HINTS, AuditFilterForm, UserCreateForm, UserEditForm
from app.extensions import db
from app.models import User
from app.models.vocab import Role
from app.services import admin
from app.services.permissions import requires
from app.services.scoping import current_partnership, get_scoped_or_404
from app.services.users import UserError

# UserError and AdminError name a field of the service; these are the form's fields.
_FORM_FIELD = {
    "email": "email",
    "name": "name",
    "role": "roles",
    "roles": "roles",
    "password": "password",
    "subgroup": "subgroups",
    "subgroups": "subgroups",
    "active": "active",
}


def _show_error(form: Any, exc: UserError | admin.AdminError) -> None:
    field = getattr(form, _FORM_FIELD.get(exc.field, ""), None)
    if field is None:
        form.form_errors.append(str(exc))
    else:
        field.errors = [*field.errors, str(exc)]


def _role_items() -> list[dict[str, Any]]:
    return [{"hint": {"text": ROLE_HINTS[role.value]}} for role in Role]


def _subgroup_label(sg: Any) -> str:
    return f"{sg.title} ({sg.code})"


@bp.route("/")
@requires("administer")
def index() -> str:
    return render_template("admin/index.html", overview=admin.overview(current_partnership()))


@bp.route("/users")
@requires("administer")
def users() -> str:
    return render_template("admin/users.html", users=admin.list_users(current_partnership()))


@bp.route("/users/new", methods=["GET", "POST"])
@requires("administer")
def user_new() -> str | Response:
    partnership = current_partnership()
    form = UserCreateForm()
    form.subgroups.choices = [
        SelectChoice(sg.id, _subgroup_label(sg)) for sg in admin.subgroup_choices(partnership)
    ]
    if form.validate_on_submit():
        try:
            user = admin.create_account(
                partnership,
                actor=current_user,
                name=form.name.data or "",
                email=form.email.data or "",
                password=form.password.data or "",
                roles=form.roles.data or [],
                subgroup_ids=form.subgroups.data or [],
            )
        except (UserError, admin.AdminError) as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            name = user.name
            db.session.commit()
            flash(f"Account created for {name}", "success")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_new.html", form=form, role_items=_role_items())


@bp.route("/users/<int:user_id>/edit", methods=["GET", "POST"])
@requires("administer")
def user_edit(user_id: int) -> str | Response:
    user = get_scoped_or_404(User, user_id)
    form = UserEditForm(
        roles=sorted(user.roles),
        subgroups=[sg.id for sg in user.subgroups],
        active="yes" if user.active else "no",
    )
    form.subgroups.choices = [
        SelectChoice(sg.id, _subgroup_label(sg))
        for sg in admin.subgroup_choices(user.partnership, user)
    ]
    if form.validate_on_submit():
        try:
            changes = admin.update_account(
                user,
                actor=current_user,
                roles=form.roles.data or [],
                subgroup_ids=form.subgroups.data or [],
                active=form.active.data == "yes",
            )
        except admin.AdminError as exc:
            db.session.rollback()
            _show_error(form, exc)
        else:
            name = user.name
            db.session.commit()
            flash(
                f"Changes saved for {name}" if changes.any else f"No changes for {name}", "success"
            )
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_edit.html",
        form=form,
        user=user,
        role_items=_role_items(),
        is_self=user.id == current_user.id,
    )


@bp.route("/strategy")
@requires("administer")
def strategy() -> str:
    partnership = current_partnership()
    return render_template("admin/strategy.html", overview=admin.overview(partnership))


@bp.route("/audit")
@requires("administer")
def audit() -> str:
    partnership = current_partnership()
    options = admin.audit_filter_options(partnership)
    form = AuditFilterForm(request.args)
    form.verb.choices = [
        SelectChoice("", "All actions"),
        *[SelectChoice(v, admin.verb_label(v)) for v in options.verbs],
    ]
    form.actor.choices = [
        SelectChoice("", "Anyone"),
        *[SelectChoice(a.actor, a.label) for a in options.actors],
    ]
    form.object_type.choices = [
        SelectChoice("", "All objects"),
        *[SelectChoice(t, admin.object_type_label(t)) for t in options.object_types],
    ]
    # A date that cannot be read is shown as an error and not used; the other filters still are.
    dates_ok = form.validate() if request.args else True
    actors = {a.actor for a in options.actors}
    # Only filter by values that exist, so a hand-edited URL cannot produce a confusing page.
    filters = admin.AuditFilters(
        verb=form.verb.data if form.verb.data in options.verbs else None,
        object_type=(
            form.object_type.data if form.object_type.data in options.object_types else None
        ),
        actor=form.actor.data if form.actor.data in actors else None,
        date_from=form.date_from.data if dates_ok else None,
        date_to=form.date_to.data if dates_ok else None,
    )
    log = admin.audit_log(
        partnership,
        filters,
        older=request.args.get("older", type=int),
        newer=request.args.get("newer", type=int),
    )

    def page_url(**cursor: int) -> str:
        return url_for("admin.audit") + "?" + urlencode([*filters.query_args(), *cursor.items()])

    return render_template(
        "admin/audit.html",
        form=form,
        log=log,
        filtered=filters.any,
        page_url=page_url,
    )
