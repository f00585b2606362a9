"""Direct messages: a room of kind "direct" between exactly two accounts, one per pair."""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import DIRECT_ROOM_KIND, Membership, Message, Room, User
from .errors import ServiceError
from .rooms import MAX_ROOM_NAME_LENGTH

# Rooms where meeting someone lets you write to them directly (never support conversations).
MEETING_KINDS = ("public", "private")


# Direct conversations per page of the admins' list.
ADMIN_PAGE_SIZE = 50


@dataclass(frozen=True)
class DirectRoom:
    """A direct room as one of its two people sees it: the room, and the other person."""

    room: Room
    partner: User


def direct_key(first: User, second: User) -> str:
    """The pair's key: the same whichever of the two asks."""
    low, high = sorted((first.id, second.id))
    return f"{low}:{high}"


def share_a_room(*, user: User, other: User) -> bool:
    """Whether both are members of one public or private room."""
    mine = db.select(Membership.room_id).filter_by(user_id=user.id)
    shared = (
        db.select(Membership.id)
        .join(Room, Room.id == Membership.room_id)
        .where(Membership.user_id == other.id, Membership.room_id.in_(mine), Room.kind.in_(MEETING_KINDS))
        .limit(1)
    )
    return db.session.scalar(shared) is not None


def check_can_message(*, user: User, other: User | None) -> User:
    """Return other if user may write to them directly; else raise.

    Both must be active accounts (not widget visitors), two different people, and have
    met in a room; staff may write to anyone, so a teacher can reach any student.
    """
    if user.is_visitor:
        raise ServiceError("forbidden", _("Direct messages are for accounts only."))
    if other is None or not other.is_active_account or other.is_visitor:
        raise ServiceError("not_found", _("There is no such person."))
    if other.id == user.id:
        raise ServiceError("invalid", _("You cannot send direct messages to yourself."))
    if not (user.is_staff or other.is_staff or share_a_room(user=user, other=other)):
        raise ServiceError("forbidden", _("You can write directly only to people you share a room with."))
    return other


def _find(key: str) -> Room | None:
    return db.session.scalar(db.select(Room).filter_by(direct_key=key))


def open_direct_room(*, user: User, other: User | None) -> Room:
    """The pair's direct room, created (with both as members) on first use and reused ever after."""
    partner = check_can_message(user=user, other=other)
    key = direct_key(user, partner)
    room = _find(key)
    if room is not None:
        return room
    name = f"{user.display_name} and {partner.display_name}"[:MAX_ROOM_NAME_LENGTH]
    # A random slug: it must not collide with rooms people name, nor reveal account ids.
    room = Room(
        slug=f"dm-{secrets.token_hex(6)}", name=name, kind=DIRECT_ROOM_KIND, direct_key=key, created_by_id=user.id
    )
    db.session.add(room)
    db.session.add(Membership(user_id=user.id, room=room, role="member"))
    db.session.add(Membership(user_id=partner.id, room=room, role="member"))
    try:
        db.session.commit()
    except IntegrityError:  # both opened it at once: the unique direct_key kept one room
        db.session.rollback()
        room = _find(key)
        if room is None:
            raise
    return room


def people_in(*, room: Room) -> list[User]:
    """A direct room's two people, by name (none for any other room)."""
    return people_of(room_ids=[room.id]).get(room.id, []) if room.is_direct else []


def people_of(*, room_ids: list[int]) -> dict[int, list[User]]:
    """The members of each of these rooms, by name, in one query."""
    people: dict[int, list[User]] = {}
    for room_id, person in db.session.execute(
        db.select(Membership.room_id, User).join(User, User.id == Membership.user_id)
        .where(Membership.room_id.in_(room_ids)).order_by(User.display_name)
    ):
        people.setdefault(room_id, []).append(person)
    return people


def partner_of(*, people: list[User], user: User) -> User | None:
    """Of a direct room's people, the other one for user (None if user is not one of them: an admin reading)."""
    if user.id not in {person.id for person in people}:
        return None
    return next((person for person in people if person.id != user.id), None)


def direct_rooms_for_user(*, user: User) -> list[DirectRoom]:
    """user's direct rooms with the other person of each, by that person's name (one query)."""
    if user.is_visitor:
        return []
    mine = db.aliased(Membership)
    theirs = db.aliased(Membership)
    rows = db.session.execute(
        db.select(Room, User)
        .join(mine, (mine.room_id == Room.id) & (mine.user_id == user.id))
        .join(theirs, (theirs.room_id == Room.id) & (theirs.user_id != user.id))
        .join(User, User.id == theirs.user_id)
        .where(Room.kind == DIRECT_ROOM_KIND)
        .order_by(User.display_name)
    ).all()
    return [DirectRoom(room=room, partner=partner) for room, partner in rows]


@dataclass(frozen=True)
class DirectOverview:
    """One direct conversation as the admins' list shows it: its two people, how much was said, and when last."""

    room: Room
    people: list[User]
    messages: int
    last_at: datetime | None


def list_direct_rooms(*, viewer: User, page: int = 1) -> tuple[list[DirectOverview], bool]:
    """Every direct conversation, the most recently active first, a page at a time (admins only; more pages?)."""
    if viewer.role != "admin":
        raise ServiceError("forbidden", _("Only site admins see other people's direct messages."))
    page = max(1, page)
    last_id = db.func.max(Message.id)
    rows = db.session.execute(
        db.select(Room, db.func.count(Message.id), db.func.max(Message.created_at))
        .outerjoin(Message, Message.room_id == Room.id)
        .where(Room.kind == DIRECT_ROOM_KIND)
        .group_by(Room.id)
        .order_by(last_id.is_(None), last_id.desc(), Room.id.desc())
        .limit(ADMIN_PAGE_SIZE + 1)
        .offset((page - 1) * ADMIN_PAGE_SIZE)
    ).all()
    shown = rows[:ADMIN_PAGE_SIZE]
    people = people_of(room_ids=[room.id for room, _count, _last in shown])
    overviews = [
        DirectOverview(room=room, people=people.get(room.id, []), messages=count, last_at=last)
        for room, count, last in shown
    ]
    return overviews, len(rows) > ADMIN_PAGE_SIZE
