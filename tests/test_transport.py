"""The WebSocket compression switch (SOCKETIO_WEBSOCKET_COMPRESSION), and the session socket events read."""
from __future__ import annotations

import base64
import os
import socket

import pytest

from chatapp.transport import refuse_websocket_compression, without_offer

from .helpers import under_every_async_mode

OFFER = "permessage-deflate; client_max_window_bits"


def call(wsgi_app, environ: dict) -> dict:
    """Run wsgi_app on environ; return the environ the wrapped app saw."""
    seen: dict = {}

    def inner(env, start_response):
        seen.update(env)
        return [b""]

    refuse_websocket_compression(inner)(environ, lambda *a: None)
    return seen


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (OFFER, None),
        ("permessage-deflate", None),
        ("Permessage-Deflate; server_no_context_takeover, x-webkit-deflate-frame", "x-webkit-deflate-frame"),
        ("x-other; a=1", "x-other; a=1"),
    ],
)
def test_the_deflate_offer_is_taken_out_and_others_are_kept(header, expected):
    seen = call(None, {"HTTP_SEC_WEBSOCKET_EXTENSIONS": header})
    assert seen.get("HTTP_SEC_WEBSOCKET_EXTENSIONS") == expected


def test_requests_without_an_offer_pass_unchanged():
    assert call(None, {"PATH_INFO": "/"}) == {"PATH_INFO": "/"}
    assert without_offer("", "permessage-deflate") == ""


def handshake_extensions(url: str) -> str | None:
    """Open an Engine.IO WebSocket offering permessage-deflate; return the Sec-WebSocket-Extensions answered."""
    host, port = url.removeprefix("http://").split(":")
    key = base64.b64encode(os.urandom(16)).decode()
    request = (
        "GET /socket.io/?EIO=4&transport=websocket HTTP/1.1\r\n"
        f"Host: {host}:{port}\r\n"
        "Upgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Sec-WebSocket-Extensions: {OFFER}\r\n\r\n"
    )
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        conn.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = conn.recv(1024)
            if not chunk:
                break
            head += chunk
    lines = head.split(b"\r\n\r\n")[0].decode().split("\r\n")
    assert lines[0].startswith("HTTP/1.1 101"), lines[0]
    for line in lines[1:]:
        name, _, value = line.partition(":")
        if name.strip().lower() == "sec-websocket-extensions":
            return value.strip()
    return None


@pytest.mark.live
@pytest.mark.parametrize(("setting", "negotiated"), [(None, False), ("0", False), ("1", True)])
@under_every_async_mode  # eventlet's WebSocket server, or simple-websocket's under gevent: the switch works for both
def test_the_real_server_negotiates_deflate_only_when_configured(
    tmp_path, migrated_template, async_mode, setting, negotiated
):
    from harness.live import LiveServer

    env = {} if setting is None else {"SOCKETIO_WEBSOCKET_COMPRESSION": setting}
    server = LiveServer(tmp_path, migrated_template, env=env, async_mode=async_mode)
    if setting is None:
        server.env.pop("SOCKETIO_WEBSOCKET_COMPRESSION", None)  # the default, whatever the caller's environment
    server.start()
    try:
        answered = handshake_extensions(server.url)
    finally:
        server.stop()
    assert (answered is not None and answered.startswith("permessage-deflate")) is negotiated, answered


def test_socket_events_reuse_their_sockets_session_instead_of_decoding_the_cookie(
    app, client, auth, socket_for, public_room, monkeypatch
):
    from flask.sessions import SecureCookieSessionInterface

    alice = socket_for("alice")  # its connect decodes alice's cookie, as before
    decoded = []
    real = SecureCookieSessionInterface.open_session

    def counting(self, app, request):
        decoded.append(request.path)
        return real(self, app, request)

    monkeypatch.setattr(SecureCookieSessionInterface, "open_session", counting)
    assert alice.emit("join", {"room": "lobby"}, callback=True)["ok"]
    sent = alice.emit("send", {"room": "lobby", "body": "hello", "client_id": "s1"}, callback=True)
    assert sent["ok"] and sent["message"]["sender"]["username"] == "alice"  # still alice's session
    assert decoded == []
    auth.login("bob")
    assert client.get("/").status_code == 200
    assert decoded and "/socket.io" not in "".join(decoded)  # HTTP requests still read their cookie
