"""Accounts: creating users, checking passwords (argon2id), roles and sub-group memberships."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import Iterable

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context

from app.extensions import db
from app.models import Partnership, SubGroup, User, UserRole
from app.models.base import utcnow
from app.models.vocab import Role
from app.services import audit

MIN_PASSWORD_LENGTH = 10


class UserError(ValueError):
    """A user could not be created; the message says which field and why."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def _hasher() -> PasswordHasher:
    # Tests hash hundreds of passwords: cheap parameters there, argon2-cffi's defaults elsewhere.
    if has_app_context() and current_app.config.get("PASSWORD_HASH_FAST"):
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# Verified against when the e-mail is unknown, so timing does not reveal who has an account.
_DUMMY_HASH: str | None = None


def authenticate(email: str, password: str) -> User | None:
    global _DUMMY_HASH
    user = db.session.scalars(
        sa.select(User).where(sa.func.lower(User.email) == email.strip().lower())
    ).first()
    if user is None or not user.active:
        if _DUMMY_HASH is None:
            _DUMMY_HASH = hash_password(secrets.token_hex(8))
        with contextlib.suppress(VerificationError, InvalidHashError):
            _hasher().verify(_DUMMY_HASH, password)
        return None
    if not check_password(user, password):
        return None
    user.last_login_at = utcnow()
    if _hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def normalise_email(email: str) -> str:
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise UserError(
            "email", "Enter an email address in the correct format, like name@example.com"
        ) from exc


def create_user(
    partnership: Partnership,
    *,
    email: str,
    name: str,
    password: str,
    roles: Iterable[str],
    subgroup_codes: Iterable[str] = (),
    actor: User | None = None,
) -> User:
    """Create a user, or raise UserError naming the bad field. Adds to the session only."""
    email = normalise_email(email)
    name = " ".join(name.split())
    if not name:
        raise UserError("name", "Enter the person's name")
    role_values = list(dict.fromkeys(roles))
    if not role_values:
        raise UserError("role", "Select at least one role")
    for role in role_values:
        if role not in Role._value2member_map_:
            allowed = ", ".join(r.value for r in Role)
            raise UserError("role", f"Unknown role {role!r}: use one of {allowed}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise UserError("password", f"Password must be {MIN_PASSWORD_LENGTH} characters or more")
    if db.session.scalars(sa.select(User.id).where(User.email == email)).first():
        raise UserError("email", f"A user with the email address {email} already exists")
    subgroups = find_subgroups(partnership, subgroup_codes)

    user = User(
        partnership=partnership,
        email=email,
        name=name,
        password_hash=hash_password(password),
        session_token=secrets.token_hex(16),
    )
    user.role_rows = [UserRole(role=r) for r in role_values]
    user.subgroups = subgroups
    db.session.add(user)
    db.session.flush()
    audit.record(
        "user.created", user, user=actor, roles=role_values, subgroups=[sg.code for sg in subgroups]
    )
    return user


def find_subgroups(partnership: Partnership, codes: Iterable[str]) -> list[SubGroup]:
    """Sub-groups by code in the partnership's strategies; an unknown code is a UserError."""
    wanted = [c.strip().upper() for c in codes if c.strip()]
    if not wanted:
        return []
    found = db.session.scalars(
        sa.select(SubGroup)
        .where(SubGroup.partnership_id == partnership.id, sa.func.upper(SubGroup.code).in_(wanted))
        .order_by(SubGroup.strategy_id.desc())
    ).all()
    by_code: dict[str, SubGroup] = {}
    for sg in found:
        by_code.setdefault(sg.code.upper(), sg)
    missing = [c for c in wanted if c not in by_code]
    if missing:
        known = db.session.scalars(
            sa.select(SubGroup.code).where(SubGroup.partnership_id == partnership.id).distinct()
        ).all()
        hint = f" Known codes: {', '.join(sorted(known))}." if known else " It has no sub-groups."
        raise UserError(
            "subgroup",
            f"No sub-group with the code {', '.join(missing)} in {partnership.name}.{hint}",
        )
    return [by_code[c] for c in wanted]
