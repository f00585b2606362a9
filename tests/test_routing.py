"""Automatic assignment and agent availability (services/routing.py and availability.py), through the real doors."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import AgentState, Conversation, Episode, Site, User, utcnow
from chatapp.services import accounts, availability, routing, teams
from harness.database import PASSWORD

from . import helpers
from .conftest import received
from .support_fixtures import make_site, start_visitor

AGENTS = ("ann", "ben", "cat")


@pytest.fixture
def agents(app, users) -> dict[str, int]:
    """Three staff accounts besides the usual users: ann, ben and cat (made in that order)."""
    with app.app_context():
        return {
            name: accounts.create_user(username=name, password=PASSWORD, role="staff",
                                       display_name=name.capitalize()).id
            for name in AGENTS
        }


def auto_site(app, *, cap: int | None = 2, routing_mode: str = "auto", **columns) -> tuple[str, int]:
    """A site with automatic routing and an agent cap; returns (key, id)."""
    key = make_site(app)
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(site_key=key))
        site.routing = routing_mode
        site.agent_cap = cap
        for name, value in columns.items():
            setattr(site, name, value)
        db.session.commit()
        return key, site.id


def open_console(socket_for, username: str):
    """An agent's console socket, the queue listed (which makes them present and online)."""
    sock = socket_for(username)
    ack = sock.emit("support_list", {}, callback=True)
    assert ack["ok"], ack
    return sock


def visitor_writes(app, site_key, visitor_socket, body: str):
    """A new visitor on the site sends one message; returns (visitor, their socket)."""
    visitor = start_visitor(app, site_key)
    sock = visitor_socket(visitor)
    ack = sock.emit("send", {"room": visitor.room, "body": body, "client_id": body}, callback=True)
    assert ack["ok"], ack
    return visitor, sock


def assignee_of(app, visitor) -> str | None:
    with app.app_context():
        conversation = db.session.scalar(db.select(Conversation).filter_by(visitor_id=visitor.id))
        return conversation.assignee.username if conversation.assignee else None


def resolve(sock, visitor) -> None:
    ack = sock.emit("support_status", {"room": visitor.room, "status": "resolved"}, callback=True)
    assert ack["ok"], ack


def test_three_agents_with_a_cap_of_two_share_ten_visitors_fairly_and_the_rest_wait_in_arrival_order(
    app, agents, socket_for, visitor_socket
):
    key, _ = auto_site(app, cap=2)
    consoles = {name: open_console(socket_for, name) for name in AGENTS}
    visitors = [visitor_writes(app, key, visitor_socket, f"question {n}")[0] for n in range(10)]

    # Round robin: whoever got a conversation longest ago (never, at first; then by turn).
    assert [assignee_of(app, v) for v in visitors[:6]] == ["ann", "ben", "cat", "ann", "ben", "cat"]
    assert [assignee_of(app, v) for v in visitors[6:]] == [None, None, None, None]

    # As agents resolve, the waiting ones go out oldest first, each to the agent with room for it.
    resolve(consoles["ben"], visitors[1])
    assert assignee_of(app, visitors[6]) == "ben"
    assert [assignee_of(app, v) for v in visitors[7:]] == [None, None, None]
    resolve(consoles["cat"], visitors[2])
    assert assignee_of(app, visitors[7]) == "cat"
    resolve(consoles["ann"], visitors[0])
    resolve(consoles["ann"], visitors[3])
    assert [assignee_of(app, v) for v in visitors[8:]] == ["ann", "ann"]
    with app.app_context():
        held = {name: routing.open_count(agents[name]) for name in AGENTS}
    assert held == {"ann": 2, "ben": 2, "cat": 2}


def test_the_visitor_hears_that_someone_will_come_and_then_who(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, cap=1)
    open_console(socket_for, "ann")
    visitor_writes(app, key, visitor_socket, "first")  # ann is now at her cap
    visitor, sock = visitor_writes(app, key, visitor_socket, "second")
    summaries = [s for s in received(sock, "conversation") if s["room"] == visitor.room]
    assert summaries[-1]["assignee"] is None and summaries[-1]["waiting"] is True

    open_console(socket_for, "ben")  # someone becomes available: the waiting one is theirs at once
    summaries = [s for s in received(sock, "conversation") if s["room"] == visitor.room]
    assert summaries[-1]["assignee"]["display_name"] == "Ben"
    assert summaries[-1]["waiting"] is False


def test_an_away_agent_gets_nothing_and_everyone_sees_the_status(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, cap=5)
    ann = open_console(socket_for, "ann")
    ben = open_console(socket_for, "ben")
    ack = ann.emit("support_availability", {"status": "away"}, callback=True)
    assert ack == {"ok": True, "status": "away", "choice": "away"}
    statuses = [event for event in received(ben, "agent_status") if event["user"]["username"] == "ann"]
    assert statuses[-1]["status"] == "away"

    visitors = [visitor_writes(app, key, visitor_socket, f"hi {n}")[0] for n in range(3)]
    assert [assignee_of(app, v) for v in visitors] == ["ben", "ben", "ben"]

    # The choice is kept: a reload (a new console socket) is still away.
    ann.disconnect()
    again = socket_for("ann")
    listed = again.emit("support_list", {}, callback=True)
    mine = next(row for row in listed["agents"] if row["user"]["username"] == "ann")
    assert mine == {"user": mine["user"], "status": "away", "choice": "away"}
    ack = again.emit("support_availability", {"status": "online"}, callback=True)
    assert ack["status"] == "online"
    assert assignee_of(app, visitor_writes(app, key, visitor_socket, "now ann")[0]) == "ann"


def test_an_agent_whose_console_closes_is_offline_and_can_give_their_work_back(
    app, agents, socket_for, visitor_socket
):
    key, site_id = auto_site(app, cap=5, requeue_on_offline=True)
    ann = open_console(socket_for, "ann")
    first, _ = visitor_writes(app, key, visitor_socket, "one")
    assert assignee_of(app, first) == "ann"
    ben = open_console(socket_for, "ben")
    ann.disconnect()

    statuses = [event for event in received(ben, "agent_status") if event["user"]["username"] == "ann"]
    assert statuses[-1]["status"] == "offline"
    assert assignee_of(app, first) == "ben"  # went back to the queue and out again
    assert assignee_of(app, visitor_writes(app, key, visitor_socket, "two")[0]) == "ben"


def test_without_requeue_an_offline_agents_conversations_stay_theirs(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, cap=5, requeue_on_offline=False)
    ann = open_console(socket_for, "ann")
    first, _ = visitor_writes(app, key, visitor_socket, "one")
    open_console(socket_for, "ben")
    ann.disconnect()
    assert assignee_of(app, first) == "ann"


def test_an_idle_console_counts_as_away_until_its_agent_is_back(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, cap=5)
    ann = open_console(socket_for, "ann")
    ben = open_console(socket_for, "ben")
    with app.app_context():
        state = db.session.get(AgentState, agents["ann"])
        state.last_active_at = utcnow() - timedelta(seconds=app.config["AGENT_IDLE_SECONDS"] + 1)
        db.session.commit()
        routing.tick()
    assert [e for e in received(ben, "agent_status") if e["user"]["username"] == "ann"][-1]["status"] == "away"
    assert [assignee_of(app, visitor_writes(app, key, visitor_socket, f"q{n}")[0]) for n in range(2)] == ["ben"] * 2

    assert ann.emit("support_active", {}, callback=True) == {"ok": True, "status": "online"}
    assert [e for e in received(ben, "agent_status") if e["user"]["username"] == "ann"][-1]["status"] == "online"


def test_a_manual_site_leaves_conversations_in_the_queue(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, routing_mode="manual")
    open_console(socket_for, "ann")
    assert assignee_of(app, visitor_writes(app, key, visitor_socket, "hello")[0]) is None


def test_an_agents_own_cap_wins_over_the_sites(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, cap=3)
    open_console(socket_for, "ann")
    with app.app_context():
        db.session.get(AgentState, agents["ann"]).cap = 1
        db.session.commit()
    visitors = [visitor_writes(app, key, visitor_socket, f"q{n}")[0] for n in range(2)]
    assert [assignee_of(app, v) for v in visitors] == ["ann", None]


def test_a_teams_site_goes_only_to_that_team_and_only_its_consoles_hear_of_it(app, agents, socket_for, visitor_socket):
    with app.app_context():
        north = teams.save_team(actor=None, name="North")
        teams.set_member(actor=None, team=north, user=db.session.get(User, agents["cat"]))
        north_id = north.id
    key, _ = auto_site(app, cap=5, team_id=north_id)
    ann = open_console(socket_for, "ann")
    cat = open_console(socket_for, "cat")
    visitor, _ = visitor_writes(app, key, visitor_socket, "for the north")
    assert assignee_of(app, visitor) == "cat"
    assert any(s["room"] == visitor.room for s in received(cat, "conversation"))
    assert not any(s["room"] == visitor.room for s in received(ann, "conversation"))
    # ann is not in the team: she cannot open it either.
    ack = ann.emit("support_get", {"room": visitor.room}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"


def test_outside_business_hours_conversations_wait_for_the_opening(app, agents, socket_for, visitor_socket):
    now = utcnow()
    closed_today = {str(day): [["00:00", "24:00"]] for day in range(7) if day != now.weekday()}
    key, site_id = auto_site(app, cap=5, schedule=closed_today)
    open_console(socket_for, "ann")
    early, _ = visitor_writes(app, key, visitor_socket, "anyone there?")
    late, _ = visitor_writes(app, key, visitor_socket, "hello?")
    assert (assignee_of(app, early), assignee_of(app, late)) == (None, None)
    with app.app_context():
        db.session.get(Site, site_id).schedule = None  # the desk opens
        db.session.commit()
        assigned = routing.tick()
        assert [c.visitor_id for c in assigned] == [early.id, late.id]  # oldest first


def test_two_routers_at_once_never_assign_twice_or_past_a_cap(app, agents, socket_for, visitor_socket):
    key, site_id = auto_site(app, cap=2, routing_mode="manual")
    for name in AGENTS:
        open_console(socket_for, name)
    visitors = [visitor_writes(app, key, visitor_socket, f"q{n}")[0] for n in range(10)]
    with app.app_context():
        db.session.get(Site, site_id).routing = "auto"
        db.session.commit()

    results: list[list[int]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def router() -> None:
        try:
            with app.app_context():
                start.wait(timeout=10)
                results.append([c.id for c in routing.route_waiting()])
        except BaseException as error:  # noqa: BLE001 - reported below
            errors.append(error)

    threads = [threading.Thread(target=router) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not errors
    assigned = [cid for result in results for cid in result]
    assert len(assigned) == len(set(assigned)) == 6  # each assigned once, by one of the two
    with app.app_context():
        assert {name: routing.open_count(agents[name]) for name in AGENTS} == {"ann": 2, "ben": 2, "cat": 2}
        waiting = db.session.scalar(db.select(db.func.count()).select_from(Conversation)
                                    .where(Conversation.assignee_id.is_(None)))
        assert waiting == 4
    assert len(visitors) == 10


def test_availability_is_for_agents_only(app, users, socket_for):
    member = socket_for("alice")
    for event, data in [("support_availability", {"status": "away"}), ("support_active", {})]:
        ack = member.emit(event, data, callback=True)
        assert ack["ok"] is False and ack["error"] == "forbidden"
    staff = socket_for("staff")
    ack = staff.emit("support_availability", {"status": "offline"}, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid"


def test_episodes_record_opening_first_response_replies_and_resolution(app, agents, socket_for, visitor_socket):
    key, _ = auto_site(app, routing_mode="manual")
    ann = open_console(socket_for, "ann")
    visitor, vsock = visitor_writes(app, key, visitor_socket, "help")
    helpers.send(ann, visitor.room, "a note", "n1", internal=True)  # a note is no response
    helpers.send(ann, visitor.room, "hello!", "r1")
    helpers.send(ann, visitor.room, "anything else?", "r2")
    resolve(ann, visitor)
    helpers.send(vsock, visitor.room, "one more thing", "v2")  # reopens: a new episode
    with app.app_context():
        episodes = list(db.session.scalars(db.select(Episode).order_by(Episode.id)))
        ann_id = agents["ann"]
        assert len(episodes) == 2
        first, second = episodes
        assert first.first_responder_id == ann_id and first.agent_replies == 2
        assert first.opened_at <= first.first_response_at <= first.resolved_at
        assert (first.resolved_by_id, first.assignee_id) == (ann_id, ann_id)
        assert second.resolved_at is None and second.first_response_at is None
        assert availability.status_of(ann_id) == "online"
