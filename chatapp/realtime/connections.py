"""Acting on open sockets wherever they are: closing them, and moving them in or out of channels.

Every process that shares the presence backend sees every socket (chatapp/realtime/presence.py),
and Socket.IO's message queue carries a disconnect or a channel change to the process that holds
the socket, so these work across processes. Services call them after their commit.
"""
from __future__ import annotations

from ..extensions import socketio
from .channels import NAMESPACE, member_channel, moderators_channel, room_channel
from .presence import presence


def disconnect_user(user_id: int) -> None:
    """Close every open socket of a user (after logout, deactivation or a ban)."""
    for sid in presence.sockets_of(user_id=user_id):
        socketio.server.disconnect(sid, namespace=NAMESPACE)


def take_out_of_room(*, user_id: int, slug: str) -> bool:
    """Make a user's sockets stop hearing a room and leave its presence; whether the user went offline there."""
    went_offline = False
    for sid in presence.sockets_of(user_id=user_id):
        for channel in (room_channel(slug), moderators_channel(slug), member_channel(slug, user_id)):
            socketio.server.leave_room(sid, channel, namespace=NAMESPACE)
        went_offline = presence.leave(sid=sid, room=slug) or went_offline
    return went_offline


def set_moderator_channel(*, user_id: int, slug: str, moderator: bool) -> None:
    """A promoted moderator's sockets in the room start hearing the moderators' events; a demoted one's stop."""
    for sid in presence.sockets_of(user_id=user_id):
        if slug not in presence.rooms_of(sid=sid):
            continue
        if moderator:
            socketio.server.enter_room(sid, moderators_channel(slug), namespace=NAMESPACE)
        else:
            socketio.server.leave_room(sid, moderators_channel(slug), namespace=NAMESPACE)
