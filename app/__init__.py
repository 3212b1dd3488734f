"""Application factory."""

from __future__ import annotations

import sqlite3
from typing import Any

from flask import Flask, jsonify, render_template, request, send_from_directory
from flask_wtf.csrf import CSRFError
from govuk_frontend_wtf.main import WTFormsHelpers
from jinja2 import ChoiceLoader, FileSystemLoader, PackageLoader, PrefixLoader
from sqlalchemy import event, text
from sqlalchemy.engine import Engine
from werkzeug.exceptions import HTTPException

from app.config import BASE_DIR, Config, config_from_environment
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.security import init_security


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA busy_timeout=5000")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


def create_app(config_class: type[Config] | None = None, **overrides: Any) -> Flask:
    config_class = config_class or config_from_environment()
    config_class.check()
    app = Flask(
        __name__,
        template_folder=str(BASE_DIR / "templates"),
        static_folder=str(BASE_DIR / "static"),
        instance_path=str(BASE_DIR / "instance"),
    )
    app.config.from_object(config_class)
    app.config.update(overrides)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        (BASE_DIR / "instance").mkdir(exist_ok=True)

    # Setting jinja_loader replaces Flask's own, so the top-level folder is listed here too.
    app.jinja_loader = ChoiceLoader(
        [
            FileSystemLoader(str(BASE_DIR / "templates")),
            PrefixLoader(
                {
                    "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                    "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
                }
            ),
        ]
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
    WTFormsHelpers(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(BASE_DIR / "migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    if app.config.get("TRUST_PROXY_HEADERS"):
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]
    _init_login(app)
    init_security(app)

    from app.services.scoping import forget_partnership

    app.before_request(forget_partnership)

    from app import templating

    templating.init_app(app)
    _register_blueprints(app)
    _register_errors(app)
    _register_health(app)

    from app.cli import register_cli

    register_cli(app)
    return app


def _init_login(app: Flask) -> None:
    from app.models import User

    login_manager.init_app(app)
    login_manager.login_view = "auth.sign_in"
    login_manager.login_message = "Sign in to see that page."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(user_id: str) -> User | None:
        ident, _, token = user_id.partition(":")
        if not ident.isdigit():
            return None
        user = db.session.get(User, int(ident))
        if user is None or not user.active or user.session_token != token:
            return None
        return user


def _register_blueprints(app: Flask) -> None:
    from app.admin import bp as admin_bp
    from app.auth import bp as auth_bp
    from app.capture import bp as capture_bp
    from app.public import bp as public_bp
    from app.respond import bp as respond_bp
    from app.say import bp as say_bp
    from app.triage import bp as triage_bp

    app.register_blueprint(public_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(capture_bp, url_prefix="/capture")
    app.register_blueprint(triage_bp, url_prefix="/triage")
    app.register_blueprint(respond_bp, url_prefix="/respond")
    app.register_blueprint(admin_bp, url_prefix="/admin")
    app.register_blueprint(say_bp, url_prefix="/say")

    from app.services.permissions import public

    # GOV.UK Frontend's CSS asks for fonts and images under /assets.
    @public
    def assets(filename: str) -> Any:
        response = send_from_directory(BASE_DIR / "static" / "govuk" / "assets", filename)
        response.cache_control.public = True
        response.cache_control.max_age = 86400
        return response

    app.add_url_rule("/assets/<path:filename>", "assets", assets)


def _register_errors(app: Flask) -> None:
    from app.services.scoping import NoPartnership

    @app.errorhandler(400)
    def bad_request(error: Any) -> Any:
        return render_template("errors/400.html"), 400

    @app.errorhandler(429)
    def too_many_requests(error: Any) -> Any:
        return render_template("errors/429.html"), 429

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        from flask_login import current_user

        from app.services.permissions import signed_out_json, wants_json

        if wants_json():
            # The offline queue keeps the item and asks again: with a fresh token if the page's
            # one went stale, after signing in if the session itself is gone.
            if not current_user.is_authenticated:
                return signed_out_json()
            response = jsonify(csrf_expired=True)
            response.status_code = 400
            response.headers["Cache-Control"] = "no-store"
            return response
        # A form that must never lose what was typed (capture) answers with the form again,
        # everything kept, instead of the general "page expired" page.
        view = app.view_functions.get(request.endpoint or "")
        keep = getattr(view, "on_expired_form", None)
        if keep is not None:
            try:
                return keep(**(request.view_args or {}))
            except HTTPException:
                pass
        return render_template("errors/csrf.html"), 400

    @app.errorhandler(403)
    def forbidden(error: Any) -> Any:
        return render_template("errors/403.html"), 403

    @app.errorhandler(404)
    def not_found(error: Any) -> Any:
        return render_template("errors/404.html"), 404

    @app.errorhandler(405)
    def method_not_allowed(error: Any) -> Any:
        return render_template("errors/404.html"), 405

    @app.errorhandler(409)
    def conflict(error: Any) -> Any:
        return render_template("errors/409.html", message=error.description), 409

    @app.errorhandler(NoPartnership)
    def no_partnership(error: Any) -> Any:
        return render_template("errors/no_partnership.html"), 503

    @app.errorhandler(500)
    def server_error(error: Any) -> Any:
        db.session.rollback()
        return render_template("errors/500.html"), 500


def _register_health(app: Flask) -> None:
    from app.services.permissions import public

    @public
    def healthz() -> Any:
        try:
            db.session.execute(text("SELECT 1"))
        except Exception:
            db.session.rollback()
            app.logger.exception("Health check: database unavailable")
            return jsonify(status="unavailable", database="unavailable"), 503
        return jsonify(status="ok", database="ok")

    app.add_url_rule("/healthz", "healthz", healthz)
