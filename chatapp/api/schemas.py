"""The API's shapes as marshmallow schemas: the OpenAPI document's components, and the request bodies' checks.

A request body's schema is the one statement of its fields: `parse_body` checks a request against
it with the socket events' own payload rules (validation.parse_payload, the same words for the
same mistakes), and the OpenAPI document shows it.
"""
from __future__ import annotations

from typing import Any

from flask import request
from marshmallow import Schema, fields

from ..validation import parse_payload

# -- shapes of answers (docs/protocol.md) ---------------------------------------------------


class User(Schema):
    """USER."""

    id = fields.Integer(required=True)
    username = fields.String(required=True)
    display_name = fields.String(required=True)
    role = fields.String(required=True, metadata={"enum": ["admin", "staff", "member", "visitor"]})
    bot = fields.Boolean(metadata={"description": "Present (true) on bot accounts only."})


class Room(Schema):
    """ROOM."""

    slug = fields.String(required=True)
    name = fields.String(required=True)
    kind = fields.String(required=True, metadata={"enum": ["public", "private", "support", "direct"]})
    is_class = fields.Boolean()
    announcement_only = fields.Boolean()
    slow_mode_seconds = fields.Integer()
    allow_anonymous_questions = fields.Boolean(
        metadata={"description": "Present (true) where members may ask anonymously."})


class Message(Schema):
    """MESSAGE (the fields every message has; docs/protocol.md lists those only some carry)."""

    id = fields.Integer(required=True)
    room = fields.String(required=True, metadata={"description": "The room's slug."})
    sender = fields.Nested(User, required=True)
    body = fields.String(required=True)
    client_id = fields.String(allow_none=True, required=True)
    created_at = fields.String(required=True, metadata={"example": "2026-11-29T08:15:30.123Z"})
    html = fields.String(required=True)
    internal = fields.Boolean(metadata={"description": "Present (true) on staff-only notes."})
    anonymous = fields.Boolean(metadata={
        "description": "Present (true) on anonymous questions: `sender` then has every field null and "
                       "`client_id` is null (the API never names the author).",
    })
    reply_to = fields.Dict(metadata={
        "description": "Present on replies: the message answered, {id, sender, excerpt, deleted}.",
    })


class MessagePage(Schema):
    """A page of messages, oldest first."""

    ok = fields.Boolean(required=True)
    messages = fields.List(fields.Nested(Message), required=True)
    more = fields.Boolean(required=True)


class MessageAnswer(Schema):
    """The stored message (201: stored now; 200: stored before under the same client_id)."""

    ok = fields.Boolean(required=True)
    message = fields.Nested(Message, required=True)


class TokenInfo(Schema):
    """What the API says of the token a request came with (never its secret)."""

    id = fields.Integer(required=True)
    name = fields.String(required=True)
    prefix = fields.String(required=True)
    scopes = fields.List(fields.String(), required=True)
    created_at = fields.String(required=True)
    expires_at = fields.String(allow_none=True)
    last_used_at = fields.String(allow_none=True)
    revoked_at = fields.String(allow_none=True)


class Me(Schema):
    """The caller, and the token it came with (null for a browser's session)."""

    ok = fields.Boolean(required=True)
    user = fields.Nested(User, required=True)
    token = fields.Nested(TokenInfo, allow_none=True, required=True)


class RoomList(Schema):
    """Rooms."""

    ok = fields.Boolean(required=True)
    rooms = fields.List(fields.Nested(Room), required=True)


class RoomAnswer(Schema):
    """One room."""

    ok = fields.Boolean(required=True)
    room = fields.Nested(Room, required=True)


class Conversation(Schema):
    """CONVERSATION as staff see it (docs/protocol.md, "Support"), with its id."""

    id = fields.Integer(required=True)
    room = fields.String(required=True)
    status = fields.String(required=True, metadata={"enum": ["open", "pending", "resolved"]})
    visitor = fields.Nested(User, required=True)
    assignee = fields.Nested(User, allow_none=True, required=True)
    last_message = fields.Nested(Message, allow_none=True)
    unread = fields.Integer()
    waiting = fields.Boolean()


class ConversationList(Schema):
    """A page of the support queue, latest activity first, and the size of each view."""

    ok = fields.Boolean(required=True)
    conversations = fields.List(fields.Nested(Conversation), required=True)
    counts = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class ConversationAnswer(Schema):
    """One conversation after the change."""

    ok = fields.Boolean(required=True)
    conversation = fields.Nested(Conversation, required=True)


class Error(Schema):
    """Every refusal: a protocol error code and a sentence for people (in the caller's language)."""

    ok = fields.Boolean(required=True, metadata={"enum": [False]})
    error = fields.String(required=True, metadata={
        "enum": ["unauthorized", "forbidden", "not_found", "invalid", "rate_limited", "too_large", "conflict"],
    })
    message = fields.String(required=True)
    retry_after = fields.Integer(metadata={"description": "rate_limited: seconds until a retry can succeed."})


# -- request bodies ---------------------------------------------------------------------------


class PostMessageBody(Schema):
    """A message to store once per client_id."""

    body = fields.String(required=True, metadata={"description": "1 to 4000 characters after trimming."})
    client_id = fields.String(required=True, metadata={
        "description": "1 to 64 characters, chosen by the client; a retry with the same one stores nothing new.",
    })
    reply_to = fields.Integer(allow_none=True, strict=True, metadata={
        "description": "The id of the message of the same room that this one answers.",
    })


class ConversationPostBody(PostMessageBody):
    """A reply in a conversation, or (internal) a staff-only note."""

    internal = fields.Boolean(metadata={"description": "A note only staff see (default false)."})


class JoinBody(Schema):
    """Joining a room: a private room needs its join code."""

    code = fields.String(metadata={"description": "The private room's join code."})


class AssignBody(Schema):
    """Whom to give a conversation to."""

    agent = fields.Raw(allow_none=True, metadata={
        "description": "The agent's username or id; absent or null gives the conversation back to the queue.",
        "oneOf": [{"type": "string"}, {"type": "integer"}],
    })


# The OpenAPI document's components, by name (openapi.py).
COMPONENTS = (
    User, Room, Message, MessagePage, MessageAnswer, TokenInfo, Me, RoomList, RoomAnswer, Conversation,
    ConversationList, ConversationAnswer, Error, PostMessageBody, ConversationPostBody, JoinBody, AssignBody,
)

_KINDS: tuple[tuple[type[fields.Field], type], ...] = (
    (fields.String, str), (fields.Integer, int), (fields.Boolean, bool), (fields.Raw, object),
)


def _kind(field: fields.Field) -> type:
    return next(kind for field_type, kind in _KINDS if isinstance(field, field_type))


def parse_body(schema: type[Schema]) -> dict[str, Any]:
    """The request's JSON body checked against schema: exactly its fields, of their types; else invalid."""
    declared = schema().fields
    data = request.get_json(silent=True)
    if data is None and not any(field.required for field in declared.values()):
        data = {}  # a body with nothing to say may be left out
    return parse_payload(
        data,
        required={name: _kind(field) for name, field in declared.items() if field.required},
        optional={name: _kind(field) for name, field in declared.items() if not field.required},
    )
