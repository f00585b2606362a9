"""Polls over sockets: a moderator posts and closes one; the room's members vote (docs/protocol.md, "Polls").

Each handler parses its payload and calls one service function (services/polls.py), which
commits and then tells the room and its moderators.
"""
from __future__ import annotations

from typing import Any

from ..models import Room, User
from ..services import polls as poll_service
from ..services import rooms as room_service
from ..validation import parse_payload
from .acting import acked


def _room(payload: dict) -> Room:
    return room_service.get_room(payload["room"])


@acked
def on_create_poll(user: User, data: Any) -> dict:
    """Moderators post a poll as a message of the room; the same client_id again returns it and tells nobody."""
    payload = parse_payload(
        data, required={"room": str, "question": str, "options": list},
        optional={"multiple": bool, "anonymous": bool, "hidden_until_closed": bool, "minutes": int,
                  "client_id": str},
    )
    spec = poll_service.check_poll(
        question=payload["question"], options=payload["options"], multiple=bool(payload["multiple"]),
        anonymous=bool(payload["anonymous"]), hidden_until_closed=bool(payload["hidden_until_closed"]),
        minutes=payload["minutes"],
    )
    posted = poll_service.create_poll(actor=user, room=_room(payload), spec=spec, client_id=payload["client_id"])
    return {"ok": True, "message": posted.shown}


@acked
def on_poll_vote(user: User, data: Any) -> dict:
    """A member sets their votes on a poll to `options` (a list of option ids; one for a single choice)."""
    payload = parse_payload(data, required={"room": str, "poll_id": int, "options": list})
    result = poll_service.vote(user=user, room=_room(payload), poll_id=payload["poll_id"],
                               option_ids=payload["options"])
    return {"ok": True, **result.view}


@acked
def on_poll_close(user: User, data: Any) -> dict:
    """Moderators close a poll; closing a closed one changes nothing."""
    payload = parse_payload(data, required={"room": str, "poll_id": int})
    return {"ok": True, **poll_service.close_poll(actor=user, room=_room(payload), poll_id=payload["poll_id"])}


@acked
def on_poll_view(user: User, data: Any) -> dict:
    """Whoever may see the poll: it as they may see it, their own votes, and what they may do."""
    payload = parse_payload(data, required={"room": str, "poll_id": int})
    return {"ok": True, **poll_service.view_poll(user=user, room=_room(payload), poll_id=payload["poll_id"])}


HANDLERS = {
    "create_poll": on_create_poll, "poll_vote": on_poll_vote, "poll_close": on_poll_close, "poll_view": on_poll_view,
}
