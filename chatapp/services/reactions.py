"""Emoji reactions: one per person, message and emoji, each change a change of the message (its revision).

Who may react is who may read the message and write in its room, unless muted: an
announcement-only room lets its students react (that is what they are for there), and slow
mode does not count reactions. A change is committed, with the message's new revision, before
the room hears `message_updated`; so a client away meanwhile gets it in the join's `changed`.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import flag_modified

from ..extensions import db
from ..models import Message, Reaction, Room, User, utcnow
from .errors import ServiceError
from .message_news import announce_message_updated
from .messages import check_cursor, visible_messages
from .ratelimit import check_rate
from .rooms import ensure_can_enter, ensure_can_write, get_membership
from .rows import rows_changed

# How many names a reaction button's name says; its title says up to REACTION_USERS_SHOWN.
LABEL_NAMES = 2
# The longest emoji sequences (families, flags of regions) have 10 or so code points.
MAX_EMOJI_CODE_POINTS = 16
_ZWJ = "\u200d"
_VARIATION_SELECTORS = (0xFE0E, 0xFE0F)
_SKIN_TONES = range(0x1F3FB, 0x1F400)
_REGIONAL_INDICATORS = range(0x1F1E6, 0x1F200)
_TAGS = range(0xE0020, 0xE0080)  # a subdivision flag's letters, after a black flag
# Emoji that Unicode files as maths symbols or punctuation rather than as "other symbols" (So).
_SYMBOL_BLOCKS = (range(0x2190, 0x2200), range(0x2300, 0x2400), range(0x2900, 0x2980), range(0x2B00, 0x2C00))
_PUNCTUATION_EMOJI = frozenset({0x203C, 0x2049, 0x3030, 0x303D})


@dataclass(frozen=True)
class ReactResult:
    """The message, whether this call changed its reactions (False: there already, or not there), and REACTIONS."""

    message: Message
    changed: bool
    reactions: list[dict]


def _is_pictograph(char: str) -> bool:
    point = ord(char)
    if point in _SKIN_TONES or point in _REGIONAL_INDICATORS:
        return False
    category = unicodedata.category(char)
    if category == "So" or point in _PUNCTUATION_EMOJI:
        return True
    return category == "Sm" and any(point in block for block in _SYMBOL_BLOCKS)


def _is_one_emoji(text: str) -> bool:
    """Whether text is one emoji as a person sees it: a flag, or pictographs joined by ZWJ, each with
    its variation selector, skin tone and tags; never letters, digits, spaces or control characters."""
    if len(text) == 2 and all(ord(char) in _REGIONAL_INDICATORS for char in text):
        return True  # a country's flag: exactly two regional indicators
    for part in text.split(_ZWJ):
        if not part or not _is_pictograph(part[0]):
            return False
        tones = 0
        for char in part[1:]:
            point = ord(char)
            if point in _SKIN_TONES:
                tones += 1
            elif point not in _VARIATION_SELECTORS and point not in _TAGS:
                return False
        if tones > 1:
            return False
    return True


def check_emoji(value: object) -> str:
    """Return value if it is a single emoji (1 to MAX_EMOJI_CODE_POINTS code points), else raise invalid."""
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_EMOJI_CODE_POINTS or not _is_one_emoji(value):
        raise ServiceError("invalid", _("A reaction is one emoji, such as 👍; choose one from the list."))
    return value


def check_can_react(*, user: User, room: Room) -> None:
    """Raise forbidden unless user may react in room: enter it, write there, and not be muted."""
    ensure_can_enter(user=user, room=room)  # a private room's outsiders, the banned, others' conversations
    ensure_can_write(user=user, room=room)  # a site admin reading direct messages
    membership = get_membership(user=user, room=room)
    if membership is not None and membership.is_muted():
        raise ServiceError(
            "forbidden", _("A moderator muted you in this room: you cannot react to messages meanwhile.")
        )


def can_react(*, user: User, room: Room) -> bool:
    """Whether user may react in room now (check_can_react's answer, for the page and the join ack)."""
    try:
        check_can_react(user=user, room=room)
    except ServiceError:
        return False
    return True


def reacted_by(group: dict, *, most: int) -> str:
    """Who gave one emoji, in words: "Alice", "Alice and Bob", "Alice, Bob and 3 others" (at most `most` names).

    static/js/reactions.js says it in the same words.
    """
    names = [user["display_name"] for user in group["users"][:most]]
    others = group["count"] - len(names)
    if others > 0:
        return ngettext("%(names)s and %(num)d other", "%(names)s and %(num)d others", others,
                        names=_(", ").join(names))
    if len(names) == 1:
        return names[0]
    return _("%(names)s and %(last)s", names=_(", ").join(names[:-1]), last=names[-1])


def reaction_label(group: dict) -> str:
    """A reaction button's name: its emoji and count as shown, then who gave it ("👍 3: Alice, Bob and 1 other")."""
    return _("%(emoji)s %(count)d: %(who)s", emoji=group["emoji"], count=group["count"],
             who=reacted_by(group, most=LABEL_NAMES))


def get_reactable_message(*, user: User, room: Room, message_id: object) -> Message:
    """The message of room that user may read and react to: not_found if unknown or unseen (a note), conflict if
    deleted."""
    wanted = check_cursor(message_id, "id")
    message = db.session.scalar(visible_messages(user=user, room=room).where(Message.id == wanted))
    if message is None:
        raise ServiceError("not_found", _("There is no such message in this room."))
    if message.is_deleted:
        raise ServiceError("conflict", _("That message was deleted; it cannot get reactions."))
    return message


def check_room_for_emoji(*, message: Message, emoji: str) -> None:
    """Raise too_large if emoji would be a kind more than REACTION_KINDS_MAX on message (joining one is fine)."""
    kinds = set(db.session.scalars(db.select(Reaction.emoji).where(Reaction.message_id == message.id).distinct()))
    most = int(current_app.config["REACTION_KINDS_MAX"])
    if emoji not in kinds and len(kinds) >= most:
        raise ServiceError(
            "too_large",
            _("A message can have at most %(max)d different emoji; add one of those instead.", max=most),
            limit=most,
        )


def _add(*, message: Message, user: User, emoji: str) -> bool:
    # INSERT ... ON CONFLICT DO NOTHING on the unique key: a retry or a second tab adds nothing.
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert(Reaction).values(
        message_id=message.id, user_id=user.id, emoji=emoji, created_at=utcnow()
    ).on_conflict_do_nothing(index_elements=["message_id", "user_id", "emoji"])
    return rows_changed(statement) > 0


def _remove(*, message: Message, user: User, emoji: str) -> bool:
    statement = db.delete(Reaction).where(
        Reaction.message_id == message.id, Reaction.user_id == user.id, Reaction.emoji == emoji
    )
    return rows_changed(statement) > 0


def check_not_own_anonymous(*, user: User, message: Message) -> None:
    """Refuse the author's reaction to their own anonymous question: the reactors' names would show who asked it."""
    if message.anonymous and message.sender_id == user.id:
        raise ServiceError("forbidden", _("You asked this question anonymously; reacting to it would show your name."))


def react(*, user: User, room: Room, message_id: object, emoji: object, on: bool) -> ReactResult:
    """Add (on) or take back (not on) user's emoji on a message; doing either twice changes nothing.

    A change gives the message its room's next revision in the same commit, then everyone who
    may see the message hears `message_updated` with its reactions.
    """
    chosen = check_emoji(emoji)
    check_can_react(user=user, room=room)
    message = get_reactable_message(user=user, room=room, message_id=message_id)
    check_rate(action="react", key=user.id)
    if on:
        check_not_own_anonymous(user=user, message=message)
        check_room_for_emoji(message=message, emoji=chosen)
        changed = _add(message=message, user=user, emoji=chosen)
    else:
        changed = _remove(message=message, user=user, emoji=chosen)
    if not changed:
        db.session.rollback()
        return ReactResult(message=message, changed=False, reactions=message.reactions())
    # Its reactions are rows of their own: mark the message changed, so that the before_flush hook
    # (messages._revise_changed_messages) gives it the room's next revision for the catch-up.
    flag_modified(message, "revision")
    db.session.commit()
    announce_message_updated(message)
    return ReactResult(message=message, changed=True, reactions=message.reactions())
