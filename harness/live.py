"""The real server in a subprocess on 127.0.0.1, for live-client, fault and browser tests and the screenshot scripts."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import requests

from chatapp import create_app
from chatapp.extensions import db
from chatapp.services import accounts, rooms

from .database import PASSWORD, base_config
from .forms import csrf_token_from
from .processes import AppProcess

USER_AGENT = "chatapp-tests/1"
# What `python wsgi.py` may run under (its ASYNC_MODES); tests.helpers.under_every_async_mode runs a test under each.
ASYNC_MODES = ("eventlet", "gevent")


def logged_in_session(url: str, username: str, password: str = PASSWORD, *, user_agent: str = USER_AGENT) -> requests.Session:
    """An HTTP session logged in through the real form of the server at url (any process of a cluster too)."""
    session = requests.Session()
    session.headers["User-Agent"] = user_agent
    token = csrf_token_from(session.get(url + "/auth/login", timeout=10).text)
    response = session.post(
        url + "/auth/login",
        data={"username": username, "password": password, "csrf_token": token},
        allow_redirects=False,
        timeout=10,
    )
    assert response.status_code == 302, response.text[:500]
    return session


def socket_headers(session: requests.Session, *, user_agent: str = USER_AGENT) -> dict[str, str]:
    """Headers that carry a logged-in session to a python-socketio client (the same User-Agent: session protection is strong)."""
    cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
    return {"Cookie": cookie, "User-Agent": user_agent}


class LiveServer:
    """`python wsgi.py` (eventlet, or gevent) on a free port, on its own SQLite file; killable and restartable."""

    def __init__(self, workdir: Path, template_db: Path, env: dict[str, str] | None = None,
                 async_mode: str = "eventlet") -> None:
        self.workdir = workdir
        self.async_mode = async_mode
        self.db_path = workdir / "live.sqlite3"
        shutil.copy(template_db, self.db_path)
        # The process itself is the cluster's AppProcess: one way to start, wait for and kill wsgi.py.
        self.server = AppProcess(workdir, "server", env={
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "EXPORT_FOLDER": str(workdir / "exports"),
            "SECRET_KEY": "live-test-secret-key",
            "API_RATE_LIMIT": "10000 per minute",
            "SEND_RATE_LIMIT": "10000 per minute",
            "TYPING_RATE_LIMIT": "10000 per minute",
            "JOIN_RATE_LIMIT": "10000 per minute",
            "ASYNC_MODE": async_mode,
            **(env or {}),
        })
        self.port = self.server.port
        self.url = self.server.url
        self.log_path = self.server.log_path
        self.env = self.server.env  # the same dict: a test may change it before start()
        self._app = None

    # -- data, written through the same services as every other door -----------------

    def app(self):
        """An in-test app on the server's database (threading mode, for seeding and checks)."""
        if self._app is None:
            # Production's password hasher, as the server itself uses: its accounts are stored as it would store them.
            config = {**base_config(self.db_path), "SECRET_KEY": self.env["SECRET_KEY"], "PASSWORD_HASHER": None}
            self._app = create_app(config)
        return self._app

    def add_user(self, username: str, role: str = "member", display_name: str | None = None) -> int:
        """Create an account with PASSWORD; return its id."""
        with self.app().app_context():
            return accounts.create_user(
                username=username, password=PASSWORD, role=role, display_name=display_name or username.capitalize()
            ).id

    def add_room(self, slug: str, name: str | None = None, private: bool = False, owner: str | None = None) -> str:
        """Create a room; return its join code (None for public rooms)."""
        with self.app().app_context():
            creator = db.session.scalar(db.select(accounts.User).filter_by(username=owner)) if owner else None
            return rooms.create_room(slug=slug, name=name or slug.title(), private=private, creator=creator).join_code

    # -- process ---------------------------------------------------------------------

    @property
    def process(self) -> subprocess.Popen | None:
        """The running `python wsgi.py`, if any."""
        return self.server.process

    def start(self) -> None:
        """Start the server and wait until /healthz answers."""
        self.server.start()

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        self.server.kill()

    def stop(self) -> None:
        """End the server politely, or kill it."""
        self.server.stop()

    def restart(self) -> None:
        """Kill the server, then start it again on the same port and database."""
        self.kill()
        self.start()

    def log(self) -> str:
        """What the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # -- clients ---------------------------------------------------------------------

    def login(self, username: str, password: str = PASSWORD) -> requests.Session:
        """An HTTP session logged in through the real form."""
        return logged_in_session(self.url, username, password)

    def socket_headers(self, session: requests.Session) -> dict[str, str]:
        """Headers that carry a logged-in session to a python-socketio client."""
        return socket_headers(session)
