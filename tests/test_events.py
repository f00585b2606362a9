"""Every Socket.IO event through Flask-SocketIO's test client, good and bad input alike."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import Message

from .conftest import received, seed_messages
from .helpers import send


def test_connect_refused_without_login(socket_for, users):
    sock = socket_for(None)
    assert not sock.is_connected()


def test_connect_with_login(socket_for, users):
    assert socket_for("alice").is_connected()


def test_join_answers_room_and_latest_messages(app, socket_for, public_room, users):
    seed_messages(app, users["bob"], public_room, 3)
    alice = socket_for("alice")
    ack = alice.emit("join", {"room": "lobby"}, callback=True)
    assert ack["ok"] is True
    # ROOM is {"slug", "name", "kind", ...}: the classroom added its settings.
    assert ack["room"] == {
        "slug": "lobby", "name": "Lobby", "kind": "public",
        "is_class": False, "announcement_only": False, "slow_mode_seconds": 0,
    }
    assert [m["body"] for m in ack["messages"]] == ["m0", "m1", "m2"]
    assert ack["more"] is False
    first = ack["messages"][0]
    # The first version's six fields, plus "html" (messaging: the body's safe Markdown rendering).
    assert set(first) == {"id", "room", "sender", "body", "client_id", "created_at", "html"}
    assert first["html"] == "<p>m0</p>"
    assert first["sender"] == {"id": users["bob"].id, "username": "bob", "display_name": "Bob", "role": "member"}
    assert first["created_at"].endswith("Z") and len(first["created_at"]) == len("2026-11-29T08:15:30.123Z")


def test_join_after_returns_only_newer(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 5)
    alice = socket_for("alice")
    ack = alice.emit("join", {"room": "lobby", "after": ids[2]}, callback=True)
    assert [m["id"] for m in ack["messages"]] == ids[3:]
    assert ack["more"] is False


def test_join_latest_is_fifty_with_more(app, socket_for, public_room, users):
    seed_messages(app, users["bob"], public_room, 55)
    ack = socket_for("alice").emit("join", {"room": "lobby"}, callback=True)
    assert len(ack["messages"]) == 50
    assert ack["messages"][-1]["body"] == "m54"
    assert ack["more"] is True


def test_join_after_caps_at_500(app, socket_for, public_room, users):
    rows = [Message(room_id=public_room.id, sender_id=users["bob"].id, body=f"m{n}") for n in range(501)]
    with app.app_context():
        db.session.add_all(rows)
        db.session.commit()
    ack = socket_for("alice").emit("join", {"room": "lobby", "after": 0}, callback=True)
    assert len(ack["messages"]) == 500
    assert ack["messages"][0]["body"] == "m0"
    assert ack["more"] is True


def test_send_broadcasts_to_everyone_in_room_once(socket_for, public_room):
    alice, bob, carol = socket_for("alice"), socket_for("bob"), socket_for("carol")
    alice.emit("join", {"room": "lobby"}, callback=True)
    bob.emit("join", {"room": "lobby"}, callback=True)
    for sock in (alice, bob, carol):
        sock.get_received()
    ack = send(alice, body="  hi there  ")
    assert ack["ok"] is True
    assert ack["message"]["body"] == "hi there"
    assert ack["message"]["client_id"] == "c1"
    assert received(alice, "message") == [ack["message"]]
    assert received(bob, "message") == [ack["message"]]
    assert received(carol, "message") == []  # not in the room


def test_send_is_stored_before_ack(app, socket_for, public_room):
    alice = socket_for("alice")
    ack = send(alice)
    with app.app_context():
        stored = db.session.get(Message, ack["message"]["id"])
        assert stored is not None and stored.body == "hello"


def test_same_client_id_is_stored_once_and_not_rebroadcast(app, socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    bob.emit("join", {"room": "lobby"}, callback=True)
    bob.get_received()
    first = send(alice, client_id="retry-me")
    second = send(alice, client_id="retry-me")
    assert first == second
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 1
    assert len(received(bob, "message")) == 1


def test_client_id_is_per_sender(socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    a = send(alice, client_id="same")
    b = send(bob, client_id="same")
    assert a["message"]["id"] != b["message"]["id"]


def test_client_id_reused_in_other_room_is_conflict(app, socket_for, public_room, users):
    from chatapp.services import rooms

    with app.app_context():
        rooms.create_room(slug="other", name="Other", creator=users["staff"])
    alice = socket_for("alice")
    assert send(alice, client_id="x")["ok"]
    ack = send(alice, room="other", client_id="x")
    assert ack["ok"] is False and ack["error"] == "conflict"


def test_sender_comes_from_session_not_payload(socket_for, public_room, users):
    alice = socket_for("alice")
    ack = alice.emit("send", {"room": "lobby", "body": "x", "client_id": "c", "sender": users["bob"].id}, callback=True)
    assert ack["error"] == "invalid"  # unknown field refused
    ack = send(alice)
    assert ack["message"]["sender"]["id"] == users["alice"].id


@pytest.mark.parametrize(
    "event,payload,code",
    [
        ("send", None, "invalid"),
        ("send", "hello", "invalid"),
        ("send", [], "invalid"),
        ("send", {"room": "lobby", "body": "x"}, "invalid"),
        ("send", {"room": "lobby", "body": 5, "client_id": "c"}, "invalid"),
        ("send", {"room": "lobby", "body": "   ", "client_id": "c"}, "invalid"),
        ("send", {"room": "lobby", "body": "x" * 4001, "client_id": "c"}, "too_large"),
        ("send", {"room": "lobby", "body": "x", "client_id": ""}, "invalid"),
        ("send", {"room": "lobby", "body": "x", "client_id": "c" * 65}, "invalid"),
        ("send", {"room": "nowhere", "body": "x", "client_id": "c"}, "not_found"),
        ("send", {"room": 7, "body": "x", "client_id": "c"}, "invalid"),
        ("join", {}, "invalid"),
        ("join", {"room": "lobby", "after": "5"}, "invalid"),
        ("join", {"room": "lobby", "after": -1}, "invalid"),
        ("join", {"room": "lobby", "after": True}, "invalid"),
        ("join", {"room": "lobby", "after": 1, "revision": -1}, "invalid"),
        ("join", {"room": "lobby", "after": 1, "revision": "3"}, "invalid"),
        ("join", {"room": "NOT A SLUG"}, "not_found"),
        ("history", {"room": "lobby", "limit": 101}, "invalid"),
        ("history", {"room": "lobby", "limit": 0}, "invalid"),
        ("history", {"room": "lobby", "before": 1.5}, "invalid"),
        ("typing", {"room": "lobby", "typing": "yes"}, "invalid"),
        ("typing", {"room": "lobby"}, "invalid"),
        ("leave", {"room": None}, "invalid"),
        ("send", {"room": "lobby", "body": "x", "client_id": "c", "extra": 1}, "invalid"),
    ],
)
def test_bad_payloads_get_error_and_keep_connection(socket_for, public_room, event, payload, code):
    alice = socket_for("alice")
    ack = alice.emit(event, payload, callback=True)
    assert ack["ok"] is False
    assert ack["error"] == code
    assert isinstance(ack["message"], str) and ack["message"]
    assert alice.is_connected()
    assert send(alice, client_id="after-bad")["ok"] is True


def test_body_of_exactly_4000_characters_is_accepted(socket_for, public_room):
    ack = send(socket_for("alice"), body="y" * 4000)
    assert ack["ok"] is True and len(ack["message"]["body"]) == 4000


def test_history_pages_backwards(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 7)
    alice = socket_for("alice")
    page = alice.emit("history", {"room": "lobby", "limit": 3}, callback=True)
    assert [m["id"] for m in page["messages"]] == ids[4:] and page["more"] is True
    page = alice.emit("history", {"room": "lobby", "before": ids[4], "limit": 3}, callback=True)
    assert [m["id"] for m in page["messages"]] == ids[1:4] and page["more"] is True
    page = alice.emit("history", {"room": "lobby", "before": ids[1], "limit": 3}, callback=True)
    assert [m["id"] for m in page["messages"]] == ids[:1] and page["more"] is False


def test_history_pages_forwards(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 5)
    alice = socket_for("alice")
    page = alice.emit("history", {"room": "lobby", "after": ids[0], "limit": 2}, callback=True)
    assert [m["id"] for m in page["messages"]] == ids[1:3] and page["more"] is True
    page = alice.emit("history", {"room": "lobby", "after": ids[2], "limit": 2}, callback=True)
    assert [m["id"] for m in page["messages"]] == ids[3:5] and page["more"] is False
    page = alice.emit("history", {"room": "lobby", "after": ids[4]}, callback=True)
    assert page == {"ok": True, "messages": [], "more": False}


def test_history_between_before_and_after(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 6)
    page = socket_for("alice").emit(
        "history", {"room": "lobby", "after": ids[0], "before": ids[4], "limit": 2}, callback=True
    )
    assert [m["id"] for m in page["messages"]] == ids[1:3] and page["more"] is True


def test_typing_reaches_others_not_self(socket_for, public_room, users):
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        sock.emit("join", {"room": "lobby"}, callback=True)
        sock.get_received()
    assert alice.emit("typing", {"room": "lobby", "typing": True}, callback=True) == {"ok": True}
    assert received(bob, "typing") == [{"room": "lobby", "user": users["alice"].to_dict(), "typing": True}]
    assert received(alice, "typing") == []


def test_presence_on_join_and_leave(socket_for, public_room, users):
    alice, bob = socket_for("alice"), socket_for("bob")
    alice.emit("join", {"room": "lobby"}, callback=True)
    alice.get_received()
    bob.emit("join", {"room": "lobby"}, callback=True)
    online = received(alice, "presence")[-1]["online"]
    assert {u["username"] for u in online} == {"alice", "bob"}
    assert bob.emit("leave", {"room": "lobby"}, callback=True) == {"ok": True}
    online = received(alice, "presence")[-1]["online"]
    assert {u["username"] for u in online} == {"alice"}


def test_presence_counts_tabs_and_disconnect(socket_for, public_room):
    alice = socket_for("alice")
    bob_tab1, bob_tab2 = socket_for("bob"), socket_for("bob")
    for sock in (alice, bob_tab1, bob_tab2):
        sock.emit("join", {"room": "lobby"}, callback=True)
    alice.get_received()
    bob_tab1.disconnect()
    assert received(alice, "presence") == []  # bob is still online in his other tab
    bob_tab2.disconnect()
    online = received(alice, "presence")[-1]["online"]
    assert [u["username"] for u in online] == ["alice"]


def test_second_tab_joining_tells_only_itself(socket_for, public_room):
    alice = socket_for("alice")
    bob_tab1, bob_tab2 = socket_for("bob"), socket_for("bob")
    for sock in (alice, bob_tab1):
        sock.emit("join", {"room": "lobby"}, callback=True)
    alice.get_received()
    bob_tab1.get_received()
    assert bob_tab2.emit("join", {"room": "lobby"}, callback=True)["ok"] is True
    assert received(alice, "presence") == []  # bob was online already: nothing changed for the room
    assert received(bob_tab1, "presence") == []
    online = received(bob_tab2, "presence")[-1]["online"]
    assert {u["username"] for u in online} == {"alice", "bob"}  # the joining tab gets the list


def test_leave_stops_broadcasts(socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    bob.emit("join", {"room": "lobby"}, callback=True)
    bob.emit("leave", {"room": "lobby"}, callback=True)
    bob.get_received()
    send(alice)
    assert received(bob, "message") == []


@pytest.mark.config(SEND_RATE_LIMIT="3 per minute")
def test_send_rate_limit_says_when_to_retry(socket_for, public_room):
    alice = socket_for("alice")
    for n in range(3):
        assert send(alice, client_id=f"r{n}")["ok"]
    ack = send(alice, client_id="r3")
    assert ack["error"] == "rate_limited"
    assert ack["retry_after"] >= 1
    assert "Wait" in ack["message"]
    # A retry of a stored message is still answered, never refused for the limit.
    assert send(alice, client_id="r1")["ok"] is True


@pytest.mark.config(SEND_RATE_LIMIT="2 per minute")
def test_rate_limit_of_one_user_does_not_touch_another(socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    for n in range(3):
        send(alice, client_id=f"a{n}")
    assert send(bob, client_id="b0")["ok"] is True


@pytest.mark.config(TYPING_RATE_LIMIT="2 per minute")
def test_typing_rate_limited(socket_for, public_room):
    alice = socket_for("alice")
    for _ in range(2):
        assert alice.emit("typing", {"room": "lobby", "typing": True}, callback=True)["ok"]
    assert alice.emit("typing", {"room": "lobby", "typing": True}, callback=True)["error"] == "rate_limited"


@pytest.mark.config(JOIN_RATE_LIMIT="2 per minute")
def test_join_rate_limited(socket_for, public_room):
    alice = socket_for("alice")
    for _ in range(2):
        assert alice.emit("join", {"room": "lobby"}, callback=True)["ok"]
    assert alice.emit("join", {"room": "lobby"}, callback=True)["error"] == "rate_limited"


def test_logout_disconnects_open_sockets(app, socket_for, public_room, users):
    from .conftest import AuthActions

    alice = socket_for("alice")
    assert alice.is_connected()
    other = app.test_client()
    AuthActions(other).login("alice")
    AuthActions(other).logout()
    assert not alice.is_connected()


def test_deactivated_user_is_refused_on_next_event(app, socket_for, public_room, users):
    alice = socket_for("alice")
    with app.app_context():
        # Deactivated where the disconnect never reached this socket (accounts.set_active closes the
        # sockets it can see): every event checks the account again.
        db.session.merge(users["alice"]).is_active_account = False
        db.session.commit()
    ack = send(alice)
    assert ack["error"] == "unauthorized"


@pytest.mark.parametrize(
    "event,field", [("history", "before"), ("history", "after"), ("join", "after"), ("join", "revision")]
)
def test_cursor_beyond_any_database_integer_is_invalid(socket_for, public_room, event, field):
    ack = socket_for("alice").emit(event, {"room": "lobby", field: 2**64}, callback=True)
    assert ack["error"] == "invalid"
    assert field in ack["message"]
