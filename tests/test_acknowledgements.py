"""Announcements that must be acknowledged (services/acknowledgements.py, the classroom socket events).

Through the real doors: the teacher pins with `needs_ack`, students acknowledge once (a retry is
the same acknowledgement, kept by a unique constraint), the moderators hear the count, read who
has not acknowledged and remind them at most once per REMIND_INTERVAL_SECONDS. Each refusal has
its test.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from chatapp.extensions import db
from chatapp.models import Acknowledgement, AckReminder, Message, OutboxJob, Room, User, utcnow
from chatapp.services import acknowledgements, archive, messages, moderation, outbox, rooms
from chatapp.services.errors import ServiceError

from . import helpers
from .conftest import AuthActions, received
from .pages import page

SLUG = "maths-7b"


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def ask(sock, event: str, **payload) -> dict:
    return sock.emit(event, {"room": SLUG, **payload}, callback=True)


def joined(socket_for, username: str):
    """A socket of username that joined the class, with its received events cleared."""
    return helpers.joined(socket_for, username, SLUG)


def announce(teacher, body: str = "Bring your calculator on Friday", needs_ack: bool = True) -> dict:
    """The teacher posts body and pins it (asking for acknowledgement unless told not to); its MESSAGE."""
    sent = helpers.send(teacher, SLUG, body, body)["message"]
    ack = ask(teacher, "pin", id=sent["id"], needs_ack=needs_ack)
    assert ack["ok"], ack
    return ack["message"]


def test_students_acknowledge_once_and_the_moderators_hear_the_count(app, socket_for, klass):
    teacher, alice, bob = (joined(socket_for, name) for name in ("staff", "alice", "bob"))
    message = announce(teacher)
    assert message["needs_ack"] is True and message["pinned"] is True
    assert received(alice, "message_updated")[-1]["needs_ack"] is True
    teacher.get_received()
    # The join ack carries each viewer's state: the student's own, the teacher's count.
    assert alice.emit("join", {"room": SLUG}, callback=True)["acknowledgements"] == [
        {"id": message["id"], "acknowledged": False, "may_acknowledge": True}]
    assert teacher.emit("join", {"room": SLUG}, callback=True)["acknowledgements"] == [
        {"id": message["id"], "count": 0, "expected": 2}]

    ack = ask(alice, "acknowledge", id=message["id"])
    assert ack["ok"] and ack["acknowledged"] is True and ack["id"] == message["id"]
    [count] = received(teacher, "ack_count")
    assert (count["acknowledged"], count["expected"], count["user"]["username"]) == (1, 2, "alice")
    assert received(bob, "ack_count") == []  # moderators only
    assert [event["id"] for event in received(alice, "acknowledged")] == [message["id"]]  # her other devices

    # A retry (a lost ack, another device) is the same acknowledgement, and tells nobody again.
    again = ask(alice, "acknowledge", id=message["id"])
    assert again["ok"] and again["at"] == ack["at"]
    assert received(teacher, "ack_count") == []
    assert alice.emit("join", {"room": SLUG}, callback=True)["acknowledgements"][0]["acknowledged"] is True

    status = ask(teacher, "ack_status", id=message["id"])
    assert (status["acknowledged"], status["expected"]) == (1, 2)
    assert [user["username"] for user in status["pending"]] == ["bob"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acknowledgement.id))) == 1


def test_the_database_keeps_one_acknowledgement_per_message_and_person(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    assert ask(alice, "acknowledge", id=message["id"])["ok"]
    with app.app_context():
        db.session.add(Acknowledgement(message_id=message["id"], user_id=_user("alice").id))
        with pytest.raises(IntegrityError):
            db.session.commit()


def _pinned_item(http, message_id: int):
    """The pinned item of message_id on the class's page as http's user gets it."""
    return page(http.get(f"/rooms/{SLUG}")).find(id="pinned").find("li", **{"data-id": str(message_id)})


def test_the_page_carries_the_viewers_state_after_a_reload(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    http = app.test_client()
    AuthActions(http).login("alice")
    item = _pinned_item(http, message["id"])
    assert item.attrs["data-needs-ack"] == "true" and item.attrs["data-acknowledged"] == "false"
    assert item.find("button", class_="ack-button").text == "I have read this"
    assert ask(alice, "acknowledge", id=message["id"])["ok"]
    item = _pinned_item(http, message["id"])
    assert item.attrs["data-acknowledged"] == "true" and "You acknowledged this" in item.text
    assert item.find("button", class_="ack-button") is None
    teacher_http = app.test_client()
    AuthActions(teacher_http).login("staff")
    item = _pinned_item(teacher_http, message["id"])
    assert "1 of 2 acknowledged" in item.text and item.attrs["data-ack-count"] == "1"
    assert item.find("span", class_="ack-count-text").attrs["aria-live"] == "polite"


def test_a_student_cannot_acknowledge_for_someone_else(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    with app.app_context():
        bob_id = _user("bob").id
    # There is no naming someone else: a user_id in the payload is refused, nothing is stored.
    refused = ask(alice, "acknowledge", id=message["id"], user_id=bob_id)
    assert refused["ok"] is False and refused["error"] == "invalid"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acknowledgement.id))) == 0
    # The acting user is the one who acknowledges.
    assert ask(alice, "acknowledge", id=message["id"])["ok"]
    status = ask(teacher, "ack_status", id=message["id"])
    assert [user["username"] for user in status["pending"]] == ["bob"]
    with app.app_context():
        assert list(db.session.scalars(db.select(Acknowledgement.user_id))) == [_user("alice").id]


def test_a_non_member_cannot_acknowledge(app, socket_for, klass):
    teacher = joined(socket_for, "staff")
    message = announce(teacher)
    carol = socket_for("carol")
    ack = ask(carol, "acknowledge", id=message["id"])
    assert ack["ok"] is False and ack["error"] == "forbidden"
    with app.app_context():
        # Even a site admin, who may enter every room, is no student of it.
        with pytest.raises(ServiceError) as refused:
            acknowledgements.acknowledge(actor=_user("admin"), message=db.session.get(Message, message["id"]))
        assert refused.value.code == "forbidden"
        assert db.session.scalar(db.select(db.func.count(Acknowledgement.id))) == 0


def test_a_moderator_does_not_acknowledge(app, socket_for, klass):
    teacher = joined(socket_for, "staff")
    message = announce(teacher)
    ack = ask(teacher, "acknowledge", id=message["id"])
    assert ack["ok"] is False and ack["error"] == "forbidden" and "moderator" in ack["message"]


def test_a_message_that_does_not_ask_cannot_be_acknowledged(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    plain_pin = announce(teacher, "Homework page 12", needs_ack=False)
    assert "needs_ack" not in plain_pin
    unpinned = helpers.send(teacher, SLUG, "Just chatting", "c-chat")["message"]
    for message_id in (plain_pin["id"], unpinned["id"]):
        ack = ask(alice, "acknowledge", id=message_id)
        assert ack["ok"] is False and ack["error"] == "invalid" and "does not ask" in ack["message"]
    # Once unpinned, an announcement no longer asks.
    asking = announce(teacher, "Trip forms due")
    assert ask(teacher, "unpin", id=asking["id"])["ok"]
    assert ask(alice, "acknowledge", id=asking["id"])["error"] == "invalid"
    assert ask(alice, "acknowledge", id=987654)["error"] == "not_found"
    assert ask(alice, "acknowledge", id="x")["error"] == "invalid"


def test_needs_ack_only_in_a_class(app, socket_for, users):
    with app.app_context():
        room = rooms.create_room(slug="club", name="Chess club", creator=_user("staff"))
        sent = messages.post_message(sender=_user("staff"), room=room, body="Rules", client_id="r1")
        with pytest.raises(ServiceError) as refused:
            moderation.pin_message(actor=_user("staff"), message=db.session.get(Message, sent.message.id),
                                   needs_ack=True)
        assert refused.value.code == "invalid"


def test_a_pinned_announcement_can_be_asked_to_be_acknowledged_later(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher, needs_ack=False)
    again = ask(teacher, "pin", id=message["id"], needs_ack=True)
    assert again["ok"] and again["message"]["needs_ack"] is True
    assert ask(alice, "acknowledge", id=message["id"])["ok"]


def test_a_student_cannot_read_who_has_not_acknowledged_nor_remind(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    for event in ("ack_status", "remind_ack"):
        ack = ask(alice, event, id=message["id"])
        assert ack["ok"] is False and ack["error"] == "forbidden", event
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(AckReminder.id))) == 0


def test_reminders_reach_those_who_have_not_acknowledged_once_per_interval(app, socket_for, klass, mailbox):
    with app.app_context():
        _user("alice").email = "alice@school.example"
        _user("bob").email = "bob@school.example"
        _user("carol").email = "carol@school.example"
        db.session.commit()
    teacher, alice, bob = (joined(socket_for, name) for name in ("staff", "alice", "bob"))
    message = announce(teacher)
    assert ask(alice, "acknowledge", id=message["id"])["ok"]
    with app.app_context():  # the announcement's own e-mails are not what this test is about
        db.session.execute(update(OutboxJob).values(state="sent"))
        db.session.commit()
    for sock in (alice, bob):
        sock.get_received()
    ack = ask(teacher, "remind_ack", id=message["id"])
    assert ack["ok"] and ack["reminded"] == 1 and ack["remind_after"]
    [notice] = received(bob, "ack_reminder")
    assert notice["message"]["id"] == message["id"] and notice["by"]["username"] == "staff"
    assert received(alice, "ack_reminder") == []  # she acknowledged
    # The e-mail goes by the outbox, to bob only.
    with app.app_context():
        jobs = list(db.session.scalars(db.select(OutboxJob).filter_by(kind="ack_reminder")))
        assert [job.payload["user_id"] for job in jobs] == [_user("bob").id]
        assert outbox.run_due() == 1
    [mail] = mailbox.wait_for(1)
    assert "bob@school.example" in str(mail["To"]) and "Maths 7B" in str(mail["Subject"])
    assert "Bring your calculator on Friday" in mail.get_body(("plain",)).get_content()

    # Again at once: refused, saying when they may remind again.
    refused = ask(teacher, "remind_ack", id=message["id"])
    assert refused["ok"] is False and refused["error"] == "rate_limited"
    assert "again in 10 min" in refused["message"] and 0 < refused["retry_after"] <= 600
    assert received(bob, "ack_reminder") == []
    # Ten minutes later they may.
    with app.app_context():
        db.session.execute(update(AckReminder).values(created_at=utcnow() - timedelta(seconds=601)))
        db.session.commit()
    assert ask(teacher, "remind_ack", id=message["id"])["ok"]
    assert len(received(bob, "ack_reminder")) == 1


def test_a_reminder_is_not_e_mailed_to_who_does_not_take_announcements(app, socket_for, klass):
    with app.app_context():
        bob = _user("bob")
        bob.email, bob.mail_announcements = "bob@school.example", False
        db.session.commit()
    teacher = joined(socket_for, "staff")
    message = announce(teacher)
    assert ask(teacher, "remind_ack", id=message["id"])["reminded"] == 2
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(OutboxJob.id)).filter_by(kind="ack_reminder")) == 0


def test_nobody_to_remind_when_everyone_acknowledged(app, socket_for, klass):
    teacher, alice, bob = (joined(socket_for, name) for name in ("staff", "alice", "bob"))
    message = announce(teacher)
    for sock in (alice, bob):
        assert ask(sock, "acknowledge", id=message["id"])["ok"]
    ack = ask(teacher, "remind_ack", id=message["id"])
    assert ack["ok"] is False and ack["error"] == "conflict"


def test_an_archived_class_takes_no_acknowledgements(app, socket_for, klass):
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    with app.app_context():
        archive.set_archived(actor=_user("staff"), room=db.session.scalar(db.select(Room).filter_by(slug=SLUG)),
                             archived=True)
    refused = ask(alice, "acknowledge", id=message["id"])
    assert refused["ok"] is False and refused["error"] == "forbidden"
    assert alice.emit("join", {"room": SLUG}, callback=True)["acknowledgements"] == [
        {"id": message["id"], "acknowledged": False, "may_acknowledge": False}]
    assert ask(teacher, "remind_ack", id=message["id"])["error"] == "forbidden"
    assert ask(teacher, "ack_status", id=message["id"])["ok"]  # the teacher still reads who did


def test_two_processes_acknowledging_at_once_store_one(app, socket_for, klass, monkeypatch):
    """The other process's row lands between the check and the INSERT: the constraint refuses the
    second, and the same acknowledgement is answered, announced once."""
    teacher, alice = joined(socket_for, "staff"), joined(socket_for, "alice")
    message = announce(teacher)
    with app.app_context():
        alice_id = _user("alice").id

    def too_late(*, message, user):
        with db.engine.begin() as other:  # another process's connection, committed at once
            other.execute(Acknowledgement.__table__.insert().values(
                message_id=message.id, user_id=alice_id, created_at=utcnow()))
        return None

    monkeypatch.setattr(acknowledgements, "find_acknowledgement", too_late)
    teacher.get_received()
    ack = ask(alice, "acknowledge", id=message["id"])
    assert ack["ok"] and ack["acknowledged"] is True
    assert received(teacher, "ack_count") == []  # the other process announced it
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Acknowledgement.id))) == 1
