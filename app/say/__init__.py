"""Families' and young people's own form, reached from an event's link or poster: no sign-in."""

from flask import Blueprint

bp = Blueprint("say", __name__)

from app.say import routes  # noqa: E402, F401
