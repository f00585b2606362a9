"""Polls: a teacher posts one, students vote and change their vote, the room sees the results live, the teacher
closes it; every refusal through the real doors (the Socket.IO test client, the CSV route).
"""
from __future__ import annotations

from datetime import timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import Poll, PollVote, utcnow
from chatapp.services import moderation, rooms

from . import helpers
from .conftest import detached, received
from .helpers import act_on_bob, joined


def create(sock, room: str, **extra) -> dict:
    """Emit create_poll and return its ack."""
    payload = {"room": room, "question": "Which day for the test?", "options": ["Monday", "Friday"], **extra}
    return sock.emit("create_poll", payload, callback=True)


def vote(sock, room: str, poll: dict, *indexes: int) -> dict:
    """Vote for the options at these positions; return the ack."""
    ids = [poll["options"][index]["id"] for index in indexes]
    return sock.emit("poll_vote", {"room": room, "poll_id": poll["id"], "options": ids}, callback=True)


def stored_votes(app) -> list[tuple[str, str]]:
    with app.app_context():
        return [(row.user.username, next(o.text for o in db.session.get(Poll, row.poll_id).options
                                         if o.id == row.option_id))
                for row in db.session.scalars(db.select(PollVote).order_by(PollVote.id))]


@pytest.fixture
def klass(app, users, socket_for):
    """A class of the teacher (staff) with alice and bob joined; the teacher's socket in it."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=users["staff"])
        for name in ("alice", "bob"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        room = detached(room)
    return room, joined(socket_for, "staff", room.slug)


def posted_poll(klass, **extra) -> tuple[str, dict, dict]:
    room, teacher = klass
    ack = create(teacher, room.slug, **extra)
    assert ack["ok"], ack
    teacher.get_received()
    return room.slug, ack["message"], ack["message"]["poll"]


def test_a_poll_is_a_message_of_the_room_with_its_options(app, klass, socket_for):
    room, teacher = klass
    alice = joined(socket_for, "alice", room.slug)
    ack = create(teacher, room.slug, options=["Monday", "  Friday  ", ""], client_id="p1")
    assert ack["ok"], ack
    message = ack["message"]
    assert message["body"] == "Which day for the test?"
    poll = message["poll"]
    assert [option["text"] for option in poll["options"]] == ["Monday", "Friday"]
    assert poll["closed"] is False and poll["multiple"] is False and poll["voters"] == 0
    assert [m["id"] for m in received(alice, "message")] == [message["id"]]
    # In the history like any message, and a retried create stores it once and tells nobody.
    again = create(teacher, room.slug, options=["Monday", "Friday"], client_id="p1")
    assert again["ok"] and again["message"]["id"] == message["id"]
    assert received(alice, "message") == []
    history = alice.emit("history", {"room": room.slug}, callback=True)
    assert history["messages"][-1]["poll"]["id"] == poll["id"]


@pytest.mark.parametrize("bad", [
    {"options": ["only one"]},
    {"options": [str(n) for n in range(11)]},
    {"options": ["same", "same"]},
    {"options": "Monday, Friday"},
    {"question": "   "},
    {"minutes": 0},
    {"minutes": 7 * 24 * 60 + 1},
])
def test_a_poll_that_is_not_one_is_refused(app, klass, bad):
    room, teacher = klass
    refused = create(teacher, room.slug, **bad)
    assert refused["ok"] is False and refused["error"] == "invalid", refused
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Poll.id))) == 0


def test_a_student_cannot_create_or_close_a_poll(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    alice = joined(socket_for, "alice", slug)
    refused = create(alice, slug)
    assert refused["error"] == "forbidden"
    assert create(socket_for("carol"), slug)["error"] == "forbidden"  # not even in the class
    refused = alice.emit("poll_close", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert refused["error"] == "forbidden"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Poll.id))) == 1
        assert db.session.get(Poll, poll["id"]).closed_at is None


def test_students_vote_change_their_vote_and_everyone_sees_the_counts_live(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    room, teacher = klass
    alice, bob = joined(socket_for, "alice", slug), joined(socket_for, "bob", slug)
    ack = vote(alice, slug, poll, 0)
    assert ack["ok"] and ack["my_votes"] == [poll["options"][0]["id"]]
    updated = received(bob, "message_updated")[-1]
    assert [option["count"] for option in updated["poll"]["options"]] == [1, 0]
    assert vote(bob, slug, poll, 1)["ok"]
    # A single choice replaces the one before.
    changed = vote(alice, slug, poll, 1)
    assert changed["my_votes"] == [poll["options"][1]["id"]]
    assert [option["count"] for option in changed["poll"]["options"]] == [0, 2]
    assert stored_votes(app) == [("bob", "Friday"), ("alice", "Friday")]
    assert [o["count"] for o in received(teacher, "poll_results")[-1]["poll"]["options"]] == [0, 2]
    # A retry after a lost ack is the same vote, and nobody hears of it again.
    alice.get_received()
    bob.get_received()
    assert vote(alice, slug, poll, 1)["ok"]
    assert received(bob, "message_updated") == []
    assert len(stored_votes(app)) == 2


def test_a_multiple_choice_poll_takes_several_and_one_vote_per_option(app, klass, socket_for):
    slug, message, poll = posted_poll(klass, options=["a", "b", "c"], multiple=True)
    alice = joined(socket_for, "alice", slug)
    ack = vote(alice, slug, poll, 0, 2, 2)
    assert ack["ok"] and len(ack["my_votes"]) == 2
    assert [o["count"] for o in ack["poll"]["options"]] == [1, 0, 1]
    assert ack["poll"]["voters"] == 1
    # Taking a vote back: none chosen.
    assert vote(alice, slug, poll)["poll"]["voters"] == 0


def test_a_single_choice_poll_refuses_two_options_and_an_option_of_another_poll(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    alice = joined(socket_for, "alice", slug)
    assert vote(alice, slug, poll, 0, 1)["error"] == "invalid"
    other = posted_poll(klass, question="Another?", options=["x", "y"])[2]
    wrong = alice.emit("poll_vote", {"room": slug, "poll_id": poll["id"], "options": [other["options"][0]["id"]]},
                       callback=True)
    assert wrong["error"] == "invalid"
    huge = alice.emit("poll_vote", {"room": slug, "poll_id": poll["id"], "options": [10**9]}, callback=True)
    assert huge["error"] == "invalid"
    assert alice.emit("poll_vote", {"room": slug, "poll_id": poll["id"], "options": ["1"]},
                      callback=True)["error"] == "invalid"
    assert stored_votes(app) == []


def test_an_outsider_cannot_vote_or_see_the_poll(app, klass, socket_for, users):
    slug, message, poll = posted_poll(klass)
    carol = socket_for("carol")  # not in the class
    assert vote(carol, slug, poll, 0)["error"] == "forbidden"
    assert carol.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)["ok"] is False
    assert stored_votes(app) == []


def test_a_banned_or_muted_student_cannot_vote(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    act_on_bob(app, moderation.mute_member, minutes=10)
    bob = socket_for("bob")
    refused = vote(bob, slug, poll, 0)
    assert refused["error"] == "forbidden" and "muted" in refused["message"]
    view = bob.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert view["may_vote"] is False
    act_on_bob(app, moderation.ban_member)
    assert vote(bob, slug, poll, 0)["error"] == "forbidden"
    assert stored_votes(app) == []


def test_a_closed_poll_takes_no_votes_and_shows_its_results(app, klass, socket_for):
    slug, message, poll = posted_poll(klass, hidden_until_closed=True)
    room, teacher = klass
    alice = joined(socket_for, "alice", slug)
    assert vote(alice, slug, poll, 0)["ok"]
    closed = teacher.emit("poll_close", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert closed["ok"] and closed["poll"]["closed"] and closed["may_close"] is False
    shown = received(alice, "message_updated")[-1]["poll"]
    assert shown["closed"] and [o["count"] for o in shown["options"]] == [1, 0]
    refused = vote(alice, slug, poll, 1)
    assert refused["error"] == "conflict"
    assert stored_votes(app) == [("alice", "Monday")]
    # Closing it again changes nothing; the history keeps the results.
    assert teacher.emit("poll_close", {"room": slug, "poll_id": poll["id"]}, callback=True)["ok"]
    last = alice.emit("history", {"room": slug}, callback=True)["messages"][-1]["poll"]
    assert last["closed"] and last["options"][0]["count"] == 1


def test_a_poll_past_its_time_limit_is_closed_without_anyone_closing_it(app, klass, socket_for):
    slug, message, poll = posted_poll(klass, minutes=5)
    assert poll["closes_at"] is not None and poll["closed"] is False
    with app.app_context():
        stored = db.session.get(Poll, poll["id"])
        stored.closes_at = utcnow() - timedelta(seconds=1)
        db.session.commit()
    alice = joined(socket_for, "alice", slug)
    refused = vote(alice, slug, poll, 0)
    assert refused["error"] == "conflict"
    view = alice.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert view["poll"]["closed"] is True and view["may_vote"] is False


def test_hidden_results_are_kept_from_students_until_closed_but_not_from_moderators(app, klass, socket_for):
    slug, message, poll = posted_poll(klass, hidden_until_closed=True)
    room, teacher = klass
    alice, bob = joined(socket_for, "alice", slug), joined(socket_for, "bob", slug)
    assert "count" not in poll["options"][0]
    ack = vote(alice, slug, poll, 0)
    assert "count" not in ack["poll"]["options"][0] and "voters" not in ack["poll"]
    assert all("count" not in o for o in received(bob, "message_updated")[-1]["poll"]["options"])
    assert received(bob, "poll_results") == []
    assert [o["count"] for o in received(teacher, "poll_results")[-1]["poll"]["options"]] == [1, 0]
    view = teacher.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert view["poll"]["options"][0]["count"] == 1 and view["may_close"] and view["may_export"]
    student_view = bob.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert "count" not in student_view["poll"]["options"][0] and student_view["may_close"] is False


def test_an_anonymous_poll_never_carries_who_voted(app, klass, socket_for, users):
    slug, message, poll = posted_poll(klass, anonymous=True)
    room, teacher = klass
    alice, bob = joined(socket_for, "alice", slug), joined(socket_for, "bob", slug)
    ack = vote(alice, slug, poll, 0)
    payloads = [ack, *received(bob, "message_updated"), *received(teacher, "poll_results"),
                *received(teacher, "message_updated"),
                teacher.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True),
                teacher.emit("poll_close", {"room": slug, "poll_id": poll["id"]}, callback=True)]
    text = repr([{k: v for k, v in p.items() if k != "my_votes"} for p in payloads])
    assert "alice" not in text.lower() and "Alice" not in text
    csv_text = helpers.logged_in(app, "staff").get(f"/rooms/{slug}/polls/{poll['id']}/results.csv").get_data(
        as_text=True)
    assert "Monday" in csv_text and "alice" not in csv_text.lower()


def test_the_results_csv_is_for_moderators_only_and_names_voters(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    alice = joined(socket_for, "alice", slug)
    assert vote(alice, slug, poll, 1)["ok"]
    url = f"/rooms/{slug}/polls/{poll['id']}/results.csv"
    response = helpers.logged_in(app, "staff").get(url)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert "Friday,1,100" in text and "alice,Alice,Friday" in text
    assert helpers.logged_in(app, "alice").get(url).status_code == 403
    assert helpers.logged_in(app, "carol").get(url).status_code in (403, 404)


def test_a_reconnecting_client_gets_the_current_results_in_the_catch_up(app, klass, socket_for):
    slug, message, poll = posted_poll(klass)
    alice = joined(socket_for, "alice", slug)
    revision = alice.emit("join", {"room": slug}, callback=True)
    bob = joined(socket_for, "bob", slug)
    assert vote(bob, slug, poll, 1)["ok"]
    caught = alice.emit("join", {"room": slug, "after": message["id"], "revision": revision.get("revision", 0)},
                        callback=True)
    changed = [m for m in caught.get("changed", []) if m["id"] == message["id"]]
    assert changed and [o["count"] for o in changed[0]["poll"]["options"]] == [0, 1]
    view = bob.emit("poll_view", {"room": slug, "poll_id": poll["id"]}, callback=True)
    assert view["my_votes"] == [poll["options"][1]["id"]] and view["may_vote"] is True


def test_a_poll_cannot_be_edited(app, klass):
    slug, message, poll = posted_poll(klass)
    room, teacher = klass
    refused = teacher.emit("edit_message", {"room": slug, "id": message["id"], "body": "Something else?"},
                           callback=True)
    assert refused["ok"] is False and refused["error"] == "conflict", refused
    assert teacher.emit("history", {"room": slug}, callback=True)["messages"][-1]["body"] == message["body"]
