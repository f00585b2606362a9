"""Two app processes behind nginx, sharing PostgreSQL and a Redis message queue.

Clients on different processes chat in one room and hear each message exactly once;
presence is the same from every process; a logout on one process closes the sockets
on the other; a member removed or banned on one process stops hearing the room on the
other; a change to a message made on one process is caught up on the other; failed
logins on one process slow that account on the other (and no classmate); and when a
process is killed its clients reconnect through nginx to the survivor and catch up
with nothing lost and nothing doubled. Automatic assignment holds across the two
processes: no conversation assigned twice, no agent past their cap.
"""
from __future__ import annotations

import threading
import time

import pytest
import requests
import socketio

from chatapp.extensions import db
from chatapp.models import Conversation, Site, User
from chatapp.services import routing, sites, visitors

from ..conftest import PASSWORD, csrf_token_from
from ..helpers import wait_for
from .conftest import PRESENCE_TTL_SECONDS

pytestmark = pytest.mark.cluster


def test_clients_on_different_processes_hear_each_message_exactly_once(cluster):
    app1, app2 = cluster.apps
    for name in ("alice", "bob", "carol"):
        cluster.add_user(name)
    cluster.add_room("hall")
    alice = cluster.client(app1.url, "alice", transport="websocket")
    bob = cluster.client(app2.url, "bob", transport="polling")
    carol = cluster.client(cluster.nginx.url, "carol", transport="websocket")
    clients = (alice, bob, carol)
    try:
        for client in clients:
            client.join("hall")
        sent = [client.send("hall", f"hello from {i}", f"c{i}") for i, client in enumerate(clients)]
        # A retried client_id on the other process is stored once and broadcast to nobody.
        again = cluster.client(app2.url, "alice", transport="websocket")
        try:
            assert again.send("hall", "hello from 0", "c0") == sent[0]
        finally:
            again.close()
        expected = sorted(message["id"] for message in sent)
        for client in clients:
            assert wait_for(lambda client=client: len(client.message_ids("hall")) >= 3), client.messages
        time.sleep(0.5)  # anything doubled or late would arrive by now
        for client in clients:
            assert sorted(client.message_ids("hall")) == expected
    finally:
        for client in clients:
            client.close()


def test_presence_is_the_same_from_every_process(cluster):
    app1, app2 = cluster.apps
    for name in ("dora", "emil"):
        cluster.add_user(name)
    cluster.add_room("porch")
    dora = cluster.client(app1.url, "dora")
    emil = cluster.client(app2.url, "emil")
    try:
        dora.join("porch")
        emil.join("porch")
        both = ["dora", "emil"]
        assert wait_for(lambda: dora.presence.get("porch") == both and emil.presence.get("porch") == both)
        # The room page (HTTP, on the other process) shows both online too.
        page = cluster.login(app1.url, "emil").get(app1.url + "/rooms/porch", timeout=10).text
        assert page.count(">online<") >= 2 or page.count("online</span>") >= 2
        emil.close()
        assert wait_for(lambda: dora.presence.get("porch") == ["dora"])
    finally:
        dora.close()
        emil.close()


def test_logout_on_one_process_closes_sockets_on_the_other(cluster):
    app1, app2 = cluster.apps
    cluster.add_user("fritz")
    fritz = cluster.client(app2.url, "fritz")
    try:
        assert fritz.sio.connected
        browser = cluster.login(app1.url, "fritz")
        token = csrf_token_from(browser.get(app1.url + "/", timeout=10).text)
        response = browser.post(
            app1.url + "/auth/logout", data={"csrf_token": token}, allow_redirects=False, timeout=10
        )
        assert response.status_code == 302
        assert wait_for(lambda: not fritz.sio.connected, timeout=10)
    finally:
        fritz.close()


def test_killed_process_clients_reconnect_through_nginx_and_catch_up(cluster):
    upstream = requests.get(cluster.nginx.url + "/healthz", timeout=5).headers["X-Chatapp-Upstream"]
    victim = next(app for app in cluster.apps if upstream.endswith(f":{app.port}"))
    survivor = next(app for app in cluster.apps if app is not victim)
    for name in ("kim", "lou", "obi", "gus"):
        cluster.add_user(name)
    cluster.add_room("crash")
    # kim (WebSocket) and lou (long-polling) reach the victim through nginx and reconnect by
    # themselves; obi is on the survivor; gus is on the victim directly and never comes back.
    kim = cluster.client(cluster.nginx.url, "kim", transport="websocket", reconnection=True)
    lou = cluster.client(cluster.nginx.url, "lou", transport="polling", reconnection=True)
    obi = cluster.client(survivor.url, "obi")
    gus = cluster.client(victim.url, "gus")
    clients = (kim, lou, obi, gus)
    try:
        for client in clients:
            client.join("crash")
        everyone = ["gus", "kim", "lou", "obi"]
        assert wait_for(lambda: obi.presence.get("crash") == everyone)
        sent = [obi.send("crash", "before the crash", "k0")]
        assert wait_for(lambda: all(len(c.message_ids("crash")) == 1 for c in clients))

        victim.kill()
        killed_at = time.monotonic()
        # Sent while kim and lou are down or reconnecting: they must get these by catching up.
        sent += [obi.send("crash", f"during the outage {i}", f"k{i}") for i in range(1, 4)]

        for client in (kim, lou):
            assert wait_for(lambda client=client: client.connects >= 2 and client.sio.connected, timeout=20), \
                f"no reconnect through nginx: {client.connects} connects"
        caught_up = {}
        for client in (kim, lou):
            last_seen = max(client.message_ids("crash"))
            caught_up[client] = client.join("crash", after=last_seen)["messages"]
        sent.append(obi.send("crash", "after the crash", "k4"))
        expected = sorted(message["id"] for message in sent)
        for client in (kim, lou):
            assert wait_for(lambda client=client: sent[-1]["id"] in client.message_ids("crash"))
            heard = client.message_ids("crash") + [m["id"] for m in caught_up[client]]
            assert sorted(heard) == expected  # nothing lost, nothing doubled

        # gus's process is gone: within the presence TTL plus one heartbeat, nobody sees him online.
        bound = PRESENCE_TTL_SECONDS + PRESENCE_TTL_SECONDS / 3 + 3
        assert wait_for(lambda: obi.presence.get("crash") == ["kim", "lou", "obi"],
                        timeout=bound - (time.monotonic() - killed_at) + 1), obi.presence
        assert time.monotonic() - killed_at <= bound + 1
    finally:
        for client in clients:
            client.close()
        if victim.process is None or victim.process.poll() is not None:
            victim.start()  # for any test after this one


@pytest.mark.parametrize("action", ["remove_member", "ban"])
def test_removing_a_member_on_one_process_stops_their_sockets_on_the_other(cluster, action):
    app1, app2 = cluster.apps
    slug = f"class-{action.replace('_', '-')}"
    cluster.add_user(f"teach-{action}", role="admin")
    student_id = cluster.add_user(f"pupil-{action}")
    cluster.add_room(slug)
    teacher = cluster.client(app1.url, f"teach-{action}")
    student = cluster.client(app2.url, f"pupil-{action}")
    removals: list[dict] = []
    student.sio.on("member_removed", removals.append)
    try:
        teacher.join(slug)
        student.join(slug)
        assert wait_for(lambda: teacher.presence.get(slug) == sorted([f"teach-{action}", f"pupil-{action}"]))
        before = teacher.send(slug, "before", "r0")
        assert wait_for(lambda: before["id"] in student.message_ids(slug))

        ack = teacher.call(action, {"room": slug, "user_id": student_id})
        assert ack["ok"], ack
        # The student hears that they were taken out, then nothing more of the room...
        assert wait_for(lambda: [event["user"]["id"] for event in removals] == [student_id]), removals
        assert wait_for(lambda: teacher.presence.get(slug) == [f"teach-{action}"])
        after = teacher.send(slug, "after", "r1")
        assert wait_for(lambda: after["id"] in teacher.message_ids(slug))
        time.sleep(0.5)  # a message that leaked to the other process would arrive by now
        assert after["id"] not in student.message_ids(slug)
        # ...though their socket stays up for their other rooms.
        assert student.sio.connected
    finally:
        teacher.close()
        student.close()


def test_a_change_made_on_one_process_is_caught_up_on_the_other(cluster):
    """On PostgreSQL: an edit and a deletion take the room's next revisions, and a client
    rejoining on the other process with its revision gets both, in the order they were made."""
    app1, app2 = cluster.apps
    cluster.add_user("ines")
    cluster.add_room("edits")
    writer = cluster.client(app1.url, "ines")
    reader = cluster.client(app2.url, "ines", transport="polling")
    try:
        first = reader.join("edits")
        kept = writer.send("edits", "typo here", "e0")
        gone = writer.send("edits", "wrong room", "e1")
        assert writer.call("edit_message", {"room": "edits", "id": kept["id"], "body": "no typo"})["ok"]
        assert writer.call("delete_message", {"room": "edits", "id": gone["id"]})["ok"]
        again = reader.call("join", {"room": "edits", "after": gone["id"], "revision": first["revision"]})
        assert [(m["id"], m["body"], m.get("deleted", False)) for m in again["changed"]] == [
            (kept["id"], "no typo", False), (gone["id"], "", True)]
        assert again["revision"] == first["revision"] + 2 and again["messages"] == []
    finally:
        writer.close()
        reader.close()


def test_failed_logins_on_one_process_slow_that_account_on_the_other(cluster):
    app1, app2 = cluster.apps
    for name in ("guesser", "classmate"):
        cluster.add_user(name)

    def attempt(url: str, username: str, password: str) -> int:
        session = requests.Session()
        token = csrf_token_from(session.get(url + "/auth/login", timeout=10).text)
        return session.post(url + "/auth/login", data={"username": username, "password": password, "csrf_token": token},
                            allow_redirects=False, timeout=10).status_code

    free = 5  # LOGIN_FREE_FAILURES's default
    assert [attempt(app1.url, "guesser", "wrong-password") for _ in range(free)] == [401] * free
    assert attempt(app2.url, "guesser", "wrong-password") == 429
    assert attempt(app2.url, "classmate", PASSWORD) == 302


def test_automatic_assignment_holds_across_processes(cluster):
    """Three agents on different processes, cap 2, ten visitors writing at once through both:
    six conversations are assigned, two per agent, each once; the rest wait and go out as agents
    resolve, never past a cap; an agent whose console closes is offline for everyone."""
    app1, app2 = cluster.apps
    for name in ("ann", "ben", "cat"):
        cluster.add_user(name, role="staff")
    with cluster._app.app_context():
        site = sites.create_site(actor=None, name="Routed shop", origins=["https://routed.example"])
        site.routing, site.agent_cap = "auto", 2
        db.session.commit()
        site_key, site_id = site.site_key, site.id
        started = [visitors.start_session(site_key=site_key, own_origin="https://routed.example",
                                          origin="https://routed.example") for _ in range(10)]
        guests = [(s.visitor.id, s.visitor_token, s.conversation.room.slug) for s in started]
        db.session.remove()

    consoles = {
        "ann": cluster.client(app1.url, "ann"),
        "ben": cluster.client(app2.url, "ben", transport="polling"),
        "cat": cluster.client(cluster.nginx.url, "cat"),
    }
    statuses: dict[str, list[dict]] = {name: [] for name in consoles}
    for name, console in consoles.items():
        console.sio.on("agent_status", statuses[name].append)
        assert console.call("support_list", {})["ok"]

    heard: dict[str, list] = {room: [] for _, _, room in guests}
    sockets = []
    for n, (_, token, room) in enumerate(guests):
        sio = socketio.Client(reconnection=False)
        sio.on("conversation", lambda summary, room=room: heard[room].append(summary.get("assignee")))
        sio.connect((app1 if n % 2 else app2).url, auth={"visitor_token": token}, transports=["websocket"],
                    wait_timeout=10)
        sockets.append(sio)
    try:
        start = threading.Barrier(len(guests))
        acks: list[dict] = []

        def write(sio, room, n):
            start.wait(timeout=10)
            acks.append(sio.call("send", {"room": room, "body": f"help {n}", "client_id": f"h{n}"}, timeout=20))

        threads = [threading.Thread(target=write, args=(sio, room, n))
                   for n, (sio, (_, _, room)) in enumerate(zip(sockets, guests, strict=True))]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)
        assert len(acks) == 10 and all(ack["ok"] for ack in acks), acks

        def held() -> dict[str, int]:
            with cluster._app.app_context():
                rows = db.session.execute(
                    db.select(Conversation.assignee_id, db.func.count()).where(
                        Conversation.site_id == site_id, Conversation.status == "open",
                        Conversation.assignee_id.is_not(None)).group_by(Conversation.assignee_id)
                ).all()
                names = {user_id: db.session.get(User, user_id).username for user_id, _ in rows}
                db.session.remove()
                return {names[user_id]: count for user_id, count in rows}

        assert wait_for(lambda: sum(held().values()) == 6, timeout=15), held()
        assert held() == {"ann": 2, "ben": 2, "cat": 2}

        # Each agent resolves one (on their own process): the oldest waiting go out, never past a cap.
        assigned_rooms = {}
        with cluster._app.app_context():
            for conversation in db.session.scalars(db.select(Conversation).where(Conversation.site_id == site_id)):
                if conversation.assignee is not None:
                    assigned_rooms.setdefault(conversation.assignee.username, []).append(conversation.room.slug)
            db.session.remove()
        for name, console in consoles.items():
            ack = console.call("support_status", {"room": assigned_rooms[name][0], "status": "resolved"})
            assert ack["ok"], ack
        assert wait_for(lambda: sum(held().values()) == 6 and _waiting(cluster, site_id) == 1, timeout=15)
        assert held() == {"ann": 2, "ben": 2, "cat": 2}

        # No visitor ever heard of two different agents.
        for room, assignees in heard.items():
            named = {assignee["id"] for assignee in assignees if assignee}
            assert len(named) <= 1, (room, assignees)

        # ann's console closes on process 1: the others hear that she is offline.
        consoles["ann"].close()
        assert wait_for(lambda: any(s["user"]["username"] == "ann" and s["status"] == "offline"
                                    for s in statuses["ben"]), timeout=10), statuses["ben"]
        with cluster._app.app_context():
            assert routing.route_waiting() == []  # nobody has room: nothing changes hands
            db.session.remove()
    finally:
        for sio in sockets:
            sio.disconnect()
        for console in consoles.values():
            console.close()
        with cluster._app.app_context():
            db.session.get(Site, site_id).routing = "manual"  # leave the other tests' desk alone
            db.session.commit()
            db.session.remove()


def _waiting(cluster, site_id: int) -> int:
    with cluster._app.app_context():
        count = db.session.scalar(db.select(db.func.count()).select_from(Conversation).where(
            Conversation.site_id == site_id, Conversation.assignee_id.is_(None), Conversation.status == "open"))
        db.session.remove()
        return count


def test_an_agent_on_a_killed_process_goes_offline_and_their_work_goes_back(cluster):
    app1, app2 = cluster.apps
    for name in ("dee", "eli"):
        cluster.add_user(name, role="staff")
    with cluster._app.app_context():
        site = sites.create_site(actor=None, name="Requeue shop", origins=["https://requeue.example"])
        site.routing, site.agent_cap, site.requeue_on_offline = "auto", 5, True
        db.session.commit()
        site_id = site.id
        started = visitors.start_session(site_key=site.site_key, own_origin="https://requeue.example",
                                         origin="https://requeue.example")
        token, room = started.visitor_token, started.conversation.room.slug
        db.session.remove()
    dee = cluster.client(app1.url, "dee")  # on the process that will die
    eli = cluster.client(app2.url, "eli")
    heard: list[dict] = []
    eli.sio.on("agent_status", heard.append)
    visitor = socketio.Client(reconnection=False)
    try:
        assert dee.call("support_list", {})["ok"] and eli.call("support_list", {})["ok"]
        assert eli.call("support_availability", {"status": "away"})["ok"]
        visitor.connect(app2.url, auth={"visitor_token": token}, transports=["websocket"], wait_timeout=10)
        assert visitor.call("send", {"room": room, "body": "hello", "client_id": "r1"}, timeout=10)["ok"]
        assert _assignee(cluster, site_id) == "dee"
        assert eli.call("support_availability", {"status": "online"})["ok"]

        app1.kill()
        killed_at = time.monotonic()
        bound = PRESENCE_TTL_SECONDS + PRESENCE_TTL_SECONDS / 3 + 3
        assert wait_for(lambda: any(s["user"]["username"] == "dee" and s["status"] == "offline" for s in heard),
                        timeout=bound + 2), heard
        assert wait_for(lambda: _assignee(cluster, site_id) == "eli", timeout=5)
        assert time.monotonic() - killed_at <= bound + 3
    finally:
        visitor.disconnect()
        dee.close()
        eli.close()
        if app1.process is None or app1.process.poll() is not None:
            app1.start()
        with cluster._app.app_context():
            db.session.get(Site, site_id).routing = "manual"
            db.session.commit()
            db.session.remove()


def _assignee(cluster, site_id: int) -> str | None:
    with cluster._app.app_context():
        conversation = db.session.scalar(db.select(Conversation).where(Conversation.site_id == site_id))
        name = conversation.assignee.username if conversation.assignee else None
        db.session.remove()
        return name
