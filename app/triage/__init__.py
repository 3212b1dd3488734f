from flask import Blueprint

bp = Blueprint("triage", __name__)

from app.triage import approvals, redaction, routes, safeguarding, theme_ops  # noqa: E402, F401
