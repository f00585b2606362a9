"""Socket.IO handlers: authenticate, validate, call a service, then emit and ack."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable, NoReturn

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room, leave_room

from .extensions import db, socketio
from .models import Conversation, User
from .services import accounts
from .services import messages as message_service
from .services import rooms as room_service
from .services import support as support_service
from .services import uploads as upload_service
from .services import visitors as visitor_service
from .services.errors import ServiceError
from .services.presence import presence
from .validation import parse_payload

log = logging.getLogger(__name__)

# Where a widget visitor's socket keeps its visitor id: Flask-SocketIO's per-socket session,
# which lives in the server and is never written back to a cookie.
VISITOR_SESSION_KEY = "chatapp.visitor_id"
# Every visitor socket, for `agents_online`.
VISITORS_CHANNEL = "support:visitors"


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


def acting_user() -> User | None:
    """Whom this socket acts for: its widget visitor if it connected with a visitor token, else the logged-in user."""
    visitor_id = session.get(VISITOR_SESSION_KEY)
    if visitor_id is not None:
        return visitor_service.load_visitor(visitor_id)  # None once the visitor is deactivated or gone
    if current_user.is_authenticated:
        return current_user._get_current_object()
    return None


def acked(handler: Callable[[User, Any], dict]) -> Callable[[Any], dict]:
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
            return {"ok": False, "error": "invalid", "message": _("The server could not handle that request; try again.")}

    return wrapper


def presence_payload(slug: str) -> dict:
    """The presence event for a room: who is online in it now."""
    ids = presence.online(room=slug)
    users = accounts.users_by_ids(ids)
    return {"room": slug, "online": [user.to_dict() for user in users]}


@socketio.on("connect")
def on_connect(auth: Any = None) -> None:
    """Accept widget visitors with a valid visitor token and logged-in browsers; refuse everyone else."""
    session.pop(VISITOR_SESSION_KEY, None)
    if isinstance(auth, dict) and "visitor_token" in auth:
        connect_visitor(auth["visitor_token"])
        return
    if not current_user.is_authenticated:
        refuse(ServiceError("unauthorized", _("Log in to chat.")))
    presence.connect(sid=request.sid, user_id=current_user.id)
    messaging_events.subscribe_own(user_id=current_user.id)  # @mention notices, the room list's counts


def refuse(error: ServiceError) -> NoReturn:
    """Refuse this handshake with error (or rate_limited, for an address refused too often)."""
    answer = accounts.refuse_handshake(address=request.remote_addr, error=error)
    # The client's connect_error gets .message (text) and .data (the error object).
    raise ConnectionRefusedError(answer.message, answer.to_dict()) from None


def connect_visitor(token: Any) -> None:
    """Accept a widget visitor's socket: it acts as that visitor from now on, and hears whether agents are online."""
    try:
        visitor = visitor_service.visitor_from_token(token=token)
    except ServiceError as error:
        refuse(error)
    session[VISITOR_SESSION_KEY] = visitor.id
    first_socket = not presence.sockets_of(user_id=visitor.id)
    presence.connect(sid=request.sid, user_id=visitor.id)
    join_room(VISITORS_CHANNEL)
    join_room(visitor_channel(visitor.id))
    emit("agents_online", {"online": support_service.agents_online()})
    conversation = support_service.conversation_of_visitor(visitor.id)
    if first_socket and conversation is not None:
        push_conversation(conversation, to_visitor=False)  # the console shows the visitor online


@socketio.on("disconnect")
def on_disconnect(*args: Any) -> None:
    """Tell each room this socket was in if its user went offline; visitors if the last agent left."""
    agents_before = support_service.agents_online()
    visitor_id = session.get(VISITOR_SESSION_KEY)
    for slug in presence.disconnect(sid=request.sid):
        if slug == support_service.AGENTS_PRESENCE:
            continue
        emit("presence", presence_payload(slug), to=room_channel(slug))
    announce_agents(agents_before)
    if visitor_id is not None and not presence.sockets_of(user_id=visitor_id):
        conversation = support_service.conversation_of_visitor(visitor_id)
        if conversation is not None:
            push_conversation(conversation, to_visitor=False)
    db.session.remove()


def announce_agents(before: bool) -> None:
    """Tell every visitor when agents came online or the last one left."""
    now = support_service.agents_online()
    if now != before:
        socketio.emit("agents_online", {"online": now}, to=VISITORS_CHANNEL)


def push_conversation(conversation: Conversation, *, to_visitor: bool = True) -> None:
    """After a commit: each agent with the console open gets the conversation (with their own unread
    count), and its visitor gets the part of it they may see."""
    if conversation.last_message_at is not None:  # the queue shows only conversations somebody wrote in
        agent_ids = presence.online(room=support_service.AGENTS_PRESENCE)
        for agent in accounts.users_by_ids(agent_ids):
            summary = support_service.summarize(conversation=conversation, viewer=agent)
            socketio.emit("conversation", summary, to=agent_channel(agent.id))
    if to_visitor:
        socketio.emit(
            "conversation", support_service.summarize_for_visitor(conversation=conversation),
            to=visitor_channel(conversation.visitor_id),
        )


@socketio.on("join")
@acked
def on_join(user: User, data: Any) -> dict:
    """Enter a room: subscribe, then answer the latest messages or those after `after`, and what changed since `revision`."""
    payload = parse_payload(data, required={"room": str}, optional={"after": int, "revision": int})
    room = room_service.get_room(payload["room"])
    membership = room_service.join_room(user=user, room=room)
    # Subscribe before reading, so a message stored meanwhile is broadcast or read, never neither.
    join_room(room_channel(room.slug))
    if room_service.can_see_notes(user=user, room=room):
        join_room(notes_channel(room.slug))
    came_online = presence.enter(sid=request.sid, room=room.slug)
    page = message_service.catch_up(user=user, room=room, after=payload["after"], revision=payload["revision"])
    classroom = moderation_events.subscribe(user=user, room=room, membership=membership)
    # The room hears only when its user came online; another tab of someone online changes
    # nothing for it (and broadcasting every join made joining C sockets cost O(C²) events).
    emit("presence", presence_payload(room.slug), to=room_channel(room.slug) if came_online else request.sid)
    return {
        "ok": True,
        "room": room.to_dict(),
        "messages": [message.to_dict() for message in page.messages],
        "more": page.more,
        "revision": page.revision,
        "changed": [message.to_dict() for message in page.changed],
        "changed_more": page.changed_more,
        **classroom,
    }


@socketio.on("leave")
@acked
def on_leave(user: User, data: Any) -> dict:
    """Stop receiving a room's events."""
    payload = parse_payload(data, required={"room": str})
    room = room_service.get_room(payload["room"])
    leave_room(room_channel(room.slug))
    leave_room(notes_channel(room.slug))
    moderation_events.unsubscribe(user=user, room=room)
    if presence.leave(sid=request.sid, room=room.slug):
        emit("presence", presence_payload(room.slug), to=room_channel(room.slug))
    return {"ok": True}


@socketio.on("send")
@acked
def on_send(user: User, data: Any) -> dict:
    """Store a message (once per client_id), then broadcast it and ack it; notes only to staff."""
    payload = parse_payload(
        data, required={"room": str, "body": str, "client_id": str},
        optional={"internal": bool, "question": bool, "attachments": list},
    )
    room = room_service.get_room(payload["room"])
    internal = bool(payload["internal"])
    conversation = None
    if room.is_support:
        if payload["attachments"]:
            upload_service.ensure_can_upload(uploader=user, room=room)  # refuses: no pictures there
        post = support_service.post_to_conversation(
            sender=user, room=room, body=payload["body"], client_id=payload["client_id"], internal=internal
        )
        result, conversation = post.result, post.conversation
    else:
        result = message_service.post_message(
            sender=user, room=room, body=payload["body"], client_id=payload["client_id"], internal=internal,
            question=bool(payload["question"]), attachments=payload["attachments"],
        )
    message = result.shown
    if result.created:
        is_note = message.get("internal", False)
        # The slug from the stored message: `room` itself was expired by the commit.
        channel = notes_channel(message["room"]) if is_note else room_channel(message["room"])
        emit("message", message, to=channel)
        messaging_events.announce_mentions(result.message, user_ids=message.get("mentions", []))
        if conversation is not None:
            push_conversation(conversation, to_visitor=not is_note)
    return {"ok": True, "message": message}


@socketio.on("history")
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
    return {"ok": True, "messages": [message.to_dict() for message in page.messages], "more": page.more}


@socketio.on("typing")
@acked
def on_typing(user: User, data: Any) -> dict:
    """Tell the others in the room that this user started or stopped typing."""
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


def disconnect_user(user_id: int) -> None:
    """Close every open socket of a user (after logout, deactivation or a ban)."""
    for sid in presence.sockets_of(user_id=user_id):
        socketio.server.disconnect(sid, namespace="/")


# -- support desk ------------------------------------------------------------------------


def _agent_summary(conversation: Conversation, user: User) -> dict:
    return support_service.summarize(conversation=conversation, viewer=user)


@socketio.on("support_list")
@acked
def on_support_list(user: User, data: Any) -> dict:
    """The agent queue; the socket then receives `conversation` updates and counts as an agent online."""
    payload = parse_payload(data, required={}, optional={"view": str, "status": str})
    queue = support_service.list_queue(agent=user, view=payload["view"] or "unassigned", status=payload["status"] or "open")
    join_room(agent_channel(user.id))
    agents_before = support_service.agents_online()
    presence.enter(sid=request.sid, room=support_service.AGENTS_PRESENCE)
    announce_agents(agents_before)
    return {
        "ok": True,
        "conversations": [_agent_summary(conversation, user) for conversation in queue.conversations],
        "counts": queue.counts,
        "attention": queue.attention,
    }


@socketio.on("support_get")
@acked
def on_support_get(user: User, data: Any) -> dict:
    """One conversation: the full summary for staff, the visitor's own part for its visitor."""
    payload = parse_payload(data, required={"room": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    if user.is_staff:
        return {"ok": True, "conversation": _agent_summary(conversation, user)}
    return {"ok": True, "conversation": support_service.summarize_for_visitor(conversation=conversation)}


@socketio.on("support_claim")
@acked
def on_support_claim(user: User, data: Any) -> dict:
    """Take an unassigned conversation."""
    payload = parse_payload(data, required={"room": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.claim(agent=user, conversation=conversation)
    push_conversation(conversation)
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@socketio.on("support_assign")
@acked
def on_support_assign(user: User, data: Any) -> dict:
    """Give a conversation to an agent (user_id), or back to the queue (user_id absent or null)."""
    payload = parse_payload(data, required={"room": str}, optional={"user_id": int})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.assign(agent=user, conversation=conversation, assignee_id=payload["user_id"])
    push_conversation(conversation)
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@socketio.on("support_status")
@acked
def on_support_status(user: User, data: Any) -> dict:
    """Resolve, reopen or set pending."""
    payload = parse_payload(data, required={"room": str, "status": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.set_status(agent=user, conversation=conversation, status=payload["status"])
    push_conversation(conversation)
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@socketio.on("support_rate")
@acked
def on_support_rate(user: User, data: Any) -> dict:
    """The visitor rates the help of a resolved conversation."""
    payload = parse_payload(data, required={"room": str, "rating": int}, optional={"comment": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.rate(visitor=user, conversation=conversation, rating=payload["rating"], comment=payload["comment"])
    push_conversation(conversation, to_visitor=False)
    return {"ok": True, "conversation": support_service.summarize_for_visitor(conversation=conversation)}


@socketio.on("read")
@acked
def on_read(user: User, data: Any) -> dict:
    """Move this user's read position in a room; answer what is still unread there."""
    payload = parse_payload(data, required={"room": str, "last_id": int})
    room = room_service.get_room(payload["room"])
    unread = message_service.mark_read(user=user, room=room, last_id=payload["last_id"])
    if room.is_support and user.is_staff:
        # The agent's other console tabs drop the unread badge too.
        conversation = support_service.get_conversation(room=room)
        if conversation.last_message_at is not None:
            socketio.emit("conversation", _agent_summary(conversation, user), to=agent_channel(user.id))
    return {"ok": True, "unread": unread}


# The classroom's handlers (moderation, pins, deletions, questions) live in their own module.
from . import moderation_events  # noqa: E402
# Messaging (edits, mentions, search, direct messages, unread counts): likewise.
from . import messaging_events  # noqa: E402
