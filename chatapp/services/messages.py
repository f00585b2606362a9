"""Messages: the idempotent send and the history pages every client reads."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Message, Room, User
from .errors import ServiceError
from .ratelimit import check_rate
from .rooms import ensure_can_enter

MAX_BODY_LENGTH = 4000
MAX_CLIENT_ID_LENGTH = 64
DEFAULT_PAGE = 50
MAX_PAGE = 100
MAX_CATCH_UP = 500


@dataclass(frozen=True)
class PostResult:
    """The stored message, and whether this call stored it (False: a retried client_id)."""

    message: Message
    created: bool


@dataclass(frozen=True)
class Page:
    """Messages oldest first, and whether more lie beyond the cut."""

    messages: list[Message]
    more: bool


def check_body(body: object) -> str:
    """Return the trimmed body or raise invalid / too_large."""
    if not isinstance(body, str):
        raise ServiceError("invalid", "A message is text.")
    text = body.strip()
    if not text:
        raise ServiceError("invalid", "Type a message before sending.")
    if len(text) > MAX_BODY_LENGTH:
        raise ServiceError(
            "too_large",
            f"A message can be at most {MAX_BODY_LENGTH} characters; this one has {len(text)}. Shorten it or split it.",
            limit=MAX_BODY_LENGTH,
        )
    return text


def check_client_id(client_id: object) -> str:
    """Return the client id or raise invalid."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_LENGTH:
        raise ServiceError("invalid", f"client_id is a string of 1 to {MAX_CLIENT_ID_LENGTH} characters.")
    return client_id


def _find_by_client_id(*, sender: User, client_id: str) -> Message | None:
    return db.session.scalar(db.select(Message).filter_by(sender_id=sender.id, client_id=client_id))


def _same_send(*, stored: Message, room: Room) -> PostResult:
    if stored.room_id != room.id:
        raise ServiceError("conflict", "That client_id was already used for a message in another room.")
    return PostResult(message=stored, created=False)


def post_message(
    *, sender: User, room: Room, body: object, client_id: object | None, enforce_rate_limit: bool = True
) -> PostResult:
    """Store a message once per (sender, client_id), committing before anyone hears of it.

    A retry of a stored client_id is answered before the rate limit is counted, so that
    a client re-sending after a lost ack is never refused for its own retry.
    """
    text = check_body(body)
    cid = None if client_id is None else check_client_id(client_id)
    ensure_can_enter(user=sender, room=room)
    if cid is not None:
        stored = _find_by_client_id(sender=sender, client_id=cid)
        if stored is not None:
            return _same_send(stored=stored, room=room)
    if enforce_rate_limit:
        check_rate(action="send", key=sender.id)
    message = Message(room_id=room.id, sender_id=sender.id, body=text, client_id=cid)
    db.session.add(message)
    try:
        db.session.commit()
    except IntegrityError:
        # Two sockets of one sender raced with the same client_id: the database kept one.
        db.session.rollback()
        stored = _find_by_client_id(sender=sender, client_id=cid) if cid else None
        if stored is None:
            raise
        return _same_send(stored=stored, room=room)
    return PostResult(message=message, created=True)


def check_limit(limit: object, *, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    """Return a page size between 1 and maximum, or raise invalid."""
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ServiceError("invalid", f"limit is a whole number from 1 to {maximum}.")
    return limit


def check_cursor(value: object, name: str) -> int | None:
    """Return a message id cursor (before/after) or raise invalid."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ServiceError("invalid", f"{name} is a message id (a whole number of 0 or more).")
    return value


def list_messages(
    *, user: User, room: Room, before: object = None, after: object = None, limit: object = None,
    max_limit: int = MAX_PAGE,
) -> Page:
    """A page of room's messages, oldest first.

    With `after`, the oldest messages newer than it (catching up); otherwise the newest
    ones older than `before` (or the newest of all). `more` says the page was cut.
    """
    ensure_can_enter(user=user, room=room)
    size = check_limit(limit, maximum=max_limit, default=min(DEFAULT_PAGE, max_limit))
    before_id = check_cursor(before, "before")
    after_id = check_cursor(after, "after")
    query = db.select(Message).where(Message.room_id == room.id)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    if after_id is not None:
        query = query.where(Message.id > after_id)
        rows = list(db.session.scalars(query.order_by(Message.id.asc()).limit(size + 1)))
        return Page(messages=rows[:size], more=len(rows) > size)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(size + 1)))
    return Page(messages=list(reversed(rows[:size])), more=len(rows) > size)


def catch_up(*, user: User, room: Room, after: object = None) -> Page:
    """What a client joining room needs: the latest page, or everything after its last id (capped)."""
    if after is None:
        return list_messages(user=user, room=room)
    return list_messages(user=user, room=room, after=after, limit=MAX_CATCH_UP, max_limit=MAX_CATCH_UP)
