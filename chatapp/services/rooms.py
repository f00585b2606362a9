"""Rooms: creating them, who may enter, membership and join codes."""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import datetime, timedelta

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import ROOM_KINDS, Ban, Conversation, Membership, Room, User, utcnow
from . import teams, webhooks
from .errors import ServiceError
from .ratelimit import check_rate
from .rows import exists, find
from .text import clean_name

SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")
MAX_ROOM_NAME_LENGTH = 80
# No 0/O or 1/I/L: codes are read aloud in class and typed by hand.
JOIN_CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
JOIN_CODE_LENGTH = 8
BANNED_MESSAGE = _l("You have been banned from this room by its moderators.")


def check_slug(slug: str) -> str:
    """Return the slug or raise invalid."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ServiceError("invalid", _("A room address is 1 to 64 lowercase letters, digits or '-'."))
    return slug


def check_room_name(name: str) -> str:
    """Return a clean room name or raise invalid."""
    return clean_name(name, what=_("room name"), max_length=MAX_ROOM_NAME_LENGTH)


def slugify(name: str) -> str:
    """A URL-safe slug made from a room name (may be empty for non-Latin names)."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")[:48].strip("-")


def _new_join_code() -> str:
    return "".join(secrets.choice(JOIN_CODE_ALPHABET) for _ in range(JOIN_CODE_LENGTH))


def create_room(
    *, name: str, creator: User | None, slug: str | None = None, private: bool = False, is_class: bool = False,
    join_code_expires_at: datetime | None = None,
) -> Room:
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
        raise ServiceError("conflict", _("A room with that address exists already; choose another."))
    room = Room(
        slug=slug,
        name=clean_name,
        kind="private" if private else "public",
        join_code=_new_join_code() if private else None,
        created_by_id=creator.id if creator else None,
        is_class=bool(is_class),
        join_code_expires_at=join_code_expires_at if private else None,
    )
    db.session.add(room)
    if creator is not None:
        db.session.add(Membership(user_id=creator.id, room=room, role="owner"))
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("conflict", _("A room with that address exists already; choose another.")) from None
    return room


def create_class(*, name: str, teacher: User, code_valid_for: timedelta | None = None) -> Room:
    """A teacher (staff or admin) creates a class: a private room with a join code, valid for code_valid_for (None:
    until changed)."""
    if not teacher.is_staff:
        raise ServiceError("forbidden", _("Only teachers (staff accounts) can create a class."))
    expires_at = utcnow() + code_valid_for if code_valid_for else None
    return create_room(name=name, creator=teacher, private=True, is_class=True, join_code_expires_at=expires_at)


def new_join_code() -> str:
    """A fresh join code that no room uses."""
    while True:
        code = _new_join_code()
        if db.session.scalar(db.select(Room.id).filter_by(join_code=code)) is None:
            return code


def get_room(slug: object) -> Room:
    """The room with this slug, or not_found."""
    if not isinstance(slug, str) or not SLUG_RE.match(slug):
        raise ServiceError("not_found", _("There is no such room."))
    room = find(Room, slug=slug)  # every event looks its room up: Core, not the ORM (docs/performance.md)
    if room is None:
        raise ServiceError("not_found", _("There is no such room."))
    return room


def get_membership(*, user: User, room: Room) -> Membership | None:
    """user's membership of room, if any."""
    return find(Membership, user_id=user.id, room_id=room.id)


def is_banned(*, user: User, room: Room) -> bool:
    """Whether a moderator banned user from room."""
    return exists(Ban, user_id=user.id, room_id=room.id)


def can_enter(*, user: User, room: Room) -> bool:
    """Who may read and write where.

    A support conversation is open to its site's agents (services/teams.py) and admins and to its own visitor only; a
    visitor may enter nothing else. Public rooms are open to every account; private ones
    to members and admins; direct ones to their two people, and to admins for reading
    only (ensure_can_write). Nobody enters a room they are banned from.
    """
    if room.is_support:
        if user.is_staff:
            conversation = db.session.scalar(db.select(Conversation).filter_by(room_id=room.id))
            return conversation is None or teams.may_see(agent=user, site=conversation.site)
        return user.is_visitor and db.session.scalar(
            db.select(Conversation.visitor_id).filter_by(room_id=room.id)
        ) == user.id
    if user.is_visitor:
        return False
    if room.is_direct:
        # Its two people (services/direct.py makes both members); and site admins, who see
        # everything (docs/product.md) but only read here: ensure_can_write refuses their writes.
        return user.is_admin or get_membership(user=user, room=room) is not None
    if user.is_admin:
        return True
    if is_banned(user=user, room=room):
        return False
    if not room.is_private:
        return True
    return get_membership(user=user, room=room) is not None


def ensure_can_enter(*, user: User, room: Room) -> None:
    """Raise forbidden unless user may read (and, with ensure_can_write, write) in room."""
    if not can_enter(user=user, room=room):
        if room.is_support or user.is_visitor:
            raise ServiceError("forbidden", _("This conversation is not open to you."))
        if room.is_direct:
            raise ServiceError("forbidden", _("These direct messages are between two other people."))
        if is_banned(user=user, room=room):
            raise ServiceError("forbidden", BANNED_MESSAGE)
        raise ServiceError("forbidden", _("This room is private; ask its owner for the join code."))


ARCHIVED_MESSAGE = _l("This class was archived at the end of term: it is read-only. Its teacher can restore it.")


def write_refusal(*, user: User, room: Room) -> ServiceError | None:
    """Why user, who may enter room, may not write there (None: they may): an archived room is
    read-only for everyone; a direct room is written by its two people only, never an admin reading it."""
    if room.is_archived:
        return ServiceError("forbidden", str(ARCHIVED_MESSAGE))
    if room.is_direct and user.is_admin and get_membership(user=user, room=room) is None:
        return ServiceError("forbidden",
                            _("Site admins can read direct messages, but only their two people write there."))
    return None


def can_write(*, user: User, room: Room) -> bool:
    """Whether user, who may enter room, may also write there (write_refusal's answer)."""
    return write_refusal(user=user, room=room) is None


def ensure_can_write(*, user: User, room: Room) -> None:
    """Raise forbidden unless user may write in room (after ensure_can_enter): sends, edits, deletions,
    reactions, pictures, typing."""
    refusal = write_refusal(user=user, room=room)
    if refusal is not None:
        raise refusal


def can_see_notes(*, user: User, room: Room) -> bool:
    """Internal notes exist only in support conversations, and only staff see or write them."""
    return room.is_support and user.is_staff


def enter_room(*, user: User, room: Room) -> Membership | None:
    """Check access and make user a member of a public room on first visit."""
    ensure_can_enter(user=user, room=room)
    membership = get_membership(user=user, room=room)
    # A direct room has its two members from the start: an admin reading it joins nothing.
    if membership is None and not room.is_private and not room.is_direct:
        membership = Membership(user_id=user.id, room_id=room.id, role="member")
        db.session.add(membership)
        try:
            db.session.commit()
        except IntegrityError:  # another tab of the same user got there first
            db.session.rollback()
            membership = get_membership(user=user, room=room)
    return membership


def join_room(*, user: User, room: Room) -> Membership | None:
    """A socket joining room: counted against the user's join limit, then entered as a page visit enters it."""
    check_rate(action="join", key=user.id)
    return enter_room(user=user, room=room)


def check_typing(*, user: User, room: Room) -> None:
    """Raise unless user may tell room they are typing: they may write there, and do not say so too often."""
    ensure_can_enter(user=user, room=room)
    ensure_can_write(user=user, room=room)
    check_rate(action="typing", key=user.id)


def room_for_code(*, user: User, code: object) -> Room:
    """The room user may join with this code; refuses unknown and expired codes and banned users."""
    clean = "".join(code.split()).upper() if isinstance(code, str) else ""
    if not clean or len(clean) > 32:
        raise ServiceError("invalid", _("Type the join code your teacher or host gave you."))
    room = db.session.scalar(db.select(Room).filter_by(join_code=clean))
    if room is None:
        raise ServiceError("not_found", _("No room has that join code; check it and try again."))
    if user.is_visitor:
        raise ServiceError("forbidden", _("This conversation is not open to you."))
    if is_banned(user=user, room=room) and not user.is_admin:
        raise ServiceError("forbidden", BANNED_MESSAGE)
    expired = room.join_code_expires_at is not None and room.join_code_expires_at <= utcnow()
    if expired and get_membership(user=user, room=room) is None:  # members already in keep their place
        raise ServiceError(
            "forbidden", _("This join code has expired; ask your teacher or the room's moderators for a new one.")
        )
    return room


def join_by_code(*, user: User, code: object) -> Room:
    """Make user a member of the private room whose join code this is (every door: form, link, tests)."""
    room = room_for_code(user=user, code=code)
    if get_membership(user=user, room=room) is None:
        if room.is_archived:
            raise ServiceError("forbidden", str(ARCHIVED_MESSAGE))
        db.session.add(Membership(user_id=user.id, room_id=room.id, role="member"))
        webhooks.member_joined(user=user, room=room)
        try:
            db.session.commit()
        except IntegrityError:  # a double submit: the other request made the membership
            db.session.rollback()
    return room


def join_named_room(*, user: User, room: Room, code: object = None) -> Membership | None:
    """A door that names the room (the API): counted as a `join`; a join code, if given, must be this room's.

    A member already in stays; a private room needs its code (join_by_code's rules), a public one none.
    """
    check_rate(action="join", key=user.id)
    if code is not None and get_membership(user=user, room=room) is None:
        if room_for_code(user=user, code=code).id != room.id:
            raise ServiceError("invalid", _("That join code is for another room."))
        join_by_code(user=user, code=code)
    return enter_room(user=user, room=room)


def rooms_for_user(*, user: User) -> list[Room]:
    """The rooms user may enter: every public room and the private ones they belong to.

    Support conversations are listed in the agent console, never here; visitors get none.
    Direct rooms are listed apart (services/direct.direct_rooms_for_user).
    """
    return _listed_rooms(user=user, archived=False)


def archived_rooms_for_user(*, user: User) -> list[Room]:
    """The archived rooms user may still read: the room list's "Archived" section."""
    return _listed_rooms(user=user, archived=True)


def _listed_rooms(*, user: User, archived: bool) -> list[Room]:
    if user.is_visitor:
        return []
    query = db.select(Room).where(Room.kind.not_in(("support", "direct"))).order_by(Room.name)
    query = query.where(Room.archived_at.is_not(None) if archived else Room.archived_at.is_(None))
    if not user.is_admin:
        member_of = db.select(Membership.room_id).filter_by(user_id=user.id)
        banned_from = db.select(Ban.room_id).filter_by(user_id=user.id)
        query = query.where((Room.kind == "public") | Room.id.in_(member_of)).where(Room.id.not_in(banned_from))
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
