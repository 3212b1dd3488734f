from __future__ import annotations

import secrets
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from werkzeug.wrappers import Response

from app.auth import bp
from app.auth.forms import SignInForm
from app.extensions import db, limiter
from app.services import dashboard
from app.services.permissions import can, public, requires
from app.services.users import authenticate


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths, so sign-in cannot be used to send people elsewhere."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


WRONG_SIGN_IN = "Enter a correct email address and password"


def signing_in_email(field: str = "email") -> str:
    """Rate-limit key: failed sign-ins count per email address, wherever the form is."""
    return "sign-in:" + (request.form.get(field) or "").strip().lower()


def _signing_in_email() -> str:
    return signing_in_email()


def failed_sign_in(response: Response) -> bool:
    # Only failed attempts count, so a shared office connection is not locked out by successes.
    return response.status_code != 302


def sign_in_limits() -> str:
    return current_app.config["SIGN_IN_LIMITS"]


@bp.route("/sign-in", methods=["GET", "POST"])
@public
@limiter.limit(sign_in_limits, methods=["POST"], deduct_when=failed_sign_in)
@limiter.limit(
    sign_in_limits, methods=["POST"], key_func=_signing_in_email, deduct_when=failed_sign_in
)
def sign_in() -> str | Response:
    if current_user.is_authenticated:
        return redirect(url_for("auth.home"))
    form = SignInForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data or "", form.password.data or "")
        if user is None:
            form.email.errors = [*form.email.errors, WRONG_SIGN_IN]
        else:
            session.clear()
            login_user(user)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")) or url_for("auth.home"))
    return render_template("auth/sign_in.html", form=form)


@bp.route("/sign-out", methods=["POST"])
@requires("signed_in")
def sign_out() -> Response:
    # A new token ends this session everywhere: a copy of the cookie (another tab, another
    # device, a shared computer's browser) is refused by the user loader from now on.
    current_user.session_token = secrets.token_hex(16)
    db.session.commit()
    logout_user()
    session.clear()
    flash("You have signed out.", "success")
    return redirect(url_for("public.index"))


@bp.route("/home")
@requires("signed_in")
def home() -> str:
    evidence = dashboard.evidence_for(current_user) if can(current_user, "reports") else None
    return render_template(
        "auth/home.html", summary=dashboard.summary_for(current_user), evidence=evidence
    )
