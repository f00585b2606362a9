"""Messages: the idempotent send and the history pages every client reads."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Callable, TypeVar

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import event, inspect
from sqlalchemy.exc import IntegrityError, InvalidRequestError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from ..extensions import db
from ..models import Membership, Message, Room, User, utcnow
from . import read_writes
from .anonymity import check_anonymous_question
from .committer import committer, hand_over
from .errors import ServiceError
from .mentions import record_mentions
from .message_effects import message_stored
from .message_news import announce_mentions, announce_message
from .moderation import check_can_post
from .ratelimit import check_rate
from .receipts import read_moved, takes_receipts
from .rooms import can_see_notes, ensure_can_enter, enter_room
from .rows import adopt, first_id
from .uploads import check_attachment_ids, check_claimable, link_attachments

MAX_BODY_LENGTH = 4000
MAX_CLIENT_ID_LENGTH = 64
DEFAULT_PAGE = 50
MAX_PAGE = 100
MAX_CATCH_UP = 500
MAX_MESSAGE_ID = 2**63 - 1

T = TypeVar("T")

_INSERT_MESSAGE = Message.__table__.insert()
# A new message: no deletion, pin, answer or edit yet.
_EMPTY_MESSAGE = {
    **{column.name: None for column in Message.__table__.columns if column.name != "id"},
    "internal": False, "deleted_by_moderator": False, "is_question": False, "revision": 0, "anonymous": False,
    "needs_ack": False,
}


@dataclass(frozen=True)
class PostResult:
    """The stored message, whether this call stored it (False: a retried client_id), and its MESSAGE shape."""

    message: Message
    created: bool
    # Message.to_dict() of the stored row as its sender sees it (for an anonymous question, with
    # its author: services/anonymity.py), for the ack; the room's broadcast hides it. A new message's is
    # built just before its commit, from what the send has in hand: after the commit every
    # object is expired, and reading it back costs a query per row (docs/performance.md).
    shown: dict


@dataclass(frozen=True)
class Page:
    """Messages oldest first, and whether more lie beyond the cut."""

    messages: list[Message]
    more: bool


@dataclass(frozen=True)
class CatchUp:
    """What a joining client needs: new messages (a Page), the changes to those it holds, and the revision now.

    `changed`: messages at or below the client's `after` that changed after its revision, in the
    order they changed; `changed_more`: cut at MAX_CATCH_UP, ask again from `revision` (then the
    revision of the last change given, not the room's).
    """

    messages: list[Message]
    more: bool
    changed: list[Message]
    changed_more: bool
    revision: int


def check_body(body: object, *, allow_empty: bool = False) -> str:
    """Return the trimmed body or raise invalid / too_large (empty is allowed for a message with pictures)."""
    if not isinstance(body, str):
        raise ServiceError("invalid", _("A message is text."))
    text = body.strip()
    if not text and not allow_empty:
        raise ServiceError("invalid", _("Type a message before sending."))
    if len(text) > MAX_BODY_LENGTH:
        raise ServiceError(
            "too_large",
            _("A message can be at most %(max)d characters; this one has %(length)d. Shorten it or split it.",
              max=MAX_BODY_LENGTH, length=len(text)),
            limit=MAX_BODY_LENGTH,
        )
    return text


def check_client_id(client_id: object) -> str:
    """Return the client id or raise invalid."""
    if not isinstance(client_id, str) or not 1 <= len(client_id) <= MAX_CLIENT_ID_LENGTH:
        raise ServiceError("invalid", _("client_id is a string of 1 to %(max)d characters.", max=MAX_CLIENT_ID_LENGTH))
    return client_id


def _find_by_client_id(*, sender: User, client_id: str) -> Message | None:
    # The driver's read on the (sender_id, client_id) unique index: nearly every send finds nothing.
    found = first_id(Message, sender_id=sender.id, client_id=client_id)
    return None if found is None else db.session.get(Message, found)


def _same_send(*, stored: Message, room: Room) -> PostResult:
    if stored.room_id != room.id:
        raise ServiceError("conflict", _("That client_id was already used for a message in another room."))
    return PostResult(message=stored, created=False, shown=stored.to_dict(reveal_author=True))  # its own sender


def _store(
    *, sender: User, room: Room, text: str, client_id: str | None, internal: bool, question: bool,
    attachments: list[int], on_stored: Callable[[Message], None] | None, reply_to: Message | None = None,
    anonymous: bool = False,
) -> tuple[Message, tuple[dict, dict | None]]:
    """Add a checked message, its pictures, mentions and bookkeeping to the session (uncommitted);
    return it and its MESSAGE shapes: as the room sees it and, for an anonymous one, with its author."""
    # In the committer, sender and room belong to the handler's session: copy them into this
    # one without a query, so that the message's room and sender resolve from its identity map.
    sender, room = _here(sender), _here(room)
    message = _insert(
        room_id=room.id, sender_id=sender.id, body=text, client_id=client_id, internal=internal, is_question=question,
        anonymous=anonymous, reply_to_id=reply_to.id if reply_to is not None else None,
    )
    # The message it answers is loaded already (checked by check_reply_target): no query for it.
    set_committed_value(message, "reply_to", _here(reply_to) if reply_to is not None else None)
    link_attachments(message=message, ids=attachments)
    mentioned = record_mentions(message=message)
    if on_stored is not None:
        on_stored(message)
    message_stored(message, mentioned=mentioned)  # its e-mails and webhook calls, stored with it (the outbox)
    # Nobody sees it unless the commit after it succeeds.
    return message, (message.to_dict(), message.to_dict(reveal_author=True) if anonymous else None)


def _insert(**values: object) -> Message:
    """INSERT a message with one Core statement and return it as a loaded, persistent Message (no flush, no reload)."""
    # The ORM's unit of work cost a sixth of a send (docs/performance.md). Every column is given,
    # so that reading one never goes back to the database; triggers (search) still run.
    row = {**_EMPTY_MESSAGE, **values, "created_at": utcnow()}
    result = db.session.connection().execute(_INSERT_MESSAGE, row)
    # An INSERT of one row always has its key; SQLAlchemy types it optional for other statements.
    message = adopt(Message, {"id": result.inserted_primary_key[0], **row})  # type: ignore[index]
    # A new message mentions nobody yet and has no reactions (its pictures: link_attachments).
    set_committed_value(message, "mention_rows", [])
    set_committed_value(message, "reaction_rows", [])
    set_committed_value(message, "poll", None)  # a poll is added to its message afterwards (services/polls.py)
    return message


def _here(obj: T) -> T:
    """obj in this context's session: itself, or a copy made from its loaded state (no query)."""
    if obj in db.session:
        return obj
    try:
        return db.session.merge(obj, load=False)
    except InvalidRequestError:  # it has unflushed changes: read it afresh
        return db.session.get(type(obj), inspect(obj).identity[0])  # type: ignore[return-value]  # it was loaded


def post_message(
    *, sender: User, room: Room, body: object, client_id: object | None, enforce_rate_limit: bool = True,
    internal: bool = False, on_stored: Callable[[Message], None] | None = None, question: bool = False,
    attachments: object = None, reply_to: object = None, anonymous: bool = False,
) -> PostResult:
    """Store a message once per (sender, client_id), committing before anyone hears of it.

    A retry of a stored client_id is answered before the rate limit is counted, so that
    a client re-sending after a lost ack is never refused for its own retry. `internal`
    makes it a staff-only note. `on_stored(message)` runs in the same transaction, before
    the commit, for bookkeeping that must never disagree with the message (the support queue).
    The room's moderation rules (announcement-only, mute, slow mode) come after the retry
    check too; `question` sends it as a question (a raised hand). `attachments` lists ids of
    pictures the sender uploaded to this room and has not sent yet (then the body may be
    empty); the @mentions in the body are stored with it. `reply_to`: the id of the message
    of this room that it answers (check_reply_target). `anonymous` asks the question without the
    sender's name, where the room allows it (services/anonymity.py); slow mode and limits are the same.
    """
    wanted = check_attachment_ids(attachments)
    text = check_body(body, allow_empty=bool(wanted))
    cid = None if client_id is None else check_client_id(client_id)
    ensure_can_enter(user=sender, room=room)
    if internal and not can_see_notes(user=sender, room=room):
        raise ServiceError("forbidden", _("Only staff can write internal notes, and only in support conversations."))
    if cid is not None:
        stored = _find_by_client_id(sender=sender, client_id=cid)
        if stored is not None:
            return _same_send(stored=stored, room=room)
    check_can_post(user=sender, room=room)
    check_claimable(sender=sender, room=room, ids=wanted)
    answered = check_reply_target(sender=sender, room=room, reply_to=reply_to, internal=bool(internal))
    if question and (room.is_support or room.is_direct or internal):
        raise ServiceError("invalid", _("Questions are for rooms, not support conversations or direct messages."))
    check_anonymous_question(room=room, question=bool(question), anonymous=bool(anonymous), internal=bool(internal))
    # Checked: give the connection back before anything can yield (the rate limiter may start
    # a timer thread), so that green threads waiting here never hold the pool's connections.
    grouped = current_app.config["GROUP_COMMIT"] and hand_over()
    if enforce_rate_limit:
        check_rate(action="send", key=sender.id)
    store = functools.partial(
        _store, sender=sender, room=room, text=text, client_id=cid, internal=bool(internal), question=bool(question),
        attachments=wanted, on_stored=on_stored, reply_to=answered, anonymous=bool(anonymous),
    )
    try:
        if grouped:
            # Shares a transaction with the sends that arrive meanwhile; returns after its COMMIT.
            message, (shown, revealed) = committer().run(store, room_id=room.id)
            message = db.session.merge(message, load=False)
        else:
            # PostgreSQL gives ids from a sequence before the commit, so two sends to one room could
            # commit out of id order and a catch-up `after` the later id would miss the earlier one:
            # lock the room row until the commit, so a room's ids commit in order (SQLite serializes
            # every write already and renders no FOR UPDATE). The committer locks a batch's rooms.
            db.session.execute(db.select(Room.id).where(Room.id == room.id).with_for_update())
            message, (shown, revealed) = store()
            db.session.commit()
    except ServiceError:
        db.session.rollback()
        raise
    except IntegrityError:
        # Two sockets of one sender raced with the same client_id: the database kept one.
        db.session.rollback()
        stored = _find_by_client_id(sender=sender, client_id=cid) if cid else None
        if stored is None:
            raise
        return _same_send(stored=stored, room=room)
    # Committed: the room (or, for a note, its staff) hears it, then whoever it newly mentions.
    announce_message(shown, revealed=revealed)
    announce_mentions(message, user_ids=shown.get("mentions", []))
    return PostResult(message=message, created=True, shown=revealed if revealed is not None else shown)


def check_reply_target(*, sender: User, room: Room, reply_to: object, internal: bool) -> Message | None:
    """The message of this room that a new message answers (None: it answers none), or raise.

    It must be one the sender can read here and not deleted; a message everybody reads cannot
    answer a staff note (its excerpt would show the note to the visitor).
    """
    if reply_to is None:
        return None
    target_id = check_cursor(reply_to, "reply_to")
    target = db.session.get(Message, target_id) if target_id else None
    if target is None or target.room_id != room.id or (target.internal and not can_see_notes(user=sender, room=room)):
        raise ServiceError("not_found", _("The message you are replying to is not in this room."))
    if target.is_deleted:
        raise ServiceError("conflict", _("That message was deleted; you cannot reply to it any more."))
    if target.internal and not internal:
        raise ServiceError("invalid", _("A reply to a staff note must be a staff note too: the visitor cannot see it."))
    return target


def with_answered(page: list[Message]) -> list[Message]:
    """page, each reply given the message it answers: from the page itself, the rest in one query."""
    wanted = {m.reply_to_id for m in page if m.reply_to_id is not None}
    if not wanted:
        return page
    found = {m.id: m for m in page if m.id in wanted}
    if wanted - set(found):
        # Only what a quote shows (its sender is joined): not their pictures, mentions or reactions.
        found.update((m.id, m) for m in db.session.scalars(db.select(Message).where(
            Message.id.in_(wanted - set(found))).options(
                db.lazyload(Message.attachments), db.lazyload(Message.mention_rows),
                db.lazyload(Message.reaction_rows))))
    for message in page:
        if message.reply_to_id is not None:
            set_committed_value(message, "reply_to", found.get(message.reply_to_id))
    return page


def check_limit(limit: object, *, default: int = DEFAULT_PAGE, maximum: int = MAX_PAGE) -> int:
    """Return a page size between 1 and maximum, or raise invalid."""
    if limit is None:
        return default
    if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= maximum:
        raise ServiceError("invalid", _("limit is a whole number from 1 to %(max)d.", max=maximum))
    return limit


def check_cursor(value: object, name: str) -> int | None:
    """Return a message id cursor (before/after) or raise invalid."""
    if value is None:
        return None
    # Above 2**63 - 1 no database integer can hold it (and the driver would fail).
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MESSAGE_ID:
        raise ServiceError("invalid", _("%(name)s is a message id (a whole number from 0 to %(max)d).", name=name,
                                        max=MAX_MESSAGE_ID))
    return value


def visible_messages(*, user: User, room: Room):
    """The query of room's messages that user may read: staff notes only for those who see notes."""
    query = db.select(Message).where(Message.room_id == room.id)
    if not can_see_notes(user=user, room=room):
        query = query.where(Message.internal.is_(False))
    return query


def shown_messages(*, user: User, room: Room):
    """visible_messages, loading with each message who pinned or answered it (for to_dict)."""
    # In the page's one query: lazily, each such user not yet in the session cost a query of its
    # own (tests/test_history_queries.py counts them).
    return visible_messages(user=user, room=room).options(
        db.joinedload(Message.pinned_by), db.joinedload(Message.answered_by)
    )


def list_messages(
    *, user: User, room: Room, before: object = None, after: object = None, limit: object = None,
    max_limit: int = MAX_PAGE, around: object = None,
) -> Page:
    """A page of room's messages, oldest first.

    With `after`, the oldest messages newer than it (catching up); otherwise the newest
    ones older than `before` (or the newest of all). `more` says the page was cut.
    With `around` (a search result), the message with that id in the middle of the page:
    half the page older than it, the rest from it on; `more` says older ones exist.
    """
    ensure_can_enter(user=user, room=room)
    size = check_limit(limit, maximum=max_limit, default=min(DEFAULT_PAGE, max_limit))
    before_id = check_cursor(before, "before")
    after_id = check_cursor(after, "after")
    around_id = check_cursor(around, "around")
    query = shown_messages(user=user, room=room)
    if around_id is not None:
        if before_id is not None or after_id is not None:
            raise ServiceError("invalid", _("around cannot be combined with before or after."))
        return _page_around(query, around_id=around_id, size=size)
    if before_id is not None:
        query = query.where(Message.id < before_id)
    if after_id is not None:
        query = query.where(Message.id > after_id)
        rows = list(db.session.scalars(query.order_by(Message.id.asc()).limit(size + 1)))
        return Page(messages=with_answered(rows[:size]), more=len(rows) > size)
    rows = list(db.session.scalars(query.order_by(Message.id.desc()).limit(size + 1)))
    return Page(messages=with_answered(list(reversed(rows[:size]))), more=len(rows) > size)


def _page_around(query, *, around_id: int, size: int) -> Page:
    older_wanted = size // 2
    older = list(
        db.session.scalars(query.where(Message.id < around_id).order_by(Message.id.desc()).limit(older_wanted + 1))
    )
    kept_older = list(reversed(older[:older_wanted]))
    newer = list(db.session.scalars(
        query.where(Message.id >= around_id).order_by(Message.id.asc()).limit(size - len(kept_older))
    ))
    return Page(messages=with_answered(kept_older + newer), more=len(older) > older_wanted)


def catch_up(*, user: User, room: Room, after: object = None, revision: object = None) -> CatchUp:
    """What a client joining room needs: the latest page, or everything after its last id (capped),
    and, given the room revision it was up to date with, the changes since to the messages it holds."""
    # The revision is read first: a change committed after this read is either among what is read
    # below or broadcast to the (already subscribed) socket, and comes again next time at worst.
    now = current_revision(room=room)
    if after is None:
        page = list_messages(user=user, room=room)
    else:
        page = list_messages(user=user, room=room, after=after, limit=MAX_CATCH_UP, max_limit=MAX_CATCH_UP)
    since = check_revision(revision)
    if after is None or since is None or since >= now:
        return CatchUp(messages=page.messages, more=page.more, changed=[], changed_more=False, revision=now)
    rows = list(db.session.scalars(
        shown_messages(user=user, room=room)
        .where(Message.revision > since, Message.id <= after)
        .order_by(Message.revision.asc())
        .limit(MAX_CATCH_UP + 1)
    ))
    changed, changed_more = with_answered(rows[:MAX_CATCH_UP]), len(rows) > MAX_CATCH_UP
    return CatchUp(
        messages=page.messages, more=page.more, changed=changed, changed_more=changed_more,
        revision=changed[-1].revision if changed_more else now,
    )


def current_revision(*, room: Room) -> int:
    """The room's revision as stored now (the page a client renders from it is current up to it)."""
    return db.session.scalar(db.select(Room.revision).where(Room.id == room.id)) or 0


def check_revision(value: object) -> int | None:
    """Return a room revision a client sent or raise invalid."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_MESSAGE_ID:
        raise ServiceError("invalid", _("revision is the number the last join answered (a whole number from 0)."))
    return value


@event.listens_for(Session, "before_flush")
def _revise_changed_messages(session: Session, flush_context: object, instances: object) -> None:
    """Every change to a stored message (edit, delete, pin, question, answer…) takes its room's next revision.

    In the change's own transaction: the room row's UPDATE orders the room's changes as they
    commit (PostgreSQL holds its row lock to the commit; SQLite has one writer).
    """
    for message in [obj for obj in session.dirty if isinstance(obj, Message)]:
        if not session.is_modified(message, include_collections=False):
            continue
        message.revision = session.connection().execute(
            _NEXT_REVISION, {"room_id": message.room_id}
        ).scalar_one()


_NEXT_REVISION = (
    Room.__table__.update()
    .where(Room.__table__.c.id == db.bindparam("room_id"))
    .values(revision=Room.__table__.c.revision + 1)
    .returning(Room.__table__.c.revision)
)


def count_unread(*, user: User, room: Room, last_read_id: int | None = None) -> int:
    """How many messages user may read in room that others sent after their read position."""
    if last_read_id is None:
        membership = db.session.scalar(db.select(Membership).filter_by(user_id=user.id, room_id=room.id))
        last_read_id = membership.last_read_id if membership else 0
    query = visible_messages(user=user, room=room).where(Message.id > last_read_id, Message.sender_id != user.id)
    return db.session.scalar(db.select(db.func.count()).select_from(query.subquery())) or 0


def mark_read(*, user: User, room: Room, last_id: object) -> int:
    """Move user's read position in room forward to message `last_id` (never back); return the unread count."""
    read_up_to = check_cursor(last_id, "last_id")
    membership = enter_room(user=user, room=room)
    if membership is None:  # an admin looking into a private room keeps no read position
        return count_unread(user=user, room=room, last_read_id=read_up_to)
    newest = db.session.scalar(db.select(db.func.max(Message.id)).where(Message.room_id == room.id)) or 0
    position = min(read_up_to or 0, newest)
    if position > membership.last_read_id:
        if takes_receipts(room):
            membership.last_read_id = position
            read_moved(user=user, room=room, membership=membership)  # commits; the other side hears it
        else:
            read_writes.move(user_id=user.id, room_id=room.id, position=position)  # now, or in a few seconds
    return count_unread(user=user, room=room, last_read_id=max(membership.last_read_id, position))
