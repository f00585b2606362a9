"""What the room page shows of the classroom: the viewer's powers and state, pins, open questions."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import current_app

from ..extensions import db
from ..models import Membership, Message, Room, User, isoformat_utc, utcnow
from . import moderation, questions


@dataclass(frozen=True)
class ClassroomView:
    """The classroom part of a room page, for one viewer."""

    is_moderator: bool
    is_owner: bool
    muted_until: str | None
    retry_after: int
    delete_window_seconds: int
    pinned: list[Message] = field(default_factory=list)
    open_questions: list[Message] = field(default_factory=list)
    join_code_expires_at: str | None = None
    # For moderators: who is muted here, and until when (user id -> TIME).
    muted_members: dict[int, str] = field(default_factory=dict)


def room_view(*, user: User, room: Room, membership: Membership | None) -> ClassroomView:
    """Everything the room page needs to render the classroom for user (who may enter room)."""
    is_moderator = moderation.is_moderator(user=user, room=room, membership=membership)
    return ClassroomView(
        is_moderator=is_moderator,
        is_owner=moderation.rank(user=user, room=room) >= moderation.ROLE_RANKS["owner"],
        muted_until=isoformat_utc(membership.muted_until) if membership is not None and membership.is_muted() else None,
        retry_after=moderation.seconds_until_can_post(user=user, room=room),
        delete_window_seconds=current_app.config["MESSAGE_DELETE_WINDOW_SECONDS"],
        pinned=moderation.list_pinned(user=user, room=room),
        open_questions=questions.list_open_questions(actor=user, room=room) if is_moderator else [],
        join_code_expires_at=isoformat_utc(room.join_code_expires_at) if room.join_code_expires_at else None,
        muted_members=_muted_members(room) if is_moderator else {},
    )


def _muted_members(room: Room) -> dict[int, str]:
    rows = db.session.execute(
        db.select(Membership.user_id, Membership.muted_until).where(
            Membership.room_id == room.id, Membership.muted_until > utcnow()
        )
    )
    return {user_id: isoformat_utc(until) for user_id, until in rows}


def membership_state(*, user: User, room: Room, membership: Membership | None, moderator: bool) -> dict:
    """What the join ack tells a member about themselves here: role, powers, mute, slow-mode wait."""
    muted = membership is not None and membership.is_muted()
    return {
        "role": membership.role if membership else None,
        "moderator": moderator,
        "muted_until": membership.to_dict()["muted_until"] if membership is not None and muted else None,
        "retry_after": moderation.seconds_until_can_post(user=user, room=room),
    }
