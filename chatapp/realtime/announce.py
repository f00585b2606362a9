"""Sending after the commit: a service says what goes out to whom, and nobody hears it before it is stored.

A service that changes something people see calls `announce(event, data, to=CHANNELS)` (or
`after_commit(action)` for an action on sockets, such as taking one out of a channel). When the
session has nothing uncommitted (the service committed first, or the group committer did),
it is sent at once; otherwise it waits for that session's COMMIT, and a ROLLBACK drops it.
Every door (socket handler, HTTP view, CLI command) therefore announces the same way, after
the same commit, and none can forget (docs/architecture.md, "After the commit").

An action that waits for a commit runs inside SQLAlchemy's after_commit, where the database
may not be used: compute what an announcement carries before calling announce().
"""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db, socketio
from .channels import NAMESPACE

log = logging.getLogger(__name__)

# Where a session keeps what waits for its commit, and whether it flushed anything since its last one.
PENDING_KEY = "chatapp.after_commit"
WROTE_KEY = "chatapp.wrote"


def announce(event_name: str, data: Any, *, to: str | list[str], skip_sid: str | None = None) -> None:
    """Emit event_name with data to the channel(s) `to` once what the session wrote is committed."""
    after_commit(functools.partial(socketio.emit, event_name, data, to=to, skip_sid=skip_sid, namespace=NAMESPACE))


def after_commit(action: Callable[[], Any]) -> None:
    """Run action now if the session holds nothing uncommitted, else right after its COMMIT (never after a ROLLBACK)."""
    session = db.session()
    if not has_uncommitted_writes(session):
        action()
        return
    session.info.setdefault(PENDING_KEY, []).append(action)


def has_uncommitted_writes(session: Session) -> bool:
    """Whether session flushed or holds changes that its next COMMIT would store."""
    if session.info.get(WROTE_KEY) or session.new or session.deleted:
        return True
    return any(session.is_modified(instance) for instance in session.dirty)


@event.listens_for(Session, "after_flush")
def _note_write(session: Session, flush_context: object) -> None:
    session.info[WROTE_KEY] = True


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    if session.in_nested_transaction():  # a SAVEPOINT released: the transaction goes on
        return
    session.info.pop(WROTE_KEY, None)
    for action in session.info.pop(PENDING_KEY, []):
        try:
            action()
        except Exception:  # noqa: BLE001 - what is stored stays stored; the clients catch up on reconnect
            log.exception("an announcement after the commit failed")


@event.listens_for(Session, "after_rollback")
def _drop_pending(session: Session) -> None:
    if session.in_nested_transaction():  # back to a SAVEPOINT: what the transaction did before it stands
        return
    session.info.pop(WROTE_KEY, None)
    session.info.pop(PENDING_KEY, None)
