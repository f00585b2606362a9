"""Group commit (services/committer.py): sends share a transaction, each fails alone, each is acked after its COMMIT."""
from __future__ import annotations

import functools
import sqlite3
import threading
import time

import pytest
import socketio
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError

from chatapp.extensions import db
from chatapp.models import Room, User
from chatapp.services import messages as message_service
from chatapp.services.committer import CommitFailed, _Job, committer

from .test_live import connect

SEND = {"room": "lobby", "body": "hello"}


def _job(sender: User, room: Room, body: str, client_id: str) -> _Job:
    work = functools.partial(
        message_service._store, sender=sender, room=room, text=body, client_id=client_id, internal=False,
        question=False, attachments=[], on_stored=None,
    )
    return _Job(work, room.id)


def _stored(db_path, sql: str = "SELECT client_id FROM message ORDER BY id") -> list:
    """Rows read through a connection of its own, as another process would see them."""
    with sqlite3.connect(db_path) as other:
        return [row[0] for row in other.execute(sql)]


def test_a_failing_send_does_not_fail_its_neighbours(app, users, public_room, db_path):
    with app.app_context():
        alice, room = db.session.get(User, users["alice"].id), db.session.get(Room, public_room.id)
        message_service.post_message(sender=alice, room=room, body="first", client_id="taken")
        batch = [_job(alice, room, "before", "a"), _job(alice, room, "again", "taken"), _job(alice, room, "after", "b")]
        committer()._commit(batch)
    assert [job.error for job in (batch[0], batch[2])] == [None, None]
    assert isinstance(batch[1].error, IntegrityError)
    ids = [batch[0].result[0].id, batch[2].result[0].id]
    assert ids[0] < ids[1]
    assert _stored(db_path) == ["taken", "a", "b"]
    shown, revealed = batch[2].result[1]  # as the room sees it; the author's copy only for an anonymous one
    assert shown["body"] == "after" and shown["id"] == ids[1] and revealed is None


def test_a_failed_commit_fails_every_send_of_the_batch(app, users, public_room, db_path):
    def breaks_a_deferred_rule():  # fine inside its savepoint; SQLite refuses it only at COMMIT
        connection = db.session.connection()
        connection.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        connection.exec_driver_sql(
            "INSERT INTO message (room_id, sender_id, body, created_at) VALUES (999999, 1, 'x', '2026-01-01 00:00:00')"
        )

    with app.app_context():
        alice, room = db.session.get(User, users["alice"].id), db.session.get(Room, public_room.id)
        batch = [_job(alice, room, "one", "a"), _Job(breaks_a_deferred_rule, room.id), _job(alice, room, "two", "b")]
        committer()._commit(batch)
    assert all(isinstance(job.error, CommitFailed) for job in batch)
    assert _stored(db_path) == []


def _commit_watched(
    app, users, public_room, sends: list[tuple[str, str]], *, taken: bool
) -> tuple[list[_Job], list[str]]:
    """Commit one batch of alice's (body, client_id) sends, after storing client_id "taken" if asked;
    the batch and its SQL."""
    seen: list[str] = []
    with app.app_context():
        alice, room = db.session.get(User, users["alice"].id), db.session.get(Room, public_room.id)
        if taken:
            message_service.post_message(sender=alice, room=room, body="first", client_id="taken")
        event.listen(db.engine, "before_cursor_execute", lambda conn, cursor, sql, *rest: seen.append(sql))
        batch = [_job(alice, room, body, client_id) for body, client_id in sends]
        committer()._commit(batch)
    return batch, seen


def _savepoints(seen: list[str]) -> int:
    return sum(1 for sql in seen if sql.upper().startswith("SAVEPOINT"))


def test_a_batch_of_good_sends_takes_no_savepoints(app, users, public_room, db_path):
    batch, seen = _commit_watched(app, users, public_room, [(f"body {n}", f"c{n}") for n in range(3)], taken=False)
    assert [job.error for job in batch] == [None, None, None]
    assert _stored(db_path) == ["c0", "c1", "c2"]
    assert _savepoints(seen) == 0


def test_a_failing_send_alone_fails_without_a_second_run(app, users, public_room, db_path):
    batch, seen = _commit_watched(app, users, public_room, [("again", "taken")], taken=True)
    assert isinstance(batch[0].error, IntegrityError) and batch[0].result is None
    assert _stored(db_path) == ["taken"]
    assert len([sql for sql in seen if sql.startswith("INSERT INTO message ")]) == 1
    assert _savepoints(seen) == 0


def test_the_sends_before_a_failing_one_are_stored_once(app, users, public_room, db_path):
    # The batch's first run is rolled back when "again" fails; its second run stores "a" and
    # "b" again, in savepoints: each once, in order.
    batch, seen = _commit_watched(
        app, users, public_room, [("before", "a"), ("again", "taken"), ("after", "b")], taken=True
    )
    assert [job.error is None for job in batch] == [True, False, True]
    assert _stored(db_path) == ["taken", "a", "b"]
    assert _savepoints(seen) == 3


def test_a_send_that_times_out_is_either_never_stored_or_waited_for(app, users, public_room, db_path, monkeypatch):
    """A send that gives up while still queued is withdrawn (never stored); one its batch is
    already writing waits for that COMMIT, so no message is stored that nobody was told of."""
    # The slow batch then has about 2 s more to COMMIT once released: ample on a busy machine.
    monkeypatch.setattr("chatapp.services.committer.WAIT_SECONDS", 2.0)
    gate, writing = threading.Event(), threading.Event()
    outcomes: dict[str, object] = {}
    with app.app_context():
        alice, room = db.session.get(User, users["alice"].id), db.session.get(Room, public_room.id)
        slow_store, queued_store = _job(alice, room, "slow", "slow").work, _job(alice, room, "queued", "queued").work

    def slow_batch():
        writing.set()
        assert gate.wait(10)
        return slow_store()

    def send(name: str, work) -> None:
        with app.app_context():
            try:
                outcomes[name] = committer().run(work, room_id=public_room.id)
            except CommitFailed as error:
                outcomes[name] = error

    first = threading.Thread(target=send, args=("slow", slow_batch))
    first.start()
    assert writing.wait(5)  # the committer is writing the first batch...
    second = threading.Thread(target=send, args=("queued", queued_store))
    second.start()
    second.join(10)  # ...so the second send waits its whole 2 s in the queue, and gives up
    gate.set()
    first.join(10)
    assert isinstance(outcomes["queued"], CommitFailed) and "nothing was stored" in str(outcomes["queued"])
    assert not isinstance(outcomes["slow"], Exception), outcomes["slow"]  # waited past its 2 s for the COMMIT
    time.sleep(0.2)  # a withdrawn send that still ran would be stored by now
    assert _stored(db_path) == ["slow"]


@pytest.mark.parametrize("group_commit", [True, False])
def test_send_is_acked_after_commit_and_idempotent_on_both_paths(app, socket_for, public_room, db_path, group_commit):
    app.config["GROUP_COMMIT"] = group_commit
    alice = socket_for("alice")
    alice.emit("join", {"room": "lobby"}, callback=True)
    first = alice.emit("send", {**SEND, "client_id": "c1"}, callback=True)
    assert first["ok"] and first["message"]["client_id"] == "c1"
    assert _stored(db_path, "SELECT id FROM message") == [first["message"]["id"]]
    again = alice.emit("send", {**SEND, "client_id": "c1"}, callback=True)
    assert again == first
    assert _stored(db_path) == ["c1"]
    assert (app.extensions.get("chatapp.committer") is not None) == group_commit


@pytest.mark.live
def test_concurrent_sends_from_many_sockets_are_each_acked_after_commit(live_server):
    """Several sockets (WebSocket and long-polling) send at once: every send acked, stored before its ack, once."""
    names = [f"user{n}" for n in range(6)]
    for name in names:
        live_server.add_user(name)
    live_server.add_room("lobby")
    live_server.start()
    clients = [connect(live_server, name, "websocket" if n % 2 else "polling")[0] for n, name in enumerate(names)]
    # A second socket of user0: it retries user0's client_ids at the same moment.
    twin = connect(live_server, names[0], "websocket")[0]
    for client in clients + [twin]:
        assert client.call("join", {"room": "lobby"}, timeout=10)["ok"]
    rounds = 15
    acks: dict[int, list[dict]] = {n: [] for n in range(len(clients) + 1)}
    unreadable: list = []
    lock = threading.Lock()

    def sender(n: int, client: socketio.Client, prefix: str) -> None:
        for i in range(rounds):
            ack = client.call(
                "send", {"room": "lobby", "body": f"{prefix} {i}", "client_id": f"{prefix}-{i}"}, timeout=20
            )
            if ack.get("ok"):
                readable = _stored(
                    live_server.db_path, f"SELECT client_id FROM message WHERE id = {int(ack['message']['id'])}"
                )
                if readable != [ack["message"]["client_id"]]:
                    with lock:
                        unreadable.append(ack)
            acks[n].append(ack)

    threads = [threading.Thread(target=sender, args=(n, client, names[n])) for n, client in enumerate(clients)]
    threads.append(threading.Thread(target=sender, args=(len(clients), twin, names[0])))  # the same client_ids as user0
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert all(ack["ok"] for sent in acks.values() for ack in sent), acks
    assert unreadable == []
    for n in acks:  # one socket's sends, acked one after the other, have increasing ids
        ids = [ack["message"]["id"] for ack in acks[n]]
        assert ids == sorted(ids) and len(set(ids)) == rounds
    # user0 and its twin sent the same client_ids: each was stored once, and both got that one message.
    assert [ack["message"]["id"] for ack in acks[0]] == [ack["message"]["id"] for ack in acks[len(clients)]]
    stored = _stored(live_server.db_path)
    assert len(stored) == len(set(stored)) == rounds * len(clients)
    # A retry long after (another batch) answers the stored message again.
    retry = clients[1].call("send", {"room": "lobby", "body": "late", "client_id": f"{names[1]}-0"}, timeout=10)
    assert retry["message"]["id"] == acks[1][0]["message"]["id"]
    assert len(_stored(live_server.db_path)) == rounds * len(clients)
    for client in clients + [twin]:
        client.disconnect()


@pytest.mark.live
def test_a_fresh_server_process_serves_a_socket_that_logged_in_before_it_started(live_server):
    """The first thing a restarted process does may be a socket's user lookup (the cheap Core path in
    services/rows.py)."""
    live_server.add_user("alice")
    live_server.add_room("lobby")
    live_server.start()
    session = live_server.login("alice")
    live_server.restart()
    client = socketio.Client(reconnection=False)
    client.connect(
        live_server.url, headers=live_server.socket_headers(session), transports=["websocket"], wait_timeout=10
    )
    assert client.call("join", {"room": "lobby"}, timeout=10)["ok"]
    ack = client.call("send", {"room": "lobby", "body": "still here", "client_id": "fresh-1"}, timeout=10)
    assert ack["ok"] and _stored(live_server.db_path) == ["fresh-1"]
    client.disconnect()
