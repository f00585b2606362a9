"""Editing one's own message, within a time window, leaving an "edited" mark."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext

from ..extensions import db
from ..models import Message, Room, User, utcnow
from .errors import ServiceError
from .mentions import record_mentions
from .message_news import announce_mentions, announce_message_updated
from .messages import check_body, check_cursor, visible_messages
from .ratelimit import check_rate
from .rooms import ensure_can_enter, ensure_can_write, get_membership


@dataclass(frozen=True)
class EditResult:
    """The message after the edit; whether the body changed; whom it mentions that it did not before."""

    message: Message
    changed: bool
    newly_mentioned: list[int]


def edit_window() -> timedelta | None:
    """How long after sending its author may edit a message (None: no limit)."""
    seconds = int(current_app.config.get("MESSAGE_EDIT_WINDOW_SECONDS", 0))
    return timedelta(seconds=seconds) if seconds > 0 else None


def edit_window_seconds() -> int:
    """The edit window in whole seconds, as the page and the join ack say it (0: no limit)."""
    window = edit_window()
    return int(window.total_seconds()) if window is not None else 0


def describe(window: timedelta) -> str:
    """A window in words: "15 minutes", "1 hour", "90 seconds"."""
    seconds = int(window.total_seconds())
    if seconds % 3600 == 0:
        return ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    if seconds % 60 == 0:
        return ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
    return ngettext("%(num)d second", "%(num)d seconds", seconds)


def get_message(*, user: User, room: Room, message_id: object) -> Message:
    """A message of room that user may read, or not_found."""
    wanted = check_cursor(message_id, "id")
    message = db.session.scalar(visible_messages(user=user, room=room).where(Message.id == wanted))
    if message is None or message.is_deleted:
        raise ServiceError("not_found", _("There is no such message in this room (it may have been deleted)."))
    return message


def edit_message(*, editor: User, room: Room, message_id: object, body: object) -> EditResult:
    """Replace the body of editor's own message, within MESSAGE_EDIT_WINDOW_SECONDS of sending it.

    Only its author may edit a message; the @mentions are worked out anew. Committed
    before the room hears `message_updated` (and the newly mentioned, `mention`).
    """
    ensure_can_enter(user=editor, room=room)
    message = get_message(user=editor, room=room, message_id=message_id)
    if message.sender_id != editor.id:
        raise ServiceError("forbidden", _("Only its author can edit a message."))
    ensure_can_write(user=editor, room=room)  # not in an archived room
    if message.poll is not None:  # its voters answered the question as it was asked
        raise ServiceError("conflict", _("A poll cannot be edited; close it and post a new one."))
    if message.assignment is not None:  # its students work from it as it was set
        raise ServiceError("conflict", _("Homework cannot be edited; set it again with the changes."))
    window = edit_window()
    if window is not None and utcnow() - message.created_at > window:
        raise ServiceError(
            "forbidden",
            _("A message can be edited for %(window)s after it was sent; this one is older.", window=describe(window)),
        )
    membership = get_membership(user=editor, room=room)
    if membership is not None and membership.is_muted():
        raise ServiceError("forbidden", _("A moderator muted you in this room: you cannot edit messages meanwhile."))
    text = check_body(body, allow_empty=bool(message.attachments))
    if text == message.body:
        return EditResult(message=message, changed=False, newly_mentioned=[])
    check_rate(action="send", key=editor.id)
    message.body = text
    message.edited_at = utcnow()
    newly_mentioned = record_mentions(message=message)
    db.session.commit()
    announce_message_updated(message)
    announce_mentions(message, user_ids=newly_mentioned)
    return EditResult(message=message, changed=True, newly_mentioned=newly_mentioned)
