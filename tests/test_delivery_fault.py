"""No message lost or doubled when the real server is SIGKILLed and restarted mid-conversation.

Six python-socketio clients (three over WebSocket, three over long-polling; alice has one tab
of each) type bursts of messages into one room. The server is SIGKILLed twice, each time from
inside a send ack midway through a burst, so that the rest of the burst is in flight and
partly committed; the next burst is typed while the server is down; then it is started again.

Each client behaves as the browser client is specified to: a typed message goes into an
outbox and is emitted with a `client_id` without waiting for earlier acks; it leaves the
outbox only on an ok ack and is otherwise re-sent with the same `client_id` after
reconnecting; on every (re)connect the client joins with `after` = the highest id it holds
and pages `history` while `more`; and whatever arrives (broadcast, join page, history page,
send ack) is shown once per id.

Reactions go through the same: a tab keeps each reaction it was asked for until an ok ack, and
re-sends it after reconnecting; the last test SIGKILLs the server midway through a burst of
reactions and takes more while it is down, and every one is held exactly once afterwards.
"""
from __future__ import annotations

import collections
import functools
import json
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Callable

import engineio.payload
import pytest
import requests
import socketio

from chatapp.extensions import db
from chatapp.models import Message, Reaction, Room, User
from chatapp.services import reactions
from chatapp.services.messages import post_message

from .helpers import stored_messages, under_every_async_mode, wait_for

pytestmark = [pytest.mark.live, under_every_async_mode]

ROOM = "lobby"
# (label, username, transport): alice has a WebSocket tab and a polling tab.
CLIENTS = [
    ("alice-ws", "alice", "websocket"),
    ("alice-poll", "alice", "polling"),
    ("bob-ws", "bob", "websocket"),
    ("carol-poll", "carol", "polling"),
    ("dave-ws", "dave", "websocket"),
    ("erin-poll", "erin", "polling"),
]
BURST = 5  # messages each client types at once
BURSTS = 6
MESSAGES_PER_CLIENT = BURST * BURSTS
TOTAL = len(CLIENTS) * MESSAGES_PER_CLIENT
# What happens at each burst: kill the server midway through it, or type it while the server is down.
KILL_DURING = (2, 4)
# The kill comes at this ack of the burst: every client has emitted by then, and the server
# is midway through the burst, with sends committed whose acks have not left yet.
KILL_AT_ACK = 12
TYPED_WHILE_DOWN = tuple(burst + 1 for burst in KILL_DURING)
DOWN_FOR_S = 0.5  # how long the server stays dead before it is started again

# Unacked emits per connection. The server drops a long-polling POST of more than 16 packets
# (python-engineio's Payload.max_decode_packets) unless the server raises it, as chatapp does
# (see the last test); stay below anyway, as a browser's write buffer would.
MAX_IN_FLIGHT = 8
# A long-polling GET answer holds every packet queued for the socket; in a busy room that is
# more than python-engineio's default of 16, and a Python client then drops the connection.
CLIENT_MAX_DECODE_PACKETS = 1000

CONNECT_TIMEOUT_S = 5
ACK_TIMEOUT_S = 2  # an emit unacked this long on a live-looking connection: reconnect and re-send
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 1.0
HISTORY_PAGE = 100
MAX_HISTORY_PAGES = 20
TICK_S = 0.01

STEP_DEADLINE_S = 20  # any one step of the script: connecting, a burst acked, a kill, a restart
CONVERGE_DEADLINE_S = 15  # every client holds every message
CLIENT_DEADLINE_S = 120  # a client thread gives up on its own after this
THREAD_JOIN_S = 10


class Disconnected(Exception):
    """The connection is gone or unusable; reconnect and catch up."""


@dataclass
class Stats:
    """What one client went through, for the report and the assertions."""

    connects: int = 0
    failed_connects: int = 0
    connect_errors: list = field(default_factory=list)  # why connecting or catching up failed
    disconnects: list = field(default_factory=list)  # reasons python-socketio gave
    send_attempts: collections.Counter = field(default_factory=collections.Counter)
    ack_timeouts: int = 0
    error_acks: list = field(default_factory=list)
    raw_receptions: int = 0
    receptions_by_source: collections.Counter = field(default_factory=collections.Counter)
    history_pages: int = 0


class KillSwitch:
    """SIGKILLs the server from inside the n-th send ack after it is armed."""

    def __init__(self, server) -> None:
        self.server = server
        self.lock = threading.Lock()
        self.acks_to_go = 0
        self.fired = threading.Event()

    def arm(self, *, after_acks: int) -> None:
        with self.lock:
            self.fired.clear()
            self.acks_to_go = after_acks

    def on_ack(self) -> None:
        """Called on a client's ack thread, so that no hop to another thread delays the kill."""
        with self.lock:
            if self.acks_to_go <= 0:
                return
            self.acks_to_go -= 1
            if self.acks_to_go == 0:
                self.server.process.send_signal(signal.SIGKILL)
                self.fired.set()


class SimClient(threading.Thread):
    """One browser tab: types, sends with retries by client_id, reconnects and catches up."""

    def __init__(self, *, server, label: str, username: str, transport: str, headers: dict,
                 stop: threading.Event, on_ack: Callable[[], None]) -> None:
        super().__init__(name=f"client-{label}", daemon=True)
        self.server = server
        self.label = label
        self.username = username
        self.transport = transport
        self.headers = headers
        self.stop = stop
        self.on_ack = on_ack
        self.deadline = time.monotonic() + CLIENT_DEADLINE_S
        # Ack and event handlers run on python-socketio's threads; this guards all below.
        self.lock = threading.RLock()
        self.held: dict[int, dict] = {}  # id -> MESSAGE: what this tab shows
        self.rendered: list[int] = []  # ids in the order this tab first showed them
        self.outbox: dict[str, str] = {}  # client_id -> body, unacked, in typing order
        self.in_flight: dict[str, float] = {}  # client_id -> when it was emitted on this connection
        self.acked: dict[str, int] = {}  # client_id -> message id of the first ok ack
        self.ack_ids: collections.defaultdict[str, set] = collections.defaultdict(set)
        self.typed = 0
        self.stats = Stats()
        self.failure: BaseException | None = None
        self.sio: socketio.Client | None = None
        self.connection = 0  # bumped on every new connection, so a stale ack clears nothing

    # -- what the tab shows -----------------------------------------------------------

    def receive(self, message: dict, source: str) -> None:
        """Show a message once per id, however many times and ways it arrives."""
        with self.lock:
            self.stats.raw_receptions += 1
            self.stats.receptions_by_source[source] += 1
            known = self.held.get(message["id"])
            if known is None:
                self.held[message["id"]] = message
                self.rendered.append(message["id"])
            elif known != message:
                self.failure = AssertionError(f"{self.label}: id {message['id']} came as {known} and as {message}")

    def high_water(self) -> int:
        """The highest id this tab holds (0 before any message: the room was empty at the first join)."""
        with self.lock:
            return max(self.held, default=0)

    # -- connection ------------------------------------------------------------------

    def connected(self) -> bool:
        return self.sio is not None and self.sio.connected

    def drop(self) -> None:
        """Forget the connection; whatever was in flight on it will be re-sent by client_id."""
        with self.lock:
            sio, self.sio = self.sio, None
            self.in_flight.clear()
        if sio is not None:
            try:
                sio.disconnect()
            except Exception:  # noqa: BLE001 - a dead socket may fail to close; it is gone either way
                pass

    def call(self, event: str, payload: dict) -> dict:
        """Emit with an ack and wait; a timeout, a dead connection or an error ack is Disconnected."""
        try:
            ack = self.sio.call(event, payload, timeout=ACK_TIMEOUT_S)
        except socketio.exceptions.TimeoutError as error:
            raise Disconnected(f"{event} got no ack in {ACK_TIMEOUT_S} s") from error
        except (socketio.exceptions.SocketIOError, OSError) as error:
            raise Disconnected(f"{event}: {error!r}") from error
        if not isinstance(ack, dict) or not ack.get("ok"):
            with self.lock:
                self.stats.error_acks.append((event, payload, ack))
            raise Disconnected(f"{event} answered {ack!r}")
        return ack

    def connect_and_catch_up(self) -> None:
        """Open a fresh connection, join with `after`, and page history while `more`."""
        sio = socketio.Client(reconnection=False)
        sio.on("message", functools.partial(self.receive, source="broadcast"))
        sio.on("disconnect", lambda reason=None: self.stats.disconnects.append(reason))
        with self.lock:
            self.sio = sio
            self.connection += 1
        try:
            sio.connect(self.server.url, headers=self.headers, transports=[self.transport],
                        wait_timeout=CONNECT_TIMEOUT_S)
            assert sio.transport() == self.transport
            after = self.high_water()
            ack = self.call("join", {"room": ROOM, "after": after})
            for message in ack["messages"]:
                self.receive(message, "join")
            more, cursor = ack["more"], (ack["messages"][-1]["id"] if ack["messages"] else after)
            for _ in range(MAX_HISTORY_PAGES):
                if not more:
                    break
                page = self.call("history", {"room": ROOM, "after": cursor, "limit": HISTORY_PAGE})
                self.stats.history_pages += 1
                for message in page["messages"]:
                    self.receive(message, "history")
                more, cursor = page["more"], (page["messages"][-1]["id"] if page["messages"] else cursor)
            else:
                raise AssertionError(f"{self.label}: history still had more after {MAX_HISTORY_PAGES} pages")
        except Disconnected:
            self.drop()
            raise
        except socketio.exceptions.ConnectionError as error:
            self.drop()
            raise Disconnected(str(error)) from error
        self.stats.connects += 1

    # -- typing and sending ----------------------------------------------------------

    def type_burst(self) -> None:
        """The user types BURST messages, whatever the network is doing."""
        with self.lock:
            for _ in range(BURST):
                self.outbox[f"{self.label}-{self.typed:03d}"] = f"{self.label} says #{self.typed}"
                self.typed += 1

    def send_ack(self, connection: int, client_id: str, ack: object = None) -> None:
        """An ack: ok takes the message out of the outbox; an error leaves it there to be re-sent."""
        with self.lock:
            if connection == self.connection:
                self.in_flight.pop(client_id, None)
            if not isinstance(ack, dict) or not ack.get("ok"):
                self.stats.error_acks.append(("send", client_id, ack))
                return
            message = ack["message"]
            self.acked.setdefault(client_id, message["id"])
            self.ack_ids[client_id].add(message["id"])
            self.outbox.pop(client_id, None)
            self.receive(message, "ack")
        self.on_ack()

    def pump(self) -> None:
        """Emit every outbox entry not already in flight (up to a cap); an overdue ack means reconnect."""
        now = time.monotonic()
        with self.lock:
            if any(now - emitted > ACK_TIMEOUT_S for emitted in self.in_flight.values()):
                self.stats.ack_timeouts += 1
                raise Disconnected("a send got no ack in time")
            free = max(MAX_IN_FLIGHT - len(self.in_flight), 0)
            batch = [(cid, body) for cid, body in self.outbox.items() if cid not in self.in_flight][:free]
            for client_id, _ in batch:
                self.in_flight[client_id] = now
                self.stats.send_attempts[client_id] += 1
            connection = self.connection
        for client_id, body in batch:
            try:
                self.sio.emit(
                    "send", {"room": ROOM, "body": body, "client_id": client_id},
                    callback=functools.partial(self.send_ack, connection, client_id),
                )
            except (socketio.exceptions.SocketIOError, OSError) as error:
                raise Disconnected(f"send: {error!r}") from error

    def unacked(self) -> int:
        with self.lock:
            return len(self.outbox)

    def run(self) -> None:
        backoff = BACKOFF_FIRST_S
        next_connect = 0.0
        try:
            while not self.stop.is_set() and self.failure is None:
                if time.monotonic() > self.deadline:
                    raise AssertionError(f"{self.label}: still running after {CLIENT_DEADLINE_S} s")
                if not self.connected():
                    self.drop()
                    if time.monotonic() >= next_connect:
                        try:
                            self.connect_and_catch_up()
                            backoff = BACKOFF_FIRST_S
                        except Disconnected as error:
                            self.stats.failed_connects += 1
                            self.stats.connect_errors.append(str(error))
                            next_connect = time.monotonic() + backoff
                            backoff = min(backoff * 2, BACKOFF_MAX_S)
                    time.sleep(TICK_S)
                    continue
                try:
                    self.pump()
                except Disconnected:
                    self.drop()
                time.sleep(TICK_S)
        except BaseException as error:  # noqa: BLE001 - reported by the test thread
            self.failure = error
        finally:
            self.drop()


# Polls every 10 ms, as this module always has: the fault loop checks often while clients converge.
wait_until = functools.partial(wait_for, interval=0.01)


def plant_stored_unacked(server, clients: list[SimClient]) -> tuple[str, str, int]:
    """Store one unacked outbox message as a crash between commit and ack leaves it; return (user, client_id, id).

    Kills often land in that gap by themselves, but not always; this makes every run exercise the
    retry that must get the stored message back. A message that was emitted is preferred.
    """
    stored = {(row["sender"], row["client_id"]) for row in stored_messages(server, ROOM)}
    candidates = []
    for client in clients:
        with client.lock:
            for client_id, body in client.outbox.items():
                if (client.username, client_id) not in stored:
                    candidates.append((client.stats.send_attempts[client_id] == 0, client.username, client_id, body))
    assert candidates, "no unacked message to plant"
    _, username, client_id, body = min(candidates)
    app = server.app()
    with app.app_context():
        sender = db.session.scalar(db.select(User).filter_by(username=username))
        room = db.session.scalar(db.select(Room).filter_by(slug=ROOM))
        message_id = post_message(sender=sender, room=room, body=body, client_id=client_id,
                                  enforce_rate_limit=False).message.id
        db.session.remove()
    return username, client_id, message_id


def test_no_message_lost_or_doubled_across_two_sigkills(live_server, monkeypatch):
    # The known workaround for Python clients (python-engineio issue #142), in this process only.
    monkeypatch.setattr(engineio.payload.Payload, "max_decode_packets", CLIENT_MAX_DECODE_PACKETS)
    for username in sorted({username for _, username, _ in CLIENTS}):
        live_server.add_user(username)
    live_server.add_room(ROOM)
    live_server.start()
    begun = time.monotonic()

    stop = threading.Event()
    switch = KillSwitch(live_server)
    clients = [
        SimClient(
            server=live_server, label=label, username=username, transport=transport,
            headers=live_server.socket_headers(live_server.login(username)), stop=stop, on_ack=switch.on_ack,
        )
        for label, username, transport in CLIENTS
    ]

    def failures() -> dict:
        return {c.label: repr(c.failure) for c in clients if c.failure}

    def states() -> dict:
        return {c.label: (c.connected(), c.typed, c.unacked(), c.stats) for c in clients}

    def step(predicate: Callable[[], bool], what: str, timeout: float = STEP_DEADLINE_S) -> None:
        """Wait for predicate, failing fast if a client failed and with every client's state if it times out."""
        assert wait_until(lambda: predicate() or bool(failures()), timeout), (what, states())
        assert not failures(), (what, failures())

    kills: list[dict] = []
    try:
        for client in clients:
            client.start()
        # Everyone is in the (still empty) room before anyone types.
        step(lambda: all(c.stats.connects >= 1 for c in clients), "first connect")

        for burst in range(1, BURSTS + 1):
            if burst in KILL_DURING:
                switch.arm(after_acks=KILL_AT_ACK)
            for client in clients:
                client.type_burst()
            if burst in KILL_DURING:
                step(switch.fired.is_set, f"an ack to kill after, in burst {burst}")
                live_server.kill()  # reap the SIGKILLed process
                kills.append({"burst": burst, "t": round(time.monotonic() - begun, 2)})
            elif burst in TYPED_WHILE_DOWN:
                time.sleep(DOWN_FOR_S)  # acks that left the server before it died land meanwhile
                stored = {(row["sender"], row["client_id"]) for row in stored_messages(live_server, ROOM)}
                acked = {(c.username, cid) for c in clients for cid in c.acked}
                assert acked <= stored, f"acked but not stored at a kill: {sorted(acked - stored)}"
                planted = plant_stored_unacked(live_server, clients)
                kills[-1].update(acked=len(acked), stored=len(stored), stored_unacked=sorted(stored - acked),
                                 planted=planted)
                live_server.start()
                # Every tab comes back (a new connection, joined and caught up) before the story goes on.
                step(lambda: all(c.stats.connects > len(kills) and c.connected() for c in clients),
                     f"reconnect after kill {len(kills)}")
            else:
                step(lambda: not any(c.unacked() for c in clients), f"burst {burst} acked")

        step(lambda: not any(c.unacked() for c in clients), "everything acked")
        # Every tab ends up holding every message, through broadcasts and its own catch-ups only
        # (the assertions below name what is missing if one does not).
        wait_until(lambda: all(len(c.held) >= TOTAL for c in clients) or bool(failures()), CONVERGE_DEADLINE_S)
        time.sleep(0.3)  # anything doubled would arrive by now
    finally:
        stop.set()
        for client in clients:
            client.join(THREAD_JOIN_S)
    assert not [c.label for c in clients if c.is_alive()], "a client thread did not stop"
    assert not failures(), failures()

    rows = stored_messages(live_server, ROOM)
    stored_ids = [row["id"] for row in rows]
    by_id = {row["id"]: row for row in rows}

    # The database holds exactly one row per (sender, client_id), and nothing else.
    expected_keys = {(user, f"{label}-{n:03d}") for label, user, _ in CLIENTS for n in range(MESSAGES_PER_CLIENT)}
    stored_keys = [(row["sender"], row["client_id"]) for row in rows]
    assert len(rows) == TOTAL, f"{len(rows)} rows for {TOTAL} messages"
    assert len(set(stored_keys)) == len(stored_keys), collections.Counter(stored_keys).most_common(3)
    assert set(stored_keys) == expected_keys

    for client in clients:
        # Nothing acked was lost, and every ack of one client_id named the same stored message.
        assert len(client.acked) == MESSAGES_PER_CLIENT
        for client_id, message_id in client.acked.items():
            assert client.ack_ids[client_id] == {message_id}, (client.label, client_id, client.ack_ids[client_id])
            assert (by_id[message_id]["sender"], by_id[message_id]["client_id"]) == (client.username, client_id)
        # Every tab holds exactly what is stored, in id order, each shown once, as stored.
        assert sorted(client.held) == stored_ids, (
            client.label,
            "missing", sorted(set(stored_ids) - set(client.held)),
            "extra", sorted(set(client.held) - set(stored_ids)),
        )
        assert len(client.rendered) == len(set(client.rendered))
        for message_id, message in client.held.items():
            row = by_id[message_id]
            assert (message["sender"]["username"], message["client_id"], message["body"], message["room"]) == (
                row["sender"], row["client_id"], row["body"], ROOM
            )
        # Duplicates did arrive (the own broadcast after the ack, catch-up overlaps) and were shown once.
        assert client.stats.raw_receptions > len(client.held), (client.label, client.stats)
        # A valid send is never refused, before, across or after a crash.
        assert not client.stats.error_acks, (client.label, client.stats.error_acks)
        # The tab reconnected and caught up after each kill.
        assert client.stats.connects >= 1 + len(KILL_DURING), (client.label, client.stats)

    # Both kills came mid-burst: sends were unacked when the server died, and were re-sent.
    assert [kill["burst"] for kill in kills] == list(KILL_DURING)
    assert all(kill["acked"] < TOTAL for kill in kills), kills
    retried = sorted(cid for c in clients for cid, n in c.stats.send_attempts.items() if n > 1)
    assert retried, "no send was ever re-sent: the kills did not interrupt anything"
    # A message stored before the crash but never acked was re-sent and answered with the stored row.
    for kill in kills:
        username, client_id, message_id = kill["planted"]
        owner = next(c for c in clients if c.username == username and client_id in c.acked)
        assert owner.acked[client_id] == message_id and owner.stats.send_attempts[client_id] >= 1, kill

    stored_unacked = [key for kill in kills for key in kill["stored_unacked"]]
    receptions = sum((c.stats.receptions_by_source for c in clients), collections.Counter())
    print(
        f"\n{TOTAL} messages in {time.monotonic() - begun:.1f} s; "
        + "; ".join(f"kill in burst {k['burst']} at {k['t']} s: {k['acked']} acked, {k['stored']} stored"
                    for k in kills)
        + f"; {len(stored_unacked)} stored but unacked at a kill (+{len(kills)} planted); "
        f"{len(retried)} client_ids re-sent; {sum(c.stats.connects for c in clients) - len(clients)} reconnects; "
        f"{sum(receptions.values())} receptions ({dict(receptions)}) for {len(clients) * TOTAL} renderings"
    )


# python-engineio decodes a long-polling POST with Payload.max_decode_packets = 16; the server
# catches the ValueError, logs "post request handler error", answers 200 OK and drops every
# packet of the POST. A browser on the polling fallback sends its whole write buffer in one
# POST (engine.io-client caps it by bytes, not packets), so room.js's flushOutbox() after a
# reconnect with 17 or more unacked messages has the lot dropped silently: each send waits out
# its ack timeout and then its retry timer. The server raises the limit at start-up (chatapp/transport.py).
OUTBOX_AFTER_OUTAGE = 17


def test_a_polling_client_may_flush_a_large_outbox_in_one_post(live_server):
    live_server.add_user("alice")
    live_server.add_room(ROOM)
    live_server.start()
    http = live_server.login("alice")
    polling = live_server.url + "/socket.io/?EIO=4&transport=polling"
    handshake = http.get(polling, timeout=5)
    session = f"{polling}&sid={json.loads(handshake.text[1:])['sid']}"
    assert http.post(session, data="40", timeout=5).status_code == 200  # connect to namespace "/"
    assert http.get(session, timeout=5).text.startswith("40")
    # One POST, as engine.io-client sends a write buffer: `42<ack id>["send", {...}]` packets joined by \x1e.
    sends = [
        f"42{n}" + json.dumps(["send", {"room": ROOM, "body": f"queued #{n}", "client_id": f"queued-{n}"}])
        for n in range(OUTBOX_AFTER_OUTAGE)
    ]
    assert http.post(session, data="\x1e".join(sends).encode(), timeout=5).status_code == 200
    acked: set[int] = set()
    deadline = time.monotonic() + 4
    while len(acked) < OUTBOX_AFTER_OUTAGE and time.monotonic() < deadline:
        try:
            answer = http.get(session, timeout=1)  # a long poll: it waits while there is nothing to say
        except requests.ReadTimeout:
            continue
        assert answer.status_code == 200, answer.text
        acked |= {int(packet[2:packet.index("[")]) for packet in answer.text.split("\x1e") if packet.startswith("43")}
    assert acked == set(range(OUTBOX_AFTER_OUTAGE)), f"{len(acked)} of {OUTBOX_AFTER_OUTAGE} sends acked"


# -- reactions ---------------------------------------------------------------------------------

# alice reacts from two tabs with the same emoji: one person's reaction, however many tabs send it.
REACTING_CLIENTS = [
    ("alice-ws", "alice", "websocket"),
    ("alice-poll", "alice", "polling"),
    ("bob-ws", "bob", "websocket"),
    ("carol-poll", "carol", "polling"),
]
TARGETS = 3  # messages reacted to
# Per round, every tab adds these to every target: the first while up, the second has the server
# SIGKILLed from inside its REACT_KILL_AT_ACK-th ack (more than MAX_IN_FLIGHT per tab, so some are
# still to send and some in flight), the third is asked for while the server is down. Within
# REACT_RATE_LIMIT (60 per 10 s per person) with every retry of alice's two tabs.
REACTION_ROUNDS = (("👍", "🎉"), ("❤️", "😂", "🔥", "👀"), ("😮", "🙏"))
REACT_KILL_AT_ACK = 2


class ReactingClient(SimClient):
    """A tab whose person reacts: each reaction waits in an outbox until an ok ack, and is re-sent otherwise."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.to_react: dict[tuple[int, str], float | None] = {}  # (message id, emoji) -> when emitted here
        self.reacted: dict[tuple[int, str], list] = {}  # -> the `reactions` of its first ok ack
        self.react_attempts: collections.Counter = collections.Counter()

    def react(self, message_ids: list[int], emojis: tuple[str, ...]) -> None:
        """The person adds each emoji to each message, whatever the network is doing."""
        with self.lock:
            for message_id in message_ids:
                for emoji in emojis:
                    self.to_react.setdefault((message_id, emoji), None)

    def drop(self) -> None:
        super().drop()
        with self.lock:
            for key in self.to_react:
                self.to_react[key] = None  # nothing is in flight on a new connection

    def unacked(self) -> int:
        with self.lock:
            return len(self.outbox) + len(self.to_react)

    def react_ack(self, connection: int, key: tuple[int, str], ack: object = None) -> None:
        with self.lock:
            if connection == self.connection and key in self.to_react:
                self.to_react[key] = None
            if not isinstance(ack, dict) or not ack.get("ok"):
                self.stats.error_acks.append(("react", key, ack))
                return
            self.reacted.setdefault(key, ack["reactions"])
            self.to_react.pop(key, None)
        self.on_ack()

    def pump(self) -> None:
        super().pump()
        now = time.monotonic()
        with self.lock:
            emitted = [when for when in self.to_react.values() if when is not None]
            if any(now - when > ACK_TIMEOUT_S for when in emitted):
                self.stats.ack_timeouts += 1
                raise Disconnected("a reaction got no ack in time")
            free = max(MAX_IN_FLIGHT - len(emitted), 0)
            batch = [key for key, when in self.to_react.items() if when is None][:free]
            for key in batch:
                self.to_react[key] = now
                self.react_attempts[key] += 1
            connection = self.connection
        for key in batch:
            message_id, emoji = key
            try:
                self.sio.emit("react", {"room": ROOM, "id": message_id, "emoji": emoji, "on": True},
                              callback=functools.partial(self.react_ack, connection, key))
            except (socketio.exceptions.SocketIOError, OSError) as error:
                raise Disconnected(f"react: {error!r}") from error


def stored_reactions(server) -> list[tuple[int, str, str]]:
    """Every reaction row of the room as (message id, username, emoji)."""
    with server.app().app_context():
        rows = db.session.execute(
            db.select(Reaction.message_id, User.username, Reaction.emoji).join(User, User.id == Reaction.user_id)
            .join(Message, Message.id == Reaction.message_id).join(Room, Room.id == Message.room_id)
            .where(Room.slug == ROOM)
        ).all()
        db.session.remove()
    return [tuple(row) for row in rows]


def plant_stored_unacked_reaction(server, clients: list[ReactingClient]) -> tuple[str, int, str]:
    """Store one unacked reaction as a crash between its commit and its ack leaves it; return (user, id, emoji).

    Its retry must then be answered ok, and still be one reaction.
    """
    stored = set(stored_reactions(server))
    candidates = sorted((client.username, *key) for client in clients for key in list(client.to_react)
                        if (key[0], client.username, key[1]) not in stored)
    assert candidates, "no unacked reaction to plant"
    username, message_id, emoji = candidates[0]
    with server.app().app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        room = db.session.scalar(db.select(Room).filter_by(slug=ROOM))
        reactions.react(user=user, room=room, message_id=message_id, emoji=emoji, on=True)
        db.session.remove()
    return username, message_id, emoji


def test_reactions_made_across_a_sigkill_are_held_exactly_once(live_server, monkeypatch):
    monkeypatch.setattr(engineio.payload.Payload, "max_decode_packets", CLIENT_MAX_DECODE_PACKETS)
    for username in sorted({username for _, username, _ in REACTING_CLIENTS}):
        live_server.add_user(username)
    live_server.add_room(ROOM)
    live_server.start()
    with live_server.app().app_context():
        author = db.session.scalar(db.select(User).filter_by(username="bob"))
        room = db.session.scalar(db.select(Room).filter_by(slug=ROOM))
        targets = [post_message(sender=author, room=room, body=f"Vote #{n}", client_id=f"vote-{n}",
                                enforce_rate_limit=False).message.id for n in range(TARGETS)]
        db.session.remove()

    stop = threading.Event()
    switch = KillSwitch(live_server)
    clients = [
        ReactingClient(
            server=live_server, label=label, username=username, transport=transport,
            headers=live_server.socket_headers(live_server.login(username)), stop=stop, on_ack=switch.on_ack,
        )
        for label, username, transport in REACTING_CLIENTS
    ]

    def failures() -> dict:
        return {c.label: repr(c.failure) for c in clients if c.failure}

    def step(predicate: Callable[[], bool], what: str) -> None:
        assert wait_until(lambda: predicate() or bool(failures()), STEP_DEADLINE_S), (
            what, {c.label: (c.connected(), c.unacked(), c.stats) for c in clients})
        assert not failures(), (what, failures())

    up, killed, while_down = REACTION_ROUNDS
    try:
        for client in clients:
            client.start()
        step(lambda: all(c.stats.connects >= 1 for c in clients), "first connect")

        for client in clients:
            client.react(targets, up)
        step(lambda: not any(c.unacked() for c in clients), "reactions while up acked")

        switch.arm(after_acks=REACT_KILL_AT_ACK)
        for client in clients:
            client.react(targets, killed)
        step(switch.fired.is_set, "a reaction ack to kill after")
        unacked_at_kill = sum(c.unacked() for c in clients)
        live_server.kill()
        planted = plant_stored_unacked_reaction(live_server, clients)

        for client in clients:  # asked for while nothing answers
            client.react(targets, while_down)
        time.sleep(DOWN_FOR_S)
        assert all(len(c.to_react) >= TARGETS * len(while_down) for c in clients)
        live_server.start()
        step(lambda: all(c.stats.connects >= 2 for c in clients), "reconnect after the kill")
        step(lambda: not any(c.unacked() for c in clients), "every reaction acked")
    finally:
        stop.set()
        for client in clients:
            client.join(THREAD_JOIN_S)
    assert not [c.label for c in clients if c.is_alive()], "a client thread did not stop"
    assert not failures(), failures()

    # Exactly one row per (message, person, emoji): alice's two tabs and every retry made no second one.
    emojis = [emoji for round_ in REACTION_ROUNDS for emoji in round_]
    people = sorted({username for _, username, _ in REACTING_CLIENTS})
    expected = sorted((message_id, person, emoji) for message_id in targets for person in people for emoji in emojis)
    rows = stored_reactions(live_server)
    assert len(rows) == len(set(rows)), collections.Counter(rows).most_common(3)
    assert sorted(rows) == expected

    # What anybody is shown afterwards: every emoji once, given once by each person.
    viewer = socketio.Client(reconnection=False)
    viewer.connect(live_server.url, headers=live_server.socket_headers(live_server.login("carol")),
                   transports=["websocket"], wait_timeout=CONNECT_TIMEOUT_S)
    try:
        joined = viewer.call("join", {"room": ROOM}, timeout=STEP_DEADLINE_S)
    finally:
        viewer.disconnect()
    shown = {message["id"]: message.get("reactions", []) for message in joined["messages"]}
    with live_server.app().app_context():
        user_ids = {u.username: u.id for u in db.session.scalars(db.select(User).where(User.username.in_(people)))}
        db.session.remove()
    for message_id in targets:
        # Each emoji once (in the order first given, which the parallel tabs and the kill make any order).
        assert sorted(r["emoji"] for r in shown[message_id]) == sorted(emojis), shown[message_id]
        for reaction in shown[message_id]:
            assert reaction["count"] == len(people) and sorted(reaction["user_ids"]) == sorted(user_ids.values())

    # The kill came mid-burst with reactions unacked, and some were re-sent and answered ok.
    for client in clients:
        assert not client.stats.error_acks, (client.label, client.stats.error_acks)
        assert set(client.reacted) == {(m, e) for m in targets for e in emojis}, client.label
    assert unacked_at_kill > 0
    username, message_id, emoji = planted
    owners = [c for c in clients if c.username == username and (message_id, emoji) in c.reacted]
    assert owners and all(c.react_attempts[(message_id, emoji)] >= 1 for c in owners), planted
    assert any(n > 1 for c in clients for n in c.react_attempts.values()), "no reaction was ever re-sent"
