"""The classroom over sockets: room settings, join codes, pins, deletions, questions and members.

Each handler parses its payload and calls one service function, which commits and then tells
the room, its moderators and the member concerned (docs/protocol.md, "Classroom and moderation").
"""
from __future__ import annotations

from typing import Any

from flask_babel import gettext as _

from ..models import Message, Room, User, isoformat_utc
from ..services import acknowledgements as ack_service
from ..services import anonymity
from ..services import moderation as moderation_service
from ..services import questions as question_service
from ..services import rooms as room_service
from ..services.errors import ServiceError
from ..validation import parse_payload
from .acting import acked


def _room(payload: dict) -> Room:
    return room_service.get_room(payload["room"])


def _message(user: User, payload: dict) -> Message:
    room = _room(payload)
    return moderation_service.get_room_message(user=user, room=room, message_id=payload["id"])


def _target(payload: dict) -> User:
    return moderation_service.get_target(payload["user_id"])


@acked
def on_room_settings(user: User, data: Any) -> dict:
    """Moderators turn announcement-only on or off and set slow mode; everyone gets `room_updated`."""
    payload = parse_payload(
        data, required={"room": str},
        optional={"announcement_only": bool, "slow_mode_seconds": int, "allow_anonymous_questions": bool},
    )
    room = moderation_service.set_room_settings(
        actor=user, room=_room(payload), announcement_only=payload["announcement_only"],
        slow_mode_seconds=payload["slow_mode_seconds"], allow_anonymous_questions=payload["allow_anonymous_questions"],
    )
    return {"ok": True, "room": room.to_dict()}


@acked
def on_regenerate_join_code(user: User, data: Any) -> dict:
    """Moderators replace a private room's join code (optionally valid for `valid_minutes`)."""
    payload = parse_payload(data, required={"room": str}, optional={"valid_minutes": int})
    room = moderation_service.regenerate_join_code(
        actor=user, room=_room(payload), valid_minutes=payload["valid_minutes"]
    )
    return {"ok": True, **moderation_service.join_code_event(room)}


@acked
def on_pin(user: User, data: Any) -> dict:
    """Moderators pin a message (an announcement at the top of the room)."""
    payload = parse_payload(data, required={"room": str, "id": int}, optional={"needs_ack": bool})
    message = moderation_service.pin_message(actor=user, message=_message(user, payload),
                                             needs_ack=bool(payload["needs_ack"]))
    return {"ok": True, "message": anonymity.shown_to(message, viewer=user)}


@acked
def on_unpin(user: User, data: Any) -> dict:
    """Moderators unpin a message."""
    payload = parse_payload(data, required={"room": str, "id": int})
    message = moderation_service.unpin_message(actor=user, message=_message(user, payload))
    return {"ok": True, "message": anonymity.shown_to(message, viewer=user)}


@acked
def on_delete_message(user: User, data: Any) -> dict:
    """Delete one's own message (within the window) or, as a moderator, anyone's; everyone gets `message_deleted`."""
    payload = parse_payload(data, required={"room": str, "id": int})
    message = moderation_service.delete_message(actor=user, message=_message(user, payload))
    return {"ok": True, "message": anonymity.shown_to(message, viewer=user)}


@acked
def on_mark_question(user: User, data: Any) -> dict:
    """The author asks their message as a question (`question` true, the default) or withdraws it."""
    payload = parse_payload(data, required={"room": str, "id": int}, optional={"question": bool})
    question = True if payload["question"] is None else payload["question"]
    message = question_service.mark_question(actor=user, message=_message(user, payload), question=question)
    return {"ok": True, "message": anonymity.shown_to(message, viewer=user)}


@acked
def on_answer_question(user: User, data: Any) -> dict:
    """Moderators mark a question answered (`answered` true, the default) or open again."""
    payload = parse_payload(data, required={"room": str, "id": int}, optional={"answered": bool})
    answered = True if payload["answered"] is None else payload["answered"]
    message = question_service.answer_question(actor=user, message=_message(user, payload), answered=answered)
    return {"ok": True, "message": anonymity.shown_to(message, viewer=user)}


@acked
def on_open_questions(user: User, data: Any) -> dict:
    """Moderators: the room's unanswered questions, oldest first."""
    payload = parse_payload(data, required={"room": str})
    room = _room(payload)
    questions = question_service.list_open_questions(actor=user, room=room)
    return {"ok": True, "questions": anonymity.shown_all(questions, viewer=user, room=room)}


@acked
def on_mute(user: User, data: Any) -> dict:
    """Moderators mute a member for `minutes`: `user_id`, or the author of message `id` (an anonymous question's)."""
    payload = parse_payload(data, required={"room": str, "minutes": int}, optional={"user_id": int, "id": int})
    if payload["id"] is not None:
        membership = moderation_service.mute_author(
            actor=user, message=_message(user, payload), minutes=payload["minutes"]
        )
    else:
        if payload["user_id"] is None:
            raise ServiceError("invalid", _("Say whom to mute: user_id, or the id of their message."))
        membership = moderation_service.mute_member(
            actor=user, room=_room(payload), target=_target(payload), minutes=payload["minutes"]
        )
    return {"ok": True, "member": membership.to_dict()}


@acked
def on_unmute(user: User, data: Any) -> dict:
    """Moderators lift a mute."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    membership = moderation_service.unmute_member(actor=user, room=_room(payload), target=_target(payload))
    return {"ok": True, "member": membership.to_dict()}


@acked
def on_remove_member(user: User, data: Any) -> dict:
    """Moderators take a member out of the room; they may come back (with the code, in a private room)."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    moderation_service.remove_member(actor=user, room=_room(payload), target=_target(payload))
    return {"ok": True}


@acked
def on_ban(user: User, data: Any) -> dict:
    """Moderators ban a user: out of the room, and kept out until unbanned."""
    payload = parse_payload(data, required={"room": str, "user_id": int}, optional={"reason": str})
    ban = moderation_service.ban_member(
        actor=user, room=_room(payload), target=_target(payload), reason=payload["reason"]
    )
    return {"ok": True, "ban": ban.to_dict()}


@acked
def on_unban(user: User, data: Any) -> dict:
    """Moderators lift a ban."""
    payload = parse_payload(data, required={"room": str, "user_id": int})
    moderation_service.unban_member(actor=user, room=_room(payload), target=_target(payload))
    return {"ok": True}


@acked
def on_bans(user: User, data: Any) -> dict:
    """Moderators: who is banned from the room."""
    payload = parse_payload(data, required={"room": str})
    bans = moderation_service.list_bans(actor=user, room=_room(payload))
    return {"ok": True, "bans": [ban.to_dict() for ban in bans]}


@acked
def on_set_member_role(user: User, data: Any) -> dict:
    """The owner makes a member a moderator, or a moderator a member again."""
    payload = parse_payload(data, required={"room": str, "user_id": int, "role": str})
    membership = moderation_service.set_member_role(
        actor=user, room=_room(payload), target=_target(payload), role=payload["role"]
    )
    return {"ok": True, "member": membership.to_dict()}


@acked
def on_moderation_log(user: User, data: Any) -> dict:
    """Moderators read the room's moderation log, newest first, paging with `before`."""
    payload = parse_payload(data, required={"room": str}, optional={"before": int, "limit": int})
    page = moderation_service.list_moderation_log(
        actor=user, room=_room(payload), before=payload["before"], limit=payload["limit"]
    )
    return {"ok": True, "actions": [entry.to_dict() for entry in page.actions], "more": page.more}


@acked
def on_acknowledge(user: User, data: Any) -> dict:
    """A student says "I have read this" of a pinned announcement that asks for it (again: the same, ok)."""
    payload = parse_payload(data, required={"room": str, "id": int})
    acknowledgement = ack_service.acknowledge(actor=user, message=_message(user, payload))
    return {"ok": True, "id": acknowledgement.message_id, "acknowledged": True,
            "at": isoformat_utc(acknowledgement.created_at)}


@acked
def on_ack_status(user: User, data: Any) -> dict:
    """Moderators: how many students acknowledged an announcement, and who has not yet."""
    payload = parse_payload(data, required={"room": str, "id": int})
    return {"ok": True, **ack_service.ack_status(actor=user, message=_message(user, payload)).to_dict()}


@acked
def on_remind_ack(user: User, data: Any) -> dict:
    """Moderators remind the students who have not acknowledged an announcement (a notice, and e-mail)."""
    payload = parse_payload(data, required={"room": str, "id": int})
    status = ack_service.remind_pending(actor=user, message=_message(user, payload))
    return {"ok": True, "reminded": len(status.pending), **status.to_dict()}


HANDLERS = {
    "room_settings": on_room_settings, "regenerate_join_code": on_regenerate_join_code,
    "pin": on_pin, "unpin": on_unpin, "delete_message": on_delete_message,
    "mark_question": on_mark_question, "answer_question": on_answer_question, "open_questions": on_open_questions,
    "mute": on_mute, "unmute": on_unmute, "remove_member": on_remove_member, "ban": on_ban, "unban": on_unban,
    "bans": on_bans, "set_member_role": on_set_member_role, "moderation_log": on_moderation_log,
    "acknowledge": on_acknowledge, "ack_status": on_ack_status, "remind_ack": on_remind_ack,
}
