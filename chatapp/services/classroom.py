"""What the room page shows of the classroom: the viewer's capabilities and state, pins, open questions.

The browser reads capabilities (what this viewer may do, which limits bind them) from
here, on the page and in the join ack; it never works a rule out for itself.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..extensions import db
from ..models import Membership, Message, Room, User, isoformat_utc, utcnow
from . import acknowledgements, anonymity, editing, moderation, questions, reactions
from .rooms import list_members


@dataclass(frozen=True)
class ClassroomView:
    """The classroom part of a room page, for one viewer."""

    is_moderator: bool
    muted_until: str | None
    retry_after: int
    # What this viewer may do here and the limits that bind them (see capabilities()).
    capabilities: dict
    pinned: list[Message] = field(default_factory=list)
    open_questions: list[Message] = field(default_factory=list)
    join_code_expires_at: str | None = None
    # For moderators: who is muted here, and until when (user id -> TIME).
    muted_members: dict[int, str] = field(default_factory=dict)
    # The pinned announcements asking to be acknowledged, with this viewer's state (acknowledgements.viewer_acks).
    acknowledgements: list[dict] = field(default_factory=list)


    def ack_for(self, message_id: int) -> dict | None:
        """This viewer's acknowledgement state of a pinned announcement (None: it asks for none)."""
        return next((entry for entry in self.acknowledgements if entry["id"] == message_id), None)


def room_view(*, user: User, room: Room, membership: Membership | None) -> ClassroomView:
    """Everything the room page needs to render the classroom for user (who may enter room)."""
    is_moderator = moderation.is_moderator(user=user, room=room, membership=membership)
    pinned = moderation.list_pinned(user=user, room=room)
    return ClassroomView(
        is_moderator=is_moderator,
        muted_until=isoformat_utc(membership.muted_until) if membership is not None and membership.is_muted() else None,
        retry_after=moderation.seconds_until_can_post(user=user, room=room),
        capabilities=capabilities(user=user, room=room, membership=membership),
        pinned=pinned,
        open_questions=questions.list_open_questions(actor=user, room=room) if is_moderator else [],
        join_code_expires_at=isoformat_utc(room.join_code_expires_at) if room.join_code_expires_at else None,
        muted_members=_muted_members(room) if is_moderator else {},
        acknowledgements=acknowledgements.viewer_acks(user=user, room=room, pinned=pinned, moderator=is_moderator),
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


def capabilities(*, user: User, room: Room, membership: Membership | None) -> dict:
    """What user may do in room and the limits that bind them, each the answer of the service rule.

    The room page (data attributes) and the join ack (`capabilities`) carry it; classroom.js
    and messaging.js only read it. `may_act_on` lists the members this viewer may mute,
    remove, ban (or, as owner, promote): moderation.can_act_on, asked once per member.
    """
    may_moderate = moderation.is_moderator(user=user, room=room, membership=membership)
    members = list_members(room=room) if may_moderate else []
    return {
        "may_moderate": may_moderate,
        "may_set_roles": moderation.can_set_roles(user=user, room=room),
        "may_act_on": [member.user_id for member in members
                       if moderation.can_act_on(actor=user, room=room, target=member.user)],
        "posting_limits_apply": moderation.posting_limits_apply(user=user, room=room, membership=membership),
        "edit_window_seconds": editing.edit_window_seconds(),
        "delete_window_seconds": moderation.own_delete_window_seconds(user=user, room=room),
        "may_react": reactions.can_react(user=user, room=room),
        # Pin an announcement asking each student to acknowledge it (services/moderation.pin_message).
        "may_ask_for_ack": may_moderate and bool(room.is_class),
        "may_ask_anonymously": anonymity.may_ask_anonymously(room=room),
    }
