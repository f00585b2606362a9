"""Who has read what: the receipts of direct messages and support conversations, and "Seen by" in rooms.

A read position (Membership.last_read_id) is what each client's `read` moves (services/messages.
mark_read); a delivered position (Membership.delivered_id) is how far a member's devices have
received a two-sided room: its `join` (the ack holds everything up to the newest message), its
`delivered` after a live message, and any read (what was read was received). Here they become:
- in a direct room or a support conversation, `read_receipt` {room, user_id, visitor, delivered_id,
  last_read_id} to the room after either moved (and both positions of the others in the join ack):
  each own message then shows "Delivered" once the other side's devices have it, and "Read" once
  its read position reaches it;
- in a room or class, `seen_by`: for a message's author and the room's moderators, who of the
  room's members has read it and who has not.
A member who turned read receipts off (User.share_reads, /auth/account) shares no read position
(last_read_id is null; "Delivered" still shows, as other messengers do) and sees nobody else's
"Seen by": a receipt is a thing shared both ways.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..extensions import db
from ..models import Membership, Message, Room, User
from ..realtime.announce import announce
from ..realtime.channels import room_channel
from .errors import ServiceError
from .moderation import is_moderator
from .rooms import ensure_can_enter

READ_RECEIPT = "read_receipt"


def _two_sided(room: Room) -> bool:
    """Rooms of two sides, where every own message shows whether the other side received and read it."""
    return room.is_direct or room.is_support


def takes_receipts(room: Room) -> bool:
    """Whether clients in room send `delivered` and show Delivered and Read (the join ack's `receipts`)."""
    return _two_sided(room)


def _receipt(*, user: User, room: Room, delivered_id: int, last_read_id: int) -> dict:
    return {"room": room.slug, "user_id": user.id, "visitor": user.is_visitor, "delivered_id": delivered_id,
            "last_read_id": last_read_id if user.share_reads else None}


def read_moved(*, user: User, room: Room, membership: Membership) -> None:
    """user's read position in room moved (not yet committed): their delivered one follows; tell the other side.

    Commits. Only in two-sided rooms (services/read_writes.py writes the others').
    """
    membership.delivered_id = max(membership.delivered_id, membership.last_read_id)
    db.session.commit()
    announce(READ_RECEIPT, _receipt(user=user, room=room, delivered_id=membership.delivered_id,
                                    last_read_id=membership.last_read_id), to=room_channel(room.slug))


def mark_delivered(*, user: User, room: Room, last_id: object = None) -> None:
    """user's devices now hold room up to message last_id (None: its newest); a two-sided room's other side hears it.

    Never moves back, never past the newest message; a no-op for those without a membership (an
    admin reading a direct room) and in rooms without receipts.
    """
    if last_id is not None and (isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 0):
        raise ServiceError("invalid", _("last_id is a message id (a whole number)."))
    ensure_can_enter(user=user, room=room)
    if not _two_sided(room):
        return
    newest = db.session.scalar(db.select(db.func.max(Message.id)).where(Message.room_id == room.id)) or 0
    position = newest if last_id is None else min(last_id, newest)
    # One conditional UPDATE: two tabs (or processes) moving it at once never move it back.
    moved = db.session.execute(
        db.update(Membership).where(Membership.user_id == user.id, Membership.room_id == room.id,
                                    Membership.delivered_id < position)
        .values(delivered_id=position).returning(Membership.last_read_id)
    ).scalar()
    db.session.commit()
    if moved is not None:
        announce(READ_RECEIPT, _receipt(user=user, room=room, delivered_id=position, last_read_id=moved),
                 to=room_channel(room.slug))


def positions(*, viewer: User, room: Room) -> list[dict]:
    """For the join ack of a two-sided room: how far each other member's devices received and (if shared) read."""
    if not _two_sided(room):
        return []
    rows = db.session.execute(
        db.select(User, Membership.delivered_id, Membership.last_read_id)
        .join(Membership, Membership.user_id == User.id)
        .where(Membership.room_id == room.id, Membership.user_id != viewer.id)
    ).all()
    return [{key: value for key, value in _receipt(user=user, room=room, delivered_id=max(delivered, read),
                                                     last_read_id=read).items() if key != "room"}
            for user, delivered, read in rows]


def seen_by(*, viewer: User, room: Room, message_id: object) -> dict:
    """Who of room's members has read a message and who has not: for its author and the room's moderators.

    The author and people who turned receipts off are in neither list.
    """
    ensure_can_enter(user=viewer, room=room)
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        raise ServiceError("invalid", _("id is the message's id (a whole number)."))
    message = db.session.get(Message, message_id)
    if message is None or message.room_id != room.id or message.internal:
        raise ServiceError("not_found", _("There is no such message in this room."))
    if message.sender_id != viewer.id and not is_moderator(user=viewer, room=room):
        raise ServiceError("forbidden", _("Only a message's author and the room's moderators see who read it."))
    if not viewer.share_reads:
        raise ServiceError("forbidden", _(
            "You turned read receipts off, so you see nobody else's: turn them on in your account settings."
        ))
    members = db.session.execute(
        db.select(User, Membership.last_read_id).join(Membership, Membership.user_id == User.id)
        .where(Membership.room_id == room.id, User.id != message.sender_id, User.share_reads.is_(True),
               User.is_active_account.is_(True))
        .order_by(User.display_name, User.username)
    ).all()
    seen = [user.to_dict() for user, last_read in members if last_read >= message.id]
    unseen = [user.to_dict() for user, last_read in members if last_read < message.id]
    return {"id": message.id, "seen": seen, "unseen": unseen, "total": len(members)}
