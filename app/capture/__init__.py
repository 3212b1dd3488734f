from flask import Blueprint

bp = Blueprint("capture", __name__)

# Each module adds its routes to bp; one line, so the import sorter leaves it alone.
from app.capture import bulk, offline, routes, safeguarding, self_submission  # noqa: E402, F401
