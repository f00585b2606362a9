"""A fresh server process whose very first request is a socket reloading its user, as after a restart."""
from __future__ import annotations

import pytest
import socketio

pytestmark = pytest.mark.live


def test_a_socket_can_be_the_first_request_a_new_process_serves(live_server):
    live_server.add_user("alice")
    live_server.add_room("lobby")
    live_server.start()
    session = live_server.login("alice")
    live_server.restart()  # the login cookie outlives the process; only /healthz has reached the new one
    client = socketio.Client(reconnection=False)
    try:
        client.connect(live_server.url, headers=live_server.socket_headers(session), transports=["websocket"], wait_timeout=10)
        assert client.call("join", {"room": "lobby"}, timeout=10)["ok"] is True
    finally:
        client.disconnect()
    assert "supports_population" not in live_server.log()
