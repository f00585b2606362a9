"""Who has read what: the read receipts of direct messages and support conversations, and "Seen by" in rooms.

A read position (Membership.last_read_id) is what each client's `read` moves (services/messages.
mark_read). Here it becomes:
- in a direct room or a support conversation, `read_receipt` {room, user_id, visitor, last_read_id} to the
  room after the position moved (and the positions of the others in the join ack): each own
  message then shows "Read" once the other side's position reaches it;
- in a room or class, `seen_by`: for a message's author and the room's moderators, who of the
  room's members has read it and who has not.
A member who turned read receipts off (User.share_reads, /auth/account) is in neither, and sees
nobody else's "Seen by": a receipt is a thing shared both ways.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..extensions import db
from ..models import VISITOR_ROLE, Membership, Message, Room, User
from ..realtime.announce import announce
from ..realtime.channels import room_channel
from .errors import ServiceError
from .moderation import is_moderator
from .rooms import ensure_can_enter

READ_RECEIPT = "read_receipt"


def _two_sided(room: Room) -> bool:
    """Rooms of two sides, where every own message shows whether the other side read it."""
    return room.is_direct or room.is_support


def read_moved(*, user: User, room: Room, position: int) -> None:
    """user's read position in room moved to position (committed): tell the other side, where it is two-sided."""
    if _two_sided(room) and user.share_reads:
        announce(READ_RECEIPT, {"room": room.slug, "user_id": user.id, "visitor": user.is_visitor,
                                "last_read_id": position}, to=room_channel(room.slug))


def positions(*, viewer: User, room: Room) -> list[dict]:
    """For the join ack of a two-sided room: how far each other member who shares receipts has read."""
    if not _two_sided(room):
        return []
    rows = db.session.execute(
        db.select(Membership.user_id, User.role, Membership.last_read_id).join(User, User.id == Membership.user_id)
        .where(Membership.room_id == room.id, Membership.user_id != viewer.id, User.share_reads.is_(True))
    ).all()
    return [{"user_id": user_id, "visitor": role == VISITOR_ROLE, "last_read_id": last_read_id}
            for user_id, role, last_read_id in rows]


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
