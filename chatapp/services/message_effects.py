"""What a newly stored message sets going outside the server, added in the send's own transaction.

`message_stored(message)` runs in messages._store, in the transaction (the group committer's
batch, or the send's own) that stores the message: the jobs it adds to the outbox are committed
with the message or not at all. It runs on every send, so each step must cost nothing (no query)
when it has nothing to do, and none may import services.messages (which imports this).
"""
from __future__ import annotations

from ..models import Message
from . import webhooks


def message_stored(message: Message) -> None:
    """Add the outbox jobs (e-mails, webhook calls) that this new message causes, uncommitted."""
    webhooks.message_created(message)
