from flask import Blueprint

bp = Blueprint("triage", __name__)

from app.triage import approvals, routes, safeguarding  # noqa: E402, F401
