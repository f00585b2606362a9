"""The support desk over Socket.IO: visitor sockets, the agent queue, notes, and what a visitor may never receive."""
from __future__ import annotations

import json
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatapp.extensions import db
from chatapp.models import Message, User
from chatapp.services import accounts
from chatapp.services.errors import ERROR_CODES

from . import helpers
from .conftest import received
from .support_fixtures import (  # noqa: F401 - fixtures
    IDENTITY_SECRET,
    conversation_of,
    site_key,
    start_visitor,
    visitor_socket,
)


def send(sock, room, body="hello", client_id=None, **extra):
    """A send whose client_id is its body unless given."""
    return helpers.send(sock, room, body, client_id or body, **extra)


def console(socket_for, username="staff", **filters):
    """A staff socket with the console open (subscribed to the queue); returns (socket, list ack)."""
    sock = socket_for(username)
    ack = sock.emit("support_list", filters or {}, callback=True)
    assert ack["ok"], ack
    return sock, ack


def everything(sock) -> str:
    """All a socket received since the last call, as one JSON text (to search for leaks)."""
    return json.dumps(sock.get_received())


# -- connecting ---------------------------------------------------------------------------------


def test_visitor_connects_with_a_token_and_hears_whether_agents_are_online(app, site_key, visitor_socket):
    visitor = start_visitor(app, site_key)
    sock = visitor_socket(visitor)
    assert sock.is_connected()
    assert received(sock, "agents_online") == [{"online": False}]


@pytest.mark.parametrize("auth", [{"visitor_token": "forged"}, {"visitor_token": None}, {"visitor_token": 5},
                                  {"visitor_token": ""}, {"visitor_token": {"visitor": 1}}])
def test_bad_visitor_tokens_are_refused_at_connect(app, site_key, visitor_socket, auth):
    start_visitor(app, site_key)
    assert not visitor_socket(auth=auth).is_connected()


def test_visitor_token_wins_over_a_login_cookie(app, site_key, users):
    """A logged-in agent trying the widget in the same browser chats as the visitor, not as themselves."""
    from chatapp.extensions import socketio

    from .conftest import AuthActions

    visitor = start_visitor(app, site_key)
    http = app.test_client()
    AuthActions(http).login("staff")
    sock = socketio.test_client(app, flask_test_client=http, auth={"visitor_token": visitor.token})
    assert sock.is_connected()
    ack = send(sock, visitor.room, "as whom?")
    assert ack["message"]["sender"]["id"] == visitor.id
    assert sock.emit("support_list", {}, callback=True)["error"] == "forbidden"
    sock.disconnect()


def test_deactivated_visitor_is_refused_on_the_next_event(app, users, site_key, visitor_socket):
    visitor = start_visitor(app, site_key)
    sock = visitor_socket(visitor)
    with app.app_context():
        # Deactivated where this socket could not be closed (accounts.set_active closes the ones it sees).
        db.session.get(User, visitor.id).is_active_account = False
        db.session.commit()
    assert send(sock, visitor.room)["error"] == "unauthorized"


def test_deactivating_a_visitor_closes_their_sockets(app, users, site_key, visitor_socket):
    visitor = start_visitor(app, site_key)
    sock = visitor_socket(visitor)
    assert sock.is_connected()
    with app.app_context():
        accounts.set_active(actor=db.session.get(User, users["admin"].id), user=db.session.get(User, visitor.id),
                            active=False)
    assert not sock.is_connected()


# -- isolation ------------------------------------------------------------------------------------


def test_visitor_reaches_only_their_own_conversation(app, users, public_room, private_room, site_key, visitor_socket):
    mine, theirs = start_visitor(app, site_key), start_visitor(app, site_key)
    sock = visitor_socket(mine)
    for room in (theirs.room, "lobby", "secret"):
        assert sock.emit("join", {"room": room}, callback=True)["error"] == "forbidden", room
        assert send(sock, room)["error"] == "forbidden", room
        assert sock.emit("history", {"room": room}, callback=True)["error"] == "forbidden", room
        assert sock.emit("typing", {"room": room, "typing": True}, callback=True)["error"] == "forbidden", room
        assert sock.emit("read", {"room": room, "last_id": 1}, callback=True)["error"] == "forbidden", room
        assert sock.emit("support_get", {"room": room}, callback=True)["error"] in ("forbidden", "not_found"), room
        assert sock.emit("support_rate", {"room": room, "rating": 5}, callback=True)["error"] in (
            "forbidden",
            "not_found",
        )
    assert sock.emit("join", {"room": mine.room}, callback=True)["ok"] is True
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_visitor_cannot_work_the_queue(app, users, site_key, visitor_socket):
    visitor = start_visitor(app, site_key)
    sock = visitor_socket(visitor)
    for event, payload in [
        ("support_list", {}),
        ("support_claim", {"room": visitor.room}),
        ("support_assign", {"room": visitor.room, "user_id": visitor.id}),
        ("support_status", {"room": visitor.room, "status": "resolved"}),
    ]:
        assert sock.emit(event, payload, callback=True)["error"] == "forbidden", event
    assert send(sock, visitor.room, "note?", internal=True)["error"] == "forbidden"
    assert conversation_of(app, visitor)["assignee"] is None


def test_members_cannot_open_support_conversations(app, users, site_key, socket_for):
    visitor = start_visitor(app, site_key)
    alice = socket_for("alice")
    assert alice.emit("support_list", {}, callback=True)["error"] == "forbidden"
    assert alice.emit("join", {"room": visitor.room}, callback=True)["error"] == "forbidden"
    assert alice.emit("support_claim", {"room": visitor.room}, callback=True)["error"] == "forbidden"
    assert send(alice, visitor.room)["error"] == "forbidden"


def test_notes_never_reach_the_visitor(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    staff, admin = socket_for("staff"), socket_for("admin")
    for sock in (vsock, staff, admin):
        assert sock.emit("join", {"room": visitor.room}, callback=True)["ok"]
        sock.get_received()
    note = send(staff, visitor.room, "Customer is on the VIP plan", client_id="n1", internal=True)
    assert note["ok"] and note["message"]["internal"] is True
    assert received(admin, "message") == [note["message"]]
    assert received(staff, "message") == [note["message"]]
    assert "VIP" not in everything(vsock)  # not by broadcast, nor by any other event
    reply = send(staff, visitor.room, "Hello! How can I help?", client_id="r1")
    assert received(vsock, "message") == [reply["message"]]
    assert "internal" not in reply["message"]
    # Not by join, history or catch-up either.
    for ack in [vsock.emit("join", {"room": visitor.room}, callback=True),
                vsock.emit("join", {"room": visitor.room, "after": 0}, callback=True),
                vsock.emit("history", {"room": visitor.room}, callback=True),
                vsock.emit("history", {"room": visitor.room, "after": 0, "limit": 100}, callback=True)]:
        assert [m["body"] for m in ack["messages"]] == ["Hello! How can I help?"]
    assert "VIP" not in everything(vsock)
    assert [m["body"] for m in staff.emit("history", {"room": visitor.room}, callback=True)["messages"]] == [
        "Customer is on the VIP plan", "Hello! How can I help?"]
    # Nor as a change: the agent edits the note, and the visitor's catch-up of changes is empty.
    edited = staff.emit("edit_message", {"room": visitor.room, "id": note["message"]["id"], "body": "VIP until May"},
                        callback=True)
    assert edited["ok"], edited
    caught = vsock.emit("join", {"room": visitor.room, "after": reply["message"]["id"], "revision": 0}, callback=True)
    assert caught["changed"] == [] and caught["revision"] == 1
    assert "VIP" not in everything(vsock)
    staff_view = staff.emit(
        "join", {"room": visitor.room, "after": reply["message"]["id"], "revision": 0}, callback=True
    )
    assert [m["body"] for m in staff_view["changed"]] == ["VIP until May"]


def test_notes_are_not_in_the_api_for_non_staff(app, users, site_key, client, auth):
    from .conftest import AuthActions

    visitor = start_visitor(app, site_key)
    with app.app_context():
        from chatapp.services import messages, rooms

        staff = db.session.get(User, users["staff"].id)
        messages.post_message(
            sender=staff, room=rooms.get_room(visitor.room), body="secret", client_id="n", internal=True
        )
    assert client.get(f"/api/v1/rooms/{visitor.room}/messages").status_code == 401  # a visitor has no login
    auth.login("alice")
    assert client.get(f"/api/v1/rooms/{visitor.room}/messages").status_code == 403
    staff_client = app.test_client()
    AuthActions(staff_client).login("staff")
    bodies = [m["body"] for m in staff_client.get(f"/api/v1/rooms/{visitor.room}/messages").get_json()["messages"]]
    assert bodies == ["secret"]


def test_a_visitor_never_receives_other_visitors_data_notes_or_staff_details(app, users, site_key, socket_for,
                                                                           visitor_socket):
    mine = start_visitor(app, site_key, name="Mia", email="mia@example.com")
    theirs = start_visitor(app, site_key, name="Theo", email="theo@example.com", page_url="https://shop.example/theo")
    my_sock, their_sock = visitor_socket(mine), visitor_socket(theirs)
    agent, _ = console(socket_for)
    for sock, visitor in ((my_sock, mine), (their_sock, theirs)):
        assert sock.emit("join", {"room": visitor.room}, callback=True)["ok"]
    agent.emit("join", {"room": mine.room}, callback=True)
    agent.emit("join", {"room": theirs.room}, callback=True)
    send(their_sock, theirs.room, "Theo's private question")
    send(agent, theirs.room, "answer for Theo")
    send(agent, mine.room, "internal remark about Mia", internal=True)
    send(my_sock, mine.room, "Mia asks")
    send(agent, mine.room, "answer for Mia")
    agent.emit("support_claim", {"room": mine.room}, callback=True)
    agent.emit("support_status", {"room": mine.room, "status": "resolved"}, callback=True)
    seen = everything(my_sock)
    for secret in ["Theo", "theo@example.com", "shop.example/theo", "internal remark", "mia@example.com",
                   '"contact"', '"email"', '"user_agent"', theirs.room]:
        assert secret not in seen, secret
    assert "answer for Mia" in seen and '"status": "resolved"' in seen


# -- the queue, live ------------------------------------------------------------------------------


def test_queue_updates_live_with_per_agent_unread_counts(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key, name="Jane")
    vsock = visitor_socket(visitor)
    staff, first_list = console(socket_for, "staff")
    admin, _ = console(socket_for, "admin")
    assert first_list["conversations"] == [] and first_list["counts"] == {"unassigned": 0, "mine": 0, "all": 0}
    vsock.emit("join", {"room": visitor.room}, callback=True)
    staff.get_received(), admin.get_received()
    send(vsock, visitor.room, "I need help")
    [update] = received(staff, "conversation")
    assert update["room"] == visitor.room and update["unread"] == 1 and update["status"] == "open"
    assert update["contact"]["name"] == "Jane" and update["visitor_online"] is True
    assert update["last_message"]["body"] == "I need help"
    # The staff member reads it; their count drops, the admin's does not.
    last_id = update["last_message"]["id"]
    assert staff.emit("read", {"room": visitor.room, "last_id": last_id}, callback=True) == {"ok": True, "unread": 0}
    assert received(staff, "conversation")[-1]["unread"] == 0
    assert received(admin, "conversation")[-1]["unread"] == 1
    listed = staff.emit("support_list", {"view": "unassigned", "status": "open"}, callback=True)
    assert [c["room"] for c in listed["conversations"]] == [visitor.room]
    assert listed["conversations"][0]["unread"] == 0
    assert admin.emit("support_list", {}, callback=True)["attention"] == {visitor.room: 1}


def test_each_agent_hears_which_views_a_conversation_is_in_for_them(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    staff, _ = console(socket_for, "staff")
    admin, _ = console(socket_for, "admin")
    vsock.emit("join", {"room": visitor.room}, callback=True)
    send(vsock, visitor.room, "I need help")
    for sock in (staff, admin):
        [update] = received(sock, "conversation")
        assert update["views"] == ["unassigned", "all"] and update["needs_attention"] is True
    assert staff.emit("support_claim", {"room": visitor.room}, callback=True)["ok"]
    mine, theirs = received(staff, "conversation")[-1], received(admin, "conversation")[-1]
    assert mine["views"] == ["mine", "all"] and mine["needs_attention"] is True
    assert theirs["views"] == ["all"] and theirs["needs_attention"] is False  # not the admin's business now
    listed = admin.emit("support_list", {"view": "all"}, callback=True)["conversations"]
    assert [c["views"] for c in listed] == [["all"]]


def test_claim_assign_resolve_rate(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    vsock.emit("join", {"room": visitor.room}, callback=True)
    send(vsock, visitor.room, "help")
    staff, _ = console(socket_for, "staff")
    admin, _ = console(socket_for, "admin")
    claimed = staff.emit("support_claim", {"room": visitor.room}, callback=True)
    assert claimed["ok"] and claimed["conversation"]["assignee"]["username"] == "staff"
    assert admin.emit("support_claim", {"room": visitor.room}, callback=True)["error"] == "conflict"
    assert received(admin, "conversation")[-1]["assignee"]["username"] == "staff"
    assert received(vsock, "conversation")[-1]["assignee"]["display_name"] == "Staff"
    mine = staff.emit("support_list", {"view": "mine"}, callback=True)
    assert [c["room"] for c in mine["conversations"]] == [visitor.room]
    moved = staff.emit("support_assign", {"room": visitor.room, "user_id": users["admin"].id}, callback=True)
    assert moved["conversation"]["assignee"]["username"] == "admin"
    assert (
        staff.emit("support_assign", {"room": visitor.room, "user_id": users["alice"].id}, callback=True)["error"]
        == "invalid"
    )
    assert vsock.emit("support_rate", {"room": visitor.room, "rating": 5}, callback=True)["error"] == "conflict"
    resolved = admin.emit("support_status", {"room": visitor.room, "status": "resolved"}, callback=True)
    assert resolved["conversation"]["status"] == "resolved"
    assert received(vsock, "conversation")[-1]["status"] == "resolved"
    rated = vsock.emit("support_rate", {"room": visitor.room, "rating": 5, "comment": "Great"}, callback=True)
    assert rated["ok"] and rated["conversation"]["rating"] == 5
    assert received(staff, "conversation")[-1]["rating_comment"] == "Great"
    assert conversation_of(app, visitor)["rating"] == 5
    # Writing again reopens it.
    send(vsock, visitor.room, "one more thing")
    assert conversation_of(app, visitor)["status"] == "open"
    assert received(vsock, "conversation")[-1]["status"] == "open"


def test_replies_and_typing_both_ways(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    staff = socket_for("staff")
    for sock in (vsock, staff):
        sock.emit("join", {"room": visitor.room}, callback=True)
        sock.get_received()
    assert vsock.emit("typing", {"room": visitor.room, "typing": True}, callback=True) == {"ok": True}
    assert received(staff, "typing")[0]["user"]["id"] == visitor.id
    staff.emit("typing", {"room": visitor.room, "typing": True}, callback=True)
    assert received(vsock, "typing")[0]["user"]["username"] == "staff"
    reply = send(staff, visitor.room, "On it")
    assert received(vsock, "message") == [reply["message"]]
    assert conversation_of(app, visitor)["assignee"] == "staff"  # the first reply assigns it


def test_agents_online_changes_reach_visitors(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    assert received(vsock, "agents_online") == [{"online": False}]
    plain_staff = socket_for("staff")  # a staff socket on a room page is no agent at the desk
    assert received(vsock, "agents_online") == []
    agent, _ = console(socket_for, "admin")
    assert received(vsock, "agents_online") == [{"online": True}]
    second, _ = console(socket_for, "staff")
    assert received(vsock, "agents_online") == []  # still online: nothing to say
    agent.disconnect()
    assert received(vsock, "agents_online") == []
    second.disconnect()
    plain_staff.disconnect()
    assert received(vsock, "agents_online") == [{"online": False}]


def test_visitor_presence_shows_in_the_queue(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    send(vsock, visitor.room, "hi")
    agent, listed = console(socket_for)
    assert listed["conversations"][0]["visitor_online"] is True
    vsock.disconnect()
    assert received(agent, "conversation")[-1]["visitor_online"] is False
    visitor_socket(visitor)
    assert received(agent, "conversation")[-1]["visitor_online"] is True


def test_widget_session_pushes_new_contact_details_to_agents(app, users, site_key, socket_for, visitor_socket, client):
    visitor = start_visitor(app, site_key)
    send(visitor_socket(visitor), visitor.room, "hi")
    agent, _ = console(socket_for)
    response = client.post("/widget/api/session", json={"site_key": site_key, "visitor_token": visitor.token,
                                                          "name": "Nora", "email": "nora@example.com"})
    assert response.status_code == 200
    assert received(agent, "conversation")[-1]["contact"]["email"] == "nora@example.com"


def test_unread_counts_for_the_visitor(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    vsock = visitor_socket(visitor)
    staff = socket_for("staff")
    staff.emit("join", {"room": visitor.room}, callback=True)
    ids = [send(staff, visitor.room, f"reply {n}")["message"]["id"] for n in range(2)]
    send(staff, visitor.room, "note", internal=True)
    assert vsock.emit("support_get", {"room": visitor.room}, callback=True)["conversation"]["unread"] == 2
    assert vsock.emit("read", {"room": visitor.room, "last_id": ids[0]}, callback=True) == {"ok": True, "unread": 1}


@pytest.mark.parametrize(
    "event,payload",
    [
        ("support_list", {"view": "nope"}),
        ("support_list", {"status": "closed"}),
        ("support_list", {"extra": 1}),
        ("support_list", "all"),
        ("support_claim", {}),
        ("support_claim", {"room": "lobby"}),
        ("support_assign", {"room": 5}),
        ("support_assign", {"room": "x", "user_id": "2"}),
        ("support_status", {"room": "x"}),
        ("support_rate", {"room": "x", "rating": "5"}),
        ("read", {"room": "lobby"}),
        ("read", {"room": "lobby", "last_id": True}),
        ("send", {"room": "lobby", "body": "x", "client_id": "c", "internal": "yes"}),
    ],
)
def test_bad_support_payloads_get_protocol_errors(socket_for, public_room, event, payload):
    staff = socket_for("staff")
    ack = staff.emit(event, payload, callback=True)
    assert ack["ok"] is False and ack["error"] in ("invalid", "not_found")
    assert isinstance(ack["message"], str) and ack["message"]
    assert staff.is_connected()


SUPPORT_EVENTS = ["support_list", "support_get", "support_claim", "support_assign", "support_status", "support_rate",
                  "support_hours", "read", "send", "join", "history", "typing", "leave"]
FIELDS = [
    "room",
    "view",
    "status",
    "user_id",
    "rating",
    "comment",
    "last_id",
    "body",
    "client_id",
    "internal",
    "typing",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True),
    st.text(max_size=100),
    st.sampled_from(["open", "mine", "resolved", "lobby"]),
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.mark.config(SEND_RATE_LIMIT="100000 per minute")
@settings(
    max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    event=st.sampled_from(SUPPORT_EVENTS),
    payload=st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=5), values),
    as_visitor=st.booleans(),
    room_field=st.booleans(),
)
def test_generated_support_payloads_get_a_protocol_answer(app, users, public_room, site_key, visitor_socket, socket_for,
                                                         caplog, event, payload, as_visitor, room_field):
    caplog.set_level(logging.ERROR, logger="chatapp.sockets")
    state = _fuzz_state.setdefault(id(app), {})
    if "visitor" not in state:
        state["visitor"] = start_visitor(app, site_key)
        state["vsock"] = visitor_socket(state["visitor"])
        state["staff"] = socket_for("staff")
    sock = state["vsock"] if as_visitor else state["staff"]
    if room_field and isinstance(payload, dict):
        payload = {**payload, "room": state["visitor"].room}
    ack = sock.emit(event, payload, callback=True)
    assert isinstance(ack, dict) and ack["ok"] in (True, False)
    if not ack["ok"]:
        assert ack["error"] in ERROR_CODES and ack["message"]
    assert sock.is_connected()
    assert not [r for r in caplog.records if r.name == "chatapp.sockets"], "an exception escaped a handler"


_fuzz_state: dict = {}
