"""The real server in a subprocess on 127.0.0.1, for live-client, fault and browser tests."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import requests

from chatapp import PROJECT_ROOT, create_app
from chatapp.extensions import db
from chatapp.services import accounts, rooms

from .conftest import PASSWORD, base_config, csrf_token_from

USER_AGENT = "chatapp-tests/1"
START_TIMEOUT_S = 30


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class LiveServer:
    """`python wsgi.py` (eventlet) on a free port, on its own SQLite file; killable and restartable."""

    def __init__(self, workdir: Path, template_db: Path, env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.db_path = workdir / "live.sqlite3"
        shutil.copy(template_db, self.db_path)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / "server.log"
        self.process: subprocess.Popen | None = None
        self.env = {
            **os.environ,
            "HOST": "127.0.0.1",
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{self.db_path}",
            "UPLOAD_FOLDER": str(workdir / "uploads"),
            "SECRET_KEY": "live-test-secret-key",
            "LOGIN_RATE_LIMIT": "10000 per minute",
            "REGISTER_RATE_LIMIT": "10000 per minute",
            "API_RATE_LIMIT": "10000 per minute",
            "SEND_RATE_LIMIT": "10000 per minute",
            "TYPING_RATE_LIMIT": "10000 per minute",
            "JOIN_RATE_LIMIT": "10000 per minute",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self._app = None

    # -- data, written through the same services as every other door -----------------

    def app(self):
        """An in-test app on the server's database (threading mode, for seeding and checks)."""
        if self._app is None:
            self._app = create_app({**base_config(self.db_path), "SECRET_KEY": self.env["SECRET_KEY"]})
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

    def start(self) -> None:
        """Start the server and wait until /healthz answers."""
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=PROJECT_ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.log()}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"server did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        """End the server politely, or kill it."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.kill()

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
        session = requests.Session()
        session.headers["User-Agent"] = USER_AGENT
        token = csrf_token_from(session.get(self.url + "/auth/login", timeout=10).text)
        response = session.post(
            self.url + "/auth/login",
            data={"username": username, "password": password, "csrf_token": token},
            allow_redirects=False,
            timeout=10,
        )
        assert response.status_code == 302, response.text
        return session

    def socket_headers(self, session: requests.Session) -> dict[str, str]:
        """Headers that carry a logged-in session to a python-socketio client."""
        cookie = "; ".join(f"{c.name}={c.value}" for c in session.cookies)
        return {"Cookie": cookie, "User-Agent": USER_AGENT}
