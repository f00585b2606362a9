"""The end of term: a class archived is read-only for everyone and leaves its members' room lists
(kept under "Archived"); its teacher restores it. Exports of its history: services/room_export.py.

Read-only is one rule, rooms.write_refusal, which every write asks (sends, edits, deletions,
reactions, uploads, typing, and every moderation change through moderation.ensure_can_moderate);
reading, searching, the moderators' lists and exports go on.
"""
from __future__ import annotations

from flask_babel import gettext as _

from ..models import Room, User, utcnow
from ..realtime.announce import announce
from ..realtime.channels import room_channel
from .errors import ServiceError
from .moderation import can_set_roles, commit_logged, ensure_can_moderate, log_action


def ensure_can_archive(*, actor: User, room: Room) -> None:
    """Raise unless actor may archive or restore room: a class, by its owner (the teacher) or a site admin."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    if not room.is_class:
        raise ServiceError("forbidden", _("Only classes are archived at the end of term."))
    if not can_set_roles(user=actor, room=room):
        raise ServiceError("forbidden",
                           _("Only the class's teacher (its owner) or a site admin can archive or restore it."))


def can_archive(*, actor: User, room: Room) -> bool:
    """Whether actor may archive or restore room (ensure_can_archive's answer, for the page)."""
    try:
        ensure_can_archive(actor=actor, room=room)
    except ServiceError:
        return False
    return True


def set_archived(*, actor: User, room: Room, archived: bool) -> Room:
    """Archive the class (read-only, listed under "Archived") or restore it; logged; the room hears room_updated.

    Archiving an archived class, or restoring one in use, changes nothing and says nothing.
    """
    ensure_can_archive(actor=actor, room=room)
    if archived == room.is_archived:
        return room
    room.archived_at = utcnow() if archived else None
    commit_logged(log_action(room=room, actor=actor, action="archive" if archived else "restore"))
    announce("room_updated", room.to_dict(), to=room_channel(room.slug))
    return room
