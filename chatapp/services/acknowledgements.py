"""Announcements that must be acknowledged: a moderator pins one asking for it, each student says "I have read this".

The students of a class are its members who do not moderate it (role "member", not a site
admin). One Acknowledgement row per (message, student), kept unique by the database, so a
retry is one acknowledgement. The room's moderators hear the count go up (`ack_count`), read
who has not acknowledged yet and may remind them, at most once per REMIND_INTERVAL_SECONDS
per announcement: a `ack_reminder` notice on each of their sockets and, if they take class
announcements by e-mail, an "ack_reminder" outbox job (services/mail_jobs.py sends it).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Acknowledgement, AckReminder, Membership, Message, Room, User, isoformat_utc, utcnow
from ..realtime.announce import announce
from ..realtime.channels import member_channel, moderators_channel, user_channel
from . import outbox
from .errors import ServiceError
from .moderation import ensure_can_moderate, is_moderator
from .rooms import can_write, ensure_can_enter, ensure_can_write, get_membership

# A moderator reminds those who have not acknowledged one announcement at most this often.
REMIND_INTERVAL_SECONDS = 600


@dataclass(frozen=True)
class AckStatus:
    """Who of a class's students acknowledged an announcement (for its moderators)."""

    message: Message
    acknowledged: int
    expected: int
    pending: list[User]
    reminded_at: datetime | None

    def to_dict(self) -> dict:
        """The ack of `ack_status`: the count, who has not acknowledged, when they may be reminded again."""
        remind_after = (self.reminded_at + timedelta(seconds=REMIND_INTERVAL_SECONDS)
                        if self.reminded_at is not None else None)
        return {
            "id": self.message.id, "acknowledged": self.acknowledged, "expected": self.expected,
            "pending": [user.to_dict() for user in self.pending],
            "reminded_at": isoformat_utc(self.reminded_at) if self.reminded_at else None,
            "remind_after": isoformat_utc(remind_after) if remind_after and remind_after > utcnow() else None,
        }


def _students(room: Room):
    """The select of the ids of room's students: members who do not moderate it, active, not site admins."""
    return db.select(User.id).join(Membership, Membership.user_id == User.id).where(
        Membership.room_id == room.id, Membership.role == "member", User.role != "admin",
        User.is_active_account.is_(True))


def _acknowledged_ids(message: Message):
    return db.select(Acknowledgement.user_id).where(Acknowledgement.message_id == message.id)


def _counts(message: Message) -> tuple[int, int]:
    """(how many students acknowledged message, how many students the class has)."""
    students = _students(message.room).subquery()
    expected = db.session.scalar(db.select(db.func.count()).select_from(students)) or 0
    acknowledged = db.session.scalar(db.select(db.func.count(Acknowledgement.id)).where(
        Acknowledgement.message_id == message.id, Acknowledgement.user_id.in_(db.select(students.c.id)))) or 0
    return acknowledged, expected


def asks_for_ack(message: Message) -> bool:
    """Whether message is a pinned class announcement that asks each student to acknowledge it."""
    return bool(message.needs_ack) and message.pinned_at is not None and message.deleted_at is None


def _count_event(message: Message) -> dict:
    acknowledged, expected = _counts(message)
    return {"room": message.room.slug, "id": message.id, "acknowledged": acknowledged, "expected": expected}


def find_acknowledgement(*, message: Message, user: User) -> Acknowledgement | None:
    """user's acknowledgement of message, if they gave one."""
    return db.session.scalar(db.select(Acknowledgement).filter_by(message_id=message.id, user_id=user.id))


def acknowledge(*, actor: User, message: Message) -> Acknowledgement:
    """actor (a student of the class) says they have read the announcement; again: the same acknowledgement."""
    room = message.room
    ensure_can_enter(user=actor, room=room)
    membership = get_membership(user=actor, room=room)
    if membership is None:
        raise ServiceError("forbidden", _("Join the class to acknowledge its announcements."))
    if not asks_for_ack(message):
        raise ServiceError("invalid", _("This message does not ask to be acknowledged."))
    if is_moderator(user=actor, room=room, membership=membership):
        raise ServiceError("forbidden", _("Students acknowledge announcements; as a moderator you see who has."))
    ensure_can_write(user=actor, room=room)  # an archived class keeps what it had
    existing = find_acknowledgement(message=message, user=actor)
    if existing is not None:
        return existing
    acknowledgement = Acknowledgement(message_id=message.id, user_id=actor.id)
    db.session.add(acknowledgement)
    try:
        db.session.commit()
    except IntegrityError:  # the same student's other device got there first: that one counts
        db.session.rollback()
        return db.session.scalars(db.select(Acknowledgement).filter_by(message_id=message.id,
                                                                       user_id=actor.id)).one()
    counted = _count_event(message)
    announce("ack_count", {**counted, "user": actor.to_dict()}, to=moderators_channel(room.slug))
    announce("acknowledged", {"room": room.slug, "id": message.id, "at": isoformat_utc(acknowledgement.created_at)},
             to=member_channel(room.slug, actor.id))
    return acknowledgement


def _last_reminder(message: Message) -> AckReminder | None:
    return db.session.scalar(db.select(AckReminder).where(AckReminder.message_id == message.id)
                             .order_by(AckReminder.id.desc()).limit(1))


def ack_status(*, actor: User, message: Message) -> AckStatus:
    """For the room's moderators: how many students acknowledged message and who has not yet."""
    ensure_can_moderate(user=actor, room=message.room, reading=True)
    if not asks_for_ack(message):
        raise ServiceError("invalid", _("This message does not ask to be acknowledged."))
    acknowledged, expected = _counts(message)
    pending = list(db.session.scalars(db.select(User).where(
        User.id.in_(_students(message.room)), User.id.not_in(_acknowledged_ids(message)))
        .order_by(User.display_name, User.id)))
    last = _last_reminder(message)
    return AckStatus(message=message, acknowledged=acknowledged, expected=expected, pending=pending,
                     reminded_at=last.created_at if last else None)


def remind_pending(*, actor: User, message: Message) -> AckStatus:
    """A moderator reminds each student who has not acknowledged message: a notice, and an e-mail if they take them."""
    status = ack_status(actor=actor, message=message)
    ensure_can_moderate(user=actor, room=message.room)  # an archived class reminds nobody
    if status.reminded_at is not None:
        wait = REMIND_INTERVAL_SECONDS - int((utcnow() - status.reminded_at).total_seconds())
        if wait > 0:
            minutes = max(1, -(-wait // 60))
            raise ServiceError(
                "rate_limited",
                _("They were reminded at %(time)s UTC; you can remind them again in %(minutes)d min.",
                  time=status.reminded_at.strftime("%H:%M"), minutes=minutes),
                retry_after=wait,
            )
    if not status.pending:
        raise ServiceError("conflict", _("Every student has acknowledged it already; there is nobody to remind."))
    reminder = AckReminder(message_id=message.id, sent_by_id=actor.id, reminded=len(status.pending))
    db.session.add(reminder)
    db.session.flush()
    for student in status.pending:
        if student.email and student.mail_announcements:
            outbox.enqueue("ack_reminder", {"message_id": message.id, "user_id": student.id,
                                            "reminder_id": reminder.id}, subject=f"user:{student.id}")
    db.session.commit()
    notice = {"room": message.room.to_dict(), "message": message.to_dict(), "by": actor.to_dict()}
    announce("ack_reminder", notice, to=[user_channel(student.id) for student in status.pending])
    return AckStatus(message=message, acknowledged=status.acknowledged, expected=status.expected,
                     pending=status.pending, reminded_at=reminder.created_at)


def viewer_acks(*, user: User, room: Room, pinned: list[Message], moderator: bool) -> list[dict]:
    """For the page and the join ack: each pinned announcement asking for acknowledgement, with this viewer's state.

    A student gets `acknowledged` (bool, theirs); a moderator the class's count (`count`, `expected`).
    """
    asking = [message for message in pinned if asks_for_ack(message)]
    if not asking:
        return []
    if moderator:
        return [{"id": message.id, "count": count, "expected": expected}
                for message in asking for count, expected in [_counts(message)]]
    mine = set(db.session.scalars(db.select(Acknowledgement.message_id).where(
        Acknowledgement.user_id == user.id, Acknowledgement.message_id.in_([m.id for m in asking]))))
    may = get_membership(user=user, room=room) is not None and can_write(user=user, room=room)
    return [{"id": message.id, "acknowledged": message.id in mine, "may_acknowledge": may} for message in asking]
