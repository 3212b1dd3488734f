from flask import Blueprint

bp = Blueprint("admin", __name__)

from app.admin import routes, subject_access, terms  # noqa: E402, F401
