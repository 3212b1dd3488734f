from app.capture import bp
from app.services.permissions import requires


@bp.route("/")
@requires("capture")
def index() -> str:
    return "capture"
