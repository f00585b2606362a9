"""Rooms: creating them, who may enter, membership and join codes."""
from __future__ import annotations

import re
import secrets
import unicodedata

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ROOM_KINDS, Membership, Room, User
from .errors import ServiceError
from .text import clean_name

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_ROOM_NAME_LENGTH = 80
# No 0/O or 1/I/L: codes are read aloud in class and typed by hand.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8


def check_slug(slug: str) -> str:
    """Return the slug or raise invalid."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ServiceError("invalid", "A room address is 1 to 64 lowercase letters, digits or '-'.")
    return slug


def check_room_name(name: str) -> str:
    """Return a clean room name or raise invalid."""
    return clean_name(name, what="room name", max_length=MAX_ROOM_NAME_LENGTH)


def slugify(name: str) -> str:
    """A URL-safe slug made from a room name (may be empty for non-Latin names)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def create_room(*, name: str, creator: User | None, slug: str | None = None, private: bool = False) -> Room:
    """Create and commit a room; its creator becomes its owner. Private rooms get a join code."""
    clean_name = check_room_name(name)
    if slug:
        slug = check_slug(slug)
    else:
        base = slugify(clean_name) or "room"
        slug = base
        while db.session.scalar(db.select(Room.id).filter_by(slug=slug)) is not None:
            slug = f"{base}-{secrets.token_hex(2)}"
    if db.session.scalar(db.select(Room.id).filter_by(slug=slug)) is not None:
        raise ServiceError("conflict", "A room with that address exists already; choose another.")
    room = Room(
        slug=slug,
        name=clean_name,
        kind="private" if private else "public",
        join_code=_new_join_code() if private else None,
        created_by_id=creator.id if creator else None,
    )
    db.session.add(room)
    if creator is not None:
        db.session.add(Membership(user_id=creator.id, room=room, role="owner"))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("conflict", "A room with that address exists already; choose another.") from None
    return room


def get_room(slug: object) -> Room:
    """The room with this slug, or not_found."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ServiceError("not_found", "There is no such room.")
    room = db.session.scalar(db.select(Room).filter_by(slug=slug))
    if room is None:
        raise ServiceError("not_found", "There is no such room.")
    return room


def get_membership(*, user: User, room: Room) -> Membership | None:
    """user's membership of room, if any."""
    return db.session.scalar(db.select(Membership).filter_by(user_id=user.id, room_id=room.id))


def can_enter(*, user: User, room: Room) -> bool:
    """Public rooms are open to every account; private ones to members and admins."""
    if not room.is_private or user.role == "admin":
        return True
    return get_membership(user=user, room=room) is not None


def ensure_can_enter(*, user: User, room: Room) -> None:
    """Raise forbidden unless user may read and write in room."""
    if not can_enter(user=user, room=room):
        raise ServiceError("forbidden", "This room is private; ask its owner for the join code.")


def enter_room(*, user: User, room: Room) -> Membership | None:
    """Check access and make user a member of a public room on first visit."""
    ensure_can_enter(user=user, room=room)
    membership = get_membership(user=user, room=room)
    if membership is None and not room.is_private:
        membership = Membership(user_id=user.id, room_id=room.id, role="member")
        db.session.add(membership)
        try:
            db.session.commit()
        except IntegrityError:  # another tab of the same user got there first
            db.session.rollback()
            membership = get_membership(user=user, room=room)
    return membership


def join_by_code(*, user: User, code: str) -> Room:
    """Make user a member of the private room whose join code this is."""
    clean = "".join((code or "").split()).upper()
    if not clean or len(clean) > 32:
        raise ServiceError("invalid", "Type the join code your teacher or host gave you.")
    room = db.session.scalar(db.select(Room).filter_by(join_code=clean))
    if room is None:
        raise ServiceError("not_found", "No room has that join code; check it and try again.")
    if get_membership(user=user, room=room) is None:
        db.session.add(Membership(user_id=user.id, room_id=room.id, role="member"))
        db.session.commit()
    return room


def rooms_for_user(*, user: User) -> list[Room]:
    """The rooms user may enter: every public room and the private ones they belong to."""
    query = db.select(Room).order_by(Room.name)
    if user.role != "admin":
        member_of = db.select(Membership.room_id).filter_by(user_id=user.id)
        query = query.where((Room.kind == "public") | Room.id.in_(member_of))
    return list(db.session.scalars(query))


def list_members(*, room: Room) -> list[Membership]:
    """The room's members, owners first, then by name."""
    query = (
        db.select(Membership)
        .join(User, Membership.user_id == User.id)
        .filter(Membership.room_id == room.id, User.is_active_account.is_(True))
        .order_by(Membership.role.desc(), User.display_name)
    )
    return list(db.session.scalars(query))


def room_kinds() -> tuple[str, ...]:
    """The kinds a room may be."""
    return ROOM_KINDS
