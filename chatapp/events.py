"""Socket.IO handlers: authenticate, validate, call a service, then emit and ack."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from flask import request
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from .extensions import db, socketio
from .models import User
from .services import messages as message_service
from .services import rooms as room_service
from .services.errors import ServiceError
from .services.presence import presence
from .services.ratelimit import check_rate
from .validation import parse_payload

log = logging.getLogger(__name__)


def room_channel(slug: str) -> str:
    """The Socket.IO room that carries a chat room's broadcasts."""
    return f"room:{slug}"


def acked(handler: Callable[[User, Any], dict]) -> Callable[[Any], dict]:
    """Run handler for the logged-in user and turn every outcome into a protocol ack."""

    @functools.wraps(handler)
    def wrapper(data: Any = None, *extra: Any) -> dict:
        try:
            if not current_user.is_authenticated:
                raise ServiceError("unauthorized", "Your session has ended; log in again.")
            return handler(current_user._get_current_object(), data)
        except ServiceError as error:
            db.session.rollback()
            return error.to_dict()
        except Exception:  # noqa: BLE001 - bad input never drops the connection
            db.session.rollback()
            log.exception("socket event %s failed", handler.__name__)
            return {"ok": False, "error": "invalid", "message": "The server could not handle that request; try again."}

    return wrapper


def presence_payload(slug: str) -> dict:
    """The presence event for a room: who is online in it now."""
    ids = presence.online(room=slug)
    users = db.session.scalars(db.select(User).where(User.id.in_(ids)).order_by(User.display_name)) if ids else []
    return {"room": slug, "online": [user.to_dict() for user in users]}


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Accept logged-in browsers; refuse everyone else with connect_error."""
    if not current_user.is_authenticated:
        try:
            check_rate(action="handshake", key=request.remote_addr)
            raise ServiceError("unauthorized", "Log in to chat.")
        except ServiceError as error:
            # The client's connect_error gets .message (text) and .data (the error object).
            raise ConnectionRefusedError(error.message, error.to_dict()) from None
    presence.connect(sid=request.sid, user_id=current_user.id)


@socketio.on("disconnect")
def on_disconnect(*args: Any) -> None:
    """Tell each room this socket was in if its user went offline."""
    for slug in presence.disconnect(sid=request.sid):
        emit("presence", presence_payload(slug), to=room_channel(slug))
    db.session.remove()


@socketio.on("join")
@acked
def on_join(user: User, data: Any) -> dict:
    """Enter a room: subscribe, then answer the latest messages or those after `after`."""
    payload = parse_payload(data, required={"room": str}, optional={"after": int})
    room = room_service.get_room(payload["room"])
    check_rate(action="join", key=user.id)
    room_service.enter_room(user=user, room=room)
    # Subscribe before reading, so a message stored meanwhile is broadcast or read, never neither.
    join_room(room_channel(room.slug))
    presence.enter(sid=request.sid, room=room.slug)
    page = message_service.catch_up(user=user, room=room, after=payload["after"])
    emit("presence", presence_payload(room.slug), to=room_channel(room.slug))
    return {
        "ok": True,
        "room": room.to_dict(),
        "messages": [message.to_dict() for message in page.messages],
        "more": page.more,
    }


@socketio.on("leave")
@acked
def on_leave(user: User, data: Any) -> dict:
    """Stop receiving a room's events."""
    payload = parse_payload(data, required={"room": str})
    room = room_service.get_room(payload["room"])
    leave_room(room_channel(room.slug))
    if presence.leave(sid=request.sid, room=room.slug):
        emit("presence", presence_payload(room.slug), to=room_channel(room.slug))
    return {"ok": True}


@socketio.on("send")
@acked
def on_send(user: User, data: Any) -> dict:
    """Store a message (once per client_id), then broadcast it and ack it."""
    payload = parse_payload(data, required={"room": str, "body": str, "client_id": str})
    room = room_service.get_room(payload["room"])
    result = message_service.post_message(
        sender=user, room=room, body=payload["body"], client_id=payload["client_id"]
    )
    message = result.message.to_dict()
    if result.created:
        emit("message", message, to=room_channel(room.slug))
    return {"ok": True, "message": message}


@socketio.on("history")
@acked
def on_history(user: User, data: Any) -> dict:
    """A page of older (before) or newer (after) messages."""
    payload = parse_payload(
        data, required={"room": str}, optional={"before": int, "after": int, "limit": int}
    )
    room = room_service.get_room(payload["room"])
    page = message_service.list_messages(
        user=user, room=room, before=payload["before"], after=payload["after"], limit=payload["limit"]
    )
    return {"ok": True, "messages": [message.to_dict() for message in page.messages], "more": page.more}


@socketio.on("typing")
@acked
def on_typing(user: User, data: Any) -> dict:
    """Tell the others in the room that this user started or stopped typing."""
    payload = parse_payload(data, required={"room": str, "typing": bool})
    room = room_service.get_room(payload["room"])
    room_service.ensure_can_enter(user=user, room=room)
    check_rate(action="typing", key=user.id)
    emit(
        "typing",
        {"room": room.slug, "user": user.to_dict(), "typing": payload["typing"]},
        to=room_channel(room.slug),
        include_self=False,
    )
    return {"ok": True}


def disconnect_user(user_id: int) -> None:
    """Close every open socket of a user (after logout, deactivation or a ban)."""
    for sid in presence.sockets_of(user_id=user_id):
        socketio.server.disconnect(sid, namespace="/")
