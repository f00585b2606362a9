"""Who may do what in a private room, through every door: one row per (who, door)."""
from __future__ import annotations

import pytest

from chatapp.extensions import db, socketio
from chatapp.models import Message, User
from chatapp.services import accounts, rooms

from .conftest import AuthActions, seed_messages
from .pages import page, redirect_target

SECRET_BODY = "the-secret-plan"
DOORS = ("room page GET", "API history GET", "socket join", "socket send", "socket history", "socket typing")

# Outcomes: "allowed"; "302-to-login"; "401" / "403" (HTTP, JSON error for the API);
# "refused" (the socket is refused at connect); "forbidden" / "unauthorized" (the ack's error code).
HTTP_ANONYMOUS = {"room page GET": "302-to-login", "API history GET": "401"}
HTTP_FORBIDDEN = {"room page GET": "403", "API history GET": "403"}
ALL_ALLOWED = {door: "allowed" for door in DOORS}
MATRIX = {
    "anonymous": {**HTTP_ANONYMOUS, **{door: "refused" for door in DOORS[2:]}},
    "member-not-in-room": {**HTTP_FORBIDDEN, **{door: "forbidden" for door in DOORS[2:]}},
    "member-in-room": ALL_ALLOWED,
    "staff": ALL_ALLOWED,  # the fixture's staff owns the room
    "staff-not-in-room": {**HTTP_FORBIDDEN, **{door: "forbidden" for door in DOORS[2:]}},
    "admin": ALL_ALLOWED,
    # Logged in and connected, then every session of the account ended (logout elsewhere, or
    # in another worker process, which cannot close this socket): the open socket must not keep working.
    "session-ended": {**HTTP_ANONYMOUS, **{door: "unauthorized" for door in DOORS[2:]}},
}
LOGIN_AS = {
    "member-not-in-room": "bob",
    "member-in-room": "alice",
    "staff": "staff",
    "staff-not-in-room": "staff2",
    "admin": "admin",
    "session-ended": "carol",
}


def visitor(app, users, private_room, who):
    """An HTTP client and a socket for `who`, set up as the row says."""
    http = app.test_client()
    username = LOGIN_AS.get(who)
    if who == "staff-not-in-room":
        with app.app_context():
            accounts.create_user(username="staff2", password="long-enough-1", role="staff", display_name="Staff Two")
        AuthActions(http).login("staff2", "long-enough-1")
    elif who == "session-ended":
        with app.app_context():  # carol was a member, so only the ended session can stop her
            rooms.join_by_code(user=db.session.get(User, users["carol"].id), code=private_room.join_code)
        AuthActions(http).login("carol")
    elif username:
        AuthActions(http).login(username)
    sock = socketio.test_client(app, flask_test_client=http)
    if who == "session-ended":
        assert sock.is_connected()
        with app.app_context():
            # Ended where this socket could not be closed (accounts.end_sessions closes the ones it sees).
            db.session.get(User, users["carol"].id).session_epoch += 1
            db.session.commit()
    return http, sock


def through_room_page(http, sock) -> tuple[str, str]:
    response = http.get("/rooms/secret")
    text = response.get_data(as_text=True)
    if response.status_code == 200:
        assert page(response).find("h1").text == "Secret" and page(response).find(role="log") is not None
        return "allowed", text
    if response.status_code == 302:
        host, path, query = redirect_target(response)
        assert (path, query) == ("/auth/login", {"next": ["/rooms/secret"]})
        return "302-to-login", text
    assert "This room is private; ask its owner for the join code." in page(response).text()
    return str(response.status_code), text


def through_api(http, sock) -> tuple[str, str]:
    response = http.get("/api/v1/rooms/secret/messages")
    body = response.get_json()
    if response.status_code == 200 and body["ok"]:
        return "allowed", response.get_data(as_text=True)
    codes = {401: "unauthorized", 403: "forbidden"}
    assert body["ok"] is False and body["error"] == codes[response.status_code] and body["message"]
    return str(response.status_code), response.get_data(as_text=True)


def through_socket(event, payload):
    def door(http, sock) -> tuple[str, str]:
        if not sock.is_connected():
            return "refused", ""
        ack = sock.emit(event, payload, callback=True)
        if ack["ok"]:
            return "allowed", repr(ack)
        assert isinstance(ack["message"], str) and ack["message"]
        assert sock.is_connected()  # a refusal is an answer, not a hang-up
        return ack["error"], repr(ack)

    return door


ENTER = {
    "room page GET": through_room_page,
    "API history GET": through_api,
    "socket join": through_socket("join", {"room": "secret"}),
    "socket send": through_socket("send", {"room": "secret", "body": "knock knock", "client_id": "perm-1"}),
    "socket history": through_socket("history", {"room": "secret"}),
    "socket typing": through_socket("typing", {"room": "secret", "typing": True}),
}


@pytest.mark.parametrize(
    "who,door,expected",
    [pytest.param(who, door, MATRIX[who][door], id=f"{who}|{door}") for who in MATRIX for door in DOORS],
)
def test_private_room_permission_matrix(app, users, private_room, who, door, expected):
    seed_messages(app, users["staff"], private_room, 1, prefix=SECRET_BODY)
    http, sock = visitor(app, users, private_room, who)
    try:
        outcome, shown = ENTER[door](http, sock)
    finally:
        if sock.is_connected():
            sock.disconnect()
    assert outcome == expected
    reads_history = door in ("room page GET", "API history GET", "socket join", "socket history")
    if expected == "allowed" and reads_history:
        assert SECRET_BODY in shown
    if expected != "allowed":
        assert SECRET_BODY not in shown  # a refusal leaks nothing of the room
    if door == "socket send":
        with app.app_context():
            stored = db.session.scalar(db.select(db.func.count(Message.id)).filter_by(body="knock knock"))
        assert stored == (1 if expected == "allowed" else 0)
