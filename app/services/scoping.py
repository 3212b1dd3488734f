"""Tenancy: every query of partnership data goes through here, so none can cross partnerships."""

from __future__ import annotations

from typing import Any, TypeVar

import sqlalchemy as sa
from flask import abort, current_app, g
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from app.extensions import db
from app.models import Partnership

M = TypeVar("M")


class NoPartnership(Exception):
    """Raised when a page needs a partnership and the installation has none yet."""


def current_partnership() -> Partnership:
    """The signed-in user's partnership; for the public, the configured (or only) one."""
    cached = g.get("partnership")
    if cached is not None:
        return cached
    partnership: Partnership | None = None
    if current_user.is_authenticated:
        partnership = current_user.partnership
    else:
        slug = current_app.config.get("PARTNERSHIP_SLUG")
        stmt = sa.select(Partnership)
        stmt = stmt.where(Partnership.slug == slug) if slug else stmt.order_by(Partnership.id)
        partnership = db.session.scalars(stmt.limit(1)).first()
    if partnership is None:
        raise NoPartnership()
    g.partnership = partnership
    return partnership


def speak_for(partnership: Partnership) -> None:
    """For a public page reached through one partnership's own link (an event's link for
    families): the rest of the request, its masthead and its notices, are that partnership's."""
    g.partnership = partnership


def forget_partnership() -> None:
    """Run before each request: the cache must never outlive the request that filled it."""
    g.pop("partnership", None)


def optional_partnership() -> Partnership | None:
    try:
        return current_partnership()
    except NoPartnership:
        return None
    except SQLAlchemyError:
        # Error pages must still render when the database is what failed.
        db.session.rollback()
        return None


def scoped(model: type[M], *criteria: Any, partnership: Partnership | None = None) -> sa.Select:
    """select(model) limited to one partnership's rows."""
    p = partnership or current_partnership()
    return sa.select(model).where(model.partnership_id == p.id, *criteria)  # type: ignore[attr-defined]


def get_scoped(model: type[M], ident: int, partnership: Partnership | None = None) -> M | None:
    return db.session.scalars(
        scoped(model, model.id == ident, partnership=partnership)  # type: ignore[attr-defined]
    ).first()


def get_scoped_or_404(model: type[M], ident: int) -> M:
    obj = get_scoped(model, ident)
    if obj is None:
        abort(404)
    return obj
