"""chatapp's benchmark: chatapp, a bare Node Socket.IO server and a bare python-socketio one, side by side, in one run.

    python bench/bench.py --mode full  [--out DIR]     # `make bench`, under 10 minutes
    python bench/bench.py --mode smoke [--out DIR]     # `make bench-smoke`, seconds; run by the tests

Every server runs on 127.0.0.1, pinned to core 0 (when the machine has two cores or
more); one Node load generator (bench/loadgen) drives them all from core 1. This driver
seeds chatapp's database through chatapp's own services, logs the users in through the
real login form, hands their session cookies to the load generator, samples the CPU
time and RSS of the server and of the generator from /proc, and writes results.json,
results.md and PNG plots into the output folder. See docs/performance.md.
"""
from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import os
import platform
import queue
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import history  # bench/history.py: the big room's database and the in-process page timing

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
LOADGEN = BENCH_DIR / "loadgen" / "loadgen.js"
NODE_BASELINE = BENCH_DIR / "node-baseline" / "server.js"
RESULTS_DIR = BENCH_DIR / "results"  # git-ignored

USER_AGENT = "chatapp-bench/1"
PASSWORD = "bench-password-42"
SECRET_KEY = "chatapp-bench-secret-key"
START_TIMEOUT_S = 30
# A run in which other processes used more than this share of the server's core is run again (once).
CONTENTION_RETRY_ABOVE = 0.25
PROFILE_HZ = 250
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")
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


# -- the plan -------------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """How big each scenario is in one mode."""

    users: int  # chatapp accounts made and logged in (write-path senders need one each)
    fanout_users: int  # receivers share these accounts (several sockets per account, like tabs)
    fanout: tuple[tuple[int, int], ...]  # (clients C, offered messages/s R)
    fanout_duration_s: float
    fanout_drain_s: float
    fanout_saturate_s: float  # then the max-throughput phase, on the same connections
    saturate_window: int  # messages in flight during it
    nodelay_fanout: tuple[int, ...]  # fan-out sizes that also run the TCP_NODELAY experiment
    deflate_fanout: tuple[int, ...]  # fan-out sizes that also run chatapp with permessage-deflate on
    two_process_fanout: tuple[int, ...]  # fan-out sizes that also run two chatapp processes with Redis
    warmup_messages: int
    write: tuple[tuple[int, int], ...]  # (senders S, rooms K): S=1 shows one send's latency, large S the capacity
    write_duration_s: float
    write_warmup_s: float
    connections: int
    connections_hold_s: float
    connections_settle_s: float  # wait before each RSS reading, for the server to finish the work of connecting
    polling_clients: int
    polling_rate: int
    polling_duration_s: float
    profile_clients: int | None  # the fan-out size profiled with py-spy (None: no profile)
    profile_senders: int | None  # the write-path size profiled with py-spy
    history_messages: int  # history paging: messages in the one big room (bench/history.py builds it, cached)
    history_pages: int  # 50-message pages at random `before` positions, in-process and end to end
    history_newest: int  # then the newest page, this many times
    history_without_index_pages: int  # the same pages with ix_message_room_id_id dropped (0: not measured)
    budget_s: float  # runs that would start past this are skipped and reported so
    contention_retries: int  # runs again (at most this often) when other processes took much of the server's core
    retry_until_s: float  # no retries after this many seconds, so that the budget holds


PLANS = {
    "full": Plan(
        users=50,
        fanout_users=20,
        fanout=((100, 100), (500, 40), (1000, 20)),
        fanout_duration_s=8,
        fanout_drain_s=10,
        fanout_saturate_s=5,
        saturate_window=8,
        # wsgi.py sets TCP_NODELAY itself now, so the experiment would repeat chatapp's run; deflate and
        # two processes at one size only: with 10,000 connections and history paging the run stays under 10 minutes.
        nodelay_fanout=(),
        deflate_fanout=(500,),
        two_process_fanout=(500,),
        warmup_messages=5,
        write=((1, 1), (50, 25)),
        write_duration_s=8,
        write_warmup_s=2,
        connections=10_000,
        connections_hold_s=3,
        connections_settle_s=2,
        polling_clients=100,
        polling_rate=10,
        polling_duration_s=8,
        profile_clients=500,
        profile_senders=50,
        history_messages=1_000_000,
        history_pages=200,
        history_newest=20,
        history_without_index_pages=10,
        budget_s=500,
        contention_retries=1,
        retry_until_s=300,
    ),
    "smoke": Plan(
        users=4,
        fanout_users=3,
        fanout=((5, 20),),
        fanout_duration_s=0.5,
        fanout_drain_s=5,
        fanout_saturate_s=0.5,
        saturate_window=4,
        nodelay_fanout=(),  # the experiment still runs in the write path
        deflate_fanout=(5,),
        two_process_fanout=(5,),
        warmup_messages=2,
        write=((4, 2),),
        write_duration_s=0.5,
        write_warmup_s=0.2,
        connections=10,
        connections_hold_s=0.5,
        connections_settle_s=0.5,
        polling_clients=3,
        polling_rate=10,
        polling_duration_s=0.5,
        profile_clients=None,
        profile_senders=None,
        history_messages=2_000,
        history_pages=10,
        history_newest=3,
        history_without_index_pages=3,
        budget_s=240,
        contention_retries=0,
        retry_until_s=0,
    ),
}


@dataclass(frozen=True)
class ServerKind:
    """One server under test."""

    name: str
    label: str
    is_chatapp: bool
    websocket_compression: bool = False
    entry: str = "wsgi.py"  # chatapp's start-up script, relative to the project root
    # More than 1: that many chatapp processes (one port each, one SQLite file, one SECRET_KEY)
    # sharing one redis-server for the Socket.IO message queue, the rate limits and presence.
    processes: int = 1


CHATAPP = ServerKind("chatapp", "chatapp", True)
CHATAPP_DEFLATE = ServerKind("chatapp-deflate", "chatapp, permessage-deflate on", True, websocket_compression=True)
# An experiment, not the app: the same wsgi.py with TCP_NODELAY on the listening socket.
CHATAPP_NODELAY = ServerKind("chatapp-nodelay", "chatapp + TCP_NODELAY (experiment)", True, entry="bench/chatapp_nodelay.py")
# Two chatapp processes behind one Redis; the load generator connects to each directly
# (receivers round-robin, the sender on the first), so half the deliveries cross Redis.
CHATAPP_2PROC = ServerKind("chatapp-2proc-redis", "chatapp, 2 processes + Redis", True, processes=2)
NODE = ServerKind("node", "Node socket.io 4.8", False)
# Node's baseline on chatapp's stack (python-socketio on eventlet, nothing of the app): what the
# stack costs apart from what the app does on it.
PYTHON_BASELINE = ServerKind("python-socketio", "bare python-socketio on eventlet", False, entry="bench/python-baseline/server.py")
ALL_SERVERS = (CHATAPP, CHATAPP_2PROC, CHATAPP_DEFLATE, CHATAPP_NODELAY, PYTHON_BASELINE, NODE)
FANOUT_SERVERS = (CHATAPP, CHATAPP_2PROC, CHATAPP_DEFLATE, CHATAPP_NODELAY, PYTHON_BASELINE, NODE)
WRITE_SERVERS = (CHATAPP, CHATAPP_NODELAY, PYTHON_BASELINE, NODE)


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


@dataclass
class ProcSample:
    """CPU seconds (user+system) and resident memory of one process at one moment."""

    t: float
    cpu_s: float
    rss_bytes: int


def sample(pid: int) -> ProcSample | None:
    """Read /proc/<pid>/stat and statm; None once the process is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        statm = Path(f"/proc/{pid}/statm").read_text().split()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return ProcSample(t=time.monotonic(), cpu_s=(utime + stime) / CLK_TCK, rss_bytes=int(statm[1]) * PAGE_SIZE)


def sample_all(pids: list[int]) -> ProcSample | None:
    """CPU seconds and RSS summed over several processes at one moment; None once one is gone."""
    got = [sample(pid) for pid in pids]
    if not got or any(g is None for g in got):
        return None
    return ProcSample(t=max(g.t for g in got), cpu_s=sum(g.cpu_s for g in got), rss_bytes=sum(g.rss_bytes for g in got))  # type: ignore[union-attr]


def core_ticks() -> dict[int, tuple[int, int]]:
    """(busy, total) clock ticks of each core since boot, from /proc/stat."""
    ticks = {}
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            name, *values = line.split()
            if name.startswith("cpu") and name[3:].isdigit():
                numbers = [int(v) for v in values[:8]]
                idle = numbers[3] + numbers[4]  # idle + iowait
                ticks[int(name[3:])] = (sum(numbers) - idle, sum(numbers))
    except OSError:
        pass
    return ticks


def core_busy(start: dict, end: dict, core: int | None) -> float | None:
    """How busy one core was between two core_ticks() readings (1.0 = fully)."""
    if core is None or core not in start or core not in end:
        return None
    busy = end[core][0] - start[core][0]
    total = end[core][1] - start[core][1]
    return round(busy / total, 3) if total > 0 else None


def window(start: ProcSample | None, end: ProcSample | None) -> dict:
    """CPU used between two samples, as seconds and as a share of one core."""
    if start is None or end is None or end.t <= start.t:
        return {"cpu_seconds": None, "wall_seconds": None, "cpu_utilization": None}
    cpu = end.cpu_s - start.cpu_s
    return {"cpu_seconds": round(cpu, 3), "wall_seconds": round(end.t - start.t, 3), "cpu_utilization": round(cpu / (end.t - start.t), 3)}


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

class Sampler(threading.Thread):
    """Samples the server's and the generator's CPU and RSS every 0.25 s (for peaks)."""

    def __init__(self, pids: dict[str, list[int]]) -> None:
        super().__init__(daemon=True)
        self.pids = pids
        self.samples: dict[str, list[ProcSample]] = {name: [] for name in pids}
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(0.25):
            for name, pids in self.pids.items():
                got = sample_all(pids)
                if got:
                    self.samples[name].append(got)

    def peak_rss(self, name: str) -> int | None:
        values = [s.rss_bytes for s in self.samples[name]]
        return max(values) if values else None


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
                marks[begin], marks[end], server=server, server_cpu=_sum_utilization(on_server_core),
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


def _sum_utilization(windows: list[dict]) -> dict:
    """The CPU share of several processes together (None if any is unknown)."""
    values = [w.get("cpu_utilization") for w in windows]
    return {"cpu_utilization": None if any(v is None for v in values) else round(sum(values), 3)}


def contention(
    start: dict, end: dict, *, server: Server, server_cpu: dict, loadgen_cpu: dict, loadgen_core: int | None
) -> dict:
    """How busy the server's and the generator's cores were, and how much of that was other processes."""
    server_busy = core_busy(start["cores"], end["cores"], server.core)
    loadgen_busy = core_busy(start["cores"], end["cores"], loadgen_core)
    server_cpu = server_cpu.get("cpu_utilization")
    loadgen_cpu = loadgen_cpu.get("cpu_utilization")
    return {
        "server_core_busy": server_busy,
        # Anything else that ran on the server's core meanwhile (this machine is shared).
        "server_core_others": None if server_busy is None or server_cpu is None else round(max(0.0, server_busy - server_cpu), 3),
        "loadgen_core_busy": loadgen_busy,
        "loadgen_core_others": None if loadgen_busy is None or loadgen_cpu is None else round(max(0.0, loadgen_busy - loadgen_cpu), 3),
    }


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


def summarize_profile(raw_path: Path, out_path: Path, *, title: str, top: int = 30) -> dict:
    """Self and inclusive sample counts per function from py-spy's collapsed stacks, as text.

    Also what chatapp's own functions (and the WebSocket writer) spend their time on: the
    direct callees of each, which is where a flame graph's eye would go first.
    """
    self_counts: dict[str, int] = {}
    total_counts: dict[str, int] = {}
    callees: dict[str, dict[str, int]] = {}
    total = 0
    for line in raw_path.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = [f for f in (_frame_name(frame) for frame in stack.split(";")) if f]
        if not frames:
            continue
        self_counts[frames[-1]] = self_counts.get(frames[-1], 0) + count
        for frame in set(frames):
            total_counts[frame] = total_counts.get(frame, 0) + count
        seen: set[tuple[str, str]] = set()
        for caller, callee in zip(frames, frames[1:] + ["(itself)"]):
            if (caller, callee) not in seen:  # recursion counts once
                seen.add((caller, callee))
                callees.setdefault(caller, {})
                callees[caller][callee] = callees[caller].get(callee, 0) + count

    def share(count: int) -> str:
        return f"{100 * count / max(total, 1):6.1f}%"

    lines = [title, f"{total} samples at {PROFILE_HZ} Hz (py-spy record --nonblocking; time idle in the event hub is not sampled)", ""]
    for heading, counts in (("Self time (the function itself)", self_counts), ("Inclusive time (the function and what it calls)", total_counts)):
        lines += [heading, f"{'share':>7} {'samples':>8}  function (file)"]
        for frame, count in sorted(counts.items(), key=lambda item: -item[1])[:top]:
            lines.append(f"{share(count)} {count:8d}  {frame}")
        lines.append("")
    focus = [
        frame for frame, count in sorted(total_counts.items(), key=lambda item: -item[1])
        if ("(chatapp/" in frame or "_websocket_handler.<locals>.writer" in frame or frame.startswith("Manager.emit ("))
        and count >= total * 0.02
    ]
    lines += ["Where chatapp's own functions, the room broadcast and the WebSocket writer spend it (direct callees, inclusive)", ""]
    for frame in focus[:12]:
        lines.append(f"{share(total_counts[frame])}  {frame}")
        for callee, count in sorted(callees.get(frame, {}).items(), key=lambda item: -item[1])[:6]:
            if count >= total * 0.005:
                lines.append(f"    {share(count)}  {callee}")
        lines.append("")
    out_path.write_text("\n".join(lines))
    return {
        "samples": total,
        "top_self": [(f, c) for f, c in sorted(self_counts.items(), key=lambda item: -item[1])[:15]],
        "top_inclusive": [(f, c) for f, c in sorted(total_counts.items(), key=lambda item: -item[1])[:25]],
    }


def _frame_name(frame: str) -> str:
    """'send (eventlet/websocket.py:812)' -> 'send (eventlet/websocket.py)', paths shortened."""
    frame = frame.strip()
    match = re.match(r"^(.*?) \((.*?)(?::\d+)?\)$", frame)
    if not match:
        return frame
    function, path = match.groups()
    for marker in ("site-packages/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = path.replace(str(PROJECT_ROOT) + "/", "")
    return f"{function} ({path})"


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


def _senders_and_rooms(text: str) -> tuple[int, int]:
    """"200:100" -> (200, 100): S senders spread over K rooms (two per room when K = S/2)."""
    senders, _, room_count = text.partition(":")
    pair = (int(senders), int(room_count or max(1, int(senders) // 2)))
    if not (1 <= pair[1] <= pair[0] <= 2000):
        raise argparse.ArgumentTypeError("S:K with 1 <= K <= S <= 2000")
    return pair


def write_rooms(kind: ServerKind, senders: int, room_count: int) -> list[str]:
    """The write path's rooms: fresh ones for each chatapp variant and size."""
    return [f"write-{kind.name}-s{senders}-{n:03d}" for n in range(room_count)]


def disturbance(measured: dict) -> float | None:
    """The largest share of the server's core that other processes used in a measured window."""
    values = [
        measured.get(key, {}).get("server_core_others") for key in ("cores", "saturate_cores")
    ]
    values = [v for v in values if v is not None]
    return max(values) if values else None


def _fmt(value: float | None) -> str:
    return "-" if value is None else (f"{value:.1f}" if value < 100 else f"{value:.0f}")


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


# -- the report ------------------------------------------------------------------------

def machine_info(server_core: int | None, loadgen_core: int | None) -> dict:
    """What the numbers were measured on."""
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_total = ""
    try:
        mem_total = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    except OSError:
        pass

    def version(module: str) -> str:
        try:
            from importlib.metadata import version as v

            return v(module)
        except Exception:  # noqa: BLE001
            return "?"

    def node_package(folder: str, package: str) -> str:
        try:
            return json.loads((BENCH_DIR / folder / "node_modules" / package / "package.json").read_text())["version"]
        except (OSError, ValueError, KeyError):
            return "?"

    node_version = subprocess.run(["node", "--version"], capture_output=True, text=True, timeout=10).stdout.strip()
    git = {"head": None, "changed_files": None}
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        status = subprocess.run(["git", "status", "--porcelain"], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=10)
        git = {"head": head.stdout.strip() or None, "changed_files": len(status.stdout.splitlines()) if status.returncode == 0 else None}
    except (OSError, subprocess.TimeoutExpired):
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "memory": mem_total,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "node": node_version,
        "load_average_at_report": os.getloadavg(),
        "git": git,
        "server_core": server_core,
        "loadgen_core": loadgen_core,
        "packages": {
            "eventlet": version("eventlet"),
            "Flask-SocketIO": version("Flask-SocketIO"),
            "python-socketio": version("python-socketio"),
            "python-engineio": version("python-engineio"),
            "SQLAlchemy": version("SQLAlchemy"),
            "socket.io (baseline)": node_package("node-baseline", "socket.io"),
            "socket.io-client (loadgen)": node_package("loadgen", "socket.io-client"),
        },
    }


def _find(runs: list[dict], scenario: str, server: str, **params: Any) -> dict | None:
    for run in runs:
        if run["scenario"] == scenario and run["server"] == server and all(run["params"].get(k) == v for k, v in params.items()):
            return run
    return None


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or b == 0:
        return None
    return round(a / b, 3)


def ratios(runs: list[dict]) -> list[dict]:
    """chatapp / node for each metric both measured."""
    rows = []
    for run in runs:
        if run["server"] == NODE.name:
            continue
        node = _find(runs, run["scenario"], NODE.name, **run["params"])
        if node is None:
            continue
        r, n = run["result"], node["result"]
        row = {"scenario": run["scenario"], "server": run["server"], "params": run["params"]}
        if run["scenario"] in ("fanout", "polling"):
            row["delivered_per_s"] = _ratio(r["delivered_per_s"], n["delivered_per_s"])
            row["latency_p50"] = _ratio(r["latency_ms"]["p50"], n["latency_ms"]["p50"])
            row["latency_p99"] = _ratio(r["latency_ms"]["p99"], n["latency_ms"]["p99"])
            row["server_cpu"] = _ratio(run.get("server_proc", {}).get("cpu_utilization"), node.get("server_proc", {}).get("cpu_utilization"))
            row["server_cpu_per_delivery"] = _ratio(server_cpu_per_unit(run), server_cpu_per_unit(node))
            if r.get("saturation") and n.get("saturation"):
                row["max_delivered_per_s"] = _ratio(r["saturation"]["delivered_per_s"], n["saturation"]["delivered_per_s"])
                row["max_load_cpu_per_delivery"] = _ratio(
                    server_cpu_per_unit(run, saturation=True), server_cpu_per_unit(node, saturation=True)
                )
        if run["scenario"] == "write":
            row["acked_per_s"] = _ratio(r["acked_per_s"], n["acked_per_s"])
            row["ack_latency_p50"] = _ratio(r["ack_latency_ms"]["p50"], n["ack_latency_ms"]["p50"])
            row["ack_latency_p99"] = _ratio(r["ack_latency_ms"]["p99"], n["ack_latency_ms"]["p99"])
            row["server_cpu_per_send"] = _ratio(server_cpu_per_unit(run), server_cpu_per_unit(node))
        if run["scenario"] == "connections":
            row["bytes_per_connection"] = _ratio(
                run.get("server_proc", {}).get("bytes_per_connection"), node.get("server_proc", {}).get("bytes_per_connection")
            )
            row["connected"] = _ratio(r["connected"], n["connected"])
            row["connect_cpu_per_connection"] = _ratio(
                run.get("server_proc", {}).get("connect_cpu_us_per_connection"), node.get("server_proc", {}).get("connect_cpu_us_per_connection")
            )
        rows.append(row)
    return rows


def write_markdown(report: dict, path: Path) -> None:
    """results.md: the tables docs/performance.md quotes."""
    runs = report["runs"]
    m = report["machine"]
    out = [
        f"# Benchmark results ({report['mode']} mode)",
        "",
        f"Machine: {m['cpus']} × {m['cpu']}, {m['memory']}, Linux {m['kernel']}; Python {m['python']}, Node {m['node']}. "
        f"{m.get('pinning', '')}. Load average at the end: {', '.join(f'{x:.2f}' for x in m['load_average_at_report'])}. "
        f"Run took {report['elapsed_s']} s. Finished {report.get('finished_at', '')}. "
        f"Code: git {m['git']['head']} with {m['git']['changed_files']} changed or new files in the work tree.",
        "",
        "Server CPU is a share of one core (1.00 = the whole core); \"others\" is what other processes used of the",
        "server's core in the same window (the machine is shared; a run disturbed by more than "
        f"{CONTENTION_RETRY_ABOVE} is run once more and the less disturbed one kept: \"best of 2\"); µs/delivery is the",
        "server's CPU time divided by the messages it delivered (or sends it acked), the figure least disturbed by other load.",
        "",
    ]
    if report["skipped"]:
        out += [f"Skipped (time budget): {', '.join(report['skipped'])}", ""]
    if report.get("failures"):
        out += ["Failed runs (see logs/):", ""] + [f"- {failure.splitlines()[0][:300]}" for failure in report["failures"]] + [""]

    def lat(r: dict, key: str = "latency_ms") -> str:
        x = r[key]
        return f"{_fmt(x['p50'])} / {_fmt(x['p99'])} / {_fmt(x['max'])}"

    def num(value: float | None, digits: int = 2) -> str:
        return "-" if value is None else f"{value:.{digits}f}"

    def cpu(run: dict) -> str:
        return num(run.get("server_proc", {}).get("cpu_utilization"))

    def others(run: dict, key: str = "cores") -> str:
        text = num(run.get(key, {}).get("server_core_others"))
        tries = len(run.get("attempts_disturbance") or [])
        return text + (f" (best of {tries})" if tries > 1 else "")

    def peak(run: dict) -> str:
        value = run.get("server_proc", {}).get("peak_rss_bytes")
        return "-" if value is None else f"{value / 2**20:.0f}"

    def per_unit(run: dict) -> str:
        return num(server_cpu_per_unit(run), 0)

    fan = [run for run in runs if run["scenario"] == "fanout"]
    if fan:
        out += [
            "## Fan-out at a fixed rate: one sender, R messages/s into one room of C WebSocket clients",
            "",
            "| C | R msg/s | server | delivered/s (offered) | latency p50 / p99 / max (ms) | lost | dup | join all C (s) | deflate | server CPU | µs/delivery | server peak RSS (MiB) | others on server core | loadgen CPU | loadgen loop delay p99 (ms) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in fan:
            r = run["result"]
            deflate = "yes" if (r["negotiated_extensions"] or "").startswith("permessage-deflate") else "no"
            out.append(
                f"| {r['clients']} | {r['offered_rate']} | {run['server_label']} | {r['delivered_per_s']:.0f} ({r['offered_deliveries_per_s']}) | {lat(r)} | "
                f"{r['lost']} | {r['duplicates']} | {r['join_seconds']:.1f} | {deflate} | {cpu(run)} | {per_unit(run)} | {peak(run)} | {others(run)} | "
                f"{r['loadgen']['cpu_utilization']:.2f} | {_fmt(r['loadgen']['event_loop_delay_ms']['p99'])} |"
            )
        out.append("")
    sat = [run for run in fan if run["result"].get("saturation")]
    if sat:
        out += [
            "## Fan-out at full load: the same room, keeping W messages in flight (a message is done when all C clients have it)",
            "",
            "| C | W | server | max delivered/s | messages/s | latency p50 / p99 / max (ms) | incomplete | server CPU | µs/delivery | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in sat:
            r, x = run["result"], run["result"]["saturation"]
            out.append(
                f"| {r['clients']} | {x['window']} | {run['server_label']} | {x['delivered_per_s']:.0f} | {x['messages_per_s']:.1f} | {lat(x)} | {x['incomplete']} | "
                f"{num(run.get('saturate_server_proc', {}).get('cpu_utilization'))} | {num(server_cpu_per_unit(run, saturation=True), 0)} | "
                f"{others(run, 'saturate_cores')} | {x['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
        fits = [(run_server, per_message_and_recipient(sat, run_server)) for run_server in dict.fromkeys(run["server"] for run in sat)]
        fits = [(name, fit) for name, fit in fits if fit is not None]
        if fits:
            out += [
                "Split of that CPU (least squares over the sizes C above, full load): µs/delivery = a / C + b, where a is",
                "what one message costs once (receiving the send, storing, acking: per message) and b what each recipient costs",
                "(queueing, framing and writing the frame: per delivery).",
                "",
                "| server | a: µs per message | b: µs per recipient | sizes |",
                "|---|---|---|---|",
            ]
            out += [f"| {SHORT_LABELS.get(name, name).replace(chr(10), ' ')} | {a:.0f} | {b:.1f} | {n} |" for name, (a, b, n) in fits]
            out.append("")
    wr = [run for run in runs if run["scenario"] == "write"]
    if wr:
        out += [
            "## Write path: S senders across K rooms, each sending when its last send was acked",
            "",
            "| S | K | server | acked sends/s | ack latency p50 / p99 / max (ms) | errors | server CPU | µs/send | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in wr:
            r = run["result"]
            out.append(
                f"| {r['senders']} | {r['rooms']} | {run['server_label']} | {r['acked_per_s']:.0f} | {lat(r, 'ack_latency_ms')} | {r['errors']} | "
                f"{cpu(run)} | {per_unit(run)} | {others(run)} | {r['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
    co = [run for run in runs if run["scenario"] == "connections"]
    if co:
        out += [
            "## Idle WebSocket connections held by one server process",
            "",
            "| tried | server | connected | RSS before (MiB) | RSS after (MiB) | KiB per connection | server CPU µs per connect | connects/s | still connected after hold | idle CPU | first refusal |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in co:
            r, proc = run["result"], run.get("server_proc", {})
            if "rss_before_bytes" not in proc:
                continue
            out.append(
                f"| {r['clients']} | {run['server_label']} | {r['connected']} | {proc['rss_before_bytes'] / 2**20:.1f} | {proc['rss_after_bytes'] / 2**20:.1f} | "
                f"{proc['bytes_per_connection'] / 1024:.1f} | {proc['connect_cpu_us_per_connection']} | {num(r['connects_per_s'], 0)} | {r['still_connected']} | "
                f"{num(proc.get('idle_cpu_utilization'), 3)} | {r['first_error'] or '-'} |"
            )
        out.append("")
    po = [run for run in runs if run["scenario"] == "polling"]
    if po:
        out += [
            "## Long-polling: P polling clients in one room, R messages/s from a WebSocket sender",
            "",
            "| P | R msg/s | server | delivered/s (offered) | latency p50 / p99 / max (ms) | lost | dup | server CPU | µs/delivery | others on server core | loadgen CPU |",
            "|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for run in po:
            r = run["result"]
            out.append(
                f"| {r['clients']} | {r['offered_rate']} | {run['server_label']} | {r['delivered_per_s']:.0f} ({r['offered_deliveries_per_s']}) | {lat(r)} | "
                f"{r['lost']} | {r['duplicates']} | {cpu(run)} | {per_unit(run)} | {others(run)} | {r['loadgen']['cpu_utilization']:.2f} |"
            )
        out.append("")
    hi = [run for run in runs if run["scenario"] == "history"]
    if hi:
        out += [
            f"## History paging: {history.PAGE}-message pages from one room (chatapp only: the Node baseline keeps no history)",
            "",
            "In-process: `list_messages` + `to_dict` in a fresh session, pinned to the server's core. End to end: the `history`",
            "event's ack over a WebSocket, one request at a time, at the same `before` positions. Random pages are cold for the",
            "Markdown cache; the newest page is the same page again (warm).",
            "",
            "| messages in room | what | random page p50 / p99 / max (ms) | of which query / to_dict p50 (ms) | CPU time per random page p50 (ms) | newest page p50 / p99 (ms) | SQL statements per page | pages |",
            "|---|---|---|---|---|---|---|---|",
        ]
        for run in hi:
            svc, e2e, bare = run["service"], run["result"], run.get("service_without_index")
            rows = [("in-process", svc), ("end to end (socket.io)", None)] + ([("in-process, index dropped", bare)] if bare else [])
            for what, figures in rows:
                page = figures["random_page_ms"] if figures else e2e["random_page_ms"]
                newest = figures["newest_page_ms"] if figures else e2e["newest_page_ms"]
                split = (f"{_fmt(figures['random_page_query_ms']['p50'])} / {_fmt(figures['random_page_to_dict_ms']['p50'])}"
                         if figures else "-")
                # End to end: the server's CPU time over the measured pages, per page (mean, not median).
                cpu_page = (_fmt((figures.get("random_page_cpu_ms") or {}).get("p50")) if figures else
                            _fmt(None if run.get("server_proc", {}).get("cpu_seconds") is None
                                 else run["server_proc"]["cpu_seconds"] * 1000 / e2e["pages"]) + " (server, mean)")
                out.append(
                    f"| {run['build']['messages_in_room']:,} | {what} | {lat({'x': page}, 'x')} | {split} | {cpu_page} | "
                    f"{_fmt(newest['p50'])} / {_fmt(newest['p99'])} | {', '.join(map(str, figures['statements_per_page'])) if figures else '-'} | "
                    f"{page['count']} |"
                )
            build = run["build"]
            out += [
                "",
                f"Database: {build['messages_total']:,} messages ({build['mentions']:,} with a mention) from {build['senders']} senders, "
                f"{build['file_bytes'] / 2**20:.0f} MiB, built in {build['build_seconds']} s"
                + (" (an earlier run; reused from bench/results/cache/)" if build["cached"] else " (this run)")
                + f". In-process, the timing process had {num(svc.get('cpu_share_while_timed'))} of its core while timed (1.00: it never"
                f" waited for another process); end to end, the server used {cpu(run)} of its core, and others {others(run)}.",
                "",
                "Query plan of the page query (`EXPLAIN QUERY PLAN`):",
                "",
                "```",
                *svc["query_plan"],
                "```",
            ]
            if bare:
                out += ["", "With `ix_message_room_id_id` dropped (a copy of the database):", "", "```", *bare["query_plan"], "```"]
            out.append("")
    two = [run for run in fan if run["server"] == CHATAPP_2PROC.name]
    if two:
        out += [
            "## Fan-out: two chatapp processes with Redis beside one process and Node (same C)",
            "",
            "Server CPU of the two-process row is both chatapp processes together; Redis is shown apart (it runs on the",
            "server's core too). Receivers are spread round-robin over the two processes, the sender is on the first.",
            "÷ 1 proc: the two-process figure divided by one-process chatapp's in the same run.",
            "",
            "| C | server | max delivered/s | ÷ 1 proc | ÷ Node | µs/delivery, full load (Redis apart) | ÷ 1 proc | Redis CPU, full load | "
            "latency p50 / p99 at R (ms) | p99 ÷ 1 proc | server CPU at R | Redis CPU at R | server peak RSS (MiB) |",
            "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
        ]
        for size in sorted({run["params"]["clients"] for run in two}):
            one = _find(runs, "fanout", CHATAPP.name, clients=size)
            node = _find(runs, "fanout", NODE.name, clients=size)
            for run in (one, _find(runs, "fanout", CHATAPP_2PROC.name, clients=size), node):
                if run is None:
                    continue
                r = run["result"]
                peak_value = (run.get("redis_proc") or {}).get("peak_rss_bytes")

                def sat_rate(x: dict | None) -> float | None:
                    return ((x or {}).get("result", {}).get("saturation") or {}).get("delivered_per_s")

                def p99(x: dict | None) -> float | None:
                    return None if x is None else x["result"]["latency_ms"]["p99"]

                def upd(x: dict | None) -> float | None:
                    return None if x is None else server_cpu_per_unit(x, saturation=True)

                is_two = run["server"] == CHATAPP_2PROC.name
                out.append(
                    f"| {size} | {run['server_label']} | {num(sat_rate(run), 0)} | {num(_ratio(sat_rate(run), sat_rate(one))) if is_two else ''} | "
                    f"{num(_ratio(sat_rate(run), sat_rate(node))) if run is not node else ''} | {num(upd(run), 0)} | "
                    f"{num(_ratio(upd(run), upd(one))) if is_two else ''} | {num(run.get('saturate_redis_proc', {}).get('cpu_utilization')) if is_two else ''} | "
                    f"{_fmt(r['latency_ms']['p50'])} / {_fmt(r['latency_ms']['p99'])} | {num(_ratio(p99(run), p99(one))) if is_two else ''} | "
                    f"{cpu(run)} | {num(run.get('redis_proc', {}).get('cpu_utilization')) if is_two else ''} | "
                    f"{peak(run)}{f' (+ Redis {peak_value / 2**20:.0f})' if peak_value else ''} |"
                )
        out.append("")
    rows = report["ratios"]
    if rows:
        out += ["## Ratios: chatapp ÷ Node baseline, same run (>1 means chatapp has more of it)", ""]
        tables = {
            "fanout": ["max_delivered_per_s", "max_load_cpu_per_delivery", "delivered_per_s", "latency_p50", "latency_p99", "server_cpu_per_delivery"],
            "write": ["acked_per_s", "ack_latency_p50", "ack_latency_p99", "server_cpu_per_send"],
            "connections": ["connected", "bytes_per_connection", "connect_cpu_per_connection"],
            "polling": ["delivered_per_s", "latency_p50", "latency_p99", "server_cpu", "server_cpu_per_delivery"],
        }
        for scenario, keys in tables.items():
            mine = [row for row in rows if row["scenario"] == scenario]
            if not mine:
                continue
            out += [f"| {scenario} | server | " + " | ".join(keys) + " |", "|---|---|" + "---|" * len(keys)]
            for row in mine:
                params = ", ".join(f"{k}={v}" for k, v in row["params"].items())
                out.append(f"| {params} | {row['server']} | " + " | ".join(num(row.get(k)) for k in keys) + " |")
            out.append("")
    for label, prof in (report.get("profiles") or {}).items():
        total = max(prof["samples"], 1)
        out += [f"## Profile {label} (py-spy): top functions by self time", "", prof["title"], "", "```"]
        out += [f"{100 * c / total:5.1f}%  {f}" for f, c in prof["top_self"]]
        out += ["```", f"Full summary: profile-{label}.txt; collapsed stacks (speedscope, flamegraph.pl): profile-{label}.collapsed.txt", ""]
    path.write_text("\n".join(out))


SHORT_LABELS = {
    CHATAPP.name: "chatapp",
    CHATAPP_2PROC.name: "chatapp\n2 proc + Redis",
    CHATAPP_DEFLATE.name: "chatapp\ndeflate on",
    CHATAPP_NODELAY.name: "chatapp\nTCP_NODELAY*",
    PYTHON_BASELINE.name: "bare\npython-socketio",
    NODE.name: "Node\nsocket.io",
}
COLORS = {CHATAPP.name: "#1f77b4", CHATAPP_2PROC.name: "#d62728", CHATAPP_DEFLATE.name: "#ff7f0e", CHATAPP_NODELAY.name: "#9467bd",
          PYTHON_BASELINE.name: "#8c564b", NODE.name: "#2ca02c"}


def per_message_and_recipient(runs: list[dict], server: str) -> tuple[float, float, int] | None:
    """(a, b, sizes): the least-squares fit of full-load µs/delivery = a / C + b over server's fan-out sizes C."""
    points = [(1 / run["params"]["clients"], server_cpu_per_unit(run, saturation=True)) for run in runs if run["server"] == server]
    points = [(x, y) for x, y in points if y is not None]
    if len({x for x, _ in points}) < 2:
        return None
    mean_x, mean_y = sum(x for x, _ in points) / len(points), sum(y for _, y in points) / len(points)
    a = sum((x - mean_x) * (y - mean_y) for x, y in points) / sum((x - mean_x) ** 2 for x, _ in points)
    return a, mean_y - a * mean_x, len(points)


def server_cpu_per_unit(run: dict, *, saturation: bool = False) -> float | None:
    """Server CPU time in microseconds per delivered message (fan-out, polling) or per acked send (write)."""
    if saturation:
        cpu = run.get("saturate_server_proc", {}).get("cpu_seconds")
        units = (run["result"].get("saturation") or {}).get("delivered")
        return None if cpu is None or not units else cpu * 1e6 / units
    cpu = run.get("server_proc", {}).get("cpu_seconds")
    r = run["result"]
    units = r.get("delivered") if run["scenario"] in ("fanout", "polling") else r.get("acked")
    if cpu is None or not units:
        return None
    return cpu * 1e6 / units


def plot(report: dict, out: Path) -> list[str]:
    """PNG plots of the results; [] if matplotlib is missing."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print("  matplotlib is not installed: no plots", flush=True)
        return []
    runs = report["runs"]
    labels = {kind.name: kind.label for kind in ALL_SERVERS}
    made = []

    def grouped(ax, scenario: str, groups: list, key, servers: list[str], *, param: str) -> None:
        """Bars of key(run) per group (a parameter value), one bar per server."""
        width = 0.8 / max(len(servers), 1)
        for i, server in enumerate(servers):
            xs, ys = [], []
            for j, value in enumerate(groups):
                run = _find(runs, scenario, server, **{param: value})
                y = key(run) if run else None
                if y is not None:
                    xs.append(j + (i - (len(servers) - 1) / 2) * width)
                    ys.append(y)
            ax.bar(xs, ys, width, label=labels[server], color=COLORS[server])

    fan = [run for run in runs if run["scenario"] == "fanout"]
    if fan:
        sizes = sorted({run["params"]["clients"] for run in fan})
        servers = [k.name for k in ALL_SERVERS if any(run["server"] == k.name for run in fan)]
        rate = {s: (_find(runs, "fanout", servers[0], clients=s) or {}).get("params", {}).get("rate") for s in sizes}
        fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
        grouped(axes[0], "fanout", sizes, lambda run: (run["result"].get("saturation") or {}).get("delivered_per_s"), servers, param="clients")
        axes[0].set_xticks(range(len(sizes)), [f"C={s}" for s in sizes])
        axes[0].set_ylabel("delivered messages/s")
        axes[0].set_title("Max delivered messages/s (full load)")
        grouped(axes[1], "fanout", sizes, lambda run: run["result"]["latency_ms"]["p99"], servers, param="clients")
        width = 0.8 / max(len(servers), 1)
        for i, server in enumerate(servers):
            for j, size in enumerate(sizes):
                run = _find(runs, "fanout", server, clients=size)
                if run and run["result"]["latency_ms"]["p50"] is not None:
                    axes[1].plot(j + (i - (len(servers) - 1) / 2) * width, run["result"]["latency_ms"]["p50"], "k_", markersize=12, mew=2)
        axes[1].set_yscale("log")
        axes[1].set_xticks(range(len(sizes)), [f"C={s}, R={rate[s]}/s" for s in sizes])
        axes[1].set_ylabel("send → receipt latency, ms (log)")
        axes[1].set_title("Latency at a fixed rate R: bars p99, ticks p50")
        grouped(axes[2], "fanout", sizes, lambda run: server_cpu_per_unit(run, saturation=True), servers, param="clients")
        axes[2].set_xticks(range(len(sizes)), [f"C={s}" for s in sizes])
        axes[2].set_ylabel("server CPU µs per delivered message")
        axes[2].set_title("Server CPU per delivery (full load)")
        handles, names = axes[0].get_legend_handles_labels()
        fig.legend(handles, names, loc="lower center", ncol=len(names), fontsize=9, frameon=False)
        fig.suptitle("Fan-out: one sender into one room of C WebSocket clients")
        fig.tight_layout(rect=(0, 0.07, 1, 0.95))
        fig.savefig(out / "fanout.png", dpi=100)
        plt.close(fig)
        made.append("fanout.png")

        size = sizes[len(sizes) // 2]
        fig, ax = plt.subplots(figsize=(7, 4.5))
        for server in servers:
            run = _find(runs, "fanout", server, clients=size)
            if run and run["result"]["latency_cdf_ms"]:
                qs = [q for q, _ in run["result"]["latency_cdf_ms"]]
                vs = [max(v, 0.01) for _, v in run["result"]["latency_cdf_ms"]]
                ax.plot(vs, qs, color=COLORS[server], label=labels[server])
        ax.set_xscale("log")
        ax.set_xlabel("send → receipt latency, ms (log)")
        ax.set_ylabel("fraction of deliveries")
        ax.set_title(f"Fan-out latency CDF, C={size}, R={rate[size]}/s")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "fanout-cdf.png", dpi=100)
        plt.close(fig)
        made.append("fanout-cdf.png")

    wr = [run for run in runs if run["scenario"] == "write"]
    co = [run for run in runs if run["scenario"] == "connections" and "bytes_per_connection" in run.get("server_proc", {})]
    po = [run for run in runs if run["scenario"] == "polling"]
    if wr or co or po:
        fig, axes = plt.subplots(1, 4, figsize=(18, 4.5))
        if wr:
            levels = sorted({run["params"]["senders"] for run in wr})
            wservers = [k.name for k in ALL_SERVERS if any(run["server"] == k.name for run in wr)]
            grouped(axes[0], "write", levels, lambda run: run["result"]["acked_per_s"], wservers, param="senders")
            axes[0].set_yscale("log")
            axes[0].set_xticks(range(len(levels)), [f"S={n} sender{'s' if n > 1 else ''}" for n in levels])
            axes[0].set_ylabel("acked sends/s (log)")
            axes[0].set_title("Write path: acked sends/s")
            axes[0].legend(fontsize=7)
            grouped(axes[1], "write", levels, lambda run: run["result"]["ack_latency_ms"]["p50"], wservers, param="senders")
            axes[1].set_yscale("log")
            axes[1].set_xticks(range(len(levels)), [f"S={n}" for n in levels])
            axes[1].set_ylabel("ack latency p50, ms (log)")
            axes[1].set_title("Write path: ack latency (p50)")
        if co:
            names = [run["server"] for run in co]
            axes[2].bar(range(len(co)), [run["server_proc"]["bytes_per_connection"] / 1024 for run in co], color=[COLORS[n] for n in names])
            axes[2].set_xticks(range(len(co)), [SHORT_LABELS[n] for n in names], fontsize=8)
            axes[2].set_ylabel("KiB of server RSS per idle connection")
            axes[2].set_title("Idle WebSockets held\n" + ", ".join(f"{SHORT_LABELS[run['server']].split(chr(10))[0]} {run['result']['connected']}" for run in co), fontsize=10)
        if po:
            names = [run["server"] for run in po]
            axes[3].bar(range(len(po)), [run["result"]["latency_ms"]["p99"] or 0 for run in po], color=[COLORS[n] for n in names])
            axes[3].plot(range(len(po)), [run["result"]["latency_ms"]["p50"] or 0 for run in po], "k_", markersize=20, mew=2)
            for i, run in enumerate(po):
                value = run.get("server_proc", {}).get("cpu_utilization")
                if value is not None:
                    axes[3].annotate(f"server CPU {value:.2f}", (i, run["result"]["latency_ms"]["p99"] or 0), ha="center", va="bottom", fontsize=8)
            axes[3].set_xticks(range(len(po)), [SHORT_LABELS[n] for n in names], fontsize=8)
            axes[3].set_ylabel("latency, ms (bars p99, ticks p50)")
            axes[3].set_title(f"Long-polling: {po[0]['result']['clients']} clients, {po[0]['result']['offered_rate']} msg/s")
            axes[3].margins(y=0.2)
        fig.text(0.01, 0.01, "* experiment, not the app: wsgi.py with TCP_NODELAY on the listening socket (bench/chatapp_nodelay.py)", fontsize=8)
        fig.tight_layout(rect=(0, 0.04, 1, 1))
        fig.savefig(out / "write-connections-polling.png", dpi=100)
        plt.close(fig)
        made.append("write-connections-polling.png")

    hi = [run for run in runs if run["scenario"] == "history"]
    if hi:
        run = hi[-1]
        bars = [("in-process\nrandom page", run["service"]["random_page_ms"]), ("in-process\nnewest page", run["service"]["newest_page_ms"]),
                ("end to end\nrandom page", run["result"]["random_page_ms"]), ("end to end\nnewest page", run["result"]["newest_page_ms"])]
        if run.get("service_without_index"):
            bars.append(("in-process, index\ndropped, random", run["service_without_index"]["random_page_ms"]))
        fig, ax = plt.subplots(figsize=(9, 4.5))
        ax.bar(range(len(bars)), [b["p99"] or 0 for _, b in bars], color=COLORS[CHATAPP.name], alpha=0.45, label="p99")
        ax.bar(range(len(bars)), [b["p50"] or 0 for _, b in bars], color=COLORS[CHATAPP.name], label="median")
        ax.axhline(5, color="k", linestyle="--", linewidth=1, label="target: median 5 ms")
        ax.set_xticks(range(len(bars)), [label for label, _ in bars], fontsize=8)
        ax.set_yscale("log")
        ax.set_ylabel("ms per 50-message page (log)")
        ax.set_title(f"History paging, room of {run['build']['messages_in_room']:,} messages")
        ax.legend(fontsize=8)
        fig.tight_layout()
        fig.savefig(out / "history.png", dpi=100)
        plt.close(fig)
        made.append("history.png")
    return made


# -- set-up and main -------------------------------------------------------------------

# In this order; the targets of issue #8 (connections, history) before long-polling, which the budget skips first.
SCENARIOS = ("fanout", "write", "connections", "history", "polling")

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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mode", choices=sorted(PLANS), default="smoke")
    parser.add_argument("--out", type=Path, help="output folder (default bench/results/MODE)")
    parser.add_argument("--no-profile", action="store_true", help="skip the py-spy profile (full mode)")
    parser.add_argument("--render", type=Path, metavar="DIR", help="only redo results.md and the plots from DIR/results.json")
    parser.add_argument("--only", action="append", choices=list(SCENARIOS), help="run only these scenarios")
    parser.add_argument(
        "--server", action="append", choices=[kind.name for kind in ALL_SERVERS], help="run only these server kinds (repeatable)"
    )
    parser.add_argument(
        "--senders", action="append", type=_senders_and_rooms, metavar="S:K",
        help="write path: S senders in K rooms instead of the mode's sizes (repeatable; makes max S accounts)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _on_signal)
    if args.render:
        report = json.loads((args.render / "results.json").read_text())
        write_markdown(report, args.render / "results.md")
        report["plots"] = plot(report, args.render)
        (args.render / "results.json").write_text(json.dumps(report, indent=1))
        return 0

    out: Path = (args.out or RESULTS_DIR / args.mode).resolve()
    out.mkdir(parents=True, exist_ok=True)
    (out / "logs").mkdir(exist_ok=True)
    for stale in ("results.json", "results.md"):
        (out / stale).unlink(missing_ok=True)
    plan = PLANS[args.mode]
    if args.senders:
        plan = replace(plan, write=tuple(args.senders), users=max(plan.users, *(senders for senders, _ in args.senders)))
    ensure_node_packages()
    server_core, loadgen_core, pinning = pick_cores()
    if loadgen_core is not None:
        os.sched_setaffinity(0, {loadgen_core})  # keep this driver off the server's core
    open_files = raise_open_files()
    print(f"bench ({args.mode}): {pinning}; open files limit {open_files}; output in {out}", flush=True)

    bench = Bench(
        mode=args.mode,
        plan=plan,
        out=out,
        server_core=server_core,
        loadgen_core=loadgen_core,
        profile=not args.no_profile and plan.profile_clients is not None,
        only=set(args.only) if args.only else None,
        servers=set(args.server) if args.server else None,
    )
    workdir = Path(tempfile.mkdtemp(prefix="chatapp-bench-"))
    try:
        db_path = workdir / "bench.sqlite3"
        bench.db_url = f"sqlite:///{db_path}"
        rooms = [f"fanout-c{c}-{k.name}" for c, _ in plan.fanout for k in FANOUT_SERVERS if k.is_chatapp]  # a few unused: harmless
        rooms += [room for k in WRITE_SERVERS if k.is_chatapp for sr in plan.write for room in write_rooms(k, *sr)] + ["polling"]
        t0 = time.monotonic()
        names = seed_chatapp(db_path, users=plan.users, rooms=rooms)
        with bench.server(CHATAPP) as server:
            bench.cookies = [login(server.url, name) for name in names]
        print(f"seeded {len(names)} users and {len(rooms)} rooms, logged them in: {time.monotonic() - t0:.1f} s", flush=True)
        for scenario in SCENARIOS:
            if bench.wanted(scenario):
                print(f"{scenario}:", flush=True)
                getattr(bench, scenario if scenario != "write" else "write_path")()
        report = bench.report()
        report["machine"]["pinning"] = pinning
        report["machine"]["open_files_limit"] = open_files
        report["finished_at"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        (out / "results.json").write_text(json.dumps(report, indent=1))
        write_markdown(report, out / "results.md")
        report["plots"] = plot(report, out)
        (out / "results.json").write_text(json.dumps(report, indent=1))
        print(f"done in {report['elapsed_s']} s: {out / 'results.md'}", flush=True)
        if bench.failures:
            print(f"{len(bench.failures)} run(s) failed:\n" + "\n".join(f[:300] for f in bench.failures), flush=True)
            return 1
        return 0
    finally:
        _end_all_started()
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
