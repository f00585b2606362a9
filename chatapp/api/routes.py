"""Views of the API blueprint: parse, call the service the socket event calls, answer JSON (docs/api.md).

Each docstring's YAML after `---` is its part of the OpenAPI document (openapi.py).
"""
from flask import jsonify, request
from flask_babel import gettext as _

from ..models import Room, User
from ..services import accounts, routing
from ..services import messages as message_service
from ..services import rooms as room_service
from ..services import support as support_service
from ..services.api_tokens import require_scope
from ..services.errors import ServiceError
from .auth import needs, request_token
from .blueprint import bp
from .schemas import AssignBody, ConversationPostBody, JoinBody, PostMessageBody, parse_body


def _int_arg(name: str) -> int | None:
    """Parse query argument `name` as a whole number (absent or empty: None), else raise invalid."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return None
    try:
        return int(raw)  # the service checks the range, as for the socket events
    except ValueError:
        raise ServiceError("invalid", _("%(name)s must be a whole number.", name=name)) from None


def _room(slug: str) -> Room:
    """The room; a support conversation's room is the desk's business, so a token needs `support` there too."""
    room = room_service.get_room(slug)
    token = request_token()
    if room.is_support and token is not None:
        require_scope(token, "support")
    return room


def _page(page: message_service.Page):
    return jsonify(ok=True, messages=[message.to_dict() for message in page.messages], more=page.more)


def _stored(result: message_service.PostResult):
    """201 with the message stored now; 200 with the one a retried client_id stored before."""
    return jsonify(ok=True, message=result.shown), 201 if result.created else 200


@bp.get("/me")
@needs("read")
def me(user: User):
    """The account the request acts for, and the token it came with.
    ---
    get:
      summary: Who am I
      responses:
        200: {content: {application/json: {schema: Me}}}
    """
    token = request_token()
    return jsonify(ok=True, user=user.to_dict(), token=token.to_dict() if token is not None else None)


@bp.get("/rooms")
@needs("read")
def rooms(user: User):
    """The rooms the caller may enter: public ones and the private ones they are a member of.
    ---
    get:
      summary: List rooms
      responses:
        200: {content: {application/json: {schema: RoomList}}}
    """
    return jsonify(ok=True, rooms=[room.to_dict() for room in room_service.rooms_for_user(user=user)])


@bp.get("/rooms/<slug>/messages")
@needs("read")
def room_messages(user: User, slug: str):
    """A page of a room's messages; same rules and shape as the `history` event.
    ---
    get:
      summary: Read a room's messages
      parameters:
        - {name: slug, in: path, required: true, schema: {type: string}}
        - {name: before, in: query, schema: {type: integer}, description: only messages with a smaller id}
        - {name: after, in: query, schema: {type: integer}, description: only messages with a larger id}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
      responses:
        200: {content: {application/json: {schema: MessagePage}}}
    """
    room = _room(slug)
    return _page(message_service.list_messages(
        user=user, room=room, before=_int_arg("before"), after=_int_arg("after"), limit=_int_arg("limit")
    ))


@bp.post("/rooms/<slug>/messages")
@needs("write")
def post_room_message(user: User, slug: str):
    """Store a message in a room (once per client_id) and announce it to the room's sockets; the `send` event's rules.
    ---
    post:
      summary: Post a message
      parameters:
        - {name: slug, in: path, required: true, schema: {type: string}}
      requestBody: {required: true, content: {application/json: {schema: PostMessageBody}}}
      responses:
        201: {description: stored now, content: {application/json: {schema: MessageAnswer}}}
        200: {description: stored before with this client_id, content: {application/json: {schema: MessageAnswer}}}
    """
    payload = parse_body(PostMessageBody)
    room = _room(slug)
    if room.is_support:
        raise ServiceError("invalid", _("This is a support conversation: post to /api/v1/conversations/ID/messages."))
    return _stored(message_service.post_message(
        sender=user, room=room, body=payload["body"], client_id=payload["client_id"], reply_to=payload.get("reply_to"),
    ))


@bp.post("/rooms/<slug>/join")
@needs("write")
def join_room(user: User, slug: str):
    """Become a member of a room: a public one as it is, a private one with its join code.
    ---
    post:
      summary: Join a room
      parameters:
        - {name: slug, in: path, required: true, schema: {type: string}}
      requestBody: {content: {application/json: {schema: JoinBody}}}
      responses:
        200: {content: {application/json: {schema: RoomAnswer}}}
    """
    payload = parse_body(JoinBody)
    room = room_service.get_room(slug)
    room_service.join_named_room(user=user, room=room, code=payload["code"])
    return jsonify(ok=True, room=room.to_dict())


def _summary(conversation, user: User) -> dict:
    return {"id": conversation.id, **support_service.summarize(conversation=conversation, viewer=user)}


@bp.get("/conversations")
@needs("support")
def conversations(user: User):
    """The support queue the caller may see (staff), latest activity first; the `support_list` event's rules.
    ---
    get:
      summary: List support conversations
      parameters:
        - {name: status, in: query, schema: {type: string, enum: [open, pending, resolved], default: open}}
        - {name: view, in: query, schema: {type: string, enum: [unassigned, mine, all], default: all}}
        - {name: query, in: query, schema: {type: string}, description: the visitor's name or e-mail, or message text}
      responses:
        200: {content: {application/json: {schema: ConversationList}}}
    """
    queue = support_service.list_queue(
        agent=user, view=request.args.get("view") or "all", status=request.args.get("status") or "open",
        query=request.args.get("query"),
    )
    return jsonify(ok=True, conversations=[_summary(item, user) for item in queue.conversations], counts=queue.counts)


@bp.get("/conversations/<int:conversation_id>/messages")
@needs("support")
def conversation_messages(user: User, conversation_id: int):
    """A page of a conversation's messages, notes included (staff); same paging as the rooms'.
    ---
    get:
      summary: Read a conversation
      parameters:
        - {name: conversation_id, in: path, required: true, schema: {type: integer}}
        - {name: before, in: query, schema: {type: integer}}
        - {name: after, in: query, schema: {type: integer}}
        - {name: limit, in: query, schema: {type: integer, minimum: 1, maximum: 100, default: 50}}
      responses:
        200: {content: {application/json: {schema: MessagePage}}}
    """
    conversation = support_service.conversation_by_id(user=user, conversation_id=conversation_id)
    return _page(message_service.list_messages(
        user=user, room=conversation.room, before=_int_arg("before"), after=_int_arg("after"), limit=_int_arg("limit")
    ))


@bp.post("/conversations/<int:conversation_id>/messages")
@needs("support")
def post_conversation_message(user: User, conversation_id: int):
    """Reply in a conversation, or write a staff-only note (internal), once per client_id; announced like `send`.
    ---
    post:
      summary: Reply in a conversation
      parameters:
        - {name: conversation_id, in: path, required: true, schema: {type: integer}}
      requestBody: {required: true, content: {application/json: {schema: ConversationPostBody}}}
      responses:
        201: {description: stored now, content: {application/json: {schema: MessageAnswer}}}
        200: {description: stored before with this client_id, content: {application/json: {schema: MessageAnswer}}}
    """
    payload = parse_body(ConversationPostBody)
    conversation = support_service.conversation_by_id(user=user, conversation_id=conversation_id)
    posted = support_service.post_to_conversation(
        sender=user, room=conversation.room, body=payload["body"], client_id=payload["client_id"],
        internal=bool(payload["internal"]), reply_to=payload.get("reply_to"),
    )
    routing.route_waiting()
    return _stored(posted.result)


@bp.post("/conversations/<int:conversation_id>/resolve")
@needs("support")
def resolve_conversation(user: User, conversation_id: int):
    """Resolve a conversation; the `support_status` event's rules.
    ---
    post:
      summary: Resolve a conversation
      parameters:
        - {name: conversation_id, in: path, required: true, schema: {type: integer}}
      responses:
        200: {content: {application/json: {schema: ConversationAnswer}}}
    """
    conversation = support_service.conversation_by_id(user=user, conversation_id=conversation_id)
    support_service.set_status(agent=user, conversation=conversation, status="resolved")
    routing.route_waiting()  # a resolve frees the agent
    return jsonify(ok=True, conversation=_summary(conversation, user))


def _assignee_id(agent: object) -> object:
    """An agent named by id (a number, or digits) or username; None: nobody (back to the queue)."""
    if isinstance(agent, str):
        return int(agent) if agent.isdigit() else accounts.get_user_by_username(agent).id
    return agent  # an id, None, or something the service refuses


@bp.post("/conversations/<int:conversation_id>/assign")
@needs("support")
def assign_conversation(user: User, conversation_id: int):
    """Give a conversation to an agent, or back to the queue; the `support_assign` event's rules.
    ---
    post:
      summary: Assign a conversation
      parameters:
        - {name: conversation_id, in: path, required: true, schema: {type: integer}}
      requestBody: {required: true, content: {application/json: {schema: AssignBody}}}
      responses:
        200: {content: {application/json: {schema: ConversationAnswer}}}
    """
    payload = parse_body(AssignBody)
    conversation = support_service.conversation_by_id(user=user, conversation_id=conversation_id)
    support_service.assign(agent=user, conversation=conversation, assignee_id=_assignee_id(payload["agent"]))
    routing.route_waiting()  # given back to the queue, or to someone now at their cap
    return jsonify(ok=True, conversation=_summary(conversation, user))
