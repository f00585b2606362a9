"""The classroom: join codes, roles, moderation, slow mode, mutes, bans, deletions, pins and questions.

Through the real doors (Socket.IO test client, HTTP forms), each permission rule with its
negative test: a member cannot moderate, the server enforces announcement-only, mutes and
slow mode, a banned member cannot come back, only the author (or a moderator) deletes.
"""
from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatapp import create_app
from chatapp.extensions import db
from chatapp.models import Ban, Membership, Message, ModerationAction, Room, User, utcnow
from chatapp.services import moderation, rooms
from chatapp.services.errors import ERROR_CODES, ServiceError

from . import helpers
from .conftest import AuthActions, base_config, csrf_token_from, migrated_database, received
from .pages import page, redirect_target

SLUG = "maths-7b"


# -- fixtures and helpers ------------------------------------------------------------------------


def ask(sock, event: str, **payload) -> dict:
    """Emit a classroom event to SLUG and return its ack."""
    return sock.emit(event, {"room": SLUG, **payload}, callback=True)


def send(sock, body: str, client_id: str | None = None, **extra) -> dict:
    """A send to the class whose client_id is its body unless given."""
    return helpers.send(sock, SLUG, body, client_id or body, **extra)


def joined(socket_for, username: str):
    """A socket of username that joined the class, with its received events cleared."""
    return helpers.joined(socket_for, username, SLUG)


def as_user(app, username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def the_room(app) -> Room:
    return db.session.scalar(db.select(Room).filter_by(slug=SLUG))


def promote(app, username: str) -> None:
    """The teacher makes username a moderator, through the service."""
    with app.app_context():
        moderation.set_member_role(
            actor=as_user(app, "staff"), room=the_room(app), target=as_user(app, username), role="moderator"
        )


def log_actions(app) -> list[str]:
    with app.app_context():
        return list(db.session.scalars(db.select(ModerationAction.action).order_by(ModerationAction.id)))


def age_messages(app, username: str, seconds: int) -> None:
    """Pretend username's messages were sent `seconds` earlier."""
    with app.app_context():
        user = as_user(app, username)
        for message in db.session.scalars(db.select(Message).filter_by(sender_id=user.id)):
            message.created_at = message.created_at - timedelta(seconds=seconds)
        db.session.commit()


def member_role(app, username: str) -> str | None:
    with app.app_context():
        membership = db.session.scalar(
            db.select(Membership).filter_by(user_id=as_user(app, username).id, room_id=the_room(app).id)
        )
        return membership.role if membership else None


# -- creating a class and joining it ---------------------------------------------------------------


def create_class_form(client, name: str, valid_for: str = ""):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post(
        "/rooms/new",
        data={
            "create-name": name,
            "create-is_class": "y",
            "create-code_valid_for": valid_for,
            "create-csrf_token": token,
        },
    )


def test_teacher_creates_a_class_with_a_join_code_and_link(app, client, auth, users):
    auth.login("staff")
    home = page(client.get("/"))
    assert home.labelled("Class (students join with a code; you moderate)") is not None
    response = create_class_form(client, "Maths 7B", valid_for="1440")
    assert redirect_target(response)[1] == "/rooms/maths-7b"
    with app.app_context():
        room = the_room(app)
        assert room.is_class and room.is_private and room.join_code
        assert timedelta(hours=23) < room.join_code_expires_at - utcnow() <= timedelta(days=1)
        code = room.join_code
    shown = page(client.get("/rooms/maths-7b"))
    assert any(f"Its join code is {code}" in notice and f"/join/{code}" in notice for notice in shown.notices())
    assert shown.find("code", class_="join-code").text == code
    assert shown.find("a", id="join-link").attrs["href"] == f"/join/{code}"
    assert shown.find(id="mod-tools") is not None
    listed = page(client.get("/")).find("ul", class_="room-list").text
    assert "Maths 7B class" in listed


def test_a_member_cannot_create_a_class(app, client, auth, users):
    auth.login("alice")
    assert page(client.get("/")).labelled("Class (students join with a code; you moderate)") is None
    response = create_class_form(client, "Sneaky class")
    assert redirect_target(response)[1] == "/"
    assert "Only teachers (staff accounts) can create a class." in page(client.get("/")).notices()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Room.id))) == 0


def test_join_link_shows_a_confirm_page_then_joins_on_post(app, client, auth, klass, users):
    auth.login("carol")
    confirm = client.get(f"/join/{klass.join_code}")
    assert confirm.status_code == 200
    shown = page(confirm)
    assert shown.find("h1").text == "Join Maths 7B"
    assert shown.button("Join class") is not None
    assert member_role(app, "carol") is None  # a GET never joins
    response = client.post(
        f"/join/{klass.join_code}", data={"csrf_token": csrf_token_from(confirm.get_data(as_text=True))}
    )
    assert redirect_target(response)[1] == f"/rooms/{SLUG}"
    assert member_role(app, "carol") == "member"
    # Already a member: the link goes straight to the room.
    assert redirect_target(client.get(f"/join/{klass.join_code}"))[1] == f"/rooms/{SLUG}"


def test_join_link_post_needs_csrf(app, client, auth, klass):
    auth.login("carol")
    assert client.post(f"/join/{klass.join_code}").status_code == 400
    assert member_role(app, "carol") is None


def test_join_link_sends_logged_out_people_to_login_and_back(client, klass):
    response = client.get(f"/join/{klass.join_code}")
    host, path, query = redirect_target(response)
    assert (path, query) == ("/auth/login", {"next": [f"/join/{klass.join_code}"]})


def test_join_link_with_unknown_code_says_so(client, auth, klass):
    auth.login("carol")
    response = client.get("/join/NOPE2345")
    assert response.status_code == 404
    assert "No room has that join code; check it and try again." in page(response).text()
    assert page(response).labelled("Join code") is not None  # try another


def test_expired_code_is_refused_by_link_and_form_but_members_stay(app, client, auth, klass, users):
    with app.app_context():
        the_room(app).join_code_expires_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    auth.login("carol")
    response = client.get(f"/join/{klass.join_code}")
    assert response.status_code == 403
    expired = "This join code has expired; ask your teacher or the room's moderators for a new one."
    assert expired in page(response).text()
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    client.post("/join", data={"join-code": klass.join_code, "join-csrf_token": token})
    assert expired in page(client.get("/")).notices()
    assert member_role(app, "carol") is None
    # Alice joined before it expired: she stays, and her old link still takes her in.
    alice = app.test_client()
    AuthActions(alice).login("alice")
    assert alice.get(f"/rooms/{SLUG}").status_code == 200
    assert redirect_target(alice.get(f"/join/{klass.join_code}"))[1] == f"/rooms/{SLUG}"


def test_regenerated_code_replaces_the_old_one(app, socket_for, klass, users):
    teacher = joined(socket_for, "staff")
    ack = ask(teacher, "regenerate_join_code", valid_minutes=60)
    assert ack["ok"] and ack["join_code"] != klass.join_code and ack["join_code_expires_at"].endswith("Z")
    assert received(teacher, "join_code") == [{k: ack[k] for k in ("room", "join_code", "join_code_expires_at")}]
    with app.app_context():
        carol = as_user(app, "carol")
        with pytest.raises(ServiceError) as refused:
            rooms.join_by_code(user=carol, code=klass.join_code)
        assert refused.value.code == "not_found"
        assert rooms.join_by_code(user=carol, code=ack["join_code"]).slug == SLUG
    assert "join_code" in log_actions(app)


# -- the permission rule: who moderates ---------------------------------------------------------------

# Every moderation event, with a payload aimed at bob (a member) or his message.
MODERATION_EVENTS = {
    "room_settings": lambda ids: {"slow_mode_seconds": 30},
    "regenerate_join_code": lambda ids: {},
    "pin": lambda ids: {"id": ids["message"]},
    "unpin": lambda ids: {"id": ids["message"]},
    "delete_message": lambda ids: {"id": ids["message"]},
    "answer_question": lambda ids: {"id": ids["message"]},
    "open_questions": lambda ids: {},
    "mute": lambda ids: {"user_id": ids["bob"], "minutes": 10},
    "unmute": lambda ids: {"user_id": ids["bob"]},
    "remove_member": lambda ids: {"user_id": ids["bob"]},
    "ban": lambda ids: {"user_id": ids["bob"]},
    "unban": lambda ids: {"user_id": ids["bob"]},
    "bans": lambda ids: {},
    "set_member_role": lambda ids: {"user_id": ids["bob"], "role": "moderator"},
    "moderation_log": lambda ids: {},
}
# Who tries: the owner (the teacher), a moderator the owner chose, a site admin, a member, and
# someone who is not in the class at all.
ACTORS = {"owner": "staff", "moderator": "alice", "admin": "admin", "member": "carol", "outsider": "carol"}


def expected_outcome(who: str, event: str) -> str:
    if who in ("member", "outsider"):
        return "forbidden"
    if event == "set_member_role" and who == "moderator":
        return "forbidden"  # only the owner chooses moderators
    if event == "unban":
        return "not_found"  # bob is not banned: allowed to ask, nothing to lift
    return "ok"


@pytest.mark.parametrize(
    "who,event", [pytest.param(who, event, id=f"{who}|{event}") for who in ACTORS for event in MODERATION_EVENTS]
)
def test_moderation_permission_matrix(app, socket_for, klass, users, who, event):
    promote(app, "alice")
    if who == "member":
        with app.app_context():
            rooms.join_by_code(user=as_user(app, "carol"), code=klass.join_code)
    bob = joined(socket_for, "bob")
    message = send(bob, "Is it 42?", question=True)["message"]
    ids = {"bob": users["bob"].id, "message": message["id"]}
    log_before = log_actions(app)
    sock = socket_for(ACTORS[who])
    ack = sock.emit(event, {"room": SLUG, **MODERATION_EVENTS[event](ids)}, callback=True)
    outcome = "ok" if ack["ok"] else ack["error"]
    assert outcome == expected_outcome(who, event), ack
    assert sock.is_connected()
    if outcome != "ok":
        assert ack["message"]
        assert log_actions(app) == log_before  # a refusal changes nothing and logs nothing
        with app.app_context():
            stored = db.session.get(Message, message["id"])
            assert stored.body == "Is it 42?" and stored.pinned_at is None and stored.answered_at is None
            assert db.session.scalar(db.select(Ban.id)) is None
        assert member_role(app, "bob") == "member"


def test_moderators_cannot_act_on_the_owner_or_each_other(app, socket_for, klass, users):
    promote(app, "alice")
    promote(app, "bob")
    alice = joined(socket_for, "alice")
    for event, payload in [
        ("mute", {"user_id": users["staff"].id, "minutes": 5}),
        ("ban", {"user_id": users["staff"].id}),
        ("remove_member", {"user_id": users["bob"].id}),
        ("mute", {"user_id": users["bob"].id, "minutes": 5}),
        ("mute", {"user_id": users["alice"].id, "minutes": 5}),
        ("ban", {"user_id": users["admin"].id}),
    ]:
        ack = ask(alice, event, **payload)
        assert ack["ok"] is False and ack["error"] == "forbidden", (event, payload, ack)
    assert log_actions(app) == ["set_role", "set_role"]
    # The owner can demote a moderator; nobody can change the owner's role.
    teacher = joined(socket_for, "staff")
    assert ask(teacher, "set_member_role", user_id=users["bob"].id, role="member")["ok"]
    admin = joined(socket_for, "admin")
    ack = ask(admin, "set_member_role", user_id=users["staff"].id, role="member")
    assert ack["error"] == "forbidden" and ack["message"] == "The owner's role cannot be changed."


def test_promoted_member_hears_it_and_gets_moderator_powers(app, socket_for, klass, users):
    bob = joined(socket_for, "bob")
    carol_outside = socket_for("carol")
    teacher = joined(socket_for, "staff")
    ack = ask(teacher, "set_member_role", user_id=users["bob"].id, role="moderator")
    assert ack["ok"] and ack["member"]["role"] == "moderator"
    updates = received(bob, "member_updated")
    assert updates == [{"room": SLUG, "member": ack["member"]}]
    assert received(carol_outside, "member_updated") == []
    assert ask(bob, "room_settings", announcement_only=True)["ok"]
    # Bob's open socket now hears the moderators' events without joining again.
    assert [entry["action"] for entry in received(bob, "moderation_action")] == ["settings"]


# -- what members may post: announcement-only, mute, slow mode ---------------------------------------


def test_announcement_only_is_enforced_by_the_server(app, socket_for, klass):
    teacher, bob = joined(socket_for, "staff"), joined(socket_for, "bob")
    ack = ask(teacher, "room_settings", announcement_only=True)
    assert ack["ok"] and ack["room"]["announcement_only"] is True
    assert received(bob, "room_updated") == [ack["room"]]
    refused = send(bob, "can I talk?")
    assert refused == {
        "ok": False, "error": "forbidden", "message": "This room is announcement-only: only its moderators can post."
    }
    assert send(teacher, "Homework: page 12")["ok"]
    assert ask(teacher, "room_settings", announcement_only=False)["ok"]
    assert send(bob, "can I talk now?")["ok"]
    with app.app_context():
        bodies = list(db.session.scalars(db.select(Message.body).order_by(Message.id)))
    assert bodies == ["Homework: page 12", "can I talk now?"]


def test_mute_is_enforced_by_the_server_until_it_ends(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    ack = ask(teacher, "mute", user_id=users["bob"].id, minutes=10)
    assert ack["ok"] and ack["member"]["muted_until"].endswith("Z")
    # Bob hears of his own mute; other members do not.
    assert received(bob, "member_updated") == [{"room": SLUG, "member": ack["member"]}]
    assert received(alice, "member_updated") == []
    refused = send(bob, "hello?")
    assert refused["error"] == "forbidden"
    assert refused["message"] == "A moderator muted you in this room for 10 more minutes."
    assert refused["muted_until"] == ack["member"]["muted_until"]
    assert send(alice, "alice is not muted")["ok"]
    # A muted member cannot raise a hand on an old message either.
    with app.app_context():
        old = Message(room_id=klass.id, sender_id=users["bob"].id, body="old one")
        db.session.add(old)
        db.session.commit()
        old_id = old.id
    assert ask(bob, "mark_question", id=old_id)["error"] == "forbidden"
    # The mute ends by itself.
    with app.app_context():
        membership = db.session.scalar(db.select(Membership).filter_by(user_id=users["bob"].id, room_id=klass.id))
        membership.muted_until = utcnow() - timedelta(seconds=1)
        db.session.commit()
    assert send(bob, "back again")["ok"]
    # And a moderator can lift it early.
    assert ask(teacher, "mute", user_id=users["bob"].id, minutes=5)["ok"]
    assert send(bob, "muted again")["ok"] is False
    assert ask(teacher, "unmute", user_id=users["bob"].id)["ok"]
    assert send(bob, "unmuted")["ok"]
    assert log_actions(app) == ["mute", "mute", "unmute"]


@pytest.mark.parametrize("minutes", [0, -5, 7 * 24 * 60 + 1])
def test_mute_length_is_checked(socket_for, klass, users, minutes):
    teacher = joined(socket_for, "staff")
    ack = ask(teacher, "mute", user_id=users["bob"].id, minutes=minutes)
    assert ack["ok"] is False and ack["error"] == "invalid"


def test_slow_mode_is_enforced_by_the_server_per_member(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    ack = ask(teacher, "room_settings", slow_mode_seconds=30)
    assert ack["ok"] and ack["room"]["slow_mode_seconds"] == 30
    assert received(bob, "room_updated") == [ack["room"]]
    first = send(bob, "first")
    assert first["ok"]
    refused = send(bob, "second")
    assert refused["ok"] is False and refused["error"] == "rate_limited"
    assert 29 <= refused["retry_after"] <= 30
    assert refused["message"] == (
        f"Slow mode is on: one message every 30 s. You can send again in {refused['retry_after']} s."
    )
    # Per member: Alice may still send; the teacher (a moderator) is never slowed.
    assert send(alice, "alice here")["ok"]
    assert send(teacher, "one")["ok"] and send(teacher, "two")["ok"]
    # A retry of the stored message is answered before slow mode is checked.
    retry = send(bob, "first")
    assert retry == first
    # Once the interval has passed, Bob may send again.
    age_messages(app, "bob", 31)
    assert send(bob, "second")["ok"]
    # Turning slow mode off lifts the wait at once.
    assert send(bob, "third")["error"] == "rate_limited"
    assert ask(teacher, "room_settings", slow_mode_seconds=0)["ok"]
    assert send(bob, "third")["ok"]


def test_slow_mode_holds_across_server_processes(app, socket_for, klass, users, db_path):
    """The wait is computed from the database, so another process (another app) enforces it too."""
    teacher, bob = joined(socket_for, "staff"), joined(socket_for, "bob")
    assert ask(teacher, "room_settings", slow_mode_seconds=60)["ok"]
    assert send(bob, "from process one")["ok"]
    other_process = create_app(base_config(db_path))
    with other_process.app_context():
        room = db.session.scalar(db.select(Room).filter_by(slug=SLUG))
        bob_user = db.session.scalar(db.select(User).filter_by(username="bob"))
        assert 55 <= moderation.seconds_until_can_post(user=bob_user, room=room) <= 60
        from chatapp.services import messages

        with pytest.raises(ServiceError) as refused:
            messages.post_message(sender=bob_user, room=room, body="from process two", client_id="p2")
        assert refused.value.code == "rate_limited"


@pytest.mark.parametrize("seconds", [-1, 3601])
def test_slow_mode_value_is_checked(socket_for, klass, seconds):
    teacher = joined(socket_for, "staff")
    ack = ask(teacher, "room_settings", slow_mode_seconds=seconds)
    assert ack["ok"] is False and ack["error"] == "invalid"


def test_join_ack_tells_the_member_their_state(app, socket_for, klass, users):
    teacher = joined(socket_for, "staff")
    assert ask(teacher, "room_settings", slow_mode_seconds=30)["ok"]
    bob = joined(socket_for, "bob")
    assert send(bob, "hi")["ok"]
    again = bob.emit("join", {"room": SLUG}, callback=True)
    assert again["membership"]["role"] == "member" and again["membership"]["moderator"] is False
    assert 29 <= again["membership"]["retry_after"] <= 30
    assert again["membership"]["muted_until"] is None
    assert again["room"]["slow_mode_seconds"] == 30
    assert teacher.emit("join", {"room": SLUG}, callback=True)["membership"] == {
        "role": "owner", "moderator": True, "muted_until": None, "retry_after": 0,
    }


# -- removing and banning -------------------------------------------------------------------------


def test_a_removed_member_can_rejoin_with_the_code(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    assert ask(teacher, "remove_member", user_id=users["bob"].id) == {"ok": True}
    event = {"room": SLUG, "user": users["bob"].to_dict(), "banned": False}
    assert received(alice, "member_removed") == [event]
    assert received(bob, "member_removed") == [event]  # once, though he is in both channels
    assert member_role(app, "bob") is None
    # Bob's socket no longer hears the class, and he cannot act in it.
    assert send(alice, "after the kick")["ok"]
    assert received(bob, "message") == []
    assert bob.emit("join", {"room": SLUG}, callback=True)["error"] == "forbidden"
    # With the code, he is back.
    with app.app_context():
        rooms.join_by_code(user=as_user(app, "bob"), code=klass.join_code)
    assert bob.emit("join", {"room": SLUG}, callback=True)["ok"]
    assert log_actions(app) == ["remove"]


def test_a_banned_member_cannot_rejoin_by_any_door(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    ack = ask(teacher, "ban", user_id=users["bob"].id, reason="  spamming   the class ")
    assert ack["ok"] and ack["ban"]["reason"] == "spamming the class"
    assert received(bob, "member_removed") == [{"room": SLUG, "user": users["bob"].to_dict(), "banned": True}]
    # The open socket was made to leave the room: it hears nothing more.
    assert send(alice, "after the ban")["ok"]
    assert received(bob, "message") == []
    banned = "You have been banned from this room by its moderators."
    for event, payload in [("join", {}), ("send", {"body": "let me in", "client_id": "x"}), ("history", {}),
                           ("typing", {"typing": True})]:
        refused = bob.emit(event, {"room": SLUG, **payload}, callback=True)
        assert refused == {"ok": False, "error": "forbidden", "message": banned}, event
    # Not by the code, the join link or the room page either, and the class is not listed.
    http = app.test_client()
    AuthActions(http).login("bob")
    assert http.get(f"/rooms/{SLUG}").status_code == 403
    assert http.get(f"/join/{klass.join_code}").status_code == 403
    token = csrf_token_from(http.get("/").get_data(as_text=True))
    http.post("/join", data={"join-code": klass.join_code, "join-csrf_token": token})
    assert banned in page(http.get("/")).notices()
    assert SLUG not in http.get("/").get_data(as_text=True)
    assert member_role(app, "bob") is None
    # Moderators see the ban and can lift it; then the code works again.
    bans = ask(teacher, "bans")["bans"]
    assert [ban["user"]["username"] for ban in bans] == ["bob"]
    assert ask(alice, "bans")["error"] == "forbidden"
    assert ask(teacher, "unban", user_id=users["bob"].id) == {"ok": True}
    with app.app_context():
        rooms.join_by_code(user=as_user(app, "bob"), code=klass.join_code)
    assert bob.emit("join", {"room": SLUG}, callback=True)["ok"]
    assert log_actions(app) == ["ban", "unban"]


def test_a_ban_keeps_a_user_out_of_a_public_room_too(app, socket_for, users, public_room):
    with app.app_context():
        moderation.ban_member(
            actor=as_user(app, "staff"), room=db.session.get(Room, public_room.id), target=as_user(app, "bob")
        )
    bob = socket_for("bob")
    assert bob.emit("join", {"room": "lobby"}, callback=True)["error"] == "forbidden"
    http = app.test_client()
    AuthActions(http).login("bob")
    assert http.get("/rooms/lobby").status_code == 403
    assert "lobby" not in http.get("/").get_data(as_text=True)


# -- deleting messages ------------------------------------------------------------------------------


def test_author_deletes_own_message_the_row_stays_blank(app, socket_for, klass, users):
    bob, alice = joined(socket_for, "bob"), joined(socket_for, "alice")
    sent = send(bob, "oops, wrong class", client_id="c-oops")["message"]
    alice.get_received()
    ack = ask(bob, "delete_message", id=sent["id"])
    assert ack["ok"]
    deleted = ack["message"]
    assert {key: deleted[key] for key in ("id", "room", "sender", "client_id", "created_at")} == {
        key: sent[key] for key in ("id", "room", "sender", "client_id", "created_at")
    }
    assert (deleted["body"], deleted["deleted"], deleted["deleted_by"]) == ("", True, "author")
    assert "wrong class" not in str(deleted)
    assert received(alice, "message_deleted") == [{"room": SLUG, "id": sent["id"], "by": "author"}]
    with app.app_context():
        stored = db.session.get(Message, sent["id"])
        assert stored.body == "" and stored.deleted_at is not None and stored.deleted_by_moderator is False
    # History still holds it, as deleted; its id is never handed out again.
    history = alice.emit("history", {"room": SLUG}, callback=True)["messages"]
    assert history[-1] == ack["message"]
    assert send(bob, "the right text")["message"]["id"] > sent["id"]
    # Deleting again changes nothing; a retry of its client_id returns the deleted message.
    assert ask(bob, "delete_message", id=sent["id"])["ok"]
    assert send(bob, "oops, wrong class", client_id="c-oops")["message"]["deleted"] is True
    assert log_actions(app) == []  # an author deleting their own message is not moderation
    # The room page shows it as deleted, with no trace of the text.
    http = app.test_client()
    AuthActions(http).login("alice")
    html = http.get(f"/rooms/{SLUG}").get_data(as_text=True)
    assert "wrong class" not in html and "Message deleted" in html


def test_members_cannot_delete_others_messages(app, socket_for, klass):
    bob, alice = joined(socket_for, "bob"), joined(socket_for, "alice")
    sent = send(bob, "mine")["message"]
    refused = ask(alice, "delete_message", id=sent["id"])
    assert refused == {"ok": False, "error": "forbidden", "message": "You can only delete your own messages."}
    with app.app_context():
        assert db.session.get(Message, sent["id"]).body == "mine"


@pytest.mark.config(MESSAGE_DELETE_WINDOW_SECONDS=60)
def test_own_messages_can_be_deleted_only_within_the_window_moderators_any_time(app, socket_for, klass, users):
    bob, teacher = joined(socket_for, "bob"), joined(socket_for, "staff")
    sent = send(bob, "something rude")["message"]
    age_messages(app, "bob", 61)
    refused = ask(bob, "delete_message", id=sent["id"])
    assert refused["error"] == "forbidden"
    assert (
        refused["message"]
        == "You can delete your own messages for 1 min after sending them; ask a moderator to remove this one."
    )
    teacher.get_received()
    ack = ask(teacher, "delete_message", id=sent["id"])
    assert ack["ok"] and ack["message"]["deleted_by"] == "moderator" and ack["message"]["body"] == ""
    assert received(bob, "message_deleted") == [{"room": SLUG, "id": sent["id"], "by": "moderator"}]
    entries = received(teacher, "moderation_action")
    assert [(e["action"], e["target_user"]["username"], e["target_message_id"], e["detail"]) for e in entries] == [
        ("delete_message", "bob", sent["id"], {"excerpt": "something rude"})
    ]
    http = app.test_client()
    AuthActions(http).login("alice")
    assert "Removed by a moderator" in http.get(f"/rooms/{SLUG}").get_data(as_text=True)


def test_deleting_a_message_in_another_room_is_not_found(app, socket_for, klass, public_room, users):
    bob = socket_for("bob")
    other = bob.emit("send", {"room": "lobby", "body": "lobby talk", "client_id": "l1"}, callback=True)["message"]
    teacher = joined(socket_for, "staff")
    assert ask(teacher, "delete_message", id=other["id"])["error"] == "not_found"
    assert ask(teacher, "pin", id=other["id"])["error"] == "not_found"
    assert ask(teacher, "pin", id=10**12)["error"] == "not_found"


# -- pins ------------------------------------------------------------------------------------------------


def test_pinned_announcements_reach_everyone_and_the_page(app, socket_for, klass, users):
    teacher, bob = joined(socket_for, "staff"), joined(socket_for, "bob")
    announcement = send(teacher, "Test on Friday: chapters 3 and 4")["message"]
    bob.get_received()
    ack = ask(teacher, "pin", id=announcement["id"])
    assert ack["ok"] and ack["message"]["pinned"] is True and ack["message"]["pinned_by"]["username"] == "staff"
    assert received(bob, "message_updated") == [ack["message"]]
    assert bob.emit("join", {"room": SLUG}, callback=True)["pinned"] == [ack["message"]]
    http = app.test_client()
    AuthActions(http).login("bob")
    pinned = page(http.get(f"/rooms/{SLUG}")).find(id="pinned")
    assert "hidden" not in pinned.attrs and "Test on Friday: chapters 3 and 4" in pinned.text
    # Unpinning takes it off; deleting a pinned message takes it off too.
    unpinned = ask(teacher, "unpin", id=announcement["id"])["message"]
    assert "pinned" not in unpinned
    assert ask(teacher, "pin", id=announcement["id"])["ok"]
    assert ask(teacher, "delete_message", id=announcement["id"])["ok"]
    assert bob.emit("join", {"room": SLUG}, callback=True)["pinned"] == []
    assert ask(teacher, "pin", id=announcement["id"])["error"] == "conflict"
    assert log_actions(app) == ["pin", "unpin", "pin"]


# -- questions ----------------------------------------------------------------------------------------


def test_a_student_asks_and_the_teacher_answers(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    asked = send(bob, "Why is the sky blue?", question=True)["message"]
    assert asked["question"] == {"answered": False, "answered_at": None, "answered_by": None}
    plain = send(bob, "And another thing")["message"]
    assert "question" not in plain
    # Raise a hand on an existing message; nobody else may do it for him.
    assert ask(alice, "mark_question", id=plain["id"]) == {
        "ok": False, "error": "forbidden", "message": "Only its author can ask a message as a question."
    }
    marked = ask(bob, "mark_question", id=plain["id"])
    assert marked["ok"] and marked["message"]["question"]["answered"] is False
    # Moderators see the open questions; members may not ask for the list.
    assert [m["id"] for m in ask(teacher, "open_questions")["questions"]] == [asked["id"], plain["id"]]
    assert ask(alice, "open_questions")["error"] == "forbidden"
    # A member cannot mark a question answered; the teacher can, and everyone sees it.
    assert ask(alice, "answer_question", id=asked["id"])["error"] == "forbidden"
    bob.get_received()
    answered = ask(teacher, "answer_question", id=asked["id"])
    assert answered["ok"]
    question = answered["message"]["question"]
    assert question["answered"] is True and question["answered_by"]["username"] == "staff"
    assert received(bob, "message_updated") == [answered["message"]]
    assert [m["id"] for m in ask(teacher, "open_questions")["questions"]] == [plain["id"]]
    # Reopen, and withdraw.
    assert ask(teacher, "answer_question", id=asked["id"], answered=False)["message"]["question"]["answered"] is False
    withdrawn = ask(bob, "mark_question", id=plain["id"], question=False)["message"]
    assert "question" not in withdrawn
    assert ask(teacher, "answer_question", id=plain["id"])["error"] == "conflict"
    assert log_actions(app) == ["answer_question", "reopen_question"]


def test_room_page_shows_open_questions_to_moderators_only(app, socket_for, klass, users):
    bob = joined(socket_for, "bob")
    send(bob, "What is a prime?", question=True)
    teacher = app.test_client()
    AuthActions(teacher).login("staff")
    panel = page(teacher.get(f"/rooms/{SLUG}")).find(id="questions-panel")
    assert panel is not None and "What is a prime?" in panel.text
    assert page(teacher.get(f"/rooms/{SLUG}")).button("Mark answered") is not None
    student = app.test_client()
    AuthActions(student).login("alice")
    shown = page(student.get(f"/rooms/{SLUG}"))
    assert shown.find(id="questions-panel") is None
    assert shown.find(id="mod-tools") is None and shown.find(id="modlog-panel") is None
    assert shown.find(class_="join-code") is None
    item = [li for li in shown.find_all("li", class_="msg") if "What is a prime?" in li.text][0]
    assert item.attrs["data-question"] == "open" and "Question" in item.text


# -- catching up on changes ---------------------------------------------------------------------------


def test_a_rejoining_socket_gets_the_changes_it_missed_once_each_in_change_order(app, socket_for, klass, users):
    teacher, alice, bob = joined(socket_for, "staff"), socket_for("alice"), joined(socket_for, "bob")
    first = alice.emit("join", {"room": SLUG}, callback=True)
    pin_me, delete_me, ask_me, untouched = (
        send(alice, body)["message"] for body in ("pin me", "delete me", "ask me", "untouched")
    )
    edit_me = send(bob, "edit me")["message"]
    held = edit_me["id"]  # the newest message alice's page holds when her network goes
    alice.disconnect()

    # While she is away: one change of each kind, one message changed twice, and a new message
    # that changes too (it comes whole, among the new messages, not among the changes).
    assert ask(teacher, "pin", id=pin_me["id"])["ok"]
    assert ask(bob, "edit_message", id=edit_me["id"], body="edited")["ok"]
    assert ask(teacher, "delete_message", id=delete_me["id"])["ok"]
    other_tab = joined(socket_for, "alice")
    assert ask(other_tab, "mark_question", id=ask_me["id"])["ok"]
    assert ask(teacher, "answer_question", id=ask_me["id"])["ok"]
    newer = send(other_tab, "new while away")["message"]
    assert ask(teacher, "pin", id=newer["id"])["ok"]

    alice = socket_for("alice")
    ack = alice.emit("join", {"room": SLUG, "after": held, "revision": first["revision"]}, callback=True)
    assert [m["id"] for m in ack["messages"]] == [newer["id"]] and ack["messages"][0]["pinned"] is True
    changed = {m["id"]: m for m in ack["changed"]}
    assert [m["id"] for m in ack["changed"]] == [pin_me["id"], edit_me["id"], delete_me["id"], ask_me["id"]]
    assert untouched["id"] not in changed and ack["changed_more"] is False
    assert changed[pin_me["id"]]["pinned"] is True
    assert changed[edit_me["id"]]["body"] == "edited" and "edited_at" in changed[edit_me["id"]]
    assert changed[delete_me["id"]]["deleted"] is True and changed[delete_me["id"]]["body"] == ""
    assert changed[ask_me["id"]]["question"]["answered"] is True
    # Six changes in all; from the revision this join answered, there is nothing more.
    assert ack["revision"] == first["revision"] + 6
    again = alice.emit("join", {"room": SLUG, "after": newer["id"], "revision": ack["revision"]}, callback=True)
    assert again["changed"] == [] and again["messages"] == [] and again["revision"] == ack["revision"]


def test_the_room_page_carries_the_revision_its_messages_are_current_to(app, client, auth, socket_for, klass, users):
    teacher = joined(socket_for, "staff")
    message = send(teacher, "to be pinned")["message"]
    assert ask(teacher, "pin", id=message["id"])["ok"]
    auth.login("alice")
    assert 'data-revision="1"' in client.get(f"/rooms/{SLUG}").get_data(as_text=True)
    # A fresh join (no `after`) gets the latest page as it is now, and no changes.
    ack = socket_for("alice").emit("join", {"room": SLUG, "revision": 0}, callback=True)
    assert ack["revision"] == 1 and ack["changed"] == [] and ack["messages"][-1]["pinned"] is True


def test_changes_beyond_the_cap_come_in_turns(app, socket_for, klass, users, monkeypatch):
    monkeypatch.setattr("chatapp.services.messages.MAX_CATCH_UP", 3)
    teacher = joined(socket_for, "staff")
    ids = [send(teacher, f"m{n}")["message"]["id"] for n in range(5)]
    for message_id in ids:
        assert ask(teacher, "pin", id=message_id)["ok"]
    alice = socket_for("alice")
    ack = alice.emit("join", {"room": SLUG, "after": ids[-1], "revision": 0}, callback=True)
    assert [m["id"] for m in ack["changed"]] == ids[:3] and ack["changed_more"] is True
    assert ack["revision"] == 3  # the last change given: ask again from there
    rest = alice.emit("join", {"room": SLUG, "after": ids[-1], "revision": ack["revision"]}, callback=True)
    assert [m["id"] for m in rest["changed"]] == ids[3:] and rest["changed_more"] is False
    assert rest["revision"] == 5


def test_an_action_that_changes_nothing_takes_no_revision(app, socket_for, klass, users):
    teacher = joined(socket_for, "staff")
    message = send(teacher, "plain")["message"]
    assert ask(teacher, "pin", id=message["id"])["ok"]
    assert ask(teacher, "pin", id=message["id"])["ok"]  # pinned already: no change, no revision
    with app.app_context():
        assert the_room(app).revision == 1
        assert db.session.get(Message, message["id"]).revision == 1


def test_revision_migration_starts_existing_rooms_and_messages_at_zero(tmp_path):
    from flask_migrate import downgrade, upgrade

    path = migrated_database(tmp_path / "old.sqlite3", revision="cca921fea4a4")
    connection = sqlite3.connect(path)
    connection.execute(
        "INSERT INTO user (id, username, display_name, password_hash, role, is_active_account, session_epoch,"
        " created_at)"
        " VALUES (1, 'teacher', 'Teacher', 'x', 'admin', 1, 0, '2026-01-01')"
    )
    connection.execute(
        "INSERT INTO room (id, slug, name, kind, created_at) VALUES (1, 'old', 'Old', 'public', '2026-01-01')"
    )
    connection.execute(
        "INSERT INTO message (id, room_id, sender_id, body, created_at) VALUES (1, 1, 1, 'hi', '2026-01-01')"
    )
    connection.commit()
    connection.close()
    app = create_app(base_config(path))
    with app.app_context():
        upgrade()
        message = db.session.get(Message, 1)
        assert (message.revision, message.room.revision) == (0, 0)
        moderation.pin_message(actor=db.session.get(User, 1), message=message)
        assert db.session.get(Message, 1).revision == 1
        downgrade(revision="cca921fea4a4")
        db.session.remove()
        db.engine.dispose()
    columns = {row[1] for row in sqlite3.connect(path).execute("PRAGMA table_info(message)")}
    assert "revision" not in columns and "body" in columns


# -- the moderation log -------------------------------------------------------------------------------


def test_the_log_records_each_action_and_only_moderators_read_it(app, socket_for, klass, users):
    teacher, bob, alice = joined(socket_for, "staff"), joined(socket_for, "bob"), joined(socket_for, "alice")
    message = send(bob, "question?", question=True)["message"]
    steps = [
        ("room_settings", {"announcement_only": True, "slow_mode_seconds": 10}),
        ("room_settings", {"announcement_only": False}),
        ("pin", {"id": message["id"]}),
        ("unpin", {"id": message["id"]}),
        ("answer_question", {"id": message["id"]}),
        ("mute", {"user_id": users["bob"].id, "minutes": 5}),
        ("unmute", {"user_id": users["bob"].id}),
        ("set_member_role", {"user_id": users["alice"].id, "role": "moderator"}),
        ("regenerate_join_code", {}),
        ("delete_message", {"id": message["id"]}),
        ("remove_member", {"user_id": users["bob"].id}),
        ("ban", {"user_id": users["bob"].id}),
        ("unban", {"user_id": users["bob"].id}),
    ]
    for event, payload in steps:
        assert ask(teacher, event, **payload)["ok"], event
    expected = ["settings", "settings", "pin", "unpin", "answer_question", "mute", "unmute", "set_role",
                "join_code", "delete_message", "remove", "ban", "unban"]
    assert log_actions(app) == expected
    log = ask(teacher, "moderation_log")
    assert [entry["action"] for entry in log["actions"]] == list(reversed(expected)) and log["more"] is False
    first = log["actions"][-1]
    assert first["actor"]["username"] == "staff" and first["detail"] == {
        "announcement_only": True,
        "slow_mode_seconds": 10,
    }
    assert first["created_at"].endswith("Z") and first["room"] == SLUG
    # Paging, newest first.
    page_one = ask(teacher, "moderation_log", limit=5)
    page_two = ask(teacher, "moderation_log", before=page_one["actions"][-1]["id"], limit=5)
    assert page_one["more"] and [e["id"] for e in page_one["actions"] + page_two["actions"]] == [
        e["id"] for e in log["actions"][:10]
    ]
    # Alice was promoted during the steps: she reads it now. Carol (not in the class) never.
    assert ask(alice, "moderation_log")["ok"]
    carol = socket_for("carol")
    assert ask(carol, "moderation_log")["error"] == "forbidden"
    # Live entries went to the moderators only.
    assert len(received(teacher, "moderation_action")) == len(expected)
    assert all(entry["action"] != "settings" for entry in received(alice, "moderation_action"))


def test_a_member_never_receives_moderation_events(app, socket_for, klass, users):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    ask(teacher, "mute", user_id=users["bob"].id, minutes=5)
    ask(teacher, "regenerate_join_code")
    names = {packet["name"] for packet in alice.get_received()}
    assert not names & {"moderation_action", "join_code", "member_updated"}


def test_direct_messages_have_no_moderators_and_no_questions(app, socket_for, users):
    from chatapp.services import direct

    with app.app_context():
        rooms.create_room(slug="lobby", name="Lobby", creator=as_user(app, "staff"))
        lobby = db.session.scalar(db.select(Room).filter_by(slug="lobby"))
        for name in ("alice", "bob"):
            rooms.enter_room(user=as_user(app, name), room=lobby)
        slug = direct.open_direct_room(user=as_user(app, "alice"), other=as_user(app, "bob")).slug
    alice, admin = socket_for("alice"), socket_for("admin")
    sent = alice.emit("send", {"room": slug, "body": "psst", "client_id": "dm-1"}, callback=True)["message"]
    assert admin.emit("pin", {"room": slug, "id": sent["id"]}, callback=True)["error"] == "forbidden"
    assert alice.emit("room_settings", {"room": slug, "slow_mode_seconds": 5}, callback=True)["error"] == "forbidden"
    assert alice.emit("mark_question", {"room": slug, "id": sent["id"]}, callback=True)["error"] == "forbidden"
    asked = alice.emit("send", {"room": slug, "body": "q?", "client_id": "dm-2", "question": True}, callback=True)
    assert asked["error"] == "invalid"
    # Deleting one's own message works there too.
    assert alice.emit("delete_message", {"room": slug, "id": sent["id"]}, callback=True)["ok"]


# -- capabilities: what the page and the join ack tell the browser this viewer may do ------------------


def capabilities_of(socket_for, username: str) -> dict:
    """The `capabilities` of username's join ack."""
    return socket_for(username).emit("join", {"room": SLUG}, callback=True)["capabilities"]


def ids(users, *names: str) -> list[int]:
    return sorted(users[name].id for name in names)


@pytest.mark.config(MESSAGE_DELETE_WINDOW_SECONDS=600, MESSAGE_EDIT_WINDOW_SECONDS=300)
def test_join_ack_carries_capabilities_of_owner_moderator_member_and_admin(app, socket_for, klass, users):
    promote(app, "alice")
    promote(app, "bob")
    with app.app_context():
        rooms.join_by_code(user=as_user(app, "carol"), code=the_room(app).join_code)
    owner = capabilities_of(socket_for, "staff")
    assert owner == {
        "may_moderate": True, "may_set_roles": True, "may_act_on": ids(users, "alice", "bob", "carol"),
        "posting_limits_apply": False, "edit_window_seconds": 300, "delete_window_seconds": 0, "may_react": True,
        "may_ask_for_ack": True,
        "may_ask_anonymously": False,
    }
    # A moderator acts on members, never on another moderator, the owner or themselves.
    moderator = capabilities_of(socket_for, "alice")
    assert moderator["may_moderate"] is True and moderator["may_set_roles"] is False
    assert moderator["may_act_on"] == ids(users, "carol")
    assert users["bob"].id not in moderator["may_act_on"] and users["staff"].id not in moderator["may_act_on"]
    assert moderator["posting_limits_apply"] is False and moderator["delete_window_seconds"] == 0
    assert capabilities_of(socket_for, "carol") == {
        "may_moderate": False, "may_set_roles": False, "may_act_on": [],
        "posting_limits_apply": True, "edit_window_seconds": 300, "delete_window_seconds": 600, "may_react": True,
        "may_ask_for_ack": False,
        "may_ask_anonymously": False,
    }
    # A site admin moderates every room, outranking its owner too.
    admin = capabilities_of(socket_for, "admin")
    assert admin["may_moderate"] is True and admin["may_set_roles"] is True
    assert admin["may_act_on"] == ids(users, "staff", "alice", "bob", "carol")


def test_the_room_page_carries_the_same_capabilities(app, client, auth, klass, users):
    promote(app, "alice")
    expected = {
        "staff": ("true", "true", "false", {"alice": "true", "bob": "true", "staff": "false"}),
        "alice": ("true", "false", "false", {"alice": "false", "bob": "true", "staff": "false"}),
        "bob": ("false", "false", "true", {}),
    }
    for username, (may_moderate, may_set_roles, limits_apply, acts_on) in expected.items():
        auth.login(username)
        shown = page(client.get(f"/rooms/{SLUG}"))
        data = shown.find(id="classroom").attrs
        assert (data["data-may-moderate"], data["data-may-set-roles"], data["data-posting-limits-apply"]) == (
            may_moderate, may_set_roles, limits_apply), username
        window = "0" if may_moderate == "true" else str(app.config["MESSAGE_DELETE_WINDOW_SECONDS"])
        assert data["data-delete-window"] == window
        assert shown.find(id="room").attrs["data-edit-window"] == str(app.config["MESSAGE_EDIT_WINDOW_SECONDS"])
        rows = shown.find(id="members").find_all("li")
        members = {li.attrs["data-user-id"]: li.attrs.get("data-may-act-on") for li in rows}
        for name, flag in acts_on.items():
            assert members[str(users[name].id)] == flag, (username, name)
        if not acts_on:  # a member's page does not even say who could be moderated
            assert set(members.values()) == {None}
        auth.logout()


def test_may_act_on_is_what_the_server_then_allows(app, socket_for, klass, users):
    """Every capability is the service rule's answer: what is offered works, what is not is refused."""
    promote(app, "alice")
    for viewer in ("admin", "staff", "alice", "bob"):
        sock = joined(socket_for, viewer)
        can = sock.emit("join", {"room": SLUG}, callback=True)["capabilities"]
        for target in ("staff", "alice", "bob"):
            ack = ask(sock, "unmute", user_id=users[target].id)
            assert ack["ok"] is (users[target].id in can["may_act_on"]), (viewer, target, ack)
            with app.app_context():
                actor, whom = as_user(app, viewer), as_user(app, target)
                rule = moderation.can_act_on(actor=actor, room=the_room(app), target=whom)
            assert rule is (users[target].id in can["may_act_on"]), (viewer, target)
        # Setting bob's role to what it is already: a no-op for those who may, forbidden for the rest.
        ack = ask(sock, "set_member_role", user_id=users["bob"].id, role="member")
        assert ack["ok"] is can["may_set_roles"], (viewer, ack)


@pytest.mark.config(MESSAGE_DELETE_WINDOW_SECONDS=60)
def test_the_delete_window_given_is_the_one_that_binds(app, socket_for, klass, users):
    teacher, bob = joined(socket_for, "staff"), joined(socket_for, "bob")
    assert send(teacher, "teacher's old news")["ok"] and send(bob, "bob's old news")["ok"]
    age_messages(app, "staff", 120)
    age_messages(app, "bob", 120)
    windows = {name: capabilities_of(socket_for, name)["delete_window_seconds"] for name in ("staff", "bob")}
    assert windows == {"staff": 0, "bob": 60}  # 0: no limit, for a moderator
    with app.app_context():
        ids_by_body = dict(db.session.execute(db.select(Message.body, Message.id)).all())
    assert ask(teacher, "delete_message", id=ids_by_body["teacher's old news"])["ok"]
    refused = ask(bob, "delete_message", id=ids_by_body["bob's old news"])
    assert refused["ok"] is False and refused["error"] == "forbidden"


def test_posting_limits_apply_to_whom_the_server_refuses(app, socket_for, klass):
    teacher, bob = joined(socket_for, "staff"), joined(socket_for, "bob")
    assert ask(teacher, "room_settings", announcement_only=True)["ok"]
    for name, sock in (("staff", teacher), ("bob", bob)):
        applies = capabilities_of(socket_for, name)["posting_limits_apply"]
        assert send(sock, f"announcement by {name}")["ok"] is (not applies), name


def test_direct_messages_offer_no_moderation(socket_for, klass, users):
    alice = socket_for("alice")
    opened = alice.emit("open_direct", {"user_id": users["bob"].id}, callback=True)
    assert opened["ok"], opened
    can = alice.emit("join", {"room": opened["room"]["slug"]}, callback=True)["capabilities"]
    assert can["may_moderate"] is False and can["may_act_on"] == [] and can["may_set_roles"] is False


# -- protocol hygiene ---------------------------------------------------------------------------------

CLASSROOM_EVENTS = list(MODERATION_EVENTS) + ["mark_question"]
FIELDS = ["room", "id", "user_id", "minutes", "role", "reason", "announcement_only", "slow_mode_seconds",
          "valid_minutes", "question", "answered", "before", "limit"]
values = st.one_of(
    st.none(), st.booleans(), st.integers(min_value=-(2**70), max_value=2**70), st.text(max_size=50),
    st.sampled_from([SLUG, "lobby", "", "x" * 70]), st.lists(st.integers(), max_size=3),
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)
@given(
    event=st.sampled_from(CLASSROOM_EVENTS),
    payload=st.one_of(st.dictionaries(st.sampled_from(FIELDS), values, max_size=5), values),
)
def test_generated_payloads_get_a_protocol_answer(socket_for, klass, caplog, event, payload):
    caplog.set_level(logging.ERROR, logger="chatapp.sockets")
    sock = helpers.fuzz_socket(socket_for, "staff")
    ack = sock.emit(event, payload, callback=True)
    assert isinstance(ack, dict) and ack["ok"] in (True, False)
    if not ack["ok"]:
        assert ack["error"] in ERROR_CODES and ack["message"]
    assert sock.is_connected()
    assert not [r for r in caplog.records if r.name == "chatapp.sockets"], "an exception escaped a handler"
