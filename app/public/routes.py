from flask import redirect, url_for
from werkzeug.wrappers import Response

from app.public import bp
from app.services.permissions import public


@bp.route("/")
@public
def home() -> Response:
    return redirect(url_for("public.index"))


@bp.route("/you-said-we-did")
@public
def index() -> str:
    return "public"


@bp.route("/open-data")
@public
def open_data() -> str:
    return "open data"


@bp.route("/accessibility")
@public
def accessibility() -> str:
    return "accessibility"
