"""E-mail to members: what they missed, added in the change's own transaction (sent by services/mail_jobs.py).

- A direct message, or an @mention, of someone who wants such e-mails (User.mail_direct, on by
  default; User.mail_mentions, off by default; both in /auth/account): a "member_notice" job
  MEMBER_NOTICE_DELAY_SECONDS later, one per person however many messages come meanwhile. It
  e-mails what the person still has not read by then; what they read meanwhile is not sent.
- A teacher pins an announcement in a class: an "announcement" job for each student with an
  address who wants them (User.mail_announcements), once per message (Message.mailed_at): one
  job per student, so each student's e-mail is sent, retried and recognised on its own.

Like visitor_mail, this runs inside sends: no import of services.messages.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import Membership, Message, User, utcnow
from . import outbox


def _wanting(query, column) -> list[int]:
    return list(db.session.scalars(
        query.where(column.is_(True), User.email.is_not(None), User.email != "", User.is_active_account.is_(True))
    ))


def _notice(user_ids: Iterable[int]) -> None:
    run_at = utcnow() + timedelta(seconds=float(current_app.config["MEMBER_NOTICE_DELAY_SECONDS"]))
    for user_id in sorted(set(user_ids)):
        outbox.enqueue("member_notice", {"user_id": user_id}, run_at=run_at, coalesce=f"member_notice:{user_id}",
                       subject=f"user:{user_id}")


def message_stored(message: Message, *, mentioned: Iterable[int] = ()) -> None:
    """A message of a room (not a support conversation) was added to the session: the notices it causes.

    Costs no query for a message in a room that is not a direct one and that mentions nobody.
    """
    wanting: list[int] = []
    if message.room.is_direct:
        others = db.select(User.id).join(Membership, Membership.user_id == User.id).where(
            Membership.room_id == message.room_id, User.id != message.sender_id)
        wanting += _wanting(others, User.mail_direct)
    named = [user_id for user_id in mentioned if user_id != message.sender_id]
    if named:
        wanting += _wanting(db.select(User.id).where(User.id.in_(named)), User.mail_mentions)
    _notice(wanting)


def announcement_pinned(message: Message) -> None:
    """A moderator pinned message (uncommitted): in a class, e-mail it to each student, the first time only."""
    room = message.room
    if not room.is_class or message.mailed_at is not None or message.deleted_at is not None:
        return
    # Before the query below: its autoflush then writes the pin and this together (one revision of the room).
    message.mailed_at = utcnow()
    students = db.select(User.id).join(Membership, Membership.user_id == User.id).where(
        Membership.room_id == room.id, Membership.role == "member", User.id != message.sender_id)
    for user_id in _wanting(students, User.mail_announcements):
        outbox.enqueue("announcement", {"message_id": message.id, "user_id": user_id}, subject=f"user:{user_id}")
