"""The cluster: Redis, PostgreSQL, two `python wsgi.py` processes and nginx, all on 127.0.0.1.

Started once for the module (about 10 s) and stopped after it, whatever happened.
Skipped when the machine lacks the servers (`make test` installs them: scripts/system-deps.sh).
"""
from __future__ import annotations

import os

import pytest
import requests
import socketio

from chatapp import create_app
from chatapp.extensions import db
from chatapp.services import accounts, rooms
from harness.live import logged_in_session, socket_headers
from harness.processes import Cluster, missing_binaries

from ..conftest import PASSWORD

USER_AGENT = "chatapp-cluster-tests/1"
# A killed process's sockets go offline within PRESENCE_TTL_SECONDS plus one heartbeat.
PRESENCE_TTL_SECONDS = 3
DESK_GRACE_SECONDS = 2

TEST_ENV = {
    "PRESENCE_TTL_SECONDS": str(PRESENCE_TTL_SECONDS),
    "SOCKETIO_PING_INTERVAL": "5",
    "SOCKETIO_PING_TIMEOUT": "5",
    "API_RATE_LIMIT": "10000 per minute",
    "SEND_RATE_LIMIT": "10000 per minute",
    "TYPING_RATE_LIMIT": "10000 per minute",
    "JOIN_RATE_LIMIT": "10000 per minute",
    "HANDSHAKE_RATE_LIMIT": "10000 per minute",
    # The desk: an agent offline this long gives their work back; every process looks this often.
    "AGENT_OFFLINE_GRACE_SECONDS": str(DESK_GRACE_SECONDS),
    "DESK_TICK_SECONDS": "1",
}


class ClusterHarness:
    """The running cluster, plus data seeding and logged-in clients for the tests."""

    def __init__(self, cluster: Cluster) -> None:
        self.cluster = cluster
        self.apps = cluster.apps
        self.nginx = cluster.nginx
        self._app = create_app({
            "TESTING": True,
            "SQLALCHEMY_DATABASE_URI": cluster.postgres.url,
            "SECRET_KEY": cluster.env["SECRET_KEY"],
            "SOCKETIO_ASYNC_MODE": "threading",
            "UPLOAD_FOLDER": cluster.env["UPLOAD_FOLDER"],
        })

    def add_user(self, username: str, role: str = "member") -> int:
        """Create an account with PASSWORD; return its id."""
        with self._app.app_context():
            user_id = accounts.create_user(username=username, password=PASSWORD, role=role,
                                           display_name=username.capitalize()).id
            db.session.remove()
            return user_id

    def add_room(self, slug: str) -> None:
        """Create a public room."""
        with self._app.app_context():
            rooms.create_room(slug=slug, name=slug.title(), creator=None)
            db.session.remove()

    def login(self, url: str, username: str) -> requests.Session:
        """An HTTP session logged in through the real form at url."""
        return logged_in_session(url, username, user_agent=USER_AGENT)

    def client(self, url: str, username: str, *, transport: str = "websocket", reconnection: bool = False) -> "Client":
        """A python-socketio client of username, connected to url."""
        return Client(url, self.login(url, username), transport=transport, reconnection=reconnection)

    def close(self) -> None:
        with self._app.app_context():
            db.engine.dispose()


class Client:
    """A python-socketio client that records every message and presence event it hears."""

    def __init__(self, url: str, session: requests.Session, *, transport: str, reconnection: bool) -> None:
        self.url = url
        self.session = session
        self.messages: list[dict] = []
        self.presence: dict[str, list[str]] = {}
        self.connects = 0
        self.disconnects = 0
        self.sio = socketio.Client(reconnection=reconnection, reconnection_delay=0.2, reconnection_delay_max=1)
        self.sio.on("message", self.messages.append)
        self.sio.on("presence", self._on_presence)
        self.sio.on("connect", self._on_connect)
        self.sio.on("disconnect", self._on_disconnect)
        self.sio.connect(url, headers=socket_headers(session, user_agent=USER_AGENT), transports=[transport],
                         wait_timeout=10)

    def _on_presence(self, payload: dict) -> None:
        self.presence[payload["room"]] = sorted(user["username"] for user in payload["online"])

    def _on_connect(self) -> None:
        self.connects += 1

    def _on_disconnect(self, *args) -> None:
        self.disconnects += 1

    def call(self, event: str, data: dict) -> dict:
        return self.sio.call(event, data, timeout=10)

    def join(self, room: str, after: int | None = None) -> dict:
        ack = self.call("join", {"room": room, **({"after": after} if after is not None else {})})
        assert ack["ok"], ack
        return ack

    def send(self, room: str, body: str, client_id: str) -> dict:
        ack = self.call("send", {"room": room, "body": body, "client_id": client_id})
        assert ack["ok"], ack
        return ack["message"]

    def message_ids(self, room: str) -> list[int]:
        return [m["id"] for m in self.messages if m["room"] == room]

    def close(self) -> None:
        try:
            self.sio.disconnect()
        except Exception:  # noqa: BLE001 - already gone
            pass


def require(missing: list[str]) -> None:
    """Skip when a service's programs are missing; in CI (`make test` installs them) fail instead,
    never skip silently."""
    if not missing:
        return
    message = f"not installed: {', '.join(missing)} (apt-get install redis-server postgresql nginx)"
    if os.environ.get("CI"):
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """Redis + PostgreSQL (migrated with `flask db upgrade`) + two app processes + nginx; all stopped after."""
    require(missing_binaries())
    running = Cluster(tmp_path_factory.mktemp("cluster"), processes=2, extra_env=TEST_ENV)
    running.start()
    harness = ClusterHarness(running)
    try:
        yield harness
    finally:
        harness.close()
        running.stop()
