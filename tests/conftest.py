"""Fixtures: a fresh migrated SQLite file per test, the app, clients and logged-in sockets."""
from __future__ import annotations

import gc
import shutil
from pathlib import Path

import pytest
from jinja2 import BytecodeCache

from chatapp import create_app
from chatapp.extensions import db, socketio
from chatapp.realtime.presence import presence
from chatapp.services import accounts, rooms
from harness.database import PASSWORD, base_config, migrated_database
from harness.forms import csrf_token_from

# A real SMTP server on 127.0.0.1 and the app pointed at it, for every test module.
from .mail_fixtures import mailbox, smtp_server  # noqa: F401

# The support desk's fixtures, for every test module without importing them.
from .support_fixtures import other_site_key, site_key, visitor_socket, written_conversation  # noqa: F401


def pytest_collection_finish(session) -> None:
    """Spare the run the collector's walks over what imports and collection made, as the server does.

    A third of the suite's time went to full collections walking every module, test and app
    object; like wsgi.tune_gc, freeze what exists now and collect young objects less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, *gc.get_threshold()[1:])


class SharedTemplateCode(BytecodeCache):
    """Compiled templates kept for the whole run, in memory.

    Every test's app has its own Jinja environment, which would compile each template it
    renders again: a third of a page test's time. Jinja keys the code by the template's file
    and checks its source, so an edited template is compiled anew.
    """

    def __init__(self) -> None:
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        code = self._code.get(bucket.key)
        if code is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


TEMPLATE_CODE = SharedTemplateCode()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory) -> Path:
    """One database file brought up to date by the real migrations, copied for each test."""
    return migrated_database(tmp_path_factory.mktemp("template") / "template.sqlite3")


@pytest.fixture
def db_path(tmp_path, migrated_template) -> Path:
    """A fresh, migrated SQLite file for this test."""
    path = tmp_path / "chatapp.sqlite3"
    shutil.copy(migrated_template, path)
    return path


@pytest.fixture
def app(request, db_path):
    """The app on this test's database; `@pytest.mark.config(KEY=value)` overrides settings."""
    config = base_config(db_path)
    marker = request.node.get_closest_marker("config")
    if marker:
        config.update(marker.kwargs)
    presence.clear()
    # No app context stays pushed: requests and socket events must each get their own
    # (and their own `g`, where Flask-Login keeps the current user), as in production.
    app = create_app(config)
    app.jinja_env.bytecode_cache = TEMPLATE_CODE
    return app


@pytest.fixture
def client(app):
    """An HTTP test client."""
    return app.test_client()


@pytest.fixture
def runner(app):
    """A CLI runner."""
    return app.test_cli_runner()


class AuthActions:
    """Log a test client in and out through the real forms."""

    def __init__(self, client) -> None:
        self._client = client

    def login(self, username: str = "alice", password: str = PASSWORD, follow_redirects: bool = False):
        page = self._client.get("/auth/login").get_data(as_text=True)
        token = csrf_token_from(page) if "csrf_token" in page else ""  # absent when CSRF is off
        return self._client.post(
            "/auth/login",
            data={"username": username, "password": password, "csrf_token": token},
            follow_redirects=follow_redirects,
        )

    def logout(self):
        token = csrf_token_from(self._client.get("/").get_data(as_text=True))
        return self._client.post("/auth/logout", data={"csrf_token": token})


@pytest.fixture
def auth(client) -> AuthActions:
    """auth.login() / auth.logout() for the `client` fixture."""
    return AuthActions(client)


def detached(obj):
    """Load obj's columns and detach it, so a test may hold it outside any app context."""
    db.session.refresh(obj)
    db.session.expunge(obj)
    return obj


@pytest.fixture
def users(app) -> dict:
    """admin, staff, and the members alice, bob and carol; all with PASSWORD."""
    made = {}
    with app.app_context():
        for username, role in [
            ("admin", "admin"),
            ("staff", "staff"),
            ("alice", "member"),
            ("bob", "member"),
            ("carol", "member"),
        ]:
            user = accounts.create_user(
                username=username, password=PASSWORD, role=role, display_name=username.capitalize()
            )
            made[username] = detached(user)
    return made


@pytest.fixture
def public_room(app, users):
    """A public room owned by staff."""
    with app.app_context():
        return detached(rooms.create_room(slug="lobby", name="Lobby", creator=users["staff"]))


@pytest.fixture
def private_room(app, users):
    """A private room owned by staff, with alice as a member and bob not."""
    with app.app_context():
        room = rooms.create_room(slug="secret", name="Secret", creator=users["staff"], private=True)
        rooms.join_by_code(user=users["alice"], code=room.join_code)
        return detached(room)


@pytest.fixture
def socket_for(app, users):
    """socket_for("alice") is a Socket.IO test client carrying alice's login cookie."""
    opened = []

    def connect(username: str | None, **kwargs):
        http = app.test_client()
        if username is not None:
            response = AuthActions(http).login(username)
            assert response.status_code == 302, response.get_data(as_text=True)
        sock = socketio.test_client(app, flask_test_client=http, **kwargs)
        opened.append(sock)
        return sock

    yield connect
    for sock in opened:
        if sock.is_connected():
            sock.disconnect()


@pytest.fixture
def token_for(app, users):
    """token_for("alice", "read", "write") is the secret of a new access token of alice with those scopes."""
    from chatapp.models import User
    from chatapp.services import api_tokens

    def issue(username: str, *scopes: str, days: int | None = 30) -> str:
        with app.app_context():
            user = db.session.scalar(db.select(User).filter_by(username=username))
            return api_tokens.create_token(user=user, name=f"{username}'s script", scopes=list(scopes or ["read"]),
                                           expires_in_days=days).secret

    return issue


def received(sock, name: str) -> list:
    """The payloads of every `name` event the socket got since the last call."""
    # The test client unwraps the argument of events named "message" (its legacy send()).
    return [
        packet["args"] if packet["name"] == "message" else packet["args"][0]
        for packet in sock.get_received()
        if packet["name"] == name
    ]


def seed_messages(app, sender, room, count: int, prefix: str = "m") -> list[int]:
    """Store `count` messages through the service; return their ids."""
    from chatapp.services import messages

    with app.app_context():
        return [
            messages.post_message(
                sender=sender,
                room=room,
                body=f"{prefix}{n}",
                client_id=f"{prefix}-{sender.id}-{n}",
                enforce_rate_limit=False,
            ).message.id
            for n in range(count)
        ]


@pytest.fixture
def async_mode() -> str:
    """What live_server runs under: eventlet, unless the test is parametrized over both.

    (tests.helpers.under_every_async_mode)
    """
    return "eventlet"


@pytest.fixture
def live_server(tmp_path, migrated_template, async_mode):
    """The real server (`python wsgi.py`) on a free 127.0.0.1 port, on a fresh database; stopped after the test."""
    from harness.live import LiveServer

    server = LiveServer(tmp_path, migrated_template, async_mode=async_mode)
    yield server
    server.stop()


@pytest.fixture
def klass(app, users):
    """A class "Maths 7B" made by the teacher (staff, its owner); alice and bob joined with the code, carol did not.
    A test module with a class of another shape defines its own klass."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=users["staff"])
        for name in ("alice", "bob"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        return detached(room)
