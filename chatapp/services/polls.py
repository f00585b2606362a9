"""Polls and quick checks: a moderator asks a question with options; the room's members vote from the message.

A poll is carried by a message of the room (its body is the question), so it is in the history
and the catch-up like any message; MESSAGE's `poll` is the room's view of it (POLL: counts only
once everyone may see them, never a voter). A vote, a change of vote and the close each give the
message the room's next revision in their commit, then the room hears `message_updated` and its
moderators `poll_results` (the counts they always see). A time limit is checked whenever a vote
comes in: nothing has to run at that moment for the poll to be closed.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import timedelta

from flask_babel import gettext as _
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm.attributes import flag_modified, set_committed_value

from ..extensions import db
from ..models import POLL_OPTIONS_MAX, POLL_OPTIONS_MIN, Message, Poll, PollOption, PollVote, Room, User, utcnow
from ..realtime.announce import announce
from ..realtime.channels import moderators_channel
from .errors import ServiceError
from .message_news import announce_message_updated
from .messages import check_body, check_cursor, post_message, visible_messages
from .moderation import ensure_can_moderate, is_moderator
from .ratelimit import check_rate
from .rooms import ensure_can_enter, ensure_can_write, get_membership
from .rows import rows_changed

OPTION_MAX_LENGTH = 200
QUESTION_MAX_LENGTH = 500
# The longest time limit a poll may have: a week.
MAX_MINUTES = 7 * 24 * 60


@dataclass(frozen=True)
class PollSpec:
    """A checked new poll."""

    question: str
    options: list[str]
    multiple: bool
    anonymous: bool
    hidden_until_closed: bool
    minutes: int | None


@dataclass(frozen=True)
class PollPost:
    """The message carrying the poll, its MESSAGE shape, and whether this call stored it (False: a retry)."""

    message: Message
    shown: dict
    created: bool


@dataclass(frozen=True)
class VoteResult:
    """Whether this call changed the viewer's votes, and the viewer's POLL_VIEW afterwards."""

    changed: bool
    view: dict


def check_poll(*, question: object, options: object, multiple: object = False, anonymous: object = False,
               hidden_until_closed: object = False, minutes: object = None) -> PollSpec:
    """Raise invalid unless these make a poll: a question, 2 to 10 different options, and a time limit in minutes."""
    text = check_body(question)
    if len(text) > QUESTION_MAX_LENGTH:
        raise ServiceError("invalid", _("A poll's question can be at most %(max)d characters.",
                                        max=QUESTION_MAX_LENGTH))
    if not isinstance(options, list) or not all(isinstance(option, str) for option in options):
        raise ServiceError("invalid", _("Give the poll's options as a list of texts."))
    answers = [" ".join(option.split()) for option in options]
    answers = [answer for answer in answers if answer]
    if not POLL_OPTIONS_MIN <= len(answers) <= POLL_OPTIONS_MAX:
        raise ServiceError("invalid", _("A poll needs %(low)d to %(high)d options; add or remove some.",
                                        low=POLL_OPTIONS_MIN, high=POLL_OPTIONS_MAX))
    if any(len(answer) > OPTION_MAX_LENGTH for answer in answers):
        raise ServiceError("invalid", _("Each option can be at most %(max)d characters.", max=OPTION_MAX_LENGTH))
    if len(set(answers)) != len(answers):
        raise ServiceError("invalid", _("Two options are the same; make each option different."))
    if minutes is not None and (isinstance(minutes, bool) or not isinstance(minutes, int)
                                or not 1 <= minutes <= MAX_MINUTES):
        raise ServiceError("invalid", _("A time limit is 1 to %(max)d minutes, or none.", max=MAX_MINUTES))
    for flag in (multiple, anonymous, hidden_until_closed):
        if not isinstance(flag, bool):
            raise ServiceError("invalid", _("Choose yes or no for each of the poll's settings."))
    return PollSpec(question=text, options=answers, multiple=bool(multiple), anonymous=bool(anonymous),
                    hidden_until_closed=bool(hidden_until_closed), minutes=minutes)


def create_poll(*, actor: User, room: Room, spec: PollSpec, client_id: object = None) -> PollPost:
    """A moderator posts a poll: a message of the room with its poll, stored in one commit (once per client_id)."""
    ensure_can_moderate(user=actor, room=room)

    def add_poll(message: Message) -> None:
        # In the transaction (and session) that stores the message.
        now = utcnow()
        poll = Poll(
            message_id=message.id, room_id=message.room_id, question=spec.question, multiple=spec.multiple,
            anonymous=spec.anonymous, hidden_until_closed=spec.hidden_until_closed, created_at=now,
            closes_at=now + timedelta(minutes=spec.minutes) if spec.minutes else None,
        )
        db.session.add(poll)
        db.session.flush()
        options = [PollOption(poll_id=poll.id, position=index, text=text) for index, text in enumerate(spec.options)]
        db.session.add_all(options)
        db.session.flush()
        set_committed_value(poll, "options", options)
        set_committed_value(poll, "vote_rows", [])
        set_committed_value(message, "poll", poll)

    result = post_message(sender=actor, room=room, body=spec.question, client_id=client_id, on_stored=add_poll)
    if not result.created and "poll" not in result.shown:
        raise ServiceError("conflict", _("That client_id was already used for a message that is not a poll."))
    return PollPost(message=result.message, shown=result.shown, created=result.created)


def get_poll(*, user: User, room: Room, poll_id: object) -> Poll:
    """The poll of room that user may see: not_found if unknown, elsewhere or its message deleted."""
    wanted = check_cursor(poll_id, "poll_id")
    ensure_can_enter(user=user, room=room)
    message = db.session.scalar(
        visible_messages(user=user, room=room).join(Poll, Poll.message_id == Message.id).where(Poll.id == wanted)
    )
    if message is None or message.is_deleted or message.poll is None:
        raise ServiceError("not_found", _("There is no such poll in this room."))
    return message.poll


def check_can_vote(*, user: User, room: Room) -> None:
    """Raise forbidden unless user may vote in room: enter it, write there, and not be muted."""
    ensure_can_enter(user=user, room=room)  # a private room's outsiders, the banned
    ensure_can_write(user=user, room=room)  # an archived class, a site admin reading
    membership = get_membership(user=user, room=room)
    if membership is not None and membership.is_muted():
        raise ServiceError("forbidden", _("A moderator muted you in this room: you cannot vote meanwhile."))


def can_vote(*, user: User, room: Room) -> bool:
    """Whether user may vote in room now (check_can_vote's answer, for POLL_VIEW)."""
    try:
        check_can_vote(user=user, room=room)
    except ServiceError:
        return False
    return True


def _my_votes(*, poll: Poll, user: User) -> list[int]:
    return sorted(vote.option_id for vote in poll.vote_rows if vote.user_id == user.id)


def poll_view(*, user: User, room: Room, poll: Poll) -> dict:
    """POLL_VIEW: the poll as this viewer may see it (a moderator always with counts), their own votes, and what they
    may do."""
    moderator = is_moderator(user=user, room=room)
    closed = poll.is_closed()
    return {
        "room": room.slug,
        "message_id": poll.message_id,
        "poll": poll.to_dict(with_counts=True if moderator else None),
        "my_votes": _my_votes(poll=poll, user=user),
        "may_vote": not closed and can_vote(user=user, room=room),
        "may_close": not closed and moderator and not room.is_archived,
        "may_export": moderator,
    }


def view_poll(*, user: User, room: Room, poll_id: object) -> dict:
    """POLL_VIEW of one poll of room, for whoever may see it (the client asks on join for each poll it shows)."""
    return poll_view(user=user, room=room, poll=get_poll(user=user, room=room, poll_id=poll_id))


def check_choice(*, poll: Poll, option_ids: object) -> set[int]:
    """Raise invalid unless option_ids are options of poll: exactly one for a single choice, any for a multiple one
    (none takes one's vote back)."""
    if not isinstance(option_ids, list) or not all(
        isinstance(value, int) and not isinstance(value, bool) for value in option_ids
    ):
        raise ServiceError("invalid", _("Give the options you chose as a list of their ids."))
    chosen = set(option_ids)
    if not chosen <= {option.id for option in poll.options}:
        raise ServiceError("invalid", _("That option is not one of this poll's; reload the room and choose again."))
    if not poll.multiple and len(chosen) > 1:
        raise ServiceError("invalid", _("This poll takes one answer; choose only one option."))
    return chosen


def _insert_votes(*, poll: Poll, user: User, option_ids: set[int]) -> int:
    # INSERT ... ON CONFLICT DO NOTHING on the unique key: a retry or a second tab adds nothing.
    if not option_ids:
        return 0
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    now = utcnow()
    statement = insert(PollVote).values(
        [{"poll_id": poll.id, "option_id": option_id, "user_id": user.id, "created_at": now}
         for option_id in sorted(option_ids)]
    ).on_conflict_do_nothing(index_elements=["poll_id", "user_id", "option_id"])
    return rows_changed(statement)


def vote(*, user: User, room: Room, poll_id: object, option_ids: object) -> VoteResult:
    """Make user's votes on a poll exactly option_ids, in one transaction: a single choice replaces the one before,
    and the same request again (a retry after a lost ack) changes nothing and tells nobody."""
    check_can_vote(user=user, room=room)
    poll = get_poll(user=user, room=room, poll_id=poll_id)
    if poll.is_closed():
        raise ServiceError("conflict", _("This poll is closed; its results are final."))
    chosen = check_choice(poll=poll, option_ids=option_ids)
    check_rate(action="react", key=user.id)
    # Decided by the statements themselves, not by what was read: two tabs racing end with one choice.
    removed = rows_changed(db.delete(PollVote).where(
        PollVote.poll_id == poll.id, PollVote.user_id == user.id, PollVote.option_id.not_in(chosen or {0})
    ))
    added = _insert_votes(poll=poll, user=user, option_ids=chosen)
    if not removed and not added:
        db.session.rollback()
        return VoteResult(changed=False, view=poll_view(user=user, room=room, poll=poll))
    _commit_change(poll)
    return VoteResult(changed=True, view=poll_view(user=user, room=room, poll=poll))


def close_poll(*, actor: User, room: Room, poll_id: object) -> dict:
    """A moderator closes a poll: no more votes, and its results shown to everyone; closing it again changes nothing."""
    ensure_can_moderate(user=actor, room=room)
    poll = get_poll(user=actor, room=room, poll_id=poll_id)
    if poll.closed_at is None:
        now = utcnow()
        # Past its time limit it closed then; the moderator only writes it down.
        poll.closed_at = min(now, poll.closes_at) if poll.closes_at else now
        poll.closed_by_id = actor.id
        _commit_change(poll)
    return poll_view(user=actor, room=room, poll=poll)


def _commit_change(poll: Poll) -> None:
    """Commit a change of poll with its message's next revision (the catch-up's `changed`), then tell the room."""
    message = db.session.get(Message, poll.message_id)
    assert message is not None  # the message carries the poll
    # Its votes are rows of their own: mark the message changed, so that the before_flush hook
    # (messages._revise_changed_messages) gives it the room's next revision.
    flag_modified(message, "revision")
    db.session.commit()
    db.session.expire(poll)
    announce_message_updated(message)
    announce("poll_results", {"room": message.room.slug, "message_id": message.id,
                              "poll": poll.to_dict(with_counts=True)},
             to=moderators_channel(message.room.slug))


def results_csv(*, actor: User, room: Room, poll_id: object) -> str:
    """A moderator's CSV of a poll's results: each option's votes and share, then (unless anonymous) who chose what."""
    ensure_can_moderate(user=actor, room=room, reading=True)
    poll = get_poll(user=actor, room=room, poll_id=poll_id)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Question"), _safe(poll.question)])
    writer.writerow([_("Option"), _("Votes"), _("Percent")])
    results = poll.results()
    total = sum(option["count"] for option in results)
    for option in results:
        share = round(100 * option["count"] / total) if total else 0
        writer.writerow([_safe(option["text"]), option["count"], share])
    if not poll.anonymous:
        texts = {option.id: option.text for option in poll.options}
        writer.writerow([])
        writer.writerow([_("Username"), _("Name"), _("Option")])
        for row in poll.vote_rows:
            writer.writerow([_safe(row.user.username), _safe(row.user.display_name), _safe(texts[row.option_id])])
    return out.getvalue()


def _safe(text: str) -> str:
    """A cell a spreadsheet will not run as a formula (=, +, -, @ first)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text
