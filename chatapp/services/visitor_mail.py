"""When a support conversation goes on by e-mail: the rules that add the jobs, in the change's own transaction.

- An agent replies while the visitor is not online (no widget open), and the visitor gave an
  e-mail address and did not unsubscribe: a "visitor_replies" job, VISITOR_REPLY_DELAY_SECONDS
  later. Several replies meanwhile share that one job (its coalesce key), so they make one
  e-mail; the job mails the replies the visitor still has not read when it runs.
- A visitor writes while no agent is online: an "agent_notice" job AGENT_NOTICE_DELAY_SECONDS
  later, one per conversation however many messages come meanwhile; it e-mails the agents of
  the site, unless an agent has answered by then.
- A conversation is resolved on a site that mails transcripts (Site.transcript_on_resolve), or
  the visitor asks for one in the widget: a "visitor_transcript" job.

The jobs are sent by services/mail_jobs.py. This module imports no service that imports
services.messages (it runs inside every support message's send: services/message_effects.py).
"""
from __future__ import annotations

from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import Conversation, Message, User, VisitorProfile, utcnow
from . import outbox
from .availability import agents_online
from .errors import ServiceError
from .online import is_connected
from .ratelimit import check_rate
from .subscriptions import wants


def visitor_address(visitor_id: int) -> str | None:
    """The e-mail address a visitor gave (the pre-chat form, the away form, the host page), if any."""
    return db.session.scalar(db.select(VisitorProfile.email).filter_by(user_id=visitor_id))


def _later(setting: str):
    return utcnow() + timedelta(seconds=float(current_app.config[setting]))


def message_stored(message: Message, conversation: Conversation) -> None:
    """A support message (not a staff note) was added to the session: add the e-mail jobs it causes."""
    visitor = conversation.visitor
    if message.sender_id == conversation.visitor_id:
        if not agents_online():
            outbox.enqueue("agent_notice", {"conversation_id": conversation.id},
                           run_at=_later("AGENT_NOTICE_DELAY_SECONDS"), coalesce=f"agent_notice:{conversation.id}",
                           subject=f"conversation:{conversation.id}")
        return
    if is_connected(visitor.id) or not wants(visitor, "support") or not visitor_address(visitor.id):
        return
    outbox.enqueue("visitor_replies", {"conversation_id": conversation.id},
                   run_at=_later("VISITOR_REPLY_DELAY_SECONDS"), coalesce=f"visitor_replies:{conversation.id}",
                   subject=f"conversation:{conversation.id}")


def _transcript(conversation: Conversation, *, reason: str) -> None:
    outbox.enqueue("visitor_transcript", {
        "conversation_id": conversation.id, "through_id": conversation.last_message_id or 0, "reason": reason,
    }, subject=f"conversation:{conversation.id}")


def resolved(conversation: Conversation) -> None:
    """The conversation was just resolved (uncommitted): its transcript, where the site mails them."""
    visitor = conversation.visitor
    if (conversation.site.transcript_on_resolve and conversation.last_message_id
            and wants(visitor, "support") and visitor_address(visitor.id)):
        _transcript(conversation, reason="resolved")


def request_transcript(*, visitor: User, conversation: Conversation | None) -> str:
    """The visitor asks for the conversation by e-mail (the widget's button); commits; returns the address.

    They asked, so it is sent even if they unsubscribed from replies; TRANSCRIPT_RATE_LIMIT stops
    a script from using it to fill somebody's mailbox.
    """
    if conversation is not None and conversation.visitor_id != visitor.id:
        raise ServiceError("forbidden", _("Only the visitor of a conversation can ask for its transcript."))
    address = visitor_address(visitor.id)
    if not address:
        raise ServiceError("invalid", _("Give us your e-mail address first, then ask again."))
    if conversation is None or not conversation.last_message_id:
        raise ServiceError("invalid", _("There is nothing to send yet: write your question first."))
    check_rate(action="transcript", key=visitor.id)
    _transcript(conversation, reason="requested")
    db.session.commit()
    return address
