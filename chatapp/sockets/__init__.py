"""The Socket.IO handlers, one module per area as the blueprints are; create_app registers them.

Each handler is a door like a view: it parses the payload, calls one service function and
answers the ack. The services commit and say what everyone else hears (chatapp/realtime/);
a handler itself only moves its own socket in and out of channels and answers it.
"""
from __future__ import annotations

from typing import Any, Callable

from flask_socketio import SocketIO

from . import connection, messaging, moderation, polls, rooms, support

AREAS = (connection, rooms, support, messaging, moderation, polls)


def register_handlers(socketio: SocketIO) -> None:
    """Give every handler of every area to the Socket.IO server (call after socketio.init_app)."""
    for area in AREAS:
        handlers: dict[str, Callable[..., Any]] = area.HANDLERS
        for event_name, handler in handlers.items():
            socketio.on_event(event_name, handler)
