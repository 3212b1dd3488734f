"""The public "You said, we did" pages and open data: readable by anyone, without signing in.

Everything shown comes from app.services.public_content, which reads published rows only.
"""

from __future__ import annotations

import json
from datetime import date

from flask import (
    Response,
    abort,
    current_app,
    make_response,
    redirect,
    render_template,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.wrappers import Response as WerkzeugResponse

from app.models.base import utcnow
from app.public import bp, outputs
from app.services import consent, public_content
from app.services.permissions import public
from app.services.text import slugify

# Public pages and files may sit in shared caches for this long (seconds).
PUBLIC_MAX_AGE = 300
# The accessibility statement's own dates, changed when the statement is reviewed.
ACCESSIBILITY_PREPARED = date(2026, 11, 23)
ACCESSIBILITY_REVIEWED = date(2026, 11, 23)


def _personal(response: Response) -> bool:
    """Whether this response belongs to one person and must not sit in a shared cache.

    A signed-in page carries the person's name and a sign-out token. A page that shows a flash
    message or sends a session cookie (as the first page after signing out does) would hand that
    message and cookie to whoever the cache serves next.
    """
    if current_user.is_authenticated or "Set-Cookie" in response.headers:
        return True
    if session.modified or "_flashes" in session or "_user_id" in session:
        return True
    # Flask re-sends a permanent session's cookie on every request.
    return bool(
        session
        and session.permanent
        and current_app.config.get("SESSION_REFRESH_EACH_REQUEST", True)
    )


def _cacheable(response: Response, *, open_data: bool = False) -> Response:
    if _personal(response):
        response.headers["Cache-Control"] = "private, no-store"
    else:
        response.cache_control.public = True
        response.cache_control.max_age = PUBLIC_MAX_AGE
    response.vary.add("Cookie")
    if open_data:
        # Open data is for anyone's programs, including scripts on other sites.
        response.headers["Access-Control-Allow-Origin"] = "*"
    return response


def _page(template: str, **context: object) -> Response:
    return _cacheable(make_response(render_template(template, **context)))


def _theme_url(slug: str) -> str:
    return url_for("public.theme", slug=slug, _external=True)


@bp.route("/")
@public
def home() -> WerkzeugResponse:
    return redirect(url_for("public.index"))


@bp.route("/you-said-we-did")
@public
def index() -> Response:
    page = public_content.published_page()
    return _page("public/index.html", page=page, also_about=public_content.also_about)


@bp.route("/you-said-we-did/<slug>")
@public
def theme(slug: str) -> Response:
    try:
        item = public_content.published_theme(slug)
    except public_content.PublicThemeNotFound:
        abort(404)
    return _page(
        "public/theme.html",
        theme=item,
        site=public_content.public_partnership(),
        strategy=public_content.active_strategy(),
    )


@bp.route("/you-said-we-did.json")
@public
def json_data() -> Response:
    page = public_content.published_page()
    document = outputs.json_document(
        page,
        page_url=url_for("public.index", _external=True),
        theme_url=_theme_url,
        generated_at=utcnow(),
    )
    response = make_response(json.dumps(document, ensure_ascii=False, indent=2) + "\n")
    response.mimetype = "application/json"
    return _cacheable(response, open_data=True)


@bp.route("/you-said-we-did.csv")
@public
def csv_data() -> Response:
    page = public_content.published_page()
    response = make_response(outputs.csv_text(page, _theme_url))
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{slugify(page.partnership.slug)}-you-said-we-did.csv"'
    )
    return _cacheable(response, open_data=True)


@bp.route("/you-said-we-did/feed.atom")
@public
def feed() -> Response:
    page = public_content.published_page()
    body = outputs.atom_feed(
        page,
        page_url=url_for("public.index", _external=True),
        feed_url=url_for("public.feed", _external=True),
        theme_url=_theme_url,
        now=utcnow(),
    )
    response = make_response(body)
    response.headers["Content-Type"] = "application/atom+xml; charset=utf-8"
    return _cacheable(response, open_data=True)


@bp.route("/open-data")
@public
def open_data() -> Response:
    return _page(
        "public/open_data.html",
        site=public_content.public_partnership(),
        outputs=outputs,
    )


@bp.route("/privacy-notice", defaults={"version": None})
@bp.route("/privacy-notice/<version>")
@public
def privacy_notice(version: str | None) -> Response:
    """The notice people read when they give consent; every version stays readable, because
    each consent records the version it was given under."""
    shown = consent.notice(version) if version else consent.CURRENT_NOTICE
    if shown is None:
        abort(404)
    return _page(
        "public/privacy_notice.html",
        shown=shown,
        notices=consent.NOTICES,
        current=consent.CURRENT_NOTICE,
    )


@bp.route("/accessibility")
@public
def accessibility() -> Response:
    return _page(
        "public/accessibility.html",
        site=public_content.public_partnership(),
        prepared=ACCESSIBILITY_PREPARED,
        reviewed=ACCESSIBILITY_REVIEWED,
    )
