from app.respond import bp
from app.services.permissions import requires


@bp.route("/")
@requires("respond")
def index() -> str:
    return "respond"
