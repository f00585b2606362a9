"""Replies: a message that answers another of its room shows who wrote that one and an excerpt (docs/protocol.md)."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import REPLY_EXCERPT_LENGTH, Message, User
from chatapp.services import editing, messages, moderation, rooms, support

from .conftest import received, seed_messages
from .support_fixtures import start_visitor


def _user(name: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=name))


def join(sock, room="lobby"):
    return sock.emit("join", {"room": room}, callback=True)


def send(sock, body, client_id, room="lobby", **extra):
    return sock.emit("send", {"room": room, "body": body, "client_id": client_id, **extra}, callback=True)


def test_a_reply_carries_the_answered_message_to_everyone_and_in_history(app, users, public_room, socket_for):
    with app.app_context():
        question = messages.post_message(sender=_user("bob"), room=rooms.get_room("lobby"), client_id="q1",
                                         body="Is the test on Friday? " + "x" * 200).message.id
    alice, carol = socket_for("alice"), socket_for("carol")
    assert join(alice)["ok"] and join(carol)["ok"]
    carol.get_received()
    ack = send(alice, "Yes, at nine.", "r1", reply_to=question)
    assert ack["ok"], ack
    quoted = ack["message"]["reply_to"]
    assert quoted["id"] == question and quoted["sender"]["username"] == "bob" and quoted["deleted"] is False
    assert quoted["excerpt"].startswith("Is the test on Friday?") and len(quoted["excerpt"]) == REPLY_EXCERPT_LENGTH
    [event] = received(carol, "message")
    assert event["reply_to"] == quoted
    history = alice.emit("history", {"room": "lobby"}, callback=True)["messages"]
    assert history[-1]["reply_to"] == quoted
    assert "reply_to" not in history[0]  # only replies carry it (the first version's shape stays)


def test_a_retried_reply_is_stored_once(app, users, public_room, socket_for):
    [first] = seed_messages(app, users["bob"], public_room, 1)
    alice = socket_for("alice")
    join(alice)
    one, again = send(alice, "ok", "r1", reply_to=first), send(alice, "ok", "r1", reply_to=first)
    assert one["message"]["id"] == again["message"]["id"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(Message).filter_by(reply_to_id=first)) == 1


@pytest.mark.parametrize("target,code", [("other-room", "not_found"), ("missing", "not_found"), ("deleted", "conflict"),
                                         ("text", "invalid"), ("bool", "invalid")])
def test_a_reply_must_answer_a_message_of_this_room_that_still_exists(app, users, public_room, socket_for,
                                                                     target, code):
    with app.app_context():
        other = rooms.create_room(slug="other", name="Other", creator=users["staff"])
        elsewhere = messages.post_message(sender=_user("bob"), room=other, body="there", client_id="o1").message.id
        gone = messages.post_message(sender=_user("alice"), room=rooms.get_room("lobby"), body="oops",
                                     client_id="g1").message
        moderation.delete_message(actor=_user("alice"), message=db.session.get(Message, gone.id))
        gone_id = gone.id
    reply_to = {"other-room": elsewhere, "missing": 999999, "deleted": gone_id, "text": "12", "bool": True}[target]
    alice = socket_for("alice")
    join(alice)
    ack = send(alice, "answer", "r1", reply_to=reply_to)
    assert ack["ok"] is False and ack["error"] == code and ack["message"]


def test_a_reply_to_a_message_that_is_deleted_later_says_so_and_shows_nothing_of_it(app, users, public_room,
                                                                                   socket_for):
    [secret] = seed_messages(app, users["bob"], public_room, 1, prefix="phone 555")
    alice = socket_for("alice")
    join(alice)
    reply = send(alice, "noted", "r1", reply_to=secret)["message"]
    with app.app_context():
        moderation.delete_message(actor=_user("bob"), message=db.session.get(Message, secret))
        shown = db.session.get(Message, reply["id"]).to_dict()["reply_to"]
    assert shown == {"id": secret, "sender": shown["sender"], "excerpt": "", "deleted": True}


def test_an_edit_of_the_answered_message_shows_in_the_reply(app, users, public_room, socket_for):
    [original] = seed_messages(app, users["bob"], public_room, 1, prefix="Friday")
    alice = socket_for("alice")
    join(alice)
    reply = send(alice, "great", "r1", reply_to=original)["message"]
    with app.app_context():
        editing.edit_message(editor=_user("bob"), room=rooms.get_room("lobby"), message_id=original, body="Monday")
        assert db.session.get(Message, reply["id"]).to_dict()["reply_to"]["excerpt"] == "Monday"


def test_a_visitor_cannot_reply_to_a_note_and_a_public_reply_cannot_quote_one(app, users, site_key, socket_for,
                                                                             visitor_socket):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=db.session.get(User, visitor.id), room=room, body="hello", client_id="v1")
        note = support.post_to_conversation(sender=_user("staff"), room=room, body="VIP customer", client_id="n1",
                                            internal=True).result.message.id
    visitor_sock = visitor_socket(visitor)
    refused = send(visitor_sock, "what note?", "v2", room=visitor.room, reply_to=note)
    assert refused["ok"] is False and refused["error"] == "not_found"  # a visitor cannot even tell it exists
    staff = socket_for("staff")
    public = send(staff, "Hi!", "a1", room=visitor.room, reply_to=note)
    assert public["ok"] is False and public["error"] == "invalid" and "staff note" in public["message"]
    inside = send(staff, "agreed", "n2", room=visitor.room, reply_to=note, internal=True)
    assert inside["ok"] and inside["message"]["reply_to"]["excerpt"] == "VIP customer"


def test_a_page_of_replies_costs_one_statement_more_at_most_and_none_when_it_holds_what_they_answer(
        app, users, public_room):
    from .test_history_queries import page_statements

    ids = seed_messages(app, users["bob"], public_room, 3)
    with app.app_context():
        lobby = rooms.get_room("lobby")
        for n, target in enumerate(ids * 3):
            messages.post_message(sender=_user("alice"), room=lobby, body=f"re {n}", client_id=f"re{n}",
                                  reply_to=target, enforce_rate_limit=False)
    with app.app_context():
        plain = rooms.create_room(slug="plain", name="Plain", creator=_user("staff"))
        for n in range(12):
            messages.post_message(sender=_user("alice"), room=plain, body=f"p {n}", client_id=f"p{n}",
                                  enforce_rate_limit=False)
    plain_count, _ = page_statements(app, username="carol", slug="plain")
    count, page = page_statements(app, username="carol", slug="lobby")
    assert len([m for m in page if "reply_to" in m]) == 9
    assert count == plain_count  # what they answer is on the page: nothing more to read
    count, page = page_statements(app, username="carol", slug="lobby", limit=9)  # the answered ones are older
    assert all(m["reply_to"]["excerpt"].startswith("m") for m in page) and count == plain_count + 1


def test_replies_over_the_api(app, users, public_room, client, auth):
    [original] = seed_messages(app, users["bob"], public_room, 1)
    auth.login("alice")
    from harness.forms import csrf_token_from

    token = csrf_token_from(client.get("/rooms/lobby").get_data(as_text=True))
    answer = client.post("/api/v1/rooms/lobby/messages", json={"body": "yes", "client_id": "a1", "reply_to": original},
                         headers={"X-CSRFToken": token})
    assert answer.status_code == 201, answer.get_json()
    assert answer.get_json()["message"]["reply_to"]["id"] == original


def test_a_message_with_only_files_is_quoted_by_their_names(app, users, public_room, socket_for):
    from .test_files import pdf
    from .test_uploads import Uploader, picture, uploaded

    alice_up = Uploader(app, "alice")
    photo = uploaded(alice_up.upload(picture(), filename="map.png"))
    document = uploaded(alice_up.upload(pdf(), filename="Lesson plan.pdf"))
    alice, bob = socket_for("alice"), socket_for("bob")
    assert join(alice)["ok"] and join(bob)["ok"]
    files_only = send(alice, "", "f1", attachments=[photo["id"], document["id"]])["message"]
    assert files_only["excerpt"] == "🖼️ map.png, 📄 Lesson plan.pdf"  # what a reply will quote, for the scripts
    quoted = send(bob, "Thanks!", "r1", reply_to=files_only["id"])["message"]["reply_to"]
    assert quoted["excerpt"] == "🖼️ map.png, 📄 Lesson plan.pdf"
    # The room page renders the same quote, and the same excerpt for a reply yet to be written.
    html = Uploader(app, "bob").client.get("/rooms/lobby").get_data(as_text=True)
    assert '<span class="reply-excerpt">🖼️ map.png, 📄 Lesson plan.pdf</span>' in html
    assert 'data-excerpt="🖼️ map.png, 📄 Lesson plan.pdf"' in html


def test_a_message_carries_its_excerpt_only_when_it_is_not_its_body(app, users, public_room, socket_for):
    alice = socket_for("alice")
    join(alice)
    assert "excerpt" not in send(alice, "Short and plain", "s1")["message"]
    folded = send(alice, "Two\n\nlines", "s2")["message"]
    assert folded["excerpt"] == "Two lines"
    long = send(alice, "y" * 300, "s3")["message"]
    assert len(long["excerpt"]) == REPLY_EXCERPT_LENGTH and long["excerpt"].endswith("…")
