"""Anonymous questions: who may ask one, and who may see its author.

The message row keeps its real author (sender_id); Message.to_dict() hides the author of an
anonymous message unless told to reveal it, and this module is the one place that decides to:
for a moderator of the room and for the author, never for a classmate (docs/security.md).
"""
from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _

from ..models import Message, Room, User
from .errors import ServiceError
from .moderation import is_moderator


def check_anonymous_question(*, room: Room, question: bool, anonymous: bool, internal: bool = False) -> None:
    """Refuse an anonymous send unless it is a question in a room whose moderators allow anonymous questions."""
    if not anonymous:
        return
    if not question or internal:
        raise ServiceError("invalid", _("Only a question can be sent anonymously: tick “Ask” too."))
    if not may_ask_anonymously(room=room):
        raise ServiceError(
            "forbidden",
            _("This class does not allow anonymous questions; untick “Ask anonymously” to ask with your name."),
        )


def may_ask_anonymously(*, room: Room) -> bool:
    """Whether members may ask questions anonymously in room now (the capability the composer reads)."""
    return bool(room.allow_anonymous_questions) and not room.is_support and not room.is_direct


def reveals_author(*, viewer: User | None, message: Message, moderator: bool | None = None) -> bool:
    """Whether viewer may see who wrote message: always for a named one; for an anonymous one, its
    author and the room's moderators (`moderator`, when the caller knows it already)."""
    if not message.anonymous:
        return True
    if viewer is None or viewer.is_visitor:
        return False
    if viewer.id == message.sender_id:
        return True
    return moderator if moderator is not None else is_moderator(user=viewer, room=message.room)


def shown_to(message: Message, *, viewer: User | None, moderator: bool | None = None) -> dict:
    """message's MESSAGE shape as viewer may see it (an anonymous one's author: only to the author and moderators)."""
    return message.to_dict(reveal_author=reveals_author(viewer=viewer, message=message, moderator=moderator))


def shown_all(messages: Iterable[Message], *, viewer: User | None, room: Room) -> list[dict]:
    """shown_to for a page of one room's messages, asking once whether viewer moderates it."""
    page = list(messages)
    moderator = (
        is_moderator(user=viewer, room=room)
        if viewer is not None and not viewer.is_visitor and any(m.anonymous for m in page) else False
    )
    return [shown_to(message, viewer=viewer, moderator=moderator) for message in page]


def author_label(message: Message) -> str:
    """How a classmate's e-mail or printed page names the author of a message (never an anonymous one's)."""
    return _("Anonymous") if message.anonymous else message.sender.display_name
