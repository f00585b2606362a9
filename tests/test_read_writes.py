"""Read positions in rooms are written at most once every READ_WRITE_SECONDS per person and room
(services/read_writes.py): the first at once, later ones held and written when the spell ends, when
the socket goes, or when the room list asks for its counts. Direct rooms write every read at once."""
from __future__ import annotations

import time

import pytest

from chatapp.extensions import db
from chatapp.models import Membership, Room, User
from chatapp.services import direct, rooms

from .conftest import received


def stored_position(app, username: str, slug: str) -> int:
    with app.app_context():
        position = db.session.scalar(
            db.select(Membership.last_read_id).join(User, User.id == Membership.user_id)
            .join(Room, Room.id == Membership.room_id).where(User.username == username, Room.slug == slug)
        )
        db.session.remove()
        return position


def three_messages(bob) -> list[int]:
    sent = [bob.emit("send", {"room": "lobby", "body": f"news {n}", "client_id": f"n{n}"}, callback=True)
            for n in range(3)]
    return [ack["message"]["id"] for ack in sent]


def joined(socket_for, *names):
    sockets = [socket_for(name) for name in names]
    for sock in sockets:
        assert sock.emit("join", {"room": "lobby"}, callback=True)["ok"]
    return sockets


@pytest.mark.config(READ_WRITE_SECONDS=1)
def test_a_second_read_inside_the_spell_is_held_then_written(app, users, public_room, socket_for):
    alice, bob = joined(socket_for, "alice", "bob")
    first, second, third = three_messages(bob)
    assert alice.emit("read", {"room": "lobby", "last_id": first}, callback=True)["unread"] == 2
    assert stored_position(app, "alice", "lobby") == first  # the first read of a spell: at once
    # The next one is answered as read (the count already knows) but not written yet.
    assert alice.emit("read", {"room": "lobby", "last_id": second}, callback=True)["unread"] == 1
    assert alice.emit("read", {"room": "lobby", "last_id": third}, callback=True)["unread"] == 0
    assert stored_position(app, "alice", "lobby") == first
    deadline = time.monotonic() + 10
    while stored_position(app, "alice", "lobby") != third and time.monotonic() < deadline:
        time.sleep(0.1)
    assert stored_position(app, "alice", "lobby") == third  # the furthest one, once the spell ended


@pytest.mark.config(READ_WRITE_SECONDS=60)
def test_a_held_position_is_written_when_the_socket_goes(app, users, public_room, socket_for):
    alice, bob = joined(socket_for, "alice", "bob")
    first, _, third = three_messages(bob)
    alice.emit("read", {"room": "lobby", "last_id": first}, callback=True)
    alice.emit("read", {"room": "lobby", "last_id": third}, callback=True)
    assert stored_position(app, "alice", "lobby") == first
    alice.disconnect()
    assert stored_position(app, "alice", "lobby") == third


@pytest.mark.config(READ_WRITE_SECONDS=60)
def test_the_room_list_counts_a_held_position_as_read(app, users, public_room, socket_for, client, auth):
    alice, bob = joined(socket_for, "alice", "bob")
    first, _, third = three_messages(bob)
    alice.emit("read", {"room": "lobby", "last_id": first}, callback=True)
    alice.emit("read", {"room": "lobby", "last_id": third}, callback=True)
    assert alice.emit("unread", {}, callback=True)["rooms"].get("lobby", 0) == 0
    assert stored_position(app, "alice", "lobby") == third


@pytest.mark.config(READ_WRITE_SECONDS=60)
def test_a_held_position_never_moves_one_written_later_back(app, users, public_room, socket_for):
    alice, bob = joined(socket_for, "alice", "bob")
    first, second, third = three_messages(bob)
    other_tab = socket_for("alice")
    alice.emit("read", {"room": "lobby", "last_id": first}, callback=True)
    alice.emit("read", {"room": "lobby", "last_id": second}, callback=True)  # held
    with app.app_context():  # another process wrote a later position meanwhile
        membership = db.session.scalar(db.select(Membership).join(User).where(User.username == "alice"))
        membership.last_read_id = third
        db.session.commit()
    other_tab.disconnect()  # flushes alice's held position
    assert stored_position(app, "alice", "lobby") == third


@pytest.mark.config(READ_WRITE_SECONDS=60)
def test_a_direct_room_writes_every_read_at_once(app, users, public_room, socket_for):
    with app.app_context():
        alice_user, bob_user = (db.session.scalar(db.select(User).filter_by(username=name))
                                for name in ("alice", "bob"))
        for user in (alice_user, bob_user):
            rooms.join_room(user=user, room=rooms.get_room("lobby"))
        slug = direct.open_direct_room(user=alice_user, other=bob_user).slug
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        sock.emit("join", {"room": slug}, callback=True)
    ids = [alice.emit("send", {"room": slug, "body": f"dm {n}", "client_id": f"d{n}"}, callback=True)["message"]["id"]
           for n in range(2)]
    alice.get_received()
    for message_id in ids:
        bob.emit("read", {"room": slug, "last_id": message_id}, callback=True)
        assert stored_position(app, "bob", slug) == message_id
    assert [one["last_read_id"] for one in received(alice, "read_receipt")] == ids
