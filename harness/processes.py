"""Processes on 127.0.0.1 for several-process runs: Redis, PostgreSQL, nginx and chatapp app processes.

Used by `make cluster` (scripts/cluster.py), tests/cluster/ and the live-server tests; everything
lives in a temporary folder and nothing is installed as a service (docs/deployment.md).
"""
from __future__ import annotations

import glob
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 30


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_binary(name: str) -> str | None:
    """A server binary from PATH, or where Debian puts it (/usr/sbin, /usr/lib/postgresql/<ver>/bin)."""
    found = shutil.which(name)
    if found:
        return found
    candidates = [f"/usr/sbin/{name}", f"/usr/local/sbin/{name}"]
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name or 0), reverse=True)
    candidates += [f"{folder}/{name}" for folder in versions]
    return next((path for path in candidates if os.access(path, os.X_OK)), None)


def missing_binaries() -> list[str]:
    """The servers this machine lacks (empty: a cluster can start)."""
    return [name for name in ("redis-server", "initdb", "postgres", "nginx") if find_binary(name) is None]


def wait_port(port: int, process: subprocess.Popen, what: str, log_path: Path) -> None:
    """Wait until something accepts on 127.0.0.1:port, or fail with the log."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{what} exited with {process.returncode}:\n{_tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen within {START_TIMEOUT_S} s:\n{_tail(log_path)}")


def _tail(path: Path, size: int = 4000) -> str:
    return path.read_text(errors="replace")[-size:] if path.exists() else ""


def _stop(process: subprocess.Popen | None, sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


class Redis:
    """redis-server on a free port, without persistence."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.log_path = workdir / "redis.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = find_binary("redis-server")
        assert binary, "redis-server is not installed"
        self.process = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.workdir), "--logfile", str(self.log_path)],
            stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_port(self.port, self.process, "redis-server", self.log_path)

    def stop(self) -> None:
        _stop(self.process)


class Postgres:
    """A throwaway PostgreSQL cluster (initdb into a temporary folder), run as `postgres` when we are root."""

    def __init__(self, workdir: Path | None = None, database: str = "chatapp") -> None:
        # Its own folder under /tmp: the server user must reach it (pytest's folders are root-only).
        self.root = Path(tempfile.mkdtemp(prefix="chatapp-pg-"))
        self.datadir = self.root / "data"
        self.port = free_port()
        self.database = database
        self.user = "chatapp"
        self.url = f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"
        self.log_path = (workdir or self.root) / "postgres.log"
        self.process: subprocess.Popen | None = None
        self._as_user: dict = {}
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            self._as_user = {"user": "postgres", "group": "postgres"}
            shutil.chown(self.root, "postgres", "postgres")
        os.chmod(self.root, 0o700)

    def start(self) -> None:
        initdb, postgres = find_binary("initdb"), find_binary("postgres")
        assert initdb and postgres, "PostgreSQL is not installed"
        subprocess.run(
            [initdb, "-D", str(self.datadir), "-U", self.user, "--auth=trust", "-E", "UTF8", "--no-sync",
             "--locale=C.UTF-8"],
            check=True, capture_output=True, cwd=self.root, **self._as_user,
        )
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen(
            [postgres, "-D", str(self.datadir), "-p", str(self.port), "-k", str(self.root),
             "-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
             "-c", "full_page_writes=off", "-c", "max_connections=200"],
            stdout=log, stderr=subprocess.STDOUT, cwd=self.root, start_new_session=True, **self._as_user,
        )
        wait_port(self.port, self.process, "postgres", self.log_path)
        import psycopg

        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            try:
                with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres",
                                     autocommit=True) as connection:
                    connection.execute(f'CREATE DATABASE "{self.database}"')
                return
            except psycopg.OperationalError:  # still starting up
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)

    def stop(self) -> None:
        _stop(self.process, signal.SIGINT)  # "fast" shutdown
        shutil.rmtree(self.root, ignore_errors=True)


NGINX_CONF = """\
{user_line}
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log {dir}/nginx-access.log;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 7m;

    map $http_upgrade $connection_upgrade {{
        default upgrade;
        ''      close;
    }}

    upstream chatapp {{
        # Sticky: a Socket.IO session (its long-polling requests above all) must keep
        # reaching the process that holds it.
        ip_hash;
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://chatapp;
            proxy_http_version 1.1;
            proxy_set_header Upgrade $http_upgrade;
            proxy_set_header Connection $connection_upgrade;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_set_header X-Forwarded-Host $http_host;
            proxy_read_timeout 75s;
            proxy_send_timeout 75s;
            proxy_buffering off;
            proxy_request_buffering off;
            add_header X-Chatapp-Upstream $upstream_addr always;
        }}
    }}
}}
"""


class Nginx:
    """nginx in front of the app processes: sticky (ip_hash), WebSocket upgrades, long polls."""

    def __init__(self, workdir: Path, upstream_ports: list[int]) -> None:
        self.dir = workdir / "nginx"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.upstream_ports = upstream_ports
        self.conf_path = self.dir / "nginx.conf"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = find_binary("nginx")
        assert binary, "nginx is not installed"
        self.dir.mkdir(parents=True, exist_ok=True)
        servers = "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in self.upstream_ports)
        self.conf_path.write_text(NGINX_CONF.format(
            user_line="user root;" if os.geteuid() == 0 else "", dir=self.dir, servers=servers, port=self.port,
        ))
        self.process = subprocess.Popen(
            [binary, "-p", str(self.dir), "-c", str(self.conf_path), "-g", "daemon off;"],
            stdout=open(self.dir / "nginx.out", "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        wait_port(self.port, self.process, "nginx", self.dir / "nginx-error.log")

    def stop(self) -> None:
        _stop(self.process, signal.SIGQUIT)  # graceful: workers finish, then exit


class AppProcess:
    """One `python wsgi.py` (eventlet, or gevent by ASYNC_MODE) on its own port, sharing the database and Redis with the others."""

    def __init__(self, workdir: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(self.port), "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        import requests

        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        self.process = subprocess.Popen(
            [sys.executable, "wsgi.py"], cwd=PROJECT_ROOT, env=self.env,
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{_tail(self.log_path)}")
            try:
                if requests.get(self.url + "/healthz", timeout=1).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not answer within {START_TIMEOUT_S} s:\n{_tail(self.log_path)}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM, timeout=5)


class WorkerProcess:
    """One `flask --app wsgi worker`: the outbox's sender as a process of its own; killable and restartable."""

    def __init__(self, workdir: Path, name: str, env: dict[str, str]) -> None:
        self.name = name
        self.log_path = workdir / f"{name}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **env}
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        """Start it and wait for its first line (it prints one once its threads run)."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError(f"{self.name} is already running")
        start = self.log_path.stat().st_size if self.log_path.exists() else 0
        self.process = subprocess.Popen(
            [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=PROJECT_ROOT, env=self.env,
            stdout=open(self.log_path, "ab"), stderr=subprocess.STDOUT, start_new_session=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode}:\n{_tail(self.log_path)}")
            if self.log_path.exists() and "chatapp worker" in self.log_path.read_text(errors="replace")[start:]:
                return
            time.sleep(0.1)
        raise RuntimeError(f"{self.name} did not start within {START_TIMEOUT_S} s:\n{_tail(self.log_path)}")

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        _stop(self.process, signal.SIGKILL)

    def stop(self) -> None:
        _stop(self.process, signal.SIGTERM, timeout=5)


def flask_cli(args: list[str], env: dict[str, str]) -> str:
    """Run `flask --app wsgi ARGS` against the cluster's database; return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args], cwd=PROJECT_ROOT,
        env={**os.environ, **env}, capture_output=True, text=True, timeout=120,
    )
    if result.returncode != 0:
        raise RuntimeError(f"flask {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout + result.stderr


class Cluster:
    """Redis + PostgreSQL (migrated) + N app processes + nginx; stop() ends them all, whatever started."""

    def __init__(self, workdir: Path, processes: int = 2, nginx_port: int | None = None,
                 extra_env: dict[str, str] | None = None) -> None:
        self.workdir = workdir
        self.redis = Redis(workdir)
        self.postgres = Postgres(workdir)
        self.env = {
            "DATABASE_URL": self.postgres.url,
            "SOCKETIO_MESSAGE_QUEUE": self.redis.url,
            "RATELIMIT_STORAGE_URI": self.redis.url,
            "SECRET_KEY": secrets.token_hex(32),  # one key for all: any process reads any session
            "BEHIND_PROXY": "1",
            "UPLOAD_FOLDER": str(workdir / "uploads"),  # one machine; across machines, shared storage
            "EXPORT_FOLDER": str(workdir / "exports"),  # likewise: any process serves the zip another wrote
            **(extra_env or {}),
        }
        self.apps = [AppProcess(workdir, f"app{i + 1}", self.env) for i in range(processes)]
        self.nginx = Nginx(workdir, [app.port for app in self.apps])
        if nginx_port:
            self.nginx.port, self.nginx.url = nginx_port, f"http://127.0.0.1:{nginx_port}"

    def start(self, *, migrate: bool = True) -> None:
        """Start everything (the database migrated), or stop what started and raise."""
        try:
            self.redis.start()
            self.postgres.start()
            if migrate:
                flask_cli(["db", "upgrade"], self.env)
            for app in self.apps:
                app.start()
            self.nginx.start()
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        """Stop nginx, the app processes, PostgreSQL and Redis (each only if it runs)."""
        for part in (self.nginx, *self.apps, self.postgres, self.redis):
            try:
                part.stop()
            except Exception as error:  # noqa: BLE001 - stop the rest regardless
                print(f"stopping {type(part).__name__}: {error}", file=sys.stderr)
