"""What the people of a room hear about its messages, once the change is committed."""
from __future__ import annotations

from ..models import Message
from ..realtime.announce import announce
from ..realtime.channels import notes_channel, room_channel, user_channel


def message_channel(message: Message) -> str:
    """Where news of a message goes: its room, or only the staff of a support conversation for a note."""
    return notes_channel(message.room.slug) if message.internal else room_channel(message.room.slug)


def announce_message(shown: dict) -> None:
    """A new message (its MESSAGE shape): to its room, or to the staff only for a note."""
    announce(
        "message", shown, to=notes_channel(shown["room"]) if shown.get("internal") else room_channel(shown["room"])
    )


def announce_message_updated(message: Message) -> None:
    """Everyone who may see the message gets its new state (edited, pinned, asked, answered)."""
    announce("message_updated", message.to_dict(), to=message_channel(message))


def announce_mentions(message: Message, *, user_ids: list[int]) -> None:
    """Each person newly @mentioned (but the author) gets a `mention` on all their sockets."""
    recipients = [user_id for user_id in user_ids if user_id != message.sender_id]
    if not recipients:
        return
    notice = {"room": message.room.to_dict(), "message": message.to_dict()}
    announce("mention", notice, to=[user_channel(user_id) for user_id in recipients])
