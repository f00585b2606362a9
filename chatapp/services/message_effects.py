"""What a newly stored message sets going outside the server, added in the send's own transaction.

`message_stored(message)` runs in messages._store, in the transaction (the group committer's
batch, or the send's own) that stores the message: the jobs it adds to the outbox are committed
with the message or not at all. It runs on every send, so each step must cost nothing (no query)
when it has nothing to do, and none may import services.messages (which imports this).
"""
from __future__ import annotations

from collections.abc import Iterable

from ..extensions import db
from ..models import Conversation, Message
from . import member_mail, visitor_mail, webhooks


def message_stored(message: Message, *, mentioned: Iterable[int] = ()) -> None:
    """Add the outbox jobs (e-mails, webhook calls) that this new message causes, uncommitted.

    `mentioned`: the ids of the users its @mentions name (services/mentions.record_mentions).
    """
    room = message.room
    conversation = None
    if room.is_support:  # one query, for support messages only
        conversation = db.session.scalar(db.select(Conversation).filter_by(room_id=room.id))
    webhooks.message_created(message, conversation)
    if message.internal:
        return  # a staff note leaves the server in no e-mail and no webhook call
    if conversation is not None:
        visitor_mail.message_stored(message, conversation)
    else:
        member_mail.message_stored(message, mentioned=mentioned)
