from flask import Blueprint

bp = Blueprint("capture", __name__)

from app.capture import routes  # noqa: E402, F401
