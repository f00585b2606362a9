"""Helpers that several test modules use, written once: a socket send, a logged-in HTTP client, a stored account, the fuzz socket."""
from __future__ import annotations

from chatapp.extensions import db
from chatapp.models import User

from .conftest import AuthActions


def send(sock, room="lobby", body="hello", client_id="c1", **extra) -> dict:
    """Emit `send` on a Socket.IO test client and return its ack."""
    return sock.emit("send", {"room": room, "body": body, "client_id": client_id, **extra}, callback=True)


def logged_in(app, username: str, headers: dict | None = None):
    """An HTTP test client logged in as username through the real form; headers go with every request."""
    http = app.test_client()
    if headers:
        http.environ_base.update({f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()})
    assert AuthActions(http).login(username).status_code == 302
    return http


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
