"""Connecting and disconnecting: who may open a socket, and who hears that someone came or went."""
from __future__ import annotations

from typing import Any, NoReturn

from flask import request, session
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import ConnectionRefusedError, emit, join_room

from ..extensions import db
from ..realtime.channels import VISITOR_SESSION_KEY, VISITORS_CHANNEL, user_channel, visitor_channel
from ..realtime.presence import presence
from ..services import accounts, attendance, availability, read_writes, routing
from ..services import support as support_service
from ..services import visitors as visitor_service
from ..services.errors import ServiceError
from ..services.online import announce_presence
from .acting import socket_sid


def on_connect(auth: Any = None) -> None:
    """Accept widget visitors with a valid visitor token and logged-in browsers; refuse everyone else."""
    session.pop(VISITOR_SESSION_KEY, None)
    if isinstance(auth, dict) and "visitor_token" in auth:
        connect_visitor(auth["visitor_token"])
        return
    if not current_user.is_authenticated:
        refuse(ServiceError("unauthorized", _("Log in to chat.")))
    presence.connect(sid=socket_sid(), user_id=current_user.id)
    join_room(user_channel(current_user.id))  # @mention notices, the room list's counts


def refuse(error: ServiceError) -> NoReturn:
    """Refuse this handshake with error (or rate_limited, for an address refused too often)."""
    answer = accounts.refuse_handshake(address=request.remote_addr, error=error)
    # The client's connect_error gets .message (text) and .data (the error object).
    raise ConnectionRefusedError(answer.message, answer.to_dict()) from None


def connect_visitor(token: Any) -> None:
    """Accept a widget visitor's socket: it acts as that visitor from now on, and hears whether agents are online."""
    try:
        visitor = visitor_service.visitor_from_token(token=token)
    except ServiceError as error:
        refuse(error)
    session[VISITOR_SESSION_KEY] = visitor.id
    first_socket = not presence.sockets_of(user_id=visitor.id)
    presence.connect(sid=socket_sid(), user_id=visitor.id)
    join_room(VISITORS_CHANNEL)
    join_room(visitor_channel(visitor.id))
    emit("agents_online", {"online": support_service.agents_online()})
    conversation = support_service.conversation_of_visitor(visitor.id)
    if first_socket and conversation is not None:
        support_service.announce_conversation(conversation, to_visitor=False)  # the console shows the visitor online


def on_disconnect(*args: Any) -> None:
    """Tell each room this socket was in if its user went offline; visitors if the last agent left."""
    agents_before = support_service.agents_online()
    visitor_id = session.get(VISITOR_SESSION_KEY)
    agent_left = False
    gone = presence.disconnect(sid=socket_sid())
    if current_user.is_authenticated and not current_user.is_visitor:
        attendance.record_disconnect(user_id=current_user.id, slugs=gone)  # stored before the room hears
    for slug in gone:
        if slug == availability.AGENTS_PRESENCE:
            agent_left = True
            continue
        announce_presence(slug)
    support_service.announce_agents_online(before=agents_before)
    if agent_left and current_user.is_authenticated:
        routing.settle(availability.refresh([current_user.id]))  # their last console closed: offline
    if current_user.is_authenticated:
        read_writes.flush(user_id=current_user.id)  # what this page read and was held back is written now
    if visitor_id is not None and not presence.sockets_of(user_id=visitor_id):
        conversation = support_service.conversation_of_visitor(visitor_id)
        if conversation is not None:
            support_service.announce_conversation(conversation, to_visitor=False)
    db.session.remove()


HANDLERS = {"connect": on_connect, "disconnect": on_disconnect}
