"""What the benchmark runs: the paths it uses, each mode's plan, the servers under test, the scenarios.

Imported by every other bench module; imports none of them.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BENCH_DIR.parent
LOADGEN = BENCH_DIR / "loadgen" / "loadgen.js"
NODE_BASELINE = BENCH_DIR / "node-baseline" / "server.js"
RESULTS_DIR = BENCH_DIR / "results"  # git-ignored

# A run in which other processes used more than this share of the server's core is run again (once).
CONTENTION_RETRY_ABOVE = 0.25


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

SHORT_LABELS = {
    CHATAPP.name: "chatapp",
    CHATAPP_2PROC.name: "chatapp\n2 proc + Redis",
    CHATAPP_DEFLATE.name: "chatapp\ndeflate on",
    CHATAPP_NODELAY.name: "chatapp\nTCP_NODELAY*",
    PYTHON_BASELINE.name: "bare\npython-socketio",
    NODE.name: "Node\nsocket.io",
}

# In this order; the targets of issue #8 (connections, history) before long-polling, which the budget skips first.
SCENARIOS = ("fanout", "write", "connections", "history", "polling")
