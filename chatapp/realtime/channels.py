"""The name of every Socket.IO room (a channel) the server broadcasts to, and the namespace.

A socket is put in channels by the handlers (chatapp/sockets/); services name channels when
they say what to announce (chatapp/realtime/announce.py). Nothing else spells these strings.
"""
from __future__ import annotations

# The one Socket.IO namespace of the protocol (docs/protocol.md).
NAMESPACE = "/"
# Where a widget visitor's socket keeps its visitor id: Flask-SocketIO's per-socket session,
# which lives in the server and is never written back to a cookie.
VISITOR_SESSION_KEY = "chatapp.visitor_id"
# Every visitor socket, for `agents_online`.
VISITORS_CHANNEL = "support:visitors"
# Every agent console socket, for `agent_status`.
AGENTS_CHANNEL = "support:agents"


def room_channel(slug: str) -> str:
    """The Socket.IO room that carries a chat room's broadcasts."""
    return f"room:{slug}"


def notes_channel(slug: str) -> str:
    """The Socket.IO room of a support conversation's staff sockets: internal notes go only here."""
    return f"staff:{slug}"


def agent_channel(user_id: int) -> str:
    """The console sockets of one agent: queue updates carry that agent's own unread counts."""
    return f"agent:{user_id}"


def visitor_channel(user_id: int) -> str:
    """The widget sockets of one visitor."""
    return f"visitor:{user_id}"


def user_channel(user_id: int) -> str:
    """Every logged-in socket of one account: notices meant for that person wherever they are."""
    return f"user:{user_id}"


def moderators_channel(slug: str) -> str:
    """The Socket.IO room of a chat room's moderator sockets: the log, join codes, mutes."""
    return f"mods:{slug}"


def member_channel(slug: str, user_id: int) -> str:
    """The sockets of one member in one chat room: their mute, their removal."""
    return f"member:{slug}:{user_id}"
