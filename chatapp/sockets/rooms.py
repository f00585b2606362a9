"""Being in a room: joining (with catch-up), leaving, sending, history, typing and reading."""
from __future__ import annotations

from typing import Any

from flask_socketio import emit, join_room, leave_room

from ..models import Membership, Room, User
from ..realtime.channels import member_channel, moderators_channel, notes_channel, room_channel
from ..realtime.presence import presence
from ..services import acknowledgements as ack_service
from ..services import anonymity, attendance, reactions, receipts, routing
from ..services import messages as message_service
from ..services import moderation as moderation_service
from ..services import rooms as room_service
from ..services import support as support_service
from ..services import uploads as upload_service
from ..services.classroom import capabilities, membership_state
from ..services.online import announce_presence
from ..validation import parse_payload
from .acting import acked, socket_sid


@acked
def on_join(user: User, data: Any) -> dict:
    """Enter a room: subscribe, then answer the latest messages or those after `after`,
    and what changed since `revision`."""
    payload = parse_payload(data, required={"room": str}, optional={"after": int, "revision": int})
    room = room_service.get_room(payload["room"])
    membership = room_service.join_room(user=user, room=room)
    # Subscribe before reading, so a message stored meanwhile is broadcast or read, never neither.
    join_room(room_channel(room.slug))
    if room_service.can_see_notes(user=user, room=room):
        join_room(notes_channel(room.slug))
    came_online = presence.enter(sid=socket_sid(), room=room.slug)
    if came_online:
        attendance.record_arrival(user=user, room=room)
    page = message_service.catch_up(user=user, room=room, after=payload["after"], revision=payload["revision"])
    classroom = _subscribe_classroom(user=user, room=room, membership=membership)
    # The room hears only when its user came online; another tab of someone online changes
    # nothing for it (and broadcasting every join made joining C sockets cost O(C²) events).
    announce_presence(room.slug, to=None if came_online else socket_sid())
    return {
        "ok": True,
        "room": room.to_dict(),
        "messages": anonymity.shown_all(page.messages, viewer=user, room=room),
        "more": page.more,
        "revision": page.revision,
        "changed": anonymity.shown_all(page.changed, viewer=user, room=room),
        "changed_more": page.changed_more,
        **classroom,
        **_receipts(user=user, room=room),
    }


def _receipts(*, user: User, room: Room) -> dict:
    """After `join` of a direct room or a conversation: this socket now holds everything (delivered), and
    how far the other side received and read (`receipts`, `read_positions`)."""
    if not receipts.takes_receipts(room):
        return {}
    receipts.mark_delivered(user=user, room=room)
    return {"receipts": True, "read_positions": receipts.positions(viewer=user, room=room)}


@acked
def on_seen_by(user: User, data: Any) -> dict:
    """Who of the room's members read a message, and who not (its author and the room's moderators)."""
    payload = parse_payload(data, required={"room": str, "id": int})
    room = room_service.get_room(payload["room"])
    return {"ok": True, **receipts.seen_by(viewer=user, room=room, message_id=payload["id"])}


def _subscribe_classroom(*, user: User, room: Room, membership: Membership | None) -> dict:
    """After `join`: subscribe the socket to its classroom channels; return what the join ack adds.

    The additions: `pinned` (MESSAGE…), `membership` (this user's role, mute and slow-mode wait)
    and `capabilities` (what this user may do here and the limits that bind them). A support
    conversation has no classroom: its `capabilities` say only whether this side may react.
    """
    if room.is_support:
        return {"capabilities": {"may_react": reactions.can_react(user=user, room=room)}}
    moderator = moderation_service.is_moderator(user=user, room=room, membership=membership)
    join_room(member_channel(room.slug, user.id))
    if moderator:
        join_room(moderators_channel(room.slug))
    pinned = moderation_service.list_pinned(user=user, room=room)
    return {
        "pinned": anonymity.shown_all(pinned, viewer=user, room=room),
        "acknowledgements": ack_service.viewer_acks(user=user, room=room, pinned=pinned, moderator=moderator),
        "membership": membership_state(user=user, room=room, membership=membership, moderator=moderator),
        "capabilities": capabilities(user=user, room=room, membership=membership),
    }


@acked
def on_leave(user: User, data: Any) -> dict:
    """Stop receiving a room's events."""
    payload = parse_payload(data, required={"room": str})
    room = room_service.get_room(payload["room"])
    for channel in (room_channel(room.slug), notes_channel(room.slug), member_channel(room.slug, user.id),
                    moderators_channel(room.slug)):
        leave_room(channel)
    if presence.leave(sid=socket_sid(), room=room.slug):
        attendance.record_departure(user_id=user.id, room=room)
        announce_presence(room.slug)
    return {"ok": True}


@acked
def on_send(user: User, data: Any) -> dict:
    """Store a message (once per client_id); the service announces it after the commit; ack it."""
    payload = parse_payload(
        data, required={"room": str, "body": str, "client_id": str},
        optional={"internal": bool, "question": bool, "attachments": list, "reply_to": int, "anonymous": bool},
    )
    room = room_service.get_room(payload["room"])
    if room.is_support:
        if payload["attachments"]:
            upload_service.ensure_can_upload(uploader=user, room=room)  # refuses: no pictures there
        result = support_service.post_to_conversation(
            sender=user, room=room, body=payload["body"], client_id=payload["client_id"],
            internal=bool(payload["internal"]), reply_to=payload["reply_to"],
        ).result
        routing.route_waiting()  # a visitor's first message: the conversation waits for an agent
    else:
        result = message_service.post_message(
            sender=user, room=room, body=payload["body"], client_id=payload["client_id"],
            internal=bool(payload["internal"]), question=bool(payload["question"]), attachments=payload["attachments"],
            reply_to=payload["reply_to"], anonymous=bool(payload["anonymous"]),
        )
    return {"ok": True, "message": result.shown}


@acked
def on_history(user: User, data: Any) -> dict:
    """A page of older (before) or newer (after) messages, or those around one (around)."""
    payload = parse_payload(
        data, required={"room": str}, optional={"before": int, "after": int, "limit": int, "around": int}
    )
    room = room_service.get_room(payload["room"])
    page = message_service.list_messages(
        user=user, room=room, before=payload["before"], after=payload["after"], limit=payload["limit"],
        around=payload["around"],
    )
    return {"ok": True, "messages": anonymity.shown_all(page.messages, viewer=user, room=room), "more": page.more}


@acked
def on_typing(user: User, data: Any) -> dict:
    """Tell the others in the room that this user started or stopped typing (nothing is stored)."""
    payload = parse_payload(data, required={"room": str, "typing": bool})
    room = room_service.get_room(payload["room"])
    room_service.check_typing(user=user, room=room)
    emit(
        "typing",
        {"room": room.slug, "user": user.to_dict(), "typing": payload["typing"]},
        to=room_channel(room.slug),
        include_self=False,
    )
    return {"ok": True}


@acked
def on_read(user: User, data: Any) -> dict:
    """Move this user's read position in a room; answer what is still unread there."""
    payload = parse_payload(data, required={"room": str, "last_id": int})
    room = room_service.get_room(payload["room"])
    mark_read = support_service.mark_read if room.is_support else message_service.mark_read
    return {"ok": True, "unread": mark_read(user=user, room=room, last_id=payload["last_id"])}


@acked
def on_delivered(user: User, data: Any) -> dict:
    """This socket received a direct room's or conversation's messages up to last_id: its sender sees Delivered."""
    payload = parse_payload(data, required={"room": str, "last_id": int})
    room = room_service.get_room(payload["room"])
    receipts.mark_delivered(user=user, room=room, last_id=payload["last_id"])
    return {"ok": True}


HANDLERS = {
    "join": on_join, "leave": on_leave, "send": on_send, "history": on_history, "typing": on_typing, "read": on_read,
    "seen_by": on_seen_by, "delivered": on_delivered,
}
