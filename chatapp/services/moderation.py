"""Moderation: who moderates a room, what members may post, and every moderator action with its log entry.

The permission rule lives in one place: `ensure_can_moderate` (and `can_act_on`, which
`ensure_can_act_on` raises from, for actions aimed at a person); the page and the join
ack carry their answers (services/classroom.capabilities). Site admins count as
moderators everywhere. Every action
writes its `ModerationAction` row in the same transaction as the change itself.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Ban, Membership, Message, ModerationAction, Room, User, isoformat_utc, utcnow
from ..realtime.announce import announce
from ..realtime.channels import member_channel, moderators_channel, room_channel
from ..realtime.connections import set_moderator_channel
from . import member_mail
from .accounts import get_user
from .errors import ServiceError
from .message_news import announce_message_updated
from .online import announce_taken_out
from .rooms import ensure_can_enter, ensure_can_write, get_membership, new_join_code, write_refusal

# Who outranks whom: an action aimed at a person needs a higher rank than theirs.
ROLE_RANKS = {"member": 0, "moderator": 1, "owner": 2}
ADMIN_RANK = 3
ASSIGNABLE_ROLES = ("moderator", "member")
MAX_PINNED = 20
DEFAULT_LOG_PAGE = 50
MAX_LOG_PAGE = 100
MAX_BAN_REASON_LENGTH = 200
MAX_JOIN_CODE_VALID_MINUTES = 366 * 24 * 60
LOG_EXCERPT_LENGTH = 200


@dataclass(frozen=True)
class LogPage:
    """Moderation log entries, newest first, and whether older ones exist."""

    actions: list[ModerationAction]
    more: bool


# -- who moderates -----------------------------------------------------------------------


def is_moderated(room: Room) -> bool:
    """Whether room has moderators at all: support conversations and direct messages do not."""
    return not room.is_support and not room.is_direct


def is_moderator(*, user: User, room: Room, membership: Membership | None = None) -> bool:
    """Whether user moderates room: its owner, a moderator, or a site admin. Never in support conversations or DMs."""
    if not is_moderated(room) or user.is_visitor:
        return False
    if user.is_admin:
        return True
    membership = membership if membership is not None else get_membership(user=user, room=room)
    return membership is not None and membership.is_moderator


def _moderation_refusal(*, user: User, room: Room, reading: bool = False) -> ServiceError | None:
    """Why user may not moderate room (None: they may); an archived room takes no changes, only reading."""
    if room.is_support:
        return ServiceError("forbidden", _("Support conversations are handled in the agent console, not moderated."))
    if room.is_direct:
        return ServiceError("forbidden", _("Direct messages have no moderators."))
    if not is_moderator(user=user, room=room):
        return ServiceError("forbidden", _("Only the room's moderators can do that."))
    if not reading and room.is_archived:
        return write_refusal(user=user, room=room)
    return None


def ensure_can_moderate(*, user: User, room: Room, reading: bool = False) -> None:
    """Raise forbidden unless user moderates room (reading=True: a moderator's list, which an archived room keeps)."""
    refusal = _moderation_refusal(user=user, room=room, reading=reading)
    if refusal is not None:
        raise refusal


def rank(*, user: User, room: Room) -> int:
    """How much say user has in room: admin > owner > moderator > member (or no member)."""
    if user.is_admin:
        return ADMIN_RANK
    membership = get_membership(user=user, room=room)
    return ROLE_RANKS.get(membership.role, 0) if membership else 0


def _act_on_refusal(*, actor: User, room: Room, target: User) -> ServiceError | None:
    """Why actor may not act on target in room (None: they may): the one rule of who moderates whom."""
    refusal = _moderation_refusal(user=actor, room=room)
    if refusal is not None:
        return refusal
    if actor.id == target.id:
        return ServiceError("forbidden", _("You cannot do that to yourself."))
    if rank(user=actor, room=room) <= rank(user=target, room=room):
        return ServiceError("forbidden", _("You cannot do that to %(name)s: they moderate this room too.",
                                           name=target.display_name))
    return None


def can_act_on(*, actor: User, room: Room, target: User) -> bool:
    """Whether actor moderates room and outranks target (never oneself): what the page offers, the server checks."""
    return _act_on_refusal(actor=actor, room=room, target=target) is None


def ensure_can_act_on(*, actor: User, room: Room, target: User) -> None:
    """Raise forbidden unless actor moderates room and outranks target (never oneself)."""
    refusal = _act_on_refusal(actor=actor, room=room, target=target)
    if refusal is not None:
        raise refusal


def can_set_roles(*, user: User, room: Room) -> bool:
    """Whether user chooses room's moderators: its owner, or a site admin."""
    return is_moderator(user=user, room=room) and rank(user=user, room=room) >= ROLE_RANKS["owner"]


def posting_limits_apply(*, user: User, room: Room, membership: Membership | None = None) -> bool:
    """Whether announcement-only, mutes and slow mode bind user in room (moderators are exempt)."""
    return not is_moderator(user=user, room=room, membership=membership)


def own_delete_window_seconds(*, user: User, room: Room) -> int:
    """How long after sending user may delete their own message in room, in seconds (0: no limit; moderators)."""
    if not posting_limits_apply(user=user, room=room):
        return 0
    return int(current_app.config["MESSAGE_DELETE_WINDOW_SECONDS"])


# -- what members may post -----------------------------------------------------------------


def seconds_until_can_post(*, user: User, room: Room, now: datetime | None = None) -> int:
    """Slow mode: whole seconds until user may post in room again (0: now).

    Read from the database (the member's latest message here), so that it holds across
    server processes and restarts. Moderators are exempt.
    """
    interval = room.slow_mode_seconds or 0
    if interval <= 0 or not posting_limits_apply(user=user, room=room):
        return 0
    last_sent = db.session.scalar(
        db.select(Message.created_at)
        .where(Message.room_id == room.id, Message.sender_id == user.id)
        .order_by(Message.id.desc())
        .limit(1)
    )
    if last_sent is None:
        return 0
    wait = interval - ((now or utcnow()) - last_sent).total_seconds()
    return max(0, math.ceil(wait))


def check_can_post(*, user: User, room: Room) -> None:
    """The moderation rules of one send: announcement-only, mute, slow mode (moderators exempt).

    A ban needs no check here: a banned user cannot enter the room at all (rooms.can_enter),
    which every send checks first.
    """
    ensure_can_write(user=user, room=room)
    if room.is_support:
        return
    membership = get_membership(user=user, room=room)
    if not posting_limits_apply(user=user, room=room, membership=membership):
        return
    if room.announcement_only:
        raise ServiceError("forbidden", _("This room is announcement-only: only its moderators can post."))
    now = utcnow()
    if membership is not None and membership.is_muted(now):
        minutes = max(1, math.ceil((membership.muted_until - now).total_seconds() / 60))
        raise ServiceError(
            "forbidden",
            ngettext("A moderator muted you in this room for %(num)d more minute.",
                     "A moderator muted you in this room for %(num)d more minutes.", minutes),
            muted_until=isoformat_utc(membership.muted_until),
        )
    wait = seconds_until_can_post(user=user, room=room, now=now)
    if wait > 0:
        raise ServiceError(
            "rate_limited",
            _("Slow mode is on: one message every %(every)s. You can send again in %(wait)d s.",
              every=format_seconds(room.slow_mode_seconds), wait=wait),
            retry_after=wait,
        )


def format_seconds(seconds: int) -> str:
    """30 -> "30 s", 120 -> "2 min", 90 -> "90 s"."""
    if seconds >= 60 and seconds % 60 == 0:
        return _("%(n)s min", n=seconds // 60)
    return _("%(n)s s", n=seconds)


# -- the log ---------------------------------------------------------------------------------


def log_action(
    *, room: Room, actor: User, action: str, target_user: User | None = None, target_message: Message | None = None,
    **detail: object,
) -> ModerationAction:
    """Add a log entry to the session; the caller stores it with the action through commit_logged()."""
    entry = ModerationAction(
        room_id=room.id,
        actor_id=actor.id,
        action=action,
        target_user_id=target_user.id if target_user else None,
        target_message_id=target_message.id if target_message else None,
        detail={key: value for key, value in detail.items() if value is not None},
    )
    db.session.add(entry)
    return entry


def commit_logged(*entries: ModerationAction) -> None:
    """Commit an action with its log entries; then the room's moderators hear of each entry."""
    db.session.commit()
    for entry in entries:
        announce("moderation_action", entry.to_dict(), to=moderators_channel(entry.room.slug))


def list_moderation_log(*, actor: User, room: Room, before: object = None, limit: object = None) -> LogPage:
    """A page of room's moderation log, newest first (entries older than `before`); moderators only."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    size = _check_int(limit, "limit", 1, MAX_LOG_PAGE, default=DEFAULT_LOG_PAGE)
    query = db.select(ModerationAction).where(ModerationAction.room_id == room.id)
    if before is not None:
        query = query.where(ModerationAction.id < _check_int(before, "before", 0, 2**63 - 1))
    rows = list(db.session.scalars(query.order_by(ModerationAction.id.desc()).limit(size + 1)))
    return LogPage(actions=rows[:size], more=len(rows) > size)


def _check_int(value: object, name: str, low: int, high: int, *, default: int | None = None) -> int:
    if value is None and default is not None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ServiceError(
            "invalid", _("%(name)s is a whole number from %(low)d to %(high)d.", name=name, low=low, high=high)
        )
    return value


# -- room settings and join codes ----------------------------------------------------------


def set_room_settings(
    *, actor: User, room: Room, announcement_only: bool | None = None, slow_mode_seconds: object = None,
    allow_anonymous_questions: bool | None = None,
) -> Room:
    """Turn announcement-only on or off, set slow mode (0 turns it off) and allow anonymous questions
    or not; logs what changed."""
    ensure_can_moderate(user=actor, room=room)
    changed: dict[str, Any] = {}  # log_action's **detail
    if announcement_only is not None and bool(announcement_only) != bool(room.announcement_only):
        room.announcement_only = bool(announcement_only)
        changed["announcement_only"] = bool(announcement_only)
    if slow_mode_seconds is not None:
        seconds = _check_int(slow_mode_seconds, "slow_mode_seconds", 0, current_app.config["MAX_SLOW_MODE_SECONDS"])
        if seconds != (room.slow_mode_seconds or 0):
            room.slow_mode_seconds = seconds
            changed["slow_mode_seconds"] = seconds
    anonymous_wanted = None if allow_anonymous_questions is None else bool(allow_anonymous_questions)
    if anonymous_wanted is not None and anonymous_wanted != bool(room.allow_anonymous_questions):
        if not is_moderated(room):
            raise ServiceError("invalid", _("Anonymous questions are for class rooms, not direct messages."))
        # Questions asked anonymously before stay anonymous: turning it off only stops new ones.
        room.allow_anonymous_questions = bool(allow_anonymous_questions)
        changed["allow_anonymous_questions"] = bool(allow_anonymous_questions)
    if changed:
        commit_logged(log_action(room=room, actor=actor, action="settings", **changed))
        announce("room_updated", room.to_dict(), to=room_channel(room.slug))
    return room


def regenerate_join_code(*, actor: User, room: Room, valid_minutes: object = None) -> Room:
    """Give a private room a new join code (the old one stops working), valid for valid_minutes (None:
    until changed)."""
    ensure_can_moderate(user=actor, room=room)
    if not room.is_private:
        raise ServiceError("invalid", _("Only private rooms and classes have a join code."))
    expires_at = None
    if valid_minutes is not None:
        minutes = _check_int(valid_minutes, "valid_minutes", 1, MAX_JOIN_CODE_VALID_MINUTES)
        expires_at = utcnow() + timedelta(minutes=minutes)
    for _attempt in range(3):
        room.join_code = new_join_code()
        room.join_code_expires_at = expires_at
        entry = log_action(room=room, actor=actor, action="join_code",
                           expires_at=isoformat_utc(expires_at) if expires_at else None)
        try:
            commit_logged(entry)
        except IntegrityError:  # another room took the same code meanwhile: draw again
            db.session.rollback()
            continue
        announce("join_code", join_code_event(room), to=moderators_channel(room.slug))
        return room
    raise ServiceError("conflict", _("Could not make a new join code; try again."))


def join_code_event(room: Room) -> dict:
    """A private room's join code as moderators see it."""
    return {
        "room": room.slug,
        "join_code": room.join_code,
        "join_code_expires_at": isoformat_utc(room.join_code_expires_at) if room.join_code_expires_at else None,
    }


# -- messages ----------------------------------------------------------------------------------


def get_room_message(*, user: User, room: Room, message_id: object) -> Message:
    """The message with this id in room, if user may see it; else not_found."""
    ensure_can_enter(user=user, room=room)
    if isinstance(message_id, bool) or not isinstance(message_id, int) or not 0 < message_id < 2**63:
        raise ServiceError("invalid", _("id is a message id (a whole number)."))
    message = db.session.get(Message, message_id)
    if message is None or message.room_id != room.id or message.internal:
        raise ServiceError("not_found", _("There is no such message in this room."))
    return message


def pin_message(*, actor: User, message: Message, needs_ack: bool = False) -> Message:
    """Pin a message to the top of its room (an announcement); moderators only.

    needs_ack: in a class, each student is asked to acknowledge it (services/acknowledgements.py);
    pinning a pinned message again with it asks from then on.
    """
    room = message.room
    ensure_can_moderate(user=actor, room=room)
    if message.is_deleted:
        raise ServiceError("conflict", _("That message was deleted; it cannot be pinned."))
    if needs_ack and not room.is_class:
        raise ServiceError("invalid", _("Only announcements in a class can ask to be acknowledged."))
    if message.pinned_at is not None:
        if needs_ack and not message.needs_ack:
            message.needs_ack = True
            commit_logged()
            announce_message_updated(message)
        return message
    pinned = db.session.scalar(
        db.select(db.func.count(Message.id)).where(Message.room_id == room.id, Message.pinned_at.is_not(None))
    )
    if pinned >= MAX_PINNED:
        raise ServiceError(
            "conflict", _("A room can have at most %(max)d pinned messages; unpin one first.", max=MAX_PINNED)
        )
    message.pinned_at = utcnow()
    message.pinned_by_id = actor.id
    message.needs_ack = needs_ack
    member_mail.announcement_pinned(message)  # in a class: e-mailed to its students, in this commit
    commit_logged(log_action(room=room, actor=actor, action="pin", target_user=message.sender, target_message=message))
    announce_message_updated(message)
    return message


def unpin_message(*, actor: User, message: Message) -> Message:
    """Take a message off the room's pinned list; moderators only."""
    room = message.room
    ensure_can_moderate(user=actor, room=room)
    if message.pinned_at is None:
        return message
    message.pinned_at = None
    message.pinned_by_id = None
    commit_logged(
        log_action(room=room, actor=actor, action="unpin", target_user=message.sender, target_message=message)
    )
    announce_message_updated(message)
    return message


def list_pinned(*, user: User, room: Room) -> list[Message]:
    """The room's pinned messages, oldest pin first."""
    ensure_can_enter(user=user, room=room)
    return list(
        db.session.scalars(
            db.select(Message)
            .where(Message.room_id == room.id, Message.pinned_at.is_not(None), Message.deleted_at.is_(None))
            .order_by(Message.pinned_at, Message.id)
        )
    )


def delete_message(*, actor: User, message: Message) -> Message:
    """Delete a message: its author within the delete window, or a moderator at any time.

    The row stays and keeps its id (ids are never reused); its body is blanked and it is
    shown as deleted by its author or removed by a moderator. A moderator's deletion is
    logged, with an excerpt that only moderators can read.
    """
    room = message.room
    ensure_can_enter(user=actor, room=room)
    if room.is_support or message.internal:
        raise ServiceError("forbidden", _("Messages in support conversations cannot be deleted."))
    ensure_can_write(user=actor, room=room)  # an archived room keeps every message
    if message.is_deleted:
        return message
    by_moderator = False
    entries = []
    if message.sender_id == actor.id:
        window = own_delete_window_seconds(user=actor, room=room)
        if window > 0 and (utcnow() - message.created_at).total_seconds() > window:
            raise ServiceError(
                "forbidden",
                _("You can delete your own messages for %(window)s after sending them; "
                  "ask a moderator to remove this one.", window=format_seconds(window)),
            )
    else:
        if not is_moderator(user=actor, room=room):
            raise ServiceError("forbidden", _("You can only delete your own messages."))
        ensure_can_act_on(actor=actor, room=room, target=message.sender)
        by_moderator = True
        entries.append(log_action(
            room=room, actor=actor, action="delete_message", target_user=message.sender, target_message=message,
            excerpt=message.body[:LOG_EXCERPT_LENGTH],
        ))
    message.body = ""
    message.deleted_at = utcnow()
    message.deleted_by_id = actor.id
    message.deleted_by_moderator = by_moderator
    message.pinned_at = None
    message.pinned_by_id = None
    commit_logged(*entries)
    announce("message_deleted", {"room": room.slug, "id": message.id, "by": "moderator" if by_moderator else "author"},
             to=room_channel(room.slug))
    return message


# -- members -------------------------------------------------------------------------------------


def get_target(user_id: int) -> User:
    """The account a moderator aims an action at, or not_found (website visitors are never in rooms)."""
    if not 0 < user_id < 2**63:
        raise ServiceError("not_found", _("No such account."))
    user = get_user(user_id)
    if user.is_visitor:
        raise ServiceError("not_found", _("No such account."))
    return user


def _target_membership(*, room: Room, target: User) -> Membership:
    membership = get_membership(user=target, room=room)
    if membership is None:
        raise ServiceError("not_found", _("%(name)s is not a member of this room.", name=target.display_name))
    return membership


def mute_member(*, actor: User, room: Room, target: User, minutes: object) -> Membership:
    """Stop a member from posting here for `minutes`; moderators only."""
    ensure_can_act_on(actor=actor, room=room, target=target)
    length = _check_int(minutes, "minutes", 1, current_app.config["MAX_MUTE_MINUTES"])
    membership = _target_membership(room=room, target=target)
    membership.muted_until = utcnow() + timedelta(minutes=length)
    commit_logged(log_action(room=room, actor=actor, action="mute", target_user=target, minutes=length,
                             until=isoformat_utc(membership.muted_until)))
    announce_member(membership)
    return membership


def mute_author(*, actor: User, message: Message, minutes: object) -> Membership:
    """Mute the author of a message of this room (so a moderator mutes an anonymous question's
    author without anyone's client learning who it is); moderators only."""
    room = message.room
    ensure_can_moderate(user=actor, room=room)
    return mute_member(actor=actor, room=room, target=message.sender, minutes=minutes)


def unmute_member(*, actor: User, room: Room, target: User) -> Membership:
    """Lift a mute; moderators only."""
    ensure_can_act_on(actor=actor, room=room, target=target)
    membership = _target_membership(room=room, target=target)
    if membership.muted_until is not None:
        membership.muted_until = None
        commit_logged(log_action(room=room, actor=actor, action="unmute", target_user=target))
    announce_member(membership)
    return membership


def announce_member(membership: Membership, *, to_room: bool = False) -> None:
    """MEMBER to the room's moderators and the member (to everyone in the room for role changes)."""
    slug = membership.room.slug
    to = room_channel(slug) if to_room else [moderators_channel(slug), member_channel(slug, membership.user_id)]
    announce("member_updated", {"room": slug, "member": membership.to_dict()}, to=to)


def _announce_removed(*, room: Room, target: User, banned: bool) -> None:
    """Everyone in the room and the removed user's own sockets hear it; then those sockets stop hearing the room."""
    # One emit to both channels: Socket.IO sends it once to a socket that is in both.
    announce("member_removed", {"room": room.slug, "user": target.to_dict(), "banned": banned},
             to=[room_channel(room.slug), member_channel(room.slug, target.id)])
    announce_taken_out(user_id=target.id, slug=room.slug)


def remove_member(*, actor: User, room: Room, target: User) -> None:
    """Take a member out of the room (a kick); they may come back (a private room needs the code again)."""
    ensure_can_act_on(actor=actor, room=room, target=target)
    membership = _target_membership(room=room, target=target)
    db.session.delete(membership)
    commit_logged(log_action(room=room, actor=actor, action="remove", target_user=target))
    _announce_removed(room=room, target=target, banned=False)


def ban_member(*, actor: User, room: Room, target: User, reason: str | None = None) -> Ban:
    """Take a user out of the room and keep them out (join, join code, every event) until unbanned."""
    ensure_can_act_on(actor=actor, room=room, target=target)
    if target.is_visitor:
        raise ServiceError("invalid", _("Website visitors are never in rooms."))
    clean_reason = " ".join((reason or "").split())[:MAX_BAN_REASON_LENGTH] or None
    existing = db.session.scalar(db.select(Ban).filter_by(room_id=room.id, user_id=target.id))
    if existing is not None:
        return existing
    membership = get_membership(user=target, room=room)
    if membership is not None:
        db.session.delete(membership)
    ban = Ban(room_id=room.id, user_id=target.id, banned_by_id=actor.id, reason=clean_reason)
    db.session.add(ban)
    entry = log_action(room=room, actor=actor, action="ban", target_user=target, reason=clean_reason)
    try:
        commit_logged(entry)
    except IntegrityError:  # two moderators banned at once: one ban is enough (and was announced)
        db.session.rollback()
        return db.session.scalar(db.select(Ban).filter_by(room_id=room.id, user_id=target.id))
    _announce_removed(room=room, target=target, banned=True)
    return ban


def unban_member(*, actor: User, room: Room, target: User) -> None:
    """Lift a ban: the user may come back (a private room needs the join code again)."""
    ensure_can_moderate(user=actor, room=room)
    ban = db.session.scalar(db.select(Ban).filter_by(room_id=room.id, user_id=target.id))
    if ban is None:
        raise ServiceError("not_found", _("%(name)s is not banned from this room.", name=target.display_name))
    db.session.delete(ban)
    commit_logged(log_action(room=room, actor=actor, action="unban", target_user=target))


def list_bans(*, actor: User, room: Room) -> list[Ban]:
    """Who is banned from room, newest first; moderators only."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    return list(db.session.scalars(db.select(Ban).filter_by(room_id=room.id).order_by(Ban.id.desc())))


def set_member_role(*, actor: User, room: Room, target: User, role: str) -> Membership:
    """Promote a member to moderator or demote a moderator; the room's owner (or an admin) only."""
    ensure_can_moderate(user=actor, room=room)
    if not can_set_roles(user=actor, room=room):
        raise ServiceError("forbidden", _("Only the room's owner can choose its moderators."))
    if role not in ASSIGNABLE_ROLES:
        raise ServiceError("invalid", _("role is \"moderator\" or \"member\"."))
    ensure_can_act_on(actor=actor, room=room, target=target)
    membership = _target_membership(room=room, target=target)
    if membership.role == "owner":
        raise ServiceError("forbidden", _("The owner's role cannot be changed."))
    if membership.role != role:
        previous = membership.role
        membership.role = role
        commit_logged(log_action(room=room, actor=actor, action="set_role", target_user=target, role=role,
                                 previous=previous))
        set_moderator_channel(user_id=membership.user_id, slug=room.slug, moderator=membership.is_moderator)
    announce_member(membership, to_room=True)
    return membership

