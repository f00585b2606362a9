"""Helpers that several test modules use, written once.

A socket send, a joined socket, a moderator's action on bob, a logged-in HTTP client, polling, what is
stored, the fuzz socket.
"""
from __future__ import annotations

import time
from typing import Callable

import pytest

from chatapp.extensions import db
from chatapp.models import Message, Room, User
from harness.live import ASYNC_MODES

from .conftest import AuthActions

# A live or fault test marked `under_every_async_mode` runs once under each mode `python wsgi.py`
# may run under, its id naming the mode (`[gevent]`).
under_every_async_mode = pytest.mark.parametrize("async_mode", ASYNC_MODES)


def send(sock, room="lobby", body="hello", client_id="c1", **extra) -> dict:
    """Emit `send` on a Socket.IO test client and return its ack."""
    return sock.emit("send", {"room": room, "body": body, "client_id": client_id, **extra}, callback=True)


def joined(socket_for, username: str, room: str = "lobby"):
    """A socket of username that joined room, its received events cleared."""
    sock = socket_for(username)
    ack = sock.emit("join", {"room": room}, callback=True)
    assert ack["ok"], ack
    sock.get_received()
    return sock


def act_on_bob(app, action, **kwargs):
    """The teacher (staff) takes a moderation action (mute, ban…) on bob in the class."""
    with app.app_context():
        staff = db.session.scalar(db.select(User).filter_by(username="staff"))
        bob = db.session.scalar(db.select(User).filter_by(username="bob"))
        room = db.session.scalar(db.select(Room).filter_by(is_class=True))
        action(actor=staff, room=room, target=bob, **kwargs)


def logged_in(app, username: str, headers: dict | None = None):
    """An HTTP test client logged in as username through the real form; headers go with every request."""
    http = app.test_client()
    if headers:
        http.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert AuthActions(http).login(username).status_code == 302
    return http


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, interval: float = 0.05) -> bool:
    """Poll predicate until it holds or timeout seconds pass."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())


def stored_messages(server, room: str) -> list[dict]:
    """The room's messages as the (live) server's database holds them, oldest first."""
    with server.app().app_context():
        rows = db.session.scalars(
            db.select(Message).join(Room).where(Room.slug == room).order_by(Message.id)
        ).all()
        found = [{"id": m.id, "body": m.body, "sender": m.sender.username, "client_id": m.client_id} for m in rows]
        db.session.remove()
    return found


def stored_user(app, username: str) -> User | None:
    """The account as stored, detached from the session (None when there is none)."""
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        if user is not None:
            db.session.expunge(user)
        return user


_fuzz_sockets: dict = {}


def fuzz_socket(socket_for, username: str):
    """One connected socket of username per test function (hypothesis reruns the body many times)."""
    key = (id(socket_for), username)
    sock = _fuzz_sockets.get(key)
    if sock is None or not sock.is_connected():
        _fuzz_sockets.clear()
        sock = _fuzz_sockets[key] = socket_for(username)
    return sock


def api(client, method: str, path: str, secret: str | None = None, **kwargs) -> tuple[int, dict]:
    """Call /api/v1 (path after it), with secret as the Bearer token if given; returns (status, JSON body)."""
    headers = dict(kwargs.pop("headers", {}))
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    response = client.open("/api/v1" + path, method=method, headers=headers, **kwargs)
    assert response.mimetype == "application/json", response.get_data(as_text=True)[:300]
    return response.status_code, response.get_json()
