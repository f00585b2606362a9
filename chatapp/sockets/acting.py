"""Whom a socket acts for, and every handler's outcome as a protocol ack (docs/protocol.md, "Acknowledgements")."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user

from ..extensions import db
from ..models import User
from ..realtime.channels import VISITOR_SESSION_KEY
from ..services import visitors as visitor_service
from ..services.errors import ServiceError

log = logging.getLogger("chatapp.sockets")


def socket_sid() -> str:
    """This socket's session id (Flask-SocketIO sets request.sid during an event; Flask's types do not know it)."""
    return request.sid  # type: ignore[attr-defined]


def acting_user() -> User | None:
    """Whom this socket acts for: its widget visitor if it connected with a visitor token, else the logged-in user."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if visitor_id is not None:
        return visitor_service.load_visitor(visitor_id)  # None once the visitor is deactivated or gone
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def acked(handler: Callable[[User, Any], dict]) -> Callable[..., dict]:
    """Run handler for the socket's acting user and turn every outcome into a protocol ack."""

    @functools.wraps(handler)
    def wrapper(data: Any = None, *extra: Any) -> dict:
        try:
            user = acting_user()
            if user is None:
                raise ServiceError("unauthorized", _("Your session has ended; log in again."))
            return handler(user, data)
        except ServiceError as error:
            db.session.rollback()
            return error.to_dict()
        except Exception:  # noqa: BLE001 - bad input never drops the connection
            db.session.rollback()
            log.exception("socket event %s failed", handler.__name__)
            return {
                "ok": False,
                "error": "invalid",
                "message": _("The server could not handle that request; try again."),
            }

    return wrapper
