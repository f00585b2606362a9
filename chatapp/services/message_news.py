"""What the people of a room hear about its messages, once the change is committed."""
from __future__ import annotations

from ..models import Message
from ..realtime.announce import announce
from ..realtime.channels import moderators_channel, notes_channel, room_channel, user_channel


def message_channel(message: Message) -> str:
    """Where news of a message goes: its room, or only the staff of a support conversation for a note."""
    return notes_channel(message.room.slug) if message.internal else room_channel(message.room.slug)


def announce_message(shown: dict, *, revealed: dict | None = None) -> None:
    """A new message (its MESSAGE shape): to its room, or to the staff only for a note.

    An anonymous one goes to the room without its author; `revealed` (its shape with the author)
    follows as `message_updated` to the room's moderators and the author's own sockets only.
    """
    announce(
        "message", shown, to=notes_channel(shown["room"]) if shown.get("internal") else room_channel(shown["room"])
    )
    if revealed is not None:
        _announce_author(revealed)


def announce_message_updated(message: Message) -> None:
    """Everyone who may see the message gets its new state (edited, pinned, asked, answered);
    for an anonymous one, the moderators and the author then get it with its author."""
    announce("message_updated", message.to_dict(), to=message_channel(message))
    if message.anonymous:
        _announce_author(message.to_dict(reveal_author=True))


def _announce_author(revealed: dict) -> None:
    """An anonymous message with its author: only to those who may know it (services/anonymity.reveals_author)."""
    to = [moderators_channel(revealed["room"]), user_channel(revealed["sender"]["id"])]
    announce("message_updated", revealed, to=to)


def announce_mentions(message: Message, *, user_ids: list[int]) -> None:
    """Each person newly @mentioned (but the author) gets a `mention` on all their sockets."""
    recipients = [user_id for user_id in user_ids if user_id != message.sender_id]
    if not recipients:
        return
    notice = {"room": message.room.to_dict(), "message": message.to_dict()}
    announce("mention", notice, to=[user_channel(user_id) for user_id in recipients])
