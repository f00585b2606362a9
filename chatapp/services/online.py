"""Who is online in a room, as the protocol's `presence` event says it, and telling the room."""
from __future__ import annotations

from ..realtime.announce import announce
from ..realtime.channels import room_channel
from ..realtime.connections import take_out_of_room
from ..realtime.presence import presence
from .accounts import users_by_ids


def is_connected(user_id: int) -> bool:
    """Whether user has a socket open now, in any process sharing presence (a visitor: the widget is open)."""
    return bool(presence.sockets_of(user_id=user_id))


def presence_event(slug: str) -> dict:
    """The presence event for a room: who is online in it now."""
    users = users_by_ids(presence.online(room=slug))
    return {"room": slug, "online": [user.to_dict() for user in users]}


def announce_presence(slug: str, *, to: str | None = None) -> None:
    """Send the room's presence to everyone in it (or only to `to`, one socket)."""
    announce("presence", presence_event(slug), to=to or room_channel(slug))


def announce_taken_out(*, user_id: int, slug: str) -> None:
    """After a removal or ban: the user's sockets stop hearing the room; the room hears if they went offline."""
    if take_out_of_room(user_id=user_id, slug=slug):
        announce_presence(slug)
