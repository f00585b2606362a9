"""The support desk over sockets: the agent queue, one conversation, claiming, assigning, status, rating."""
from __future__ import annotations

from typing import Any

from flask import current_app
from flask_socketio import join_room

from ..cluster import start_desk_tick
from ..models import Conversation, User
from ..realtime.channels import AGENTS_CHANNEL, agent_channel
from ..realtime.presence import presence
from ..services import availability, routing
from ..services import labels as label_service
from ..services import support as support_service
from ..services import visitors as visitor_service
from ..validation import parse_payload
from .acting import acked, socket_sid


def _agent_summary(conversation: Conversation, user: User) -> dict:
    return support_service.summarize(conversation=conversation, viewer=user)


@acked
def on_support_list(user: User, data: Any) -> dict:
    """The agent queue (filtered, searched); the socket then receives `conversation` updates and counts as online."""
    payload = parse_payload(data, required={}, optional={
        "view": str, "status": str, "label_id": int, "assignee_id": int, "site_id": int, "query": str,
    })
    queue = support_service.list_queue(
        agent=user, view=payload["view"] or "unassigned", status=payload["status"] or "open",
        label_id=payload["label_id"], assignee_id=payload["assignee_id"], site_id=payload["site_id"],
        query=payload["query"],
    )
    join_room(agent_channel(user.id))
    join_room(AGENTS_CHANNEL)
    agents_before = support_service.agents_online()
    presence.enter(sid=socket_sid(), room=availability.AGENTS_PRESENCE)
    support_service.announce_agents_online(before=agents_before)
    routing.settle(availability.agent_arrived(agent=user))
    start_desk_tick(current_app._get_current_object())  # type: ignore[attr-defined]  # the app behind the proxy
    return {
        "ok": True,
        "conversations": [_agent_summary(conversation, user) for conversation in queue.conversations],
        "counts": queue.counts,
        "attention": queue.attention,
        "agents": availability.roster(),
        "activity_seconds": availability.activity_seconds(),
    }


@acked
def on_support_availability(user: User, data: Any) -> dict:
    """The agent chooses online or away; every console hears `agent_status`, and routing looks again."""
    payload = parse_payload(data, required={"status": str})
    routing.settle(availability.set_choice(agent=user, choice=payload["status"]))
    return {"ok": True, "status": availability.status_of(user.id), "choice": payload["status"]}


@acked
def on_support_active(user: User, data: Any) -> dict:
    """The console saw its agent at the keyboard (sent at most every `activity_seconds`)."""
    parse_payload(data if data is not None else {}, required={})
    routing.settle(availability.mark_active(agent=user))
    return {"ok": True, "status": availability.status_of(user.id)}


@acked
def on_support_get(user: User, data: Any) -> dict:
    """One conversation: the full summary for staff, the visitor's own part for its visitor."""
    payload = parse_payload(data, required={"room": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    if user.is_staff:
        return {"ok": True, "conversation": _agent_summary(conversation, user)}
    return {"ok": True, "conversation": support_service.summarize_for_visitor(conversation=conversation)}


@acked
def on_support_claim(user: User, data: Any) -> dict:
    """Take an unassigned conversation."""
    payload = parse_payload(data, required={"room": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.claim(agent=user, conversation=conversation)
    routing.route_waiting()
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@acked
def on_support_assign(user: User, data: Any) -> dict:
    """Give a conversation to an agent (user_id), or back to the queue (user_id absent or null)."""
    payload = parse_payload(data, required={"room": str}, optional={"user_id": int})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.assign(agent=user, conversation=conversation, assignee_id=payload["user_id"])
    routing.route_waiting()  # given back to the queue, or to someone now at their cap
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@acked
def on_support_status(user: User, data: Any) -> dict:
    """Resolve, reopen or set pending."""
    payload = parse_payload(data, required={"room": str, "status": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.set_status(agent=user, conversation=conversation, status=payload["status"])
    routing.route_waiting()  # a resolve frees the agent; a reopen waits again
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


@acked
def on_support_rate(user: User, data: Any) -> dict:
    """The visitor rates the help of a resolved conversation."""
    payload = parse_payload(data, required={"room": str, "rating": int}, optional={"comment": str})
    conversation = support_service.conversation_for(user=user, slug=payload["room"])
    support_service.rate(visitor=user, conversation=conversation, rating=payload["rating"], comment=payload["comment"])
    return {"ok": True, "conversation": support_service.summarize_for_visitor(conversation=conversation)}


@acked
def on_support_hours(user: User, data: Any) -> dict:
    """A visitor's widget asks whether its desk is open now and when that changes (HOURS)."""
    parse_payload(data, required={})
    return {"ok": True, "hours": visitor_service.hours_for(user=user)}


@acked
def on_support_labels(user: User, data: Any) -> dict:
    """Every label, for the console's filter and its label menus."""
    parse_payload(data, required={})
    return {"ok": True, "labels": [label.to_dict() for label in label_service.list_labels(viewer=user)]}


@acked
def on_support_label(user: User, data: Any) -> dict:
    """Put a label on a conversation (labelled true) or take it off (false)."""
    payload = parse_payload(data, required={"room": str, "label_id": int, "labelled": bool})
    conversation = label_service.set_label(
        agent=user, slug=payload["room"], label_id=payload["label_id"], labelled=payload["labelled"]
    )
    return {"ok": True, "conversation": _agent_summary(conversation, user)}


HANDLERS = {
    "support_list": on_support_list, "support_get": on_support_get, "support_claim": on_support_claim,
    "support_assign": on_support_assign, "support_status": on_support_status, "support_rate": on_support_rate,
    "support_availability": on_support_availability, "support_active": on_support_active,
    "support_hours": on_support_hours,
    "support_labels": on_support_labels, "support_label": on_support_label,
}
