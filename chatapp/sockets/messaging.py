"""Messaging over sockets: edits, reactions, search, direct messages and unread counts."""
from __future__ import annotations

from typing import Any

from flask_socketio import join_room

from ..extensions import db
from ..models import User
from ..realtime.channels import room_channel
from ..services import anonymity
from ..services import direct as direct_service
from ..services import editing as editing_service
from ..services import reactions as reaction_service
from ..services import rooms as room_service
from ..services import search as search_service
from ..services import unread as unread_service
from ..validation import parse_payload
from .acting import acked


@acked
def on_edit_message(user: User, data: Any) -> dict:
    """The author replaces a message's body; the service tells the room (`message_updated`)."""
    payload = parse_payload(data, required={"room": str, "id": int, "body": str})
    room = room_service.get_room(payload["room"])
    result = editing_service.edit_message(editor=user, room=room, message_id=payload["id"], body=payload["body"])
    return {"ok": True, "message": anonymity.shown_to(result.message, viewer=user)}


@acked
def on_react(user: User, data: Any) -> dict:
    """Add (`on`) or take back one's emoji on a message; the service tells the room (`message_updated`)."""
    payload = parse_payload(data, required={"room": str, "id": int, "emoji": str, "on": bool})
    room = room_service.get_room(payload["room"])
    result = reaction_service.react(
        user=user, room=room, message_id=payload["id"], emoji=payload["emoji"], on=payload["on"]
    )
    return {"ok": True, "reactions": result.reactions}


@acked
def on_search(user: User, data: Any) -> dict:
    """Messages of one room matching a query, newest first."""
    payload = parse_payload(data, required={"room": str, "q": str}, optional={"limit": int})
    room = room_service.get_room(payload["room"])
    found = search_service.search_messages(user=user, room=room, query=payload["q"], limit=payload["limit"])
    return {"ok": True, "messages": anonymity.shown_all(found.messages, viewer=user, room=room), "more": found.more}


@acked
def on_open_direct(user: User, data: Any) -> dict:
    """The direct room of this user and another (made on first use); then `join` it like any room."""
    payload = parse_payload(data, required={"user_id": int})
    other = db.session.get(User, payload["user_id"])  # None: the service says no such account
    room = direct_service.open_direct_room(user=user, other=other)
    assert other is not None  # open_direct_room refused None
    return {"ok": True, "room": room.to_dict(), "partner": other.to_dict()}


@acked
def on_unread(user: User, data: Any) -> dict:
    """Unread counts of the rooms user is a member of; the socket then hears their `message` events
    (without joining them: no presence, no membership), so a room list can count on by itself."""
    parse_payload(data if data is not None else {}, required={})
    rooms = unread_service.watched_rooms(user=user)
    for room in rooms:
        join_room(room_channel(room.slug))
    counts = unread_service.unread_counts(user=user)
    return {"ok": True, "rooms": {room.slug: counts.get(room.id, 0) for room in rooms}}


HANDLERS = {
    "edit_message": on_edit_message, "react": on_react, "search": on_search, "open_direct": on_open_direct,
    "unread": on_unread,
}
