"""Who may open a socket, from which origin, how often, and how much they may send at once."""
from __future__ import annotations

import time

import pytest
import requests
import socketio
import websocket

from .conftest import received

pytestmark = pytest.mark.live


def polling_handshake(server, headers: dict) -> requests.Response:
    """The first Engine.IO long-polling request, as a browser would make it."""
    return requests.get(
        f"{server.url}/socket.io/", params={"EIO": "4", "transport": "polling"}, headers=headers, timeout=10
    )


def test_polling_from_a_foreign_origin_is_refused(live_server):
    live_server.add_user("alice")
    live_server.start()
    headers = live_server.socket_headers(live_server.login("alice"))
    assert polling_handshake(live_server, {**headers, "Origin": "http://evil.example"}).status_code == 400
    assert polling_handshake(live_server, {**headers, "Origin": live_server.url}).status_code == 200


def test_websocket_from_a_foreign_origin_is_refused(live_server):
    live_server.add_user("alice")
    live_server.start()
    headers = live_server.socket_headers(live_server.login("alice"))
    ws_url = live_server.url.replace("http://", "ws://") + "/socket.io/?EIO=4&transport=websocket"
    header_list = [f"User-Agent: {headers['User-Agent']}"]
    with pytest.raises(websocket.WebSocketBadStatusException):
        websocket.create_connection(
            ws_url, origin="http://evil.example", cookie=headers["Cookie"], header=header_list, timeout=10
        )
    good = websocket.create_connection(
        ws_url, origin=live_server.url, cookie=headers["Cookie"], header=header_list, timeout=10
    )
    try:
        assert good.recv().startswith("0{")  # the Engine.IO open packet
    finally:
        good.close()


def test_configured_extra_origin_is_allowed(live_server):
    live_server.env["SOCKETIO_ALLOWED_ORIGINS"] = "https://school.example"
    live_server.add_user("alice")
    live_server.start()
    headers = live_server.socket_headers(live_server.login("alice"))
    assert polling_handshake(live_server, {**headers, "Origin": "https://school.example"}).status_code == 200
    assert polling_handshake(live_server, {**headers, "Origin": "https://other.example"}).status_code == 400


def test_unauthenticated_handshakes_are_capped_per_address(live_server):
    live_server.env["HANDSHAKE_RATE_LIMIT"] = "3 per minute"
    live_server.start()
    errors = []
    # No login and forged visitor tokens count against the same cap.
    for auth in (None, {"visitor_token": "forged"}, None, {"visitor_token": "forged"}, None):
        client = socketio.Client(reconnection=False)
        client.on("connect_error", errors.append)
        with pytest.raises(socketio.exceptions.ConnectionError):
            client.connect(live_server.url, auth=auth, transports=["polling"], wait_timeout=5)
    assert [e["data"]["error"] for e in errors] == ["unauthorized"] * 3 + ["rate_limited"] * 2
    assert errors[0]["message"] == "Log in to chat."
    assert "Wait" in errors[-1]["message"] and errors[-1]["data"]["retry_after"] >= 1


def test_oversized_packet_is_cut_at_the_transport(live_server):
    live_server.add_user("alice")
    live_server.add_room("lobby")
    live_server.start()
    client = socketio.Client(reconnection=False)
    client.connect(
        live_server.url, headers=live_server.socket_headers(live_server.login("alice")), transports=["websocket"]
    )
    try:
        client.emit("send", {"room": "lobby", "body": "x" * 200_000, "client_id": "huge"})
        deadline = time.monotonic() + 10
        while client.connected and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not client.connected  # over max_http_buffer_size: the server closes the connection
    finally:
        client.disconnect()
    with live_server.app().app_context():
        from chatapp.extensions import db
        from chatapp.models import Message

        assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_oversized_body_within_transport_limit_gets_too_large(socket_for, public_room):
    alice = socket_for("alice")
    ack = alice.emit("send", {"room": "lobby", "body": "x" * 10_000, "client_id": "big"}, callback=True)
    assert ack["error"] == "too_large"
    assert "4000" in ack["message"]
    assert alice.is_connected()
    assert received(alice, "message") == []
