"""Views of the API blueprint."""
from flask import jsonify, request
from flask_babel import gettext as _
from flask_login import current_user

from ..services import messages as message_service
from ..services import rooms as room_service
from ..services.errors import ServiceError
from .blueprint import bp


def _int_arg(name: str) -> int | None:
    """Parse query argument `name` as a whole number (absent or empty: None), else raise invalid."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)  # the service checks the range, as for the socket events
    except ValueError:
        raise ServiceError("invalid", _("%(name)s must be a whole number.", name=name)) from None


@bp.get("/rooms/<slug>/messages")
def room_messages(slug: str):
    """A page of a room's messages; same rules and shape as the `history` event."""
    if not current_user.is_authenticated:
        raise ServiceError("unauthorized", _("Log in first."))
    room = room_service.get_room(slug)
    page = message_service.list_messages(
        user=current_user, room=room, before=_int_arg("before"), after=_int_arg("after"), limit=_int_arg("limit")
    )
    return jsonify(ok=True, messages=[message.to_dict() for message in page.messages], more=page.more)
