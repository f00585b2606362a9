"""Running the benchmark: starts the servers (and Redis), seeds chatapp and logs its users in, drives the load generator, runs each scenario.

`bench.py` is the entry point; `measure` reads the figures these runs produce, `report` writes them up.
"""
from __future__ import annotations

import atexit
import json
import os
import queue
import re
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import history  # bench/history.py: the big room's database and the in-process page timing
from measure import (
    PROFILE_HZ,
    ProcSample,
    Sampler,
    _sum_utilization,
    contention,
    core_ticks,
    disturbance,
    sample,
    sample_all,
    summarize_profile,
    window,
)
from plan import (
    BENCH_DIR,
    CHATAPP,
    CHATAPP_2PROC,
    CHATAPP_DEFLATE,
    CHATAPP_NODELAY,
    CONTENTION_RETRY_ABOVE,
    FANOUT_SERVERS,
    LOADGEN,
    NODE,
    NODE_BASELINE,
    PROJECT_ROOT,
    PYTHON_BASELINE,
    RESULTS_DIR,
    WRITE_SERVERS,
    Plan,
    ServerKind,
)
from report import _fmt, machine_info, ratios

USER_AGENT = "chatapp-bench/1"
PASSWORD = "bench-password-42"
SECRET_KEY = "chatapp-bench-secret-key"
START_TIMEOUT_S = 30

# Generous, so that the limits never refuse the benchmark's traffic (the checks still run).
GENEROUS_LIMIT = "100000 per 10 seconds"
RATE_LIMIT_ENV = {
    name: GENEROUS_LIMIT
    for name in (
        "LOGIN_FAILURE_RATE_LIMIT",
        "REGISTER_RATE_LIMIT",
        "API_RATE_LIMIT",
        "SEND_RATE_LIMIT",
        "TYPING_RATE_LIMIT",
        "JOIN_RATE_LIMIT",
        "HANDSHAKE_RATE_LIMIT",
    )
}
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')

# -- processes ------------------------------------------------------------------------

_started: list[subprocess.Popen] = []


def _end_all_started() -> None:
    """Kill every process this driver started that still runs (by pid, one by one)."""
    for process in _started:
        if process.poll() is None:
            try:
                process.kill()
                process.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                pass


atexit.register(_end_all_started)


def _on_signal(signum, frame):  # type: ignore[no-untyped-def]
    raise SystemExit(128 + signum)


def spawn(cmd: list[str], *, core: int | None, **kwargs: Any) -> subprocess.Popen:
    """Start cmd (pinned to one core when given) and remember it for the clean-up."""
    if core is not None:
        cmd = ["taskset", "-c", str(core), *cmd]
    process = subprocess.Popen(cmd, **kwargs)
    _started.append(process)
    return process


def stop(process: subprocess.Popen | None) -> None:
    """SIGTERM, then SIGKILL after 5 s."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=5)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Server:
    """chatapp (`python wsgi.py`, eventlet) or the Node baseline on a free port; always stopped.

    A kind with processes > 1 is that many chatapp processes, each on its own port, sharing
    one redis-server (no persistence) and the SQLite file; all pinned to the server's core.
    """

    def __init__(self, kind: ServerKind, *, db_url: str, log_dir: Path, core: int | None) -> None:
        self.kind = kind
        self.ports: list[int] = []
        while len(self.ports) < kind.processes:
            port = free_port()
            if port not in self.ports:
                self.ports.append(port)
        self.port = self.ports[0]
        self.urls = [f"http://127.0.0.1:{port}" for port in self.ports]
        self.url = self.urls[0]
        self.log_paths = [log_dir / f"server-{kind.name}-{port}.log" for port in self.ports]
        self.log_path = self.log_paths[0]
        self.log_dir = log_dir
        self.core = core
        self.db_url = db_url
        self.processes: list[subprocess.Popen] = []
        self.redis: subprocess.Popen | None = None
        self.redis_port: int | None = None

    @property
    def process(self) -> subprocess.Popen | None:
        """The first (or only) server process."""
        return self.processes[0] if self.processes else None

    def app_pids(self) -> list[int]:
        """The server's own processes (chatapp or Node), whose CPU and RSS are summed as "server"."""
        return [process.pid for process in self.processes]

    def extra_pids(self) -> dict[str, int]:
        """Helpers measured separately: Redis for the multi-process kind."""
        return {"redis": self.redis.pid} if self.redis is not None else {}

    def start(self) -> None:
        """Start (Redis first, when there is one) and wait until every /healthz answers."""
        env = {**os.environ, "HOST": "127.0.0.1", "PYTHONUNBUFFERED": "1"}
        env.pop("ACCESS_LOG", None)
        if self.kind.is_chatapp:
            env.update(RATE_LIMIT_ENV)
            env.update(
                {
                    "DATABASE_URL": self.db_url,
                    "SECRET_KEY": SECRET_KEY,
                    "SOCKETIO_WEBSOCKET_COMPRESSION": "1" if self.kind.websocket_compression else "0",
                }
            )
            for name in ("SOCKETIO_MESSAGE_QUEUE", "RATELIMIT_STORAGE_URI", "PRESENCE_URL"):
                env.pop(name, None)
            if self.kind.processes > 1:
                redis_url = self.start_redis()
                env.update({"SOCKETIO_MESSAGE_QUEUE": redis_url, "RATELIMIT_STORAGE_URI": redis_url, "PRESENCE_URL": redis_url})
            cmd = [sys.executable, self.kind.entry]
        elif self.kind is PYTHON_BASELINE:
            cmd = [sys.executable, self.kind.entry]
        else:
            env["PER_MESSAGE_DEFLATE"] = "0"
            cmd = ["node", str(NODE_BASELINE)]
        for port, log_path in zip(self.ports, self.log_paths):
            log = open(log_path, "ab")
            self.processes.append(
                spawn(cmd, core=self.core, cwd=PROJECT_ROOT, env={**env, "PORT": str(port)}, stdout=log, stderr=subprocess.STDOUT)
            )
            log.close()
        deadline = time.monotonic() + START_TIMEOUT_S
        waiting = list(zip(self.processes, self.urls))
        while waiting and time.monotonic() < deadline:
            if self.redis is not None and self.redis.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.redis.returncode}:\n{self.log()}")
            for process, url in list(waiting):
                if process.poll() is not None:
                    raise RuntimeError(f"{self.kind.name} exited with {process.returncode}:\n{self.log()}")
                try:
                    with urllib.request.urlopen(url + "/healthz", timeout=1) as response:
                        if response.status == 200:
                            waiting.remove((process, url))
                except OSError:
                    pass
            if waiting:
                time.sleep(0.1)
        if waiting:
            raise RuntimeError(f"{self.kind.name} did not answer within {START_TIMEOUT_S} s:\n{self.log()}")

    def start_redis(self) -> str:
        """redis-server on a free port, no persistence, pinned like the server; its URL once it answers PING."""
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError("redis-server is not installed (the chatapp-2proc-redis kind needs it)")
        while self.redis_port is None or self.redis_port in self.ports:
            self.redis_port = free_port()
        log_path = self.log_dir / f"redis-{self.kind.name}-{self.redis_port}.log"
        self.redis = spawn(
            [binary, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
             "--dir", str(self.log_dir), "--logfile", str(log_path)],
            core=self.core, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.redis.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.redis.returncode}: see {log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.redis_port), timeout=1) as conn:
                    conn.sendall(b"PING\r\n")
                    if conn.recv(64).startswith(b"+PONG"):
                        return f"redis://127.0.0.1:{self.redis_port}/0"
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"redis-server did not answer within {START_TIMEOUT_S} s: see {log_path}")

    def stop(self) -> None:
        """End the server processes, then Redis."""
        for process in self.processes:
            stop(process)
        stop(self.redis)

    def log(self) -> str:
        """What the server printed (every process's log, the last 4000 characters of each)."""
        parts = [path.read_text(errors="replace")[-4000:] for path in self.log_paths if path.exists()]
        return "\n".join(parts)

    def __enter__(self) -> "Server":
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()


# -- chatapp's data, made through chatapp's own services ---------------------------------

def seed_chatapp(db_path: Path, *, users: int, rooms: list[str]) -> list[str]:
    """Migrate a fresh SQLite file, create users and public rooms; return the usernames."""
    sys.path.insert(0, str(PROJECT_ROOT))
    from flask_migrate import upgrade

    from chatapp import create_app
    from chatapp.extensions import db
    from chatapp.services import accounts
    from chatapp.services import rooms as room_service

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{db_path}",
            "SECRET_KEY": SECRET_KEY,
            "SOCKETIO_ASYNC_MODE": "threading",
        }
    )
    names = [f"bench{n:03d}" for n in range(users)]
    with app.app_context():
        upgrade()
        for name in names:
            accounts.create_user(username=name, password=PASSWORD, role="member", display_name=f"Bench {name[5:]}")
        for slug in rooms:
            room_service.create_room(slug=slug, name=slug, creator=None)
        db.session.remove()
        db.engine.dispose()
    return names


def login(url: str, username: str) -> str:
    """Log in through the real form; return the Cookie header that carries the session."""
    import requests

    with requests.Session() as session:
        session.headers["User-Agent"] = USER_AGENT
        page = session.get(url + "/auth/login", timeout=30).text
        match = CSRF_RE.search(page)
        if not match:
            raise RuntimeError("no csrf_token on /auth/login")
        response = session.post(
            url + "/auth/login",
            data={"username": username, "password": PASSWORD, "csrf_token": match.group(1) or match.group(2)},
            allow_redirects=False,
            timeout=30,
        )
        if response.status_code != 302:
            raise RuntimeError(f"login of {username} answered {response.status_code}")
        return "; ".join(f"{cookie.name}={cookie.value}" for cookie in session.cookies)


# -- running the load generator ----------------------------------------------------------

def run_loadgen(
    config: dict, *, server: Server, out: Path, name: str, core: int | None, profile: dict | None = None
) -> dict:
    """Run the generator on config; return its result plus the server's and its own /proc figures."""
    config = {**config, "url": server.url, "user_agent": USER_AGENT}
    if len(server.urls) > 1:
        config["urls"] = server.urls  # receivers round-robin over the processes, the sender on the first
    config_path = out / "configs" / f"{name}.json"
    config_path.parent.mkdir(parents=True, exist_ok=True)
    config_path.write_text(json.dumps(config, indent=1))
    stderr_path = out / "logs" / f"loadgen-{name}.log"
    with open(stderr_path, "wb") as stderr:
        generator = spawn(["node", str(LOADGEN), str(config_path)], core=core, stdout=subprocess.PIPE, stderr=stderr)
    assert server.process is not None and generator.stdout is not None
    lines: queue.Queue = queue.Queue()

    def reader() -> None:
        for raw in generator.stdout:  # type: ignore[union-attr]
            lines.put(raw.decode(errors="replace"))
        lines.put(None)

    threading.Thread(target=reader, daemon=True).start()
    app_pids, extra_pids = server.app_pids(), server.extra_pids()
    sampler = Sampler({"server": app_pids, "loadgen": [generator.pid], **{name: [pid] for name, pid in extra_pids.items()}})
    sampler.start()
    marks: dict[str, dict[str, ProcSample | None]] = {}
    result = None
    errors: list[str] = []
    warnings: list[str] = []
    spy: subprocess.Popen | None = None
    profile_at = "saturate_start" if config.get("saturate_s") else "measure_start"  # full load, or the measured window
    deadline = time.monotonic() + config["max_runtime_s"] + 15
    try:
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=1)
            except queue.Empty:
                continue
            if line is None:
                break
            try:
                event = json.loads(line)
            except json.JSONDecodeError:
                continue
            kind = event.get("event")
            if kind == "phase":
                marks[event["name"]] = {
                    "server": sample_all(app_pids), "loadgen": sample(generator.pid), "cores": core_ticks(),
                    **{name: sample(pid) for name, pid in extra_pids.items()},
                }
                if event["name"] == profile_at and profile is not None:
                    spy = start_profile(server.process.pid, profile, core=core)
            elif kind == "result":
                result = event["result"]
            elif kind == "error":
                errors.append(event.get("message", ""))
            elif kind == "warning":
                warnings.append(event.get("message", ""))
        else:
            errors.append(f"load generator still running after {config['max_runtime_s'] + 15} s; killed")
    finally:
        stop(generator)
        sampler.halt.set()
        sampler.join(timeout=2)
        if spy is not None:
            try:
                spy.wait(timeout=30)
            except subprocess.TimeoutExpired:
                stop(spy)
    if result is None:
        raise RuntimeError(f"{name}: no result; {errors or 'no error printed'}; see {stderr_path}\n{server.log()}")

    figures: dict[str, Any] = {"errors": errors, "warnings": warnings[:10]}
    for begin, end, prefix in (("measure_start", "measure_end", ""), ("saturate_start", "saturate_end", "saturate_")):
        if begin in marks and end in marks:
            figures[prefix + "server_proc"] = window(marks[begin]["server"], marks[end]["server"])
            figures[prefix + "loadgen_proc"] = window(marks[begin]["loadgen"], marks[end]["loadgen"])
            on_server_core = [figures[prefix + "server_proc"]]
            for extra in extra_pids:  # Redis: measured apart from the server, pinned to its core
                figures[prefix + extra + "_proc"] = window(marks[begin][extra], marks[end][extra])
                on_server_core.append(figures[prefix + extra + "_proc"])
            figures[prefix + "cores"] = contention(
                marks[begin], marks[end], server_core=server.core, server_cpu=_sum_utilization(on_server_core),
                loadgen_cpu=figures[prefix + "loadgen_proc"], loadgen_core=core,
            )
    if "baseline" in marks and "connected" in marks:
        before, after = marks["baseline"]["server"], marks["connected"]["server"]
        connected = result.get("connected") or 0
        if before and after and connected:
            figures["server_proc"] = {
                "rss_before_bytes": before.rss_bytes,
                "rss_after_bytes": after.rss_bytes,
                "bytes_per_connection": (after.rss_bytes - before.rss_bytes) / connected,
                "connect_cpu_seconds": round(after.cpu_s - before.cpu_s, 3),
                "connect_cpu_us_per_connection": round((after.cpu_s - before.cpu_s) * 1e6 / connected),
            }
        if "held" in marks and marks["held"]["server"] and after and "server_proc" in figures:
            held = window(after, marks["held"]["server"])
            figures["server_proc"]["idle_cpu_utilization"] = held["cpu_utilization"]
    figures.setdefault("server_proc", {})["peak_rss_bytes"] = sampler.peak_rss("server")
    figures["loadgen_peak_rss_bytes"] = sampler.peak_rss("loadgen")
    for extra in extra_pids:
        figures.setdefault(extra + "_proc", {})["peak_rss_bytes"] = sampler.peak_rss(extra)
    if len(app_pids) > 1:
        figures["server_processes"] = len(app_pids)
    return {"result": result, **figures}


def start_profile(pid: int, profile: dict, *, core: int | None) -> subprocess.Popen | None:
    """py-spy record on the server during the measured phase (non-blocking: it never pauses it)."""
    py_spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    if not Path(py_spy).exists():
        profile["error"] = "py-spy is not installed (pip install -r requirements-dev.txt)"
        return None
    cmd = [
        py_spy, "record", "--pid", str(pid), "--rate", str(PROFILE_HZ), "--nonblocking", "--format", "raw",
        "--output", str(profile["raw_path"]), "--duration", str(int(profile["duration_s"])),
    ]
    log = open(profile["log_path"], "wb")
    process = spawn(cmd, core=core, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    return process


# -- the scenarios ---------------------------------------------------------------------

@dataclass
class Bench:
    """One benchmark run: its plan, its servers, what it measured."""

    mode: str
    plan: Plan
    out: Path
    server_core: int | None
    loadgen_core: int | None
    profile: bool
    only: set[str] | None
    servers: set[str] | None = None  # --server: run only these server kinds (None: all)
    started: float = field(default_factory=time.monotonic)
    runs: list[dict] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    cookies: list[str] = field(default_factory=list)
    db_url: str = ""
    profiles: dict = field(default_factory=dict)

    def elapsed(self) -> float:
        """Seconds since this run started."""
        return time.monotonic() - self.started

    def over_budget(self, what: str) -> bool:
        """Whether the time budget is spent; then the run is skipped, and said so."""
        if time.monotonic() - self.started > self.plan.budget_s:
            self.skipped.append(what)
            print(f"  skipped {what}: the {self.plan.budget_s:.0f} s budget is spent", flush=True)
            return True
        return False

    def measure(self, kind: ServerKind, config: dict, name: str, profile: dict | None = None) -> dict | None:
        """Run config on a fresh server; once more if other processes took much of its core, keeping the less disturbed run.

        A run that fails is reported in `failures` (the bench then exits non-zero) and the others go on.
        """
        attempts: list[dict] = []
        for attempt in range(1 + self.plan.contention_retries):
            try:
                with self.server(kind) as server:
                    measured = run_loadgen(
                        config, server=server, out=self.out, name=name, core=self.loadgen_core,
                        profile=profile if attempt == 0 else None,
                    )
            except RuntimeError as error:
                self.failures.append(f"{name}: {error}")
                print(f"    FAILED: {str(error)[:2000]}", flush=True)
                break
            measured["attempt"] = attempt + 1
            attempts.append(measured)
            others = disturbance(measured)
            if others is None or others <= CONTENTION_RETRY_ABOVE or self.elapsed() > self.plan.retry_until_s:
                break
            if attempt < self.plan.contention_retries:
                print(f"    other processes used {others:.2f} of the server's core: running it once more", flush=True)
        if not attempts:
            return None
        best = min(attempts, key=lambda m: disturbance(m) or 0.0)
        best["attempts_disturbance"] = [disturbance(m) for m in attempts]
        return best

    def server(self, kind: ServerKind) -> Server:
        return Server(kind, db_url=self.db_url, log_dir=self.out / "logs", core=self.server_core)

    def record(self, scenario: str, kind: ServerKind, params: dict, measured: dict) -> None:
        self.runs.append({"scenario": scenario, "server": kind.name, "server_label": kind.label, "params": params, **measured})
        self.out.mkdir(parents=True, exist_ok=True)
        (self.out / "results.json").write_text(json.dumps(self.report(), indent=1))

    def wanted(self, scenario: str) -> bool:
        return self.only is None or scenario in self.only

    def kind_wanted(self, kind: ServerKind) -> bool:
        return self.servers is None or kind.name in self.servers

    # Each scenario starts a fresh server per (scenario, server) and stops it after.

    def fanout(self) -> None:
        plan = self.plan
        for clients, rate in plan.fanout:
            for kind in FANOUT_SERVERS:
                only_at = {CHATAPP_NODELAY: plan.nodelay_fanout, CHATAPP_DEFLATE: plan.deflate_fanout, CHATAPP_2PROC: plan.two_process_fanout}
                if kind in only_at and clients not in only_at[kind] or not self.kind_wanted(kind):
                    continue
                config = {
                    "scenario": "fanout",
                    "clients": clients,
                    "rate": rate,
                    "room": f"fanout-c{clients}-{kind.name}" if kind.is_chatapp else "fanout",
                    "duration_s": plan.fanout_duration_s,
                    "drain_s": plan.fanout_drain_s,
                    "saturate_s": plan.fanout_saturate_s,
                    "saturate_window": plan.saturate_window,
                    "warmup_messages": plan.warmup_messages,
                    "body_chars": 100,
                    "receiver_cookies": self.cookies[1 : 1 + plan.fanout_users] if kind.is_chatapp else [],
                    "sender_cookie": self.cookies[0] if kind.is_chatapp else "",
                    "max_runtime_s": 60 + clients * 0.15 + plan.fanout_duration_s + plan.fanout_drain_s + plan.fanout_saturate_s + 15,
                }
                profiled = self.profile and kind is CHATAPP and clients == plan.profile_clients
                self._run(
                    "fanout", kind, name=f"fanout-c{clients}-{kind.name}", params={"clients": clients, "rate": rate}, config=config,
                    what=f"{clients} clients, {rate} msg/s for {plan.fanout_duration_s} s",
                    profile=self._profile_plan(f"fanout-c{clients}", plan.fanout_saturate_s) if profiled else None,
                    profile_title=f"py-spy profile of chatapp (eventlet) during fan-out at full load (the saturation phase), "
                    f"{clients} clients in one room, compression off",
                )

    def _run(self, scenario: str, kind: ServerKind, *, name: str, what: str, params: dict, config: dict,
             profile: dict | None = None, profile_title: str = "") -> None:
        """Measure one server in one scenario (unless the time budget is spent; py-spy alongside when
        profile is a plan), print it and record it under params."""
        if self.over_budget(name):
            return
        print(f"  [{self.elapsed():.0f} s] {name}: {what}", flush=True)
        measured = self.measure(kind, config, name, profile)
        if measured is None:
            return
        if profile is not None:
            measured["profile"] = self._profile_result(profile, title=profile_title)
        self.record(scenario, kind, params, measured)
        self._print(measured)

    def _profile_plan(self, label: str, seconds: float) -> dict:
        return {
            "label": label,
            "raw_path": self.out / f"profile-{label}.collapsed.txt",
            "log_path": self.out / "logs" / f"py-spy-{label}.log",
            "duration_s": seconds,
        }

    def _profile_result(self, profile: dict, *, title: str) -> dict:
        raw = Path(profile["raw_path"])
        if not raw.exists() or raw.stat().st_size == 0:
            log = Path(profile["log_path"])
            error = profile.get("error") or (log.read_text(errors="replace")[-2000:] if log.exists() else "no output")
            print(f"    py-spy failed: {error}", flush=True)
            return {"error": error}
        summary_path = self.out / f"profile-{profile['label']}.txt"
        summary = summarize_profile(raw, summary_path, title=title)
        self.profiles[profile["label"]] = {"title": title, **summary}
        return {"raw": raw.name, "summary": summary_path.name, "samples": summary["samples"]}

    def write_path(self) -> None:
        plan = self.plan
        for senders, room_count in plan.write:
            for kind in WRITE_SERVERS:
                if not self.kind_wanted(kind):
                    continue
                rooms = write_rooms(kind, senders, room_count)
                config = {
                    "scenario": "write",
                    "senders": senders,
                    "rooms": rooms,
                    "sender_cookies": self.cookies[:senders] if kind.is_chatapp else [],
                    "duration_s": plan.write_duration_s,
                    "warmup_s": plan.write_warmup_s,
                    "body_chars": 100,
                    "max_runtime_s": 60 + plan.write_duration_s + plan.write_warmup_s + 30,
                }
                profiled = self.profile and kind is CHATAPP and senders == plan.profile_senders
                self._run(
                    "write", kind, name=f"write-s{senders}-{kind.name}", params={"senders": senders, "rooms": room_count},
                    config=config, what=f"{senders} senders in {room_count} rooms for {plan.write_duration_s} s",
                    profile=self._profile_plan(f"write-s{senders}", plan.write_duration_s) if profiled else None,
                    profile_title=f"py-spy profile of chatapp (eventlet) on the write path, {senders} senders in {room_count} rooms",
                )

    def connections(self) -> None:
        plan = self.plan
        for kind in (CHATAPP, PYTHON_BASELINE, NODE):
            if not self.kind_wanted(kind):
                continue
            config = {
                "scenario": "connections",
                "clients": plan.connections,
                "cookies": self.cookies if kind.is_chatapp else [],
                "hold_s": plan.connections_hold_s,
                "settle_s": plan.connections_settle_s,
                "connect_concurrency": 50,
                "connect_timeout_s": 10,
                "max_runtime_s": 60 + plan.connections * 0.05 + plan.connections_hold_s,
            }
            self._run("connections", kind, name=f"connections-n{plan.connections}-{kind.name}",
                      params={"clients": plan.connections}, config=config,
                      what=f"{plan.connections} idle WebSocket connections")

    def polling(self) -> None:
        plan = self.plan
        for kind in (CHATAPP, PYTHON_BASELINE, NODE):
            if not self.kind_wanted(kind):
                continue
            config = {
                "scenario": "polling",
                "clients": plan.polling_clients,
                "rate": plan.polling_rate,
                "room": "polling",
                "duration_s": plan.polling_duration_s,
                "drain_s": 10,
                "warmup_messages": plan.warmup_messages,
                "body_chars": 100,
                "receiver_cookies": self.cookies[1 : 1 + plan.fanout_users] if kind.is_chatapp else [],
                "sender_cookie": self.cookies[0] if kind.is_chatapp else "",
                "connect_concurrency": 20,
                "max_runtime_s": 60 + plan.polling_clients * 0.2 + plan.polling_duration_s + 25,
            }
            self._run("polling", kind, name=f"polling-p{plan.polling_clients}-{kind.name}",
                      params={"clients": plan.polling_clients, "rate": plan.polling_rate}, config=config,
                      what=f"{plan.polling_clients} long-polling clients, {plan.polling_rate} msg/s")

    def history(self) -> None:
        """50-message pages from a room of plan.history_messages: in-process, end to end, and the query plan."""
        plan = self.plan
        name = f"history-m{plan.history_messages}-chatapp"
        if not self.kind_wanted(CHATAPP) or self.over_budget(name):
            return
        print(f"  [{self.elapsed():.0f} s] {name}: {history.PAGE}-message pages, room of {plan.history_messages:,} messages", flush=True)
        logs = self.out / "logs"
        workdir = Path(tempfile.mkdtemp(prefix="chatapp-history-"))
        try:
            cached, build = history_database(plan.history_messages, core=self.server_core, log=logs / "history-build.log")
            print(f"    database {'reused' if build['cached'] else 'built'}: {build['messages_in_room']:,} messages in the room, "
                  f"{build['build_seconds']} s to build, {build['file_bytes'] / 2**20:.0f} MiB ({cached.name})", flush=True)
            copy = workdir / "history.sqlite3"  # the servers and the index experiment write to a copy, never the cache
            shutil.copyfile(cached, copy)
            pages = ["--pages", str(plan.history_pages), "--newest", str(plan.history_newest)]
            service = history_tool(["service", "--db", str(copy), *pages], core=self.server_core,
                                   timeout=120 + plan.history_pages, log=logs / "history-service.log")
            with Server(CHATAPP, db_url=f"sqlite:///{copy}", log_dir=logs, core=self.server_core) as server:
                config = {
                    "scenario": "history",
                    "room": history.ROOM,
                    "cookies": [login(server.url, "hist01")],
                    "befores": service["befores"],
                    "newest_repeats": plan.history_newest,
                    "limit": history.PAGE,
                    "max_runtime_s": 60 + plan.history_pages,
                }
                measured = run_loadgen(config, server=server, out=self.out, name=name, core=self.loadgen_core)
            without = None
            if plan.history_without_index_pages:
                without = history_tool(
                    ["service", "--db", str(copy), "--drop-index", "--pages", str(plan.history_without_index_pages), "--newest", "2"],
                    core=self.server_core, timeout=300, log=logs / "history-service.log",
                )
        except (RuntimeError, OSError, ValueError) as error:
            self.failures.append(f"{name}: {error}")
            print(f"    FAILED: {str(error)[:2000]}", flush=True)
            return
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        for result in (service, without):
            if result is not None:
                result.pop("befores", None)  # the loadgen's config keeps them
        measured.update(build=build, service=service, service_without_index=without)
        self.record("history", CHATAPP, {"messages": plan.history_messages}, measured)
        e2e = measured["result"]["random_page_ms"]
        print(f"    in-process p50 {_fmt(service['random_page_ms']['p50'])} p99 {_fmt(service['random_page_ms']['p99'])} ms "
              f"({service['statements_per_page']} statements/page); end to end p50 {_fmt(e2e['p50'])} p99 {_fmt(e2e['p99'])} ms; "
              f"newest page {_fmt(service['newest_page_ms']['p50'])} / {_fmt(measured['result']['newest_page_ms']['p50'])} ms"
              + (f"; without the index p50 {_fmt(without['random_page_ms']['p50'])} ms" if without else ""), flush=True)
        print(f"    plan: {' | '.join(service['query_plan'])}", flush=True)

    @staticmethod
    def _print(measured: dict) -> None:
        r = measured["result"]
        server = measured.get("server_proc", {})
        bits = []
        if "delivered_per_s" in r:
            lat = r["latency_ms"]
            bits += [
                f"delivered {r['delivered']}/{r['expected']} ({r['delivered_per_s']:.0f}/s)",
                f"p50 {_fmt(lat['p50'])} p99 {_fmt(lat['p99'])} max {_fmt(lat['max'])} ms",
                f"join {r['join_seconds']:.1f} s",
            ]
        if "acked_per_s" in r:
            lat = r["ack_latency_ms"]
            bits += [f"acked {r['acked_per_s']:.0f}/s", f"ack p50 {_fmt(lat['p50'])} p99 {_fmt(lat['p99'])} ms", f"errors {r['errors']}"]
        if "bytes_per_connection" in server:
            bits.append(f"{server['bytes_per_connection'] / 1024:.1f} KiB/connection, {r['connects_per_s']:.0f} connects/s")
        if server.get("cpu_utilization") is not None:
            bits.append(f"server CPU {server['cpu_utilization']:.2f}" + (f" ({measured['server_processes']} processes)" if measured.get("server_processes") else ""))
        if measured.get("redis_proc", {}).get("cpu_utilization") is not None:
            bits.append(f"Redis CPU {measured['redis_proc']['cpu_utilization']:.2f}")
        generator = r.get("loadgen", {})
        if generator.get("cpu_utilization") is not None:
            bits.append(f"loadgen CPU {generator['cpu_utilization']:.2f}")
        cores = measured.get("cores", {})
        if cores.get("server_core_others") is not None:
            bits.append(f"others on server core {cores['server_core_others']:.2f}, on loadgen core {cores['loadgen_core_others']:.2f}")
        print("    " + "; ".join(bits), flush=True)

    def report(self) -> dict:
        return {
            "mode": self.mode,
            "machine": machine_info(self.server_core, self.loadgen_core),
            "plan": self.plan.__dict__,
            "chatapp_env": {
                **RATE_LIMIT_ENV,
                "SOCKETIO_WEBSOCKET_COMPRESSION": "0 (chatapp) / 1 (chatapp-deflate)",
                "SOCKETIO_MESSAGE_QUEUE, RATELIMIT_STORAGE_URI, PRESENCE_URL": "one redis-server (chatapp-2proc-redis only; else unset)",
            },
            "elapsed_s": round(time.monotonic() - self.started, 1),
            "skipped": self.skipped,
            "failures": self.failures,
            "runs": self.runs,
            "ratios": ratios(self.runs),
            "profiles": self.profiles,
        }


def write_rooms(kind: ServerKind, senders: int, room_count: int) -> list[str]:
    """The write path's rooms: fresh ones for each chatapp variant and size."""
    return [f"write-{kind.name}-s{senders}-{n:03d}" for n in range(room_count)]

# -- history paging (bench/history.py) ---------------------------------------------------


HISTORY_CACHE = RESULTS_DIR / "cache"  # git-ignored, reused between runs
HISTORY_BUILD_TIMEOUT_S = 180  # a million rows take about 40 s on a quiet core; once, then cached


def history_tool(args: list[str], *, core: int | None, timeout: float, log: Path) -> dict:
    """Run bench/history.py (pinned like a server); the JSON it prints last."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "ab") as stderr:
        process = spawn([sys.executable, str(BENCH_DIR / "history.py"), *args], core=core, cwd=PROJECT_ROOT,
                        stdout=subprocess.PIPE, stderr=stderr)
    try:
        out, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        stop(process)
        raise RuntimeError(f"bench/history.py {args[0]} took over {timeout:.0f} s (see {log})") from None
    if process.returncode != 0:
        raise RuntimeError(f"bench/history.py {args[0]} exited with {process.returncode} (see {log})")
    return json.loads(out.decode().strip().splitlines()[-1])


def history_database(messages: int, *, core: int | None, log: Path) -> tuple[Path, dict]:
    """The cached database whose big room holds `messages` (built first if missing or its migrations changed)."""
    HISTORY_CACHE.mkdir(parents=True, exist_ok=True)
    key = history.cache_key(messages)
    cached, info = HISTORY_CACHE / f"{key}.sqlite3", HISTORY_CACHE / f"{key}.json"
    if cached.exists() and info.exists():
        return cached, {**json.loads(info.read_text()), "cached": True}
    for stale in [*HISTORY_CACHE.glob(f"history-{messages}-*.sqlite3"), *HISTORY_CACHE.glob(f"history-{messages}-*.json")]:
        stale.unlink(missing_ok=True)
    partial = HISTORY_CACHE / f"{key}.{os.getpid()}.partial"
    try:
        built = history_tool(["build", "--messages", str(messages), "--out", str(partial)], core=core,
                             timeout=HISTORY_BUILD_TIMEOUT_S, log=log)
        os.replace(partial, cached)  # whole or not at all, should two runs build at once
    finally:
        partial.unlink(missing_ok=True)
    info.write_text(json.dumps(built))
    return cached, {**built, "cached": False}


# -- set-up -------------------------------------------------------------------------

def ensure_node_packages() -> None:
    """npm ci in bench/loadgen and bench/node-baseline when their node_modules are missing or stale."""
    for folder in (BENCH_DIR / "loadgen", BENCH_DIR / "node-baseline"):
        marker = folder / "node_modules" / ".package-lock.json"
        lock = folder / "package-lock.json"
        if marker.exists() and marker.stat().st_mtime >= lock.stat().st_mtime:
            continue
        print(f"npm ci in {folder.relative_to(PROJECT_ROOT)}", flush=True)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=folder, check=True, timeout=600)


def raise_open_files() -> int:
    """Lift this process's open-files soft limit to the hard one; the servers and the generator inherit it.

    The generator holds a socket per client, and each server one per connection: 10,000 idle
    connections need more than the usual soft limit of 1024.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else hard
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pick_cores() -> tuple[int | None, int | None, str]:
    """Server on one core, load generator (and this driver) on another, when there are two."""
    if shutil.which("taskset") is None:
        return None, None, "taskset not found: nothing pinned"
    try:
        allowed = sorted(os.sched_getaffinity(0))
    except AttributeError:
        return None, None, "no sched_getaffinity: nothing pinned"
    if len(allowed) < 2:
        return None, None, f"only {len(allowed)} core: server and load generator share it"
    return allowed[0], allowed[1], f"server on core {allowed[0]}, load generator and driver on core {allowed[1]}"
