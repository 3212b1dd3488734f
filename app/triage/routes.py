from app.services.permissions import requires
from app.triage import bp


@bp.route("/")
@requires("triage")
def index() -> str:
    return "triage"
