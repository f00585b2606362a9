"""Announcing after the commit (chatapp/realtime/announce.py): nobody hears of what is not stored,
and every door (socket, HTTP, CLI, a plain app context) announces the same way."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import Message, Room
from chatapp.realtime.announce import announce
from chatapp.realtime.channels import room_channel
from chatapp.services import messages as message_service
from chatapp.services import moderation as moderation_service
from chatapp.services.errors import ServiceError

from .conftest import received


def _listening(socket_for, who="alice"):
    sock = socket_for(who)
    assert sock.emit("join", {"room": "lobby"}, callback=True)["ok"]
    sock.get_received()
    return sock


def _lobby() -> Room:
    return db.session.scalar(db.select(Room).filter_by(slug="lobby"))


def _pings(sock):
    return [event["args"][0] for event in sock.get_received() if event["name"] == "ping_test"]


def test_with_nothing_uncommitted_it_is_sent_at_once(app, socket_for, public_room):
    sock = _listening(socket_for)
    with app.app_context():
        announce("ping_test", {"n": 1}, to=room_channel("lobby"))
        assert _pings(sock) == [{"n": 1}]


def test_it_waits_for_the_commit_of_what_the_session_wrote(app, socket_for, public_room):
    sock = _listening(socket_for)
    with app.app_context():
        room = _lobby()
        room.name = "Renamed"
        announce("ping_test", {"n": 2}, to=room_channel("lobby"))
        assert _pings(sock) == []  # not stored yet: nobody may hear of it
        db.session.commit()
        assert _pings(sock) == [{"n": 2}]


def test_a_rollback_drops_it(app, socket_for, public_room):
    sock = _listening(socket_for)
    with app.app_context():
        room = _lobby()
        room.name = "Never"
        db.session.flush()  # written, but not committed
        announce("ping_test", {"n": 3}, to=room_channel("lobby"))
        db.session.rollback()
        db.session.commit()  # a later commit does not bring it back
        assert _pings(sock) == []


def test_a_savepoint_is_not_the_commit(app, socket_for, public_room):
    sock = _listening(socket_for)
    with app.app_context():
        room = _lobby()
        room.name = "Nested"
        announce("ping_test", {"n": 4}, to=room_channel("lobby"))
        with db.session.begin_nested():
            room.name = "Nested again"
        assert _pings(sock) == []  # the SAVEPOINT was released, the transaction goes on
        db.session.commit()
        assert _pings(sock) == [{"n": 4}]


def test_a_service_called_outside_any_socket_event_announces_like_a_handler(app, socket_for, public_room, users):
    """The door does not matter: a pin made from a plain app context (as the CLI or a view would) reaches the room."""
    sock = _listening(socket_for)
    with app.app_context():
        room = _lobby()
        sent = message_service.post_message(sender=db.session.merge(users["bob"]), room=room, body="hi", client_id="x1")
        assert [shown["body"] for shown in received(sock, "message")] == ["hi"]
        message = db.session.get(Message, sent.message.id)
        moderation_service.pin_message(actor=db.session.merge(users["staff"]), message=message)
    updated = received(sock, "message_updated")
    assert [shown["id"] for shown in updated] == [sent.message.id]
    assert updated[0]["pinned"] is True


def test_a_refused_action_announces_nothing(app, socket_for, public_room, users):
    sock = _listening(socket_for)
    with app.app_context():
        room = _lobby()
        sent = message_service.post_message(sender=db.session.merge(users["bob"]), room=room, body="hi", client_id="x2")
        sock.get_received()
        message = db.session.get(Message, sent.message.id)
        with pytest.raises(ServiceError) as refused:
            moderation_service.pin_message(actor=db.session.merge(users["alice"]), message=message)  # not a moderator
        assert refused.value.code == "forbidden"
    assert received(sock, "message_updated") == [] and received(sock, "moderation_action") == []
