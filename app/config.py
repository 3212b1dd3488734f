"""Configuration read from the environment. Production refuses insecure defaults."""

from __future__ import annotations

import os
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
INSTANCE_DIR = BASE_DIR / "instance"


def _database_url() -> str:
    url = os.environ.get("DATABASE_URL", "").strip()
    if not url:
        return f"sqlite:///{INSTANCE_DIR / 'ysyd.sqlite3'}"
    # Hosting platforms hand out postgres:// URLs; SQLAlchemy needs the psycopg 3 dialect named.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


class Config:
    ENV_NAME = "production"
    SECRET_KEY: str | None = os.environ.get("SECRET_KEY")
    SQLALCHEMY_DATABASE_URI = _database_url()
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = 60 * 60 * 12
    WTF_CSRF_TIME_LIMIT = 60 * 60 * 12
    MAX_CONTENT_LENGTH = 5 * 1024 * 1024
    # Which partnership the public pages show when the installation hosts several.
    PARTNERSHIP_SLUG = os.environ.get("PARTNERSHIP_SLUG", "")
    SERVICE_NAME = os.environ.get("SERVICE_NAME", "You said, we did")
    # Where people reach the service, like https://feedback.example.gov.uk: links in e-mails
    # written outside a request (cron) need it, and inside one it wins over the Host header,
    # so a forged header can never point a safeguarding alert somewhere else.
    BASE_URL = os.environ.get("BASE_URL", "").strip()
    # Behind a reverse proxy that sets X-Forwarded-For/-Proto (most hosting), trust one hop.
    TRUST_PROXY_HEADERS = os.environ.get("TRUST_PROXY_HEADERS", "") == "1"
    # memory:// counts per process; with several gunicorn workers use a shared store.
    RATELIMIT_STORAGE_URI = os.environ.get("RATELIMIT_STORAGE_URI", "memory://")
    RATELIMIT_HEADERS_ENABLED = True
    SIGN_IN_LIMITS = "10 per minute; 50 per hour"
    # Families' own form (/say/<token>). Per address: a venue's wifi or a mobile network puts
    # many phones behind one address, so this is generous; per link: a poster's link pasted
    # somewhere it should not be cannot flood an event.
    SELF_SUBMISSION_LIMITS = "15 per minute; 100 per hour"
    SELF_SUBMISSION_LINK_LIMITS = "30 per minute; 300 per hour"

    @classmethod
    def check(cls) -> None:
        if not cls.SECRET_KEY:
            raise RuntimeError(
                "SECRET_KEY is not set. Set it to a long random value, for example the output "
                'of: python -c "import secrets; print(secrets.token_hex(32))"'
            )


class DevelopmentConfig(Config):
    ENV_NAME = "development"
    SECRET_KEY = os.environ.get("SECRET_KEY") or "development-only-not-secret"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_SECURE = False

    @classmethod
    def check(cls) -> None:
        return None


class TestConfig(DevelopmentConfig):
    ENV_NAME = "test"
    TESTING = True
    SECRET_KEY = "test-only-not-secret"  # noqa: S105
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    WTF_CSRF_ENABLED = True
    PASSWORD_HASH_FAST = True
    # Tests sign in many times a minute from one address; the limit has its own test.
    RATELIMIT_ENABLED = False
    # Services that write e-mails outside a request (tests call them directly) link here.
    BASE_URL = "http://localhost"


def config_from_environment() -> type[Config]:
    """Production unless APP_ENV says otherwise, so a forgotten variable fails safe."""
    name = os.environ.get("APP_ENV", "production").strip().lower()
    if name in ("development", "dev"):
        return DevelopmentConfig
    if name == "production":
        return Config
    raise RuntimeError(f"APP_ENV must be 'production' or 'development', not {name!r}")
