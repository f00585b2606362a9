"""The real server with real python-socketio clients, over WebSocket and over long-polling."""
from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
import socketio

from .helpers import under_every_async_mode, wait_for

pytestmark = [pytest.mark.live, under_every_async_mode]


def connect(server, username: str, transport: str) -> tuple[socketio.Client, list]:
    session = server.login(username)
    client = socketio.Client(reconnection=False)
    inbox: list = []
    client.on("message", inbox.append)
    client.connect(server.url, headers=server.socket_headers(session), transports=[transport], wait_timeout=10)
    assert client.transport() == transport
    return client, inbox


def test_websocket_and_polling_clients_chat(live_server):
    live_server.add_user("alice")
    live_server.add_user("bob")
    live_server.add_room("lobby")
    live_server.start()
    alice, alice_inbox = connect(live_server, "alice", "websocket")
    bob, bob_inbox = connect(live_server, "bob", "polling")
    try:
        assert alice.call("join", {"room": "lobby"}, timeout=10)["ok"]
        assert bob.call("join", {"room": "lobby"}, timeout=10)["ok"]
        a = alice.call("send", {"room": "lobby", "body": "hi from websocket", "client_id": "a1"}, timeout=10)
        b = bob.call("send", {"room": "lobby", "body": "hi from polling", "client_id": "b1"}, timeout=10)
        assert a["ok"] and b["ok"]
        expected = sorted([a["message"]["id"], b["message"]["id"]])
        for inbox in (alice_inbox, bob_inbox):
            assert wait_for(lambda inbox=inbox: len(inbox) >= 2)
        time.sleep(0.3)  # anything doubled would arrive by now
        assert sorted(m["id"] for m in alice_inbox) == expected
        assert sorted(m["id"] for m in bob_inbox) == expected
    finally:
        alice.disconnect()
        bob.disconnect()


def test_connection_without_login_is_refused(live_server):
    live_server.start()
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], wait_timeout=5)


def test_a_connection_whose_websocket_ended_is_closed(live_server):
    """Not read as HTTP again: gevent's handler took the client's closing frames for requests ("Invalid HTTP
    method")."""
    live_server.start()
    client = socketio.Client(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):  # the server ends this WebSocket at once
        client.connect(live_server.url, transports=["websocket"], wait_timeout=5)
    time.sleep(0.5)
    assert "Invalid HTTP method" not in live_server.log()


def test_messages_survive_a_restart(live_server):
    live_server.add_user("alice")
    live_server.add_room("lobby")
    live_server.start()
    alice, _ = connect(live_server, "alice", "websocket")
    sent = alice.call("send", {"room": "lobby", "body": "keep me", "client_id": "k1"}, timeout=10)
    alice.disconnect()
    live_server.restart()
    alice, _ = connect(live_server, "alice", "polling")
    try:
        ack = alice.call("join", {"room": "lobby"}, timeout=10)
        assert [m["id"] for m in ack["messages"]] == [sent["message"]["id"]]
        again = alice.call("send", {"room": "lobby", "body": "keep me", "client_id": "k1"}, timeout=10)
        assert again["message"] == sent["message"]  # idempotent across restarts
    finally:
        alice.disconnect()


def test_the_server_runs_under_the_async_mode_asked_for(live_server, async_mode):
    """Not only ASYNC_MODE set: the Socket.IO server chose that mode, and the process loaded its library alone."""
    live_server.start()
    log = live_server.log()
    assert f"chatapp serving on {live_server.url} under {async_mode}" in log
    loaded = Path(f"/proc/{live_server.process.pid}/maps").read_text()  # the shared objects mapped into the process
    assert ("/gevent/_gevent_c" in loaded) == (async_mode == "gevent")
    # eventlet says so itself at import; under gevent nothing imports it.
    assert ("Eventlet is deprecated" in log) == (async_mode == "eventlet")


def listen_backlog(port: int) -> int:
    """The accept queue of the socket listening on 127.0.0.1:port, as the kernel reports it (ss's Send-Q)."""
    line = subprocess.run(["ss", "-Hltn", f"sport = :{port}"], capture_output=True, text=True, check=True).stdout
    _state, _queued, backlog, *_ = line.split()
    return int(backlog)


@pytest.mark.parametrize("configured, expected", [(None, 1024), ("300", 300)])
def test_the_server_queues_a_burst_of_connections(live_server, configured, expected):
    """A broadcast wakes every long-polling client at once and each opens a connection: eventlet's
    default queue of 50 overflowed, the kernel dropped the rest, and each retried a second later."""
    if configured is not None:
        live_server.env["LISTEN_BACKLOG"] = configured
    live_server.start()
    assert listen_backlog(live_server.port) == min(expected, int(Path("/proc/sys/net/core/somaxconn").read_text()))


def open_files_limit(pid: int) -> tuple[int, int]:
    """The soft and hard limits on open files of process pid (/proc/PID/limits; "unlimited" as a huge number)."""
    def number(value: str) -> int:
        return 2**63 if value == "unlimited" else int(value)

    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max open files"):
            soft, hard = line.split()[3:5]
            return number(soft), number(hard)
    raise AssertionError("no open-files line")


def test_the_server_lifts_its_open_files_limit_for_max_connections(live_server):
    """Each socket is a file descriptor: the usual soft limit of 1024 would refuse the 1000th client."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(soft, 1024), hard))  # what the server inherits
    try:
        live_server.start()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    server_soft, server_hard = open_files_limit(live_server.process.pid)
    assert server_soft == min(server_hard, 10_000 + 256)


def test_the_server_holds_at_most_max_connections_at_once(live_server):
    """The cap (MAX_CONNECTIONS) is what the server holds; the next connection waits in the accept queue."""
    import socket

    import requests

    live_server.env["MAX_CONNECTIONS"] = "2"
    live_server.start()
    time.sleep(0.5)  # the start-up check's connection is over
    idle = [socket.create_connection(("127.0.0.1", live_server.port)) for _ in range(2)]
    try:
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(live_server.url + "/healthz", timeout=2)  # accepted by the kernel, never served
    finally:
        idle.pop().close()
    try:
        assert requests.get(live_server.url + "/healthz", timeout=10).status_code == 200
    finally:
        idle.pop().close()
