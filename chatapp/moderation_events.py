"""Socket.IO handlers of the classroom: moderation, pins, deletions, questions (docs/protocol.md).

Each handler validates its payload, calls one service function, and emits only after that
function committed. Moderators' sockets share a Socket.IO room per chat room (moderation
log entries, join codes, mutes); each member's sockets another one (what concerns them).
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from flask_socketio import emit, join_room, leave_room

from .events import acked, presence_payload, room_channel
from .extensions import socketio
from .models import Membership, Message, Room, User, isoformat_utc
from .services import accounts as account_service
from .services import moderation as moderation_service
from .services import questions as question_service
from .services import rooms as room_service
from .services.errors import ServiceError
from .services.presence import presence
from .validation import parse_payload

NAMESPACE = "/"


def moderators_channel(slug: str) -> str:
    """The Socket.IO room of a chat room's moderator sockets: the log, join codes, mutes."""
    return f"mods:{slug}"


def member_channel(slug: str, user_id: int) -> str:
    """The sockets of one member in one chat room: their mute, their removal."""
    return f"member:{slug}:{user_id}"


# -- joining -------------------------------------------------------------------------------


def subscribe(*, user: User, room: Room, membership: Membership | None) -> dict:
    """After `join`: subscribe the socket to its classroom channels; return what the join ack adds.

    The additions: `pinned` (MESSAGE…) and `membership` (this user's role, mute and slow-mode wait).
    """
    if room.is_support:
        return {}
    moderator = moderation_service.is_moderator(user=user, room=room, membership=membership)
    join_room(member_channel(room.slug, user.id))
    if moderator:
        join_room(moderators_channel(room.slug))
    return {
        "pinned": [message.to_dict() for message in moderation_service.list_pinned(user=user, room=room)],
        "membership": membership_state(user=user, room=room, membership=membership, moderator=moderator),
    }


def unsubscribe(*, user: User, room: Room) -> None:
    """On `leave`: drop the classroom channels too."""
    leave_room(member_channel(room.slug, user.id))
    leave_room(moderators_channel(room.slug))


def membership_state(*, user: User, room: Room, membership: Membership | None, moderator: bool) -> dict:
    """What the page needs to know about its own user here."""
    muted = membership is not None and membership.is_muted()
    return {
        "role": membership.role if membership else None,
        "moderator": moderator,
        "muted_until": membership.to_dict()["muted_until"] if muted else None,
        "retry_after": moderation_service.seconds_until_can_post(user=user, room=room),
    }


# -- helpers -------------------------------------------------------------------------------------


def _room(payload: dict) -> Room:
    return room_service.get_room(payload["room"])


def _message(user: User, payload: dict) -> Message:
    room = _room(payload)
    return moderation_service.get_room_message(user=user, room=room, message_id=payload["id"])


def _target(payload: dict) -> User:
    if not 0 < payload["user_id"] < 2**63:
        raise ServiceError("not_found", _("No such account."))
    user = account_service.get_user(payload["user_id"])
    if user.is_visitor:
        raise ServiceError("not_found", _("No such account."))
    return user


def publish_actions() -> None:
    """Tell the room's moderators about the log entries this event wrote (after the commit)."""
    for entry in moderation_service.take_logged_actions():
        socketio.emit("moderation_action", entry.to_dict(), to=moderators_channel(entry.room.slug), namespace=NAMESPACE)


def broadcast_message_updated(message: Message) -> None:
    """Everyone in the room sees the message's new state (pinned, question, answered)."""
    socketio.emit("message_updated", message.to_dict(), to=room_channel(message.room.slug), namespace=NAMESPACE)


def evict(*, user_id: int, room: Room) -> None:
    """Make a removed or banned user's sockets stop hearing the room: on every process that shares the presence
    backend, since Socket.IO's message queue carries leave_room to the process that holds the socket."""
    went_offline = False
    for sid in presence.sockets_of(user_id=user_id):
        for channel in (room_channel(room.slug), moderators_channel(room.slug), member_channel(room.slug, user_id)):
            leave_room(channel, sid=sid, namespace=NAMESPACE)
        went_offline = presence.leave(sid=sid, room=room.slug) or went_offline
    if went_offline:
        socketio.emit("presence", presence_payload(room.slug), to=room_channel(room.slug), namespace=NAMESPACE)


def set_moderator_channel(*, user_id: int, room: Room, moderator: bool) -> None:
    """A promoted moderator's open sockets start hearing the moderators' events; a demoted one's stop."""
    for sid in presence.sockets_of(user_id=user_id):
        if room.slug not in presence.rooms_of(sid=sid):
            continue
        if moderator:
            socketio.server.enter_room(sid, moderators_channel(room.slug), namespace=NAMESPACE)
        else:
            socketio.server.leave_room(sid, moderators_channel(room.slug), namespace=NAMESPACE)


def member_update(membership: Membership, *, to_room: bool = False) -> dict:
    """Send MEMBER to the room's moderators and the member (to everyone in the room for role changes)."""
    event = {"room": membership.room.slug, "member": membership.to_dict()}
    if to_room:
        socketio.emit("member_updated", event, to=room_channel(membership.room.slug), namespace=NAMESPACE)
    else:
        socketio.emit(
            "member_updated", event,
            to=[moderators_channel(membership.room.slug), member_channel(membership.room.slug, membership.user_id)],
            namespace=NAMESPACE,
        )
    return event


# -- room settings and join codes ---------------------------------------------------------------


@socketio.on("room_settings")
@acked
def on_room_settings(user: User, data: Any) -> dict:
    """Moderators turn announcement-only on or off and set slow mode; everyone gets `room_updated`."""
    payload = parse_payload(data, required={"room": str}, optional={"announcement_only": bool, "slow_mode_seconds": int})
    room = moderation_service.set_room_settings(
        actor=user, room=_room(payload), announcement_only=payload["announcement_only"],
        slow_mode_seconds=payload["slow_mode_seconds"],
    )
    emit("room_updated", room.to_dict(), to=room_channel(room.slug))
    publish_actions()
    return {"ok": True, "room": room.to_dict()}


def join_code_payload(room: Room) -> dict:
    """A private room's join code as moderators see it."""
    return {
        "room": room.slug,
        "join_code": room.join_code,
        "join_code_expires_at": isoformat_utc(room.join_code_expires_at) if room.join_code_expires_at else None,
    }


@socketio.on("regenerate_join_code")
@acked
def on_regenerate_join_code(user: User, data: Any) -> dict:
    """Moderators replace a private room's join code (optionally valid for `valid_minutes`)."""
    payload = parse_payload(data, required={"room": str}, optional={"valid_minutes": int})
    room = moderation_service.regenerate_join_code(actor=user, room=_room(payload), valid_minutes=payload["valid_minutes"])
    code = join_code_payload(room)
    emit("join_code", code, to=moderators_channel(room.slug))
    publish_actions()
    return {"ok": True, **code}


# -- messages: pins, deletions, questions ---------------------------------------------------------


@socketio.on("pin")
@acked
def on_pin(user: User, data: Any) -> dict:
    """Moderators pin a message (an announcement at the top of the room)."""
    payload = parse_payload(data, required={"room": str, "id": int})
    message = moderation_service.pin_message(actor=user, message=_message(user, payload))
    broadcast_message_updated(message)
    publish_actions()
    return {"ok": True, "message": message.to_dict()}


@socketio.on("unpin")
@acked
def on_unpin(user: User, data: Any) -> dict:
    """Moderators unpin a message."""
    payload = parse_payload(data, required={"room": str, "id": int})
    message = moderation_service.unpin_message(actor=user, message=_message(user, payload))
    broadcast_message_updated(message)
    publish_actions()
    return {"ok": True, "message": message.to_dict()}


@socketio.on("delete_message")
@acked
def on_delete_message(user: User, data: Any) -> dict:
    """Delete one's own message (within the window) or, as a moderator, anyone's; everyone gets `message_deleted`."""
    payload = parse_payload(data, required={"room": str, "id": int})
    message = moderation_service.delete_message(actor=user, message=_message(user, payload))
    event = {"room": message.room.slug, "id": message.id, "by": "moderator" if message.deleted_by_moderator else "author"}
    emit("message_deleted", event, to=room_channel(message.room.slug))
    publish_actions()
    return {"ok": True, "message": message.to_dict()}


@socketio.on("mark_question")
@acked
def on_mark_question(user: User, data: Any) -> dict:
    """The author asks their message as a question (`question` true, the default) or withdraws it."""
    payload = parse_payload(data, required={"room": str, "id": int}, optional={"question": bool})
    question = True if payload["question"] is None else payload["question"]
    message = question_service.mark_question(actor=user, message=_message(user, payload), question=question)
    broadcast_message_updated(message)
    return {"ok": True, "message": message.to_dict()}


@socketio.on("answer_question")
@acked
def on_answer_question(user: User, data: Any) -> dict:
    """Moderators mark a question answered (`answered` true, the default) or open again."""
    payload = parse_payload(data, required={"room": str, "id": int}, optional={"answered": bool})
    answered = True if payload["answered"] is None else payload["answered"]
    message = question_service.answer_question(actor=user, message=_message(user, payload), answered=answered)
    broadcast_message_updated(message)
    publish_actions()
    return {"ok": True, "message": message.to_dict()}


@socketio.on("open_questions")
@acked
def on_open_questions(user: User, data: Any) -> dict:
    """Moderators: the room's unanswered questions, oldest first."""
    payload = parse_payload(data, required={"room": str})
    questions = question_service.list_open_questions(actor=user, room=_room(payload))
    return {"ok": True, "questions": [message.to_dict() for message in questions]}


# -- members ---------------------------------------------------------------------------------------


@socketio.on("mute")
@acked
def on_mute(user: User, data: Any) -> dict:
    """Moderators mute a member for `minutes`."""
    payload = parse_payload(data, required={"room": str, "user_id": int, "minutes": int})
    membership = moderation_service.mute_member(
        actor=user, room=_room(payload), target=_target(payload), minutes=payload["minutes"]
    )
    event = member_update(membership)
    publish_actions()
    return {"ok": True, "member": event["member"]}


@socketio.on("unmute")
@acked
def on_unmute(user: User, data: Any) -> dict:
    """Moderators lift a mute."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    membership = moderation_service.unmute_member(actor=user, room=_room(payload), target=_target(payload))
    event = member_update(membership)
    publish_actions()
    return {"ok": True, "member": event["member"]}


def _removed(room: Room, target: User, *, banned: bool) -> None:
    event = {"room": room.slug, "user": target.to_dict(), "banned": banned}
    # One emit to both channels: Socket.IO sends it once to a socket that is in both.
    socketio.emit("member_removed", event, to=[room_channel(room.slug), member_channel(room.slug, target.id)],
                  namespace=NAMESPACE)
    evict(user_id=target.id, room=room)


@socketio.on("remove_member")
@acked
def on_remove_member(user: User, data: Any) -> dict:
    """Moderators take a member out of the room; they may come back (with the code, in a private room)."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    room, target = _room(payload), _target(payload)
    moderation_service.remove_member(actor=user, room=room, target=target)
    _removed(room, target, banned=False)
    publish_actions()
    return {"ok": True}


@socketio.on("ban")
@acked
def on_ban(user: User, data: Any) -> dict:
    """Moderators ban a user: out of the room, and kept out until unbanned."""
    payload = parse_payload(data, required={"room": str, "user_id": int}, optional={"reason": str})
    room, target = _room(payload), _target(payload)
    ban = moderation_service.ban_member(actor=user, room=room, target=target, reason=payload["reason"])
    _removed(room, target, banned=True)
    publish_actions()
    return {"ok": True, "ban": ban.to_dict()}


@socketio.on("unban")
@acked
def on_unban(user: User, data: Any) -> dict:
    """Moderators lift a ban."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    moderation_service.unban_member(actor=user, room=_room(payload), target=_target(payload))
    publish_actions()
    return {"ok": True}


@socketio.on("bans")
@acked
def on_bans(user: User, data: Any) -> dict:
    """Moderators: who is banned from the room."""
    payload = parse_payload(data, required={"room": str})
    bans = moderation_service.list_bans(actor=user, room=_room(payload))
    return {"ok": True, "bans": [ban.to_dict() for ban in bans]}


@socketio.on("set_member_role")
@acked
def on_set_member_role(user: User, data: Any) -> dict:
    """The owner makes a member a moderator, or a moderator a member again."""
    payload = parse_payload(data, required={"room": str, "user_id": int, "role": str})
    room = _room(payload)
    membership = moderation_service.set_member_role(actor=user, room=room, target=_target(payload), role=payload["role"])
    set_moderator_channel(user_id=membership.user_id, room=room, moderator=membership.is_moderator)
    event = member_update(membership, to_room=True)
    publish_actions()
    return {"ok": True, "member": event["member"]}


@socketio.on("moderation_log")
@acked
def on_moderation_log(user: User, data: Any) -> dict:
    """Moderators read the room's moderation log, newest first, paging with `before`."""
    payload = parse_payload(data, required={"room": str}, optional={"before": int, "limit": int})
    page = moderation_service.list_moderation_log(
        actor=user, room=_room(payload), before=payload["before"], limit=payload["limit"]
    )
    return {"ok": True, "actions": [entry.to_dict() for entry in page.actions], "more": page.more}
