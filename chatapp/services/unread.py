"""Unread counts across rooms: the room list's badges, in one query."""
from __future__ import annotations

from ..extensions import db
from ..models import Membership, Message, Room, User
from . import read_writes
from .rooms import can_enter

# The rooms the room list shows (support conversations have the agent console).
LISTED_KINDS = ("public", "private", "direct")


def unread_counts(*, user: User) -> dict[int, int]:
    """room id -> how many messages others sent there since user's read position, for every room user is a member of.

    One grouped query over the user's memberships and the (room_id, id) index of messages,
    however many rooms there are. Rooms with nothing unread are left out. Read positions held
    back (services/read_writes.py) are written first, so that a room just read counts 0.
    """
    read_writes.flush(user_id=user.id)
    rows = db.session.execute(
        db.select(Membership.room_id, db.func.count(Message.id))
        .join(Room, Room.id == Membership.room_id)
        .join(Message, (Message.room_id == Membership.room_id) & (Message.id > Membership.last_read_id))
        .where(
            Membership.user_id == user.id,
            Room.kind.in_(LISTED_KINDS),
            Message.sender_id != user.id,
            Message.internal.is_(False),
            Message.deleted_at.is_(None),
        )
        .group_by(Membership.room_id)
    ).all()
    return {room_id: count for room_id, count in rows}


def watched_rooms(*, user: User) -> list[Room]:
    """The rooms whose new messages change user's counts: those user is a member of and may still enter."""
    rooms = db.session.scalars(
        db.select(Room).join(Membership, Membership.room_id == Room.id)
        .where(Membership.user_id == user.id, Room.kind.in_(LISTED_KINDS))
    )
    return [room for room in rooms if can_enter(user=user, room=room)]
