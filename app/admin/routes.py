from app.admin import bp
from app.services.permissions import requires


@bp.route("/")
@requires("administer")
def index() -> str:
    return "admin"
