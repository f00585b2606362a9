"""The outbox handlers that send e-mail to visitors, agents and members (the jobs visitor_mail and member_mail add).

Each handler reads what is there when it runs, so that what was read or answered meanwhile is
not sent. A job that e-mails a range of messages claims the range once, on its first try, with
a conditional UPDATE of the conversation's (or member's) `mailed_through_id`, and keeps it in
its payload: every later try sends the same messages under the same Message-ID (a receiver drops
a repeat), and a later job starts after it, so no message is in two e-mails and none is skipped.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import update

from ..extensions import db
from ..models import Acknowledgement, Conversation, Membership, Message, MessageMention, OutboxJob, Room, User, utcnow
from . import mail, outbox, subscriptions
from .anonymity import author_label
from .availability import agents_online
from .messages import visible_messages
from .rooms import can_enter
from .rows import rows_changed
from .teams import may_see
from .visitor_mail import visitor_address
from .visitors import issue_link_token

# The most messages one e-mail lists; the link leads to the rest.
MAX_LISTED = 50


@dataclass(frozen=True)
class Line:
    """One message as an e-mail shows it: who wrote it, when (UTC), what, and where."""

    sender: str
    at: datetime
    body: str
    room: str = ""


def _lines(messages: list[Message]) -> list[Line]:
    return [Line(sender=author_label(message), at=message.created_at, body=message.body,
                 room="" if message.room.is_direct or message.room.is_support else message.room.name)
            for message in messages[-MAX_LISTED:]]


def _send(*, to: str, user: User, template: str, event_id: str, language: str | None, topic: str | None,
          **context: object) -> None:
    """Render mail/<template> for user and send it, with the topic's unsubscribe link and headers."""
    base = mail.public_url()
    headers: dict[str, str] = {}
    unsubscribe_url = None
    if topic is not None:
        unsubscribe_url = subscriptions.unsubscribe_url(user, topic, base)
        headers = subscriptions.unsubscribe_headers(unsubscribe_url)
    subject, text, html = mail.render(template, language=language, user=user, unsubscribe_url=unsubscribe_url,
                                      **context)
    mail.deliver(mail.compose(to=mail.mailbox(to, user.display_name), subject=subject, text=text, html=html,
                              event_id=event_id, language=language, headers=headers))


def _claim_range(
    job: OutboxJob, model: type[Conversation] | type[User], row_id: int, candidates: Callable[[], list[int]],
) -> tuple[int, int] | None:
    """The message ids (after, through] this job mails: frozen in its payload on the first try.

    `candidates()`: on the first try, the ids newer than the row's mailed_through_id to mail now,
    oldest first. None when there is nothing (or another job just claimed them: it mails them).
    """
    if "through" in job.payload:
        return int(job.payload["after"]), int(job.payload["through"])
    row: Conversation | User | None = db.session.get(model, row_id)  # type: ignore[assignment]
    if row is None:
        return None
    found = candidates()
    if not found:
        return None
    after, through = row.mailed_through_id, found[-1]
    claimed = rows_changed(
        update(model).where(model.id == row_id, model.mailed_through_id == after).values(mailed_through_id=through)
    )
    if not claimed:
        db.session.rollback()
        return None
    db.session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(
        payload={**job.payload, "after": after, "through": through}))
    db.session.commit()
    return after, through


# -- visitors ---------------------------------------------------------------------------------


def _for_visitor(conversation: Conversation):
    """The messages of the conversation its visitor may read that others wrote (never a staff note)."""
    return visible_messages(user=conversation.visitor, room=conversation.room).where(
        Message.sender_id != conversation.visitor_id, Message.deleted_at.is_(None))


def _addressed(job: OutboxJob, *, unsubscribed_too: bool) -> tuple[Conversation, User, str] | None:
    """The job's conversation, its visitor and the address they gave; None if there is nobody to e-mail now."""
    conversation = db.session.get(Conversation, job.payload["conversation_id"])
    if conversation is None:
        return None
    visitor = conversation.visitor
    address = visitor_address(visitor.id)
    if not address or not (unsubscribed_too or subscriptions.wants(visitor, "support")):
        return None
    return conversation, visitor, address


def _continue_url(conversation: Conversation) -> str:
    token = issue_link_token(visitor=conversation.visitor, site=conversation.site)
    return f"{mail.public_url()}/widget/continue/{token}"


@outbox.handler("visitor_replies", title=_l("E-mail: replies to a visitor"))
def send_visitor_replies(job: OutboxJob) -> None:
    """E-mail the replies the visitor has not read, with a link back to the chat."""
    found = _addressed(job, unsubscribed_too=False)
    if found is None:
        return  # unsubscribed (or the conversation gone) since
    conversation, visitor, address = found

    def unread() -> list[int]:
        read_up_to = db.session.scalar(db.select(Membership.last_read_id).filter_by(
            user_id=visitor.id, room_id=conversation.room_id)) or 0
        since = max(conversation.mailed_through_id, read_up_to)
        return list(db.session.scalars(_for_visitor(conversation).with_only_columns(Message.id)
                                       .where(Message.id > since).order_by(Message.id)))

    claimed = _claim_range(job, Conversation, conversation.id, unread)
    if claimed is None:
        return
    after, through = claimed
    messages = list(db.session.scalars(_for_visitor(conversation).where(
        Message.id > after, Message.id <= through).order_by(Message.id)))
    if not messages:
        return
    _send(to=address, user=visitor, template="visitor_replies", event_id=job.event_id, language=visitor.language,
          topic="support", site=conversation.site, lines=_lines(messages), continue_url=_continue_url(conversation),
          link_days=max(1, int(current_app.config["VISITOR_LINK_MAX_AGE_SECONDS"]) // 86400))


@outbox.handler("visitor_transcript", title=_l("E-mail: a conversation's transcript"))
def send_visitor_transcript(job: OutboxJob) -> None:
    """E-mail the whole conversation, as the visitor sees it, up to the moment it was asked for."""
    found = _addressed(job, unsubscribed_too=job.payload.get("reason") == "requested")  # asked for: sent anyway
    if found is None:
        return
    conversation, visitor, address = found
    messages = list(db.session.scalars(
        visible_messages(user=visitor, room=conversation.room)
        .where(Message.id <= job.payload["through_id"], Message.deleted_at.is_(None)).order_by(Message.id)))
    if not messages:
        return
    _send(to=address, user=visitor, template="visitor_transcript", event_id=job.event_id, language=visitor.language,
          topic="support", site=conversation.site, lines=[
              Line(sender=message.sender.display_name, at=message.created_at, body=message.body) for message in messages
          ], continue_url=_continue_url(conversation), started_at=conversation.created_at)


@outbox.handler("agent_notice", title=_l("E-mail: a visitor wrote while no agent was online"))
def send_agent_notice(job: OutboxJob) -> None:
    """E-mail the site's agents the visitor's waiting messages, unless an agent answered or came online."""
    conversation = db.session.get(Conversation, job.payload["conversation_id"])
    if conversation is None or conversation.status == "resolved" or agents_online():
        return
    last_reply = db.session.scalar(
        db.select(db.func.max(Message.id)).where(Message.room_id == conversation.room_id,
                                                 Message.sender_id != conversation.visitor_id,
                                                 Message.internal.is_(False)))
    waiting = list(db.session.scalars(
        db.select(Message).where(Message.room_id == conversation.room_id, Message.sender_id == conversation.visitor_id,
                                 Message.id > (last_reply or 0), Message.deleted_at.is_(None)).order_by(Message.id)))
    if not waiting:
        return  # answered meanwhile
    agents = db.session.scalars(db.select(User).where(
        User.role.in_(("admin", "staff")), User.is_active_account.is_(True), User.email.is_not(None),
        User.email != "", User.mail_desk.is_(True)).order_by(User.id))
    console_url = f"{mail.public_url()}/support?c={conversation.room.slug}"
    for agent in agents:
        if not may_see(agent=agent, site=conversation.site):
            continue
        # One e-mail per agent, each with its own stable Message-ID: a retry repeats only ids already seen.
        _send(to=agent.email, user=agent, template="agent_notice", event_id=f"{job.event_id}.{agent.id}",
              language=agent.language, topic="desk", site=conversation.site, visitor=conversation.visitor,
              lines=_lines(waiting), console_url=console_url)


# -- members ----------------------------------------------------------------------------------


def _unread_for_member(user: User, since: int):
    """Ids of direct messages to user and messages mentioning user, newer than since and than user's read position."""
    mentioned = db.select(MessageMention.message_id).where(MessageMention.user_id == user.id)
    return (
        db.select(Message.id, Message.created_at)
        .join(Room, Room.id == Message.room_id)
        .join(Membership, (Membership.room_id == Message.room_id) & (Membership.user_id == user.id))
        .where(Message.id > since, Message.id > Membership.last_read_id, Message.sender_id != user.id,
               Message.deleted_at.is_(None), Message.internal.is_(False),
               (Room.kind == "direct") | Message.id.in_(mentioned))
        .order_by(Message.id)
    )


def _member_candidates(user: User) -> list[int]:
    """What of user's unread direct messages and mentions has waited long enough, oldest first."""
    cutoff = utcnow() - timedelta(seconds=float(current_app.config["MEMBER_NOTICE_DELAY_SECONDS"]))
    rows = db.session.execute(_unread_for_member(user, user.mailed_through_id)).all()
    wanted = []
    for message_id, created_at in rows:
        message = db.session.get_one(Message, message_id)
        direct = message.room.is_direct
        if not (user.mail_direct if direct else user.mail_mentions):
            continue
        if not can_enter(user=user, room=message.room):
            continue  # taken out of the room since
        if created_at > cutoff:
            # Too fresh: it gets its own turn when its time is up, and nothing after it is claimed now.
            outbox.enqueue("member_notice", {"user_id": user.id}, run_at=created_at + (utcnow() - cutoff),
                           coalesce=f"member_notice:{user.id}", subject=f"user:{user.id}")
            db.session.commit()
            break
        wanted.append(message_id)
    return wanted


@outbox.handler("member_notice", title=_l("E-mail: unread direct messages and mentions"))
def send_member_notice(job: OutboxJob) -> None:
    """E-mail a member the direct messages and @mentions they have not read in MEMBER_NOTICE_DELAY_SECONDS."""
    user = db.session.get(User, job.payload["user_id"])
    if user is None or not user.email or not user.is_active:
        return
    if "through" not in job.payload and not (user.mail_direct or user.mail_mentions):
        return
    claimed = _claim_range(job, User, user.id, lambda: _member_candidates(user))
    if claimed is None:
        return
    after, through = claimed
    ids = [row[0] for row in db.session.execute(_unread_for_member(user, after)) if row[0] <= through]
    messages = list(db.session.scalars(db.select(Message).where(Message.id.in_(ids)).order_by(Message.id)))
    if not messages:
        return
    topic = "direct" if all(message.room.is_direct for message in messages) else "mentions"
    _send(to=user.email, user=user, template="member_notice", event_id=job.event_id, language=user.language,
          topic=topic, lines=_lines(messages), room_url=f"{mail.public_url()}/rooms/{messages[-1].room.slug}",
          count=len(messages))


@outbox.handler("announcement", title=_l("E-mail: a class announcement"))
def send_announcement(job: OutboxJob) -> None:
    """E-mail a student an announcement pinned in their class (unless it was deleted or they left)."""
    message = db.session.get(Message, job.payload["message_id"])
    student = db.session.get(User, job.payload["user_id"])
    if message is None or student is None or message.deleted_at is not None:
        return
    if not student.email or not subscriptions.wants(student, "announcements") or not can_enter(user=student,
                                                                                                room=message.room):
        return
    # The e-mail names who pinned it as its sender; an anonymous question's author is never named.
    teacher = message.pinned_by if message.anonymous else message.sender
    if teacher is None:
        return
    _send(to=student.email, user=student, template="announcement", event_id=job.event_id, language=student.language,
          topic="announcements", room=message.room, teacher=teacher, body=message.body, at=message.created_at,
          room_url=f"{mail.public_url()}/rooms/{message.room.slug}")


@outbox.handler("ack_reminder", title=_l("E-mail: a reminder to acknowledge an announcement"))
def send_ack_reminder(job: OutboxJob) -> None:
    """E-mail a student the reminder to acknowledge an announcement, unless they did meanwhile or left."""
    message = db.session.get(Message, job.payload["message_id"])
    student = db.session.get(User, job.payload["user_id"])
    if message is None or student is None or message.deleted_at is not None or not message.needs_ack:
        return
    if not student.email or not subscriptions.wants(student, "announcements") or not can_enter(user=student,
                                                                                                room=message.room):
        return
    done = db.session.scalar(db.select(Acknowledgement.id).filter_by(message_id=message.id, user_id=student.id))
    if done is not None:
        return
    _send(to=student.email, user=student, template="ack_reminder", event_id=job.event_id, language=student.language,
          topic="announcements", room=message.room, teacher=message.sender, body=message.body, at=message.created_at,
          room_url=f"{mail.public_url()}/rooms/{message.room.slug}")
