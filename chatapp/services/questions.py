"""Questions: a member raises a hand on their own message; the room's moderators answer it."""
from __future__ import annotations

from flask_babel import gettext as _

from ..extensions import db
from ..models import Message, Room, User, utcnow
from .errors import ServiceError
from .message_news import announce_message_updated
from .moderation import check_can_post, commit_logged, ensure_can_moderate, log_action
from .ratelimit import check_rate
from .rooms import ensure_can_enter

MAX_OPEN_QUESTIONS = 200


def mark_question(*, actor: User, message: Message, question: bool = True) -> Message:
    """The author asks their message as a question (question=True) or withdraws it (False)."""
    check_rate(action="send", key=actor.id)  # raising a hand is speaking up, and tells the whole room
    room = message.room
    ensure_can_enter(user=actor, room=room)
    if message.sender_id != actor.id:
        raise ServiceError("forbidden", _("Only its author can ask a message as a question."))
    if room.is_support or room.is_direct or message.internal:
        raise ServiceError("forbidden", _("Questions are for rooms, not support conversations or direct messages."))
    if message.is_deleted:
        raise ServiceError("conflict", _("That message was deleted."))
    if question == bool(message.is_question):
        return message
    if question:
        _ensure_not_silenced(actor=actor, room=room)
        message.is_question = True
    elif message.anonymous:
        # Without the question, an anonymous message would be one nobody may send: delete it instead.
        raise ServiceError("conflict", _("To withdraw an anonymous question, delete it."))
    else:
        message.is_question = False
        message.answered_at = None
        message.answered_by_id = None
    db.session.commit()
    announce_message_updated(message)
    return message


def _ensure_not_silenced(*, actor: User, room: Room) -> None:
    """Raising a hand is speaking: refused when muted or in an announcement-only room (slow mode aside)."""
    try:
        check_can_post(user=actor, room=room)
    except ServiceError as error:
        if error.code != "rate_limited":
            raise


def answer_question(*, actor: User, message: Message, answered: bool = True) -> Message:
    """A moderator marks a question answered (or open again); logged."""
    room = message.room
    ensure_can_moderate(user=actor, room=room)
    if message.is_deleted:
        raise ServiceError("conflict", _("That message was deleted."))
    if not message.is_question:
        raise ServiceError("conflict", _("That message is not a question."))
    if answered == (message.answered_at is not None):
        return message
    if answered:
        message.answered_at = utcnow()
        message.answered_by_id = actor.id
    else:
        message.answered_at = None
        message.answered_by_id = None
    commit_logged(log_action(
        room=room, actor=actor, action="answer_question" if answered else "reopen_question",
        target_user=message.sender, target_message=message,
    ))
    announce_message_updated(message)
    return message


def list_open_questions(*, actor: User, room: Room) -> list[Message]:
    """The room's unanswered questions, oldest first; moderators only."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    return list(
        db.session.scalars(
            db.select(Message)
            .where(
                Message.room_id == room.id,
                Message.is_question.is_(True),
                Message.answered_at.is_(None),
                Message.deleted_at.is_(None),
            )
            .order_by(Message.id)
            .limit(MAX_OPEN_QUESTIONS)
        )
    )
