"""The support desk: conversations (a support room with one visitor), the queue, claims, ratings, canned replies."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field

from flask_babel import gettext as _
from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError, OperationalError

from ..extensions import db
from ..models import (
    CONVERSATION_STATUSES,
    SUPPORT_ROOM_KIND,
    CannedResponse,
    Conversation,
    ConversationLabel,
    Episode,
    Label,
    Membership,
    Message,
    Room,
    Site,
    User,
    VisitorProfile,
    isoformat_utc,
    utcnow,
)
from ..realtime.announce import announce
from ..realtime.channels import VISITORS_CHANNEL, agent_channel, visitor_channel
from ..realtime.presence import presence
from . import messages as message_service
from . import search, teams, visitor_mail, webhooks
from .accounts import users_by_ids
from .availability import AGENTS_PRESENCE, agents_online, ensure_agent
from .errors import ServiceError
from .online import is_connected
from .ratelimit import check_rate
from .rooms import ensure_can_enter, get_room

QUEUE_VIEWS = ("unassigned", "mine", "all")
QUEUE_LIMIT = 200
MAX_RATING_COMMENT_LENGTH = 2000
SHORTCUT_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
MAX_CANNED_LENGTH = 4000


@dataclass(frozen=True)
class SupportPost:
    """A stored (or retried) message of a conversation, and the conversation after it."""

    result: message_service.PostResult
    conversation: Conversation


@dataclass(frozen=True)
class Queue:
    """One page of the agent queue, the sizes of the three views, and what needs this agent's attention."""

    conversations: list[Conversation]
    counts: dict[str, int]
    attention: dict[str, int] = field(default_factory=dict)  # room slug -> unread, unassigned or mine


# -- who ---------------------------------------------------------------------------------


def announce_agents_online(*, before: bool) -> None:
    """Tell every visitor when agents came online or the last one left (before: whether any were online)."""
    now = agents_online()
    if now != before:
        announce("agents_online", {"online": now}, to=VISITORS_CHANNEL)


def list_agents() -> list[User]:
    """Active staff and admins, by name: whom a conversation may be assigned to."""
    query = (
        db.select(User)
        .where(User.role.in_(("admin", "staff")), User.is_active_account.is_(True))
        .order_by(User.display_name, User.username)
    )
    return list(db.session.scalars(query))


def console_sites(*, agent: User) -> list[Site]:
    """The sites whose conversations agent works on, by name: the console's site filter."""
    ensure_agent(agent)
    every = db.session.scalars(db.select(Site).order_by(Site.name, Site.id))
    return [site for site in every if teams.may_see(agent=agent, site=site)]


# -- conversations -----------------------------------------------------------------------


def conversation_of_visitor(visitor_id: int) -> Conversation | None:
    """The one conversation of this visitor, if they have written yet."""
    return db.session.scalar(db.select(Conversation).filter_by(visitor_id=visitor_id))


def ensure_conversation(*, visitor: User, site: Site) -> Conversation:
    """The visitor's conversation, created (with its support room) on their first visit; commits."""
    conversation = conversation_of_visitor(visitor.id)
    if conversation is not None:
        db.session.commit()
        return conversation
    room = Room(slug=f"support-{secrets.token_hex(8)}", name=f"Support: {visitor.display_name}"[:80],
                kind=SUPPORT_ROOM_KIND)
    db.session.add(room)
    db.session.flush()
    conversation = Conversation(room_id=room.id, site_id=site.id, visitor_id=visitor.id, status="open")
    db.session.add(conversation)
    webhooks.conversation_event("conversation.created", conversation)
    db.session.commit()
    return conversation


def get_conversation(*, room: Room) -> Conversation:
    """The conversation of a support room, or not_found."""
    conversation = db.session.scalar(db.select(Conversation).filter_by(room_id=room.id)) if room.is_support else None
    if conversation is None:
        raise ServiceError("not_found", _("There is no such conversation."))
    return conversation


def conversation_for(*, user: User, slug: object) -> Conversation:
    """The conversation in room `slug`, if user may enter it (staff, or its own visitor); else raise."""
    room = get_room(slug)
    conversation = get_conversation(room=room)
    ensure_can_enter(user=user, room=room)  # staff: only their teams' sites (teams.may_see)
    return conversation


def conversation_by_id(*, user: User, conversation_id: object) -> Conversation:
    """The conversation with this id, if user may enter it (as conversation_for); else raise."""
    row_id = as_row_id(conversation_id)
    conversation = db.session.get(Conversation, row_id) if row_id is not None else None
    if conversation is None:
        raise ServiceError("not_found", _("There is no such conversation."))
    ensure_can_enter(user=user, room=conversation.room)
    return conversation


def _touch(conversation: Conversation) -> None:
    conversation.updated_at = utcnow()


def _open_episode(conversation: Conversation) -> Episode | None:
    """The conversation's episode that is not resolved yet (in the session of the change)."""
    return db.session.scalar(
        db.select(Episode).where(Episode.conversation_id == conversation.id, Episode.resolved_at.is_(None))
        .order_by(Episode.id.desc()).limit(1)
    )


def _assign_to(conversation: Conversation, assignee_id: int | None) -> None:
    """Give the conversation to an agent (None: back to the queue, waiting from now if it is open)."""
    newly = assignee_id is not None and assignee_id != conversation.assignee_id
    if newly:
        conversation.assigned_at = utcnow()
    conversation.assignee_id = assignee_id
    if newly:
        webhooks.conversation_event("conversation.assigned", conversation)
    if assignee_id is not None:
        conversation.waiting_since = None
    elif conversation.status == "open" and conversation.last_message_at is not None:
        conversation.waiting_since = conversation.waiting_since or utcnow()


def post_to_conversation(
    *, sender: User, room: Room, body: object, client_id: object | None, internal: bool = False,
    reply_to: object = None,
) -> SupportPost:
    """Store a message of a conversation and keep the queue right, in one transaction.

    A visitor's message (re)opens the conversation; an agent's first reply to an
    unassigned conversation assigns it to them. Visitors must have filled in the
    pre-chat form's required fields first.
    """
    conversation = get_conversation(room=room)
    if sender.is_visitor:
        ensure_visitor_ready(conversation=conversation)

    def bookkeeping(message: Message) -> None:
        # In the session that stores the message (the group committer's has its own copy).
        kept = db.session.get(Conversation, conversation.id)
        assert kept is not None  # the conversation of the room being written to
        kept.last_message_at = message.created_at
        kept.last_message_id = message.id
        _touch(kept)
        if sender.is_visitor:
            if kept.status != "open":
                kept.status = "open"
                kept.resolved_at = None
            if kept.assignee_id is None and kept.waiting_since is None:
                kept.waiting_since = message.created_at
            if _open_episode(kept) is None:
                db.session.add(Episode(conversation_id=kept.id, site_id=kept.site_id, opened_at=message.created_at))
        elif sender.is_staff and not internal:
            if kept.assignee_id is None:
                _assign_to(kept, sender.id)
            episode = _open_episode(kept)
            if episode is not None:
                episode.agent_replies += 1
                if episode.first_response_at is None:
                    episode.first_response_at = message.created_at
                    episode.first_responder_id = sender.id

    result = message_service.post_message(
        sender=sender, room=room, body=body, client_id=client_id, internal=internal, on_stored=bookkeeping,
        reply_to=reply_to,
    )
    db.session.expire(conversation)  # read again what the bookkeeping committed
    if result.created:
        announce_conversation(conversation, to_visitor=not result.shown.get("internal", False))
    return SupportPost(result=result, conversation=conversation)


def ensure_visitor_ready(*, conversation: Conversation) -> None:
    """Raise invalid while the visitor owes the pre-chat form's required fields."""
    site = conversation.site
    if not site.prechat_enabled:
        return
    profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=conversation.visitor_id))
    missing = []
    if site.prechat_name_required and not (profile and profile.name):
        missing.append(_("your name"))
    if site.prechat_email_required and not (profile and profile.email):
        missing.append(_("your e-mail address"))
    if missing:
        raise ServiceError("invalid", _("Tell us %(what)s first, in the form above.", what=_(" and ").join(missing)))


def _check_view(view: object) -> str:
    if view not in QUEUE_VIEWS:
        raise ServiceError("invalid", _("view is one of: %(views)s.", views=", ".join(QUEUE_VIEWS)))
    return view


def check_status(status: object) -> str:
    """Return status if it is one of CONVERSATION_STATUSES, else raise invalid."""
    if status not in CONVERSATION_STATUSES:
        raise ServiceError("invalid", _("status is one of: %(statuses)s.", statuses=", ".join(CONVERSATION_STATUSES)))
    return status


def _queue_views(agent: User) -> dict[str, ColumnElement[bool]]:
    """Which conversations each view of agent's queue holds: the one rule of the queue, asked by SQL.

    Only conversations somebody wrote in are in the queue at all (_IN_QUEUE), and only those of
    the sites agent's teams answer (teams.conversation_visible_to).
    """
    visible = teams.conversation_visible_to(agent)
    return {
        "unassigned": visible & Conversation.assignee_id.is_(None),
        "mine": visible & (Conversation.assignee_id == agent.id),
        "all": visible,
    }


_IN_QUEUE = Conversation.last_message_at.is_not(None)


def _needs_attention(agent: User) -> ColumnElement[bool]:
    """The conversations that are agent's business: not resolved, and unassigned or theirs."""
    views = _queue_views(agent)
    return (Conversation.status != "resolved") & (views["unassigned"] | views["mine"])


def queue_places(*, conversation: Conversation, agent: User) -> tuple[list[str], bool]:
    """The queue views conversation is in for agent, and whether it needs their attention.

    The same rules as list_queue and attention use.
    """
    views = _queue_views(agent)
    columns = [db.case((_IN_QUEUE & condition, True), else_=False) for condition in views.values()]
    columns.append(db.case((_needs_attention(agent), True), else_=False))
    *inside, needs = db.session.execute(db.select(*columns).where(Conversation.id == conversation.id)).one()
    return [name for name, held in zip(views, inside, strict=True) if held], bool(needs)


MAX_ROW_ID = 2**63 - 1  # above it no database integer can hold the id (and the driver would fail)


def as_row_id(value: object) -> int | None:
    """value if it can be a row's id (a whole number from 1 to 2**63 - 1), else None."""
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ROW_ID:
        return None
    return value


def _id_filter(value: object, *, what: str) -> int | None:
    if value is None:
        return None
    row_id = as_row_id(value)
    if row_id is None:
        raise ServiceError("invalid", _("%(what)s is a whole number from 1.", what=what))
    return row_id


def _matching(query: object) -> ColumnElement[bool]:
    """SQL: the conversations whose visitor's name or e-mail, or a message's text, match a search."""
    text = search.check_query(query)
    pattern = search.like_pattern(text)
    by_contact = db.select(VisitorProfile.user_id).where(
        VisitorProfile.name.ilike(pattern, escape="\\") | VisitorProfile.email.ilike(pattern, escape="\\")
    )
    by_visitor = db.select(User.id).where(User.display_name.ilike(pattern, escape="\\"))
    matching = Conversation.visitor_id.in_(by_contact) | Conversation.visitor_id.in_(by_visitor)
    if not search.has_words(text):  # "@" or "." may be part of a name or e-mail, but no message word
        return matching
    by_text = search.matching_messages(db.select(Message.room_id).where(Message.deleted_at.is_(None)), text)
    return matching | Conversation.room_id.in_(by_text)


def _queue_filters(
    *, label_id: object, assignee_id: object, site_id: object, query: object
) -> list[ColumnElement[bool]]:
    """SQL for the console's filter bar: each one given narrows the queue, its views and their counts."""
    conditions = []
    label = _id_filter(label_id, what="label_id")
    if label is not None:  # a label deleted meanwhile matches nothing
        conditions.append(Conversation.id.in_(
            db.select(ConversationLabel.conversation_id).where(ConversationLabel.label_id == label)
        ))
    assignee = _id_filter(assignee_id, what="assignee_id")
    if assignee is not None:
        conditions.append(Conversation.assignee_id == assignee)
    site = _id_filter(site_id, what="site_id")
    if site is not None:
        conditions.append(Conversation.site_id == site)
    if query is not None and not (isinstance(query, str) and not query.strip()):
        conditions.append(_matching(query))
    return conditions


def list_queue(
    *,
    agent: User,
    view: object = "unassigned",
    status: object = "open",
    label_id: object = None,
    assignee_id: object = None,
    site_id: object = None,
    query: object = None,
) -> Queue:
    """The agent queue: conversations somebody wrote in, of one status and view, latest activity first.

    label_id, assignee_id, site_id and query (the visitor's name or e-mail, or message text) narrow
    it further, the counts of the views too; the search never reaches past the agent's teams' sites.
    """
    ensure_agent(agent)
    view = _check_view(view)
    status = check_status(status)
    if query not in (None, ""):
        check_rate(action="search", key=agent.id)  # a search of the queue is a search (SEARCH_RATE_LIMIT)
    narrowed = _queue_filters(label_id=label_id, assignee_id=assignee_id, site_id=site_id, query=query)
    base = db.select(Conversation).where(_IN_QUEUE, Conversation.status == status, *narrowed)
    filters = _queue_views(agent)
    try:
        counts = {
            name: db.session.scalar(db.select(db.func.count()).select_from(base.where(condition).subquery())) or 0
            for name, condition in filters.items()
        }
        rows = list(db.session.scalars(
            base.where(filters[view])
            .order_by(Conversation.last_message_at.desc(), Conversation.id.desc())
            .limit(QUEUE_LIMIT)
        ))
    except OperationalError as error:  # a search FTS5 cannot parse
        raise search.not_understood(error) from None
    return Queue(conversations=rows, counts=counts, attention=attention(agent=agent))


def attention(*, agent: User) -> dict[str, int]:
    """Unread counts of the conversations that are this agent's business: not resolved, unassigned or theirs."""
    read_position = (
        db.select(Membership.room_id, Membership.last_read_id).where(Membership.user_id == agent.id).subquery()
    )
    query = (
        db.select(Room.slug, db.func.count(Message.id))
        .select_from(Conversation)
        .join(Room, Room.id == Conversation.room_id)
        .join(Message, Message.room_id == Conversation.room_id)
        .outerjoin(read_position, read_position.c.room_id == Conversation.room_id)
        .where(
            _needs_attention(agent),
            Message.sender_id != agent.id,
            Message.id > db.func.coalesce(read_position.c.last_read_id, 0),
        )
        .group_by(Room.slug)
    )
    return {slug: count for slug, count in db.session.execute(query)}


def claim(*, agent: User, conversation: Conversation) -> Conversation:
    """Assign an unassigned conversation to the agent; conflict if another agent has it."""
    ensure_agent(agent)
    if conversation.assignee_id not in (None, agent.id):
        raise ServiceError(
            "conflict", _("%(name)s has this conversation already.", name=conversation.assignee.display_name)
        )
    _assign_to(conversation, agent.id)
    _touch(conversation)
    db.session.commit()
    announce_conversation(conversation)
    return conversation


def assign(*, agent: User, conversation: Conversation, assignee_id: object) -> Conversation:
    """Give the conversation to any active agent (None: back to the unassigned queue)."""
    ensure_agent(agent)
    if assignee_id is None:
        _assign_to(conversation, None)
    else:
        is_id = isinstance(assignee_id, int) and not isinstance(assignee_id, bool)
        assignee = db.session.get(User, assignee_id) if is_id else None
        if assignee is None or not assignee.is_staff or not assignee.is_active:
            raise ServiceError("invalid", _("A conversation can only be assigned to an active staff account."))
        _assign_to(conversation, assignee.id)
    _touch(conversation)
    db.session.commit()
    announce_conversation(conversation)
    return conversation


def set_status(*, agent: User, conversation: Conversation, status: object) -> Conversation:
    """Resolve, reopen, or mark pending (waiting for the visitor)."""
    ensure_agent(agent)
    before = conversation.status
    conversation.status = check_status(status)
    now = utcnow()
    conversation.resolved_at = now if conversation.status == "resolved" else None
    episode = _open_episode(conversation)
    if conversation.status == "resolved":
        conversation.waiting_since = None
        if episode is not None:
            episode.resolved_at = now
            episode.resolved_by_id = agent.id
            episode.assignee_id = conversation.assignee_id
    elif before == "resolved" and conversation.last_message_at is not None:
        if episode is None:  # reopened by an agent: a new stretch of work
            db.session.add(Episode(conversation_id=conversation.id, site_id=conversation.site_id, opened_at=now))
        if conversation.status == "open" and conversation.assignee_id is None:
            conversation.waiting_since = now
    if conversation.status == "resolved" and before != "resolved":
        webhooks.conversation_event("conversation.resolved", conversation)
        visitor_mail.resolved(conversation)  # its transcript, where the site e-mails them
    _touch(conversation)
    db.session.commit()
    announce_conversation(conversation)
    return conversation


def rate(*, visitor: User, conversation: Conversation, rating: object, comment: object = None) -> Conversation:
    """The visitor rates the help (1-5, optional comment) once the conversation is resolved."""
    if conversation.visitor_id != visitor.id:
        raise ServiceError("forbidden", _("Only the visitor of a conversation can rate it."))
    check_rate(action="send", key=visitor.id)  # a rating is written like a message
    if conversation.status != "resolved":
        raise ServiceError("conflict", _("You can rate the help once the conversation is resolved."))
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ServiceError("invalid", _("A rating is a whole number from 1 to 5."))
    text = comment.strip() if isinstance(comment, str) else None
    if comment is not None and not isinstance(comment, str):
        raise ServiceError("invalid", _("comment is text."))
    if text and len(text) > MAX_RATING_COMMENT_LENGTH:
        raise ServiceError(
            "too_large",
            _("A comment can be at most %(max)d characters.", max=MAX_RATING_COMMENT_LENGTH),
            limit=MAX_RATING_COMMENT_LENGTH,
        )
    conversation.rating = rating
    conversation.rating_comment = text or None
    conversation.rated_at = utcnow()
    webhooks.conversation_event("conversation.rated", conversation)
    _touch(conversation)
    db.session.commit()
    announce_conversation(conversation, to_visitor=False)
    return conversation


def unread_for_visitor(*, conversation: Conversation) -> int:
    """Replies the conversation's visitor has not read."""
    return message_service.count_unread(user=conversation.visitor, room=conversation.room)


def list_ratings(*, agent: User) -> tuple[list[Conversation], float | None]:
    """Rated conversations, newest rating first, and the average rating."""
    ensure_agent(agent)
    rows = list(db.session.scalars(
        db.select(Conversation).where(Conversation.rating.is_not(None)).order_by(Conversation.rated_at.desc())
    ))
    average = db.session.scalar(db.select(db.func.avg(Conversation.rating)).where(Conversation.rating.is_not(None)))
    return rows, (round(float(average), 2) if average is not None else None)


# -- what each side is told ----------------------------------------------------------------


def _profile(conversation: Conversation) -> VisitorProfile | None:
    return db.session.scalar(db.select(VisitorProfile).filter_by(user_id=conversation.visitor_id))


def _time(moment) -> str | None:
    return isoformat_utc(moment) if moment is not None else None


def summarize(*, conversation: Conversation, viewer: User) -> dict:
    """The CONVERSATION shape staff see: visitor details, assignee, last message, viewer's unread count.

    With the viewer's `views` (the queue views it is in for them) and `needs_attention`
    (it counts in their tab title and notifies them): the console reads these, never works them out.
    """
    profile = _profile(conversation)
    last = conversation.last_message
    views, needs_attention = queue_places(conversation=conversation, agent=viewer)
    return {
        "room": conversation.room.slug,
        "status": conversation.status,
        "site": {"id": conversation.site.id, "name": conversation.site.name},
        "visitor": conversation.visitor.to_dict(),
        "contact": profile.to_dict() if profile else None,
        "visitor_online": is_connected(conversation.visitor_id),
        "assignee": conversation.assignee.to_dict() if conversation.assignee else None,
        "created_at": _time(conversation.created_at),
        "updated_at": _time(conversation.updated_at),
        "last_message_at": _time(conversation.last_message_at),
        "last_message": last.to_dict() if last is not None else None,
        "unread": message_service.count_unread(user=viewer, room=conversation.room),
        "resolved_at": _time(conversation.resolved_at),
        "waiting": is_waiting(conversation),
        "rating": conversation.rating,
        "rating_comment": conversation.rating_comment,
        "views": views,
        "needs_attention": needs_attention,
        "labels": [label.to_dict() for label in conversation_labels(conversation)],
    }


def conversation_labels(conversation: Conversation) -> list[Label]:
    """The labels on a conversation, by name (staff only: summarize_for_visitor never carries them)."""
    return list(db.session.scalars(
        db.select(Label).join(ConversationLabel, ConversationLabel.label_id == Label.id)
        .where(ConversationLabel.conversation_id == conversation.id)
        .order_by(db.func.lower(Label.name), Label.id)
    ))


def summarize_for_visitor(*, conversation: Conversation) -> dict:
    """The part of CONVERSATION a visitor sees of their own conversation (no notes, no staff-only details)."""
    return {
        "room": conversation.room.slug,
        "status": conversation.status,
        "assignee": conversation.assignee.to_dict() if conversation.assignee else None,
        # "An agent will be with you shortly": written in, open, and nobody has it yet.
        "waiting": is_waiting(conversation),
        "created_at": _time(conversation.created_at),
        "unread": unread_for_visitor(conversation=conversation),
        "rating": conversation.rating,
        "rating_comment": conversation.rating_comment,
    }


def is_waiting(conversation: Conversation) -> bool:
    """Whether the conversation waits for an agent: somebody wrote, it is open, and nobody has it."""
    written = conversation.last_message_at is not None
    return written and conversation.status == "open" and conversation.assignee_id is None


def announce_conversation(conversation: Conversation, *, to_visitor: bool = True) -> None:
    """After a commit (or a visitor coming or going): each agent with the console open gets the
    conversation with their own unread count, and its visitor the part of it they may see."""
    if conversation.last_message_at is not None:  # the queue shows only conversations somebody wrote in
        for agent in users_by_ids(presence.online(room=AGENTS_PRESENCE)):
            if not teams.may_see(agent=agent, site=conversation.site):
                continue  # another team's site: not in this agent's queues
            announce("conversation", summarize(conversation=conversation, viewer=agent), to=agent_channel(agent.id))
    if to_visitor:
        announce(
            "conversation",
            summarize_for_visitor(conversation=conversation),
            to=visitor_channel(conversation.visitor_id),
        )


def mark_read(*, user: User, room: Room, last_id: object) -> int:
    """Move user's read position in a conversation; an agent's other console tabs drop the unread badge too."""
    unread = message_service.mark_read(user=user, room=room, last_id=last_id)
    if user.is_staff:
        conversation = get_conversation(room=room)
        if conversation.last_message_at is not None:
            announce("conversation", summarize(conversation=conversation, viewer=user), to=agent_channel(user.id))
    return unread


def transcript(*, agent: User, conversation: Conversation) -> str:
    """The whole conversation as plain text, notes marked, for staff to download."""
    ensure_agent(agent)
    profile = _profile(conversation)
    visitor = conversation.visitor
    contact = " ".join(part for part in [
        visitor.display_name, f"<{profile.email}>" if profile and profile.email else "",
    ] if part)
    lines = [
        f"Support conversation with {contact} on {conversation.site.name}",
        f"Started: {conversation.created_at:%Y-%m-%d %H:%M} UTC",
        f"Status: {conversation.status}",
        f"Assigned to: {conversation.assignee.display_name if conversation.assignee else 'nobody'}",
    ]
    if profile and profile.page_url:
        lines.append(f"Page: {profile.page_url}")
    if conversation.rating:
        comment = f" - {conversation.rating_comment}" if conversation.rating_comment else ""
        lines.append(f"Rating: {conversation.rating}/5{comment}")
    lines.append("")
    query = message_service.visible_messages(user=agent, room=conversation.room).order_by(Message.id)
    for message in db.session.scalars(query.execution_options(yield_per=500)):
        note = " (internal note)" if message.internal else ""
        lines.append(f"[{message.created_at:%Y-%m-%d %H:%M:%S} UTC] {message.sender.display_name}{note}:")
        lines.extend(f"    {line}" for line in message.body.splitlines() or [""])
    return "\n".join(lines) + "\n"


# -- canned responses ----------------------------------------------------------------------


def list_canned(*, agent: User) -> list[CannedResponse]:
    """Every canned response, by shortcut; support staff only."""
    ensure_agent(agent)
    return list(db.session.scalars(db.select(CannedResponse).order_by(CannedResponse.shortcut)))


def get_canned(canned_id: int) -> CannedResponse:
    """The canned response with this id, or not_found."""
    canned = db.session.get(CannedResponse, canned_id)
    if canned is None:
        raise ServiceError("not_found", _("There is no such canned response."))
    return canned


def _check_canned(shortcut: object, body: object) -> tuple[str, str]:
    clean_shortcut = shortcut.strip().lower().lstrip("/") if isinstance(shortcut, str) else ""
    if not SHORTCUT_RE.match(clean_shortcut):
        raise ServiceError("invalid", _("A shortcut is 1 to 32 lowercase letters, digits, '-' or '_'."))
    text = message_service.check_body(body)
    return clean_shortcut, text


def save_canned(*, agent: User, shortcut: object, body: object, canned: CannedResponse | None = None) -> CannedResponse:
    """Create a canned response, or change `canned`; conflict if the shortcut is taken."""
    ensure_agent(agent)
    clean_shortcut, text = _check_canned(shortcut, body)
    if canned is None:
        canned = CannedResponse(created_by_id=agent.id)
        db.session.add(canned)
    canned.shortcut = clean_shortcut
    canned.body = text
    canned.updated_at = utcnow()
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError(
            "conflict", _("The shortcut /%(shortcut)s is taken; choose another.", shortcut=clean_shortcut)
        ) from None
    return canned


def delete_canned(*, agent: User, canned: CannedResponse) -> None:
    """Delete a canned response."""
    ensure_agent(agent)
    db.session.delete(canned)
    db.session.commit()
