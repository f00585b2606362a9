"""Socket.IO handlers of messaging: edits, search, direct messages, unread counts and @mention notices.

Thin like the rest (chatapp/events.py): parse, call one service, emit after the commit, ack.
"""
from __future__ import annotations

from typing import Any

from flask_socketio import emit, join_room

from .events import acked, notes_channel, room_channel
from .extensions import db, socketio
from .models import Message, User
from .services import direct as direct_service
from .services import editing as editing_service
from .services import rooms as room_service
from .services import search as search_service
from .services import unread as unread_service
from .validation import parse_payload


def user_channel(user_id: int) -> str:
    """Every logged-in socket of one account: notices meant for that person wherever they are."""
    return f"user:{user_id}"


def subscribe_own(*, user_id: int) -> None:
    """On connect: this socket hears what is meant for its user (`mention`)."""
    join_room(user_channel(user_id))


def message_channel(message: Message) -> str:
    """Where news of a message goes: its room, or only the staff of a support conversation for a note."""
    return notes_channel(message.room.slug) if message.internal else room_channel(message.room.slug)


def announce_mentions(message: Message, *, user_ids: list[int]) -> None:
    """After the commit: each person newly @mentioned (but the author) gets a `mention` on all their sockets."""
    recipients = [user_id for user_id in user_ids if user_id != message.sender_id]
    if not recipients:
        return
    notice = {"room": message.room.to_dict(), "message": message.to_dict()}
    for user_id in recipients:
        socketio.emit("mention", notice, to=user_channel(user_id))


@socketio.on("edit_message")
@acked
def on_edit_message(user: User, data: Any) -> dict:
    """The author replaces a message's body; everyone in the room gets `message_updated`."""
    payload = parse_payload(data, required={"room": str, "id": int, "body": str})
    room = room_service.get_room(payload["room"])
    result = editing_service.edit_message(editor=user, room=room, message_id=payload["id"], body=payload["body"])
    message = result.message.to_dict()
    if result.changed:
        emit("message_updated", message, to=message_channel(result.message))
        announce_mentions(result.message, user_ids=result.newly_mentioned)
    return {"ok": True, "message": message}


@socketio.on("search")
@acked
def on_search(user: User, data: Any) -> dict:
    """Messages of one room matching a query, newest first."""
    payload = parse_payload(data, required={"room": str, "q": str}, optional={"limit": int})
    room = room_service.get_room(payload["room"])
    found = search_service.search_messages(user=user, room=room, query=payload["q"], limit=payload["limit"])
    return {"ok": True, "messages": [message.to_dict() for message in found.messages], "more": found.more}


@socketio.on("open_direct")
@acked
def on_open_direct(user: User, data: Any) -> dict:
    """The direct room of this user and another (made on first use); then `join` it like any room."""
    payload = parse_payload(data, required={"user_id": int})
    other = db.session.get(User, payload["user_id"])
    room = direct_service.open_direct_room(user=user, other=other)
    return {"ok": True, "room": room.to_dict(), "partner": other.to_dict()}


@socketio.on("unread")
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
