"""Anonymous questions in a class: the setting, the refusals, and that no classmate ever learns the author.

Through the real doors (Socket.IO test client, the room page, the API). The last test gathers
every payload a classmate receives about an anonymous question and looks for its author in them.
"""
from __future__ import annotations

import json
import re

import pytest

from chatapp.extensions import db
from chatapp.models import Membership, Message, OutboxJob, Room, User, utcnow
from chatapp.services import moderation, outbox

from . import helpers
from .conftest import received

SLUG = "maths-7b"


@pytest.fixture
def anonymous_class(app, klass, socket_for):
    """The class with anonymous questions allowed by its teacher."""
    teacher = socket_for("staff")
    ack = teacher.emit("room_settings", {"room": SLUG, "allow_anonymous_questions": True}, callback=True)
    assert ack["ok"], ack
    assert ack["room"]["allow_anonymous_questions"] is True
    return klass


def ask(sock, event: str, **payload) -> dict:
    return sock.emit(event, {"room": SLUG, **payload}, callback=True)


def joined(socket_for, username: str):
    """A socket of username that joined the class, with its received events cleared."""
    return helpers.joined(socket_for, username, SLUG)


def ask_anonymously(sock, body: str = "What is a prime?", client_id: str = "q1", **extra) -> dict:
    return helpers.send(sock, SLUG, body, client_id, question=True, anonymous=True, **extra)


# -- the setting ---------------------------------------------------------------------------------


def test_setting_off_refuses_an_anonymous_question(app, klass, socket_for):
    alice = joined(socket_for, "alice")
    ack = ask_anonymously(alice)
    assert ack["ok"] is False and ack["error"] == "forbidden"
    assert "does not allow anonymous questions" in ack["message"]
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 0


def test_anonymous_is_only_for_a_question(app, anonymous_class, socket_for):
    alice = joined(socket_for, "alice")
    ack = helpers.send(alice, SLUG, "hello", "c1", anonymous=True)
    assert ack["ok"] is False and ack["error"] == "invalid"


def test_member_cannot_change_the_setting(app, klass, socket_for):
    alice = joined(socket_for, "alice")
    ack = ask(alice, "room_settings", allow_anonymous_questions=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"
    with app.app_context():
        assert db.session.get(Room, klass.id).allow_anonymous_questions is False


def test_everyone_hears_the_setting_and_the_page_offers_the_box(app, klass, socket_for):
    bob = joined(socket_for, "bob")
    teacher = joined(socket_for, "staff")
    assert ask(teacher, "room_settings", allow_anonymous_questions=True)["ok"]
    updates = received(bob, "room_updated")
    assert updates and updates[-1]["allow_anonymous_questions"] is True
    page = helpers.logged_in(app, "bob").get(f"/rooms/{SLUG}").get_data(as_text=True)
    assert 'id="ask-anonymously"' in page


# -- who sees what -------------------------------------------------------------------------------


def test_moderator_sees_the_author_and_the_author_sees_their_own(app, anonymous_class, socket_for, users):
    teacher = joined(socket_for, "staff")
    alice = joined(socket_for, "alice")
    ack = ask_anonymously(alice)
    assert ack["ok"], ack
    mine = ack["message"]
    assert mine["anonymous"] is True and mine["sender"]["id"] == users["alice"].id
    qid = mine["id"]
    # The moderator: the room's anonymised message, then the author in a message_updated.
    packets = teacher.get_received()
    heard = [p["args"] for p in packets if p["name"] == "message"]
    assert heard[0]["sender"]["id"] is None
    teacher_updates = [p["args"][0] for p in packets if p["name"] == "message_updated" and p["args"][0]["id"] == qid]
    assert teacher_updates[-1]["sender"]["username"] == "alice"
    questions = ask(teacher, "open_questions")["questions"]
    assert questions[0]["sender"]["username"] == "alice" and questions[0]["anonymous"] is True
    history = ask(teacher, "history")["messages"]
    assert history[-1]["sender"]["username"] == "alice"
    page = helpers.logged_in(app, "staff").get(f"/rooms/{SLUG}").get_data(as_text=True)
    assert "anonymous to the class" in page
    # The author, on a fresh join and on the page.
    rejoin = joined(socket_for, "alice").emit("join", {"room": SLUG}, callback=True)
    assert rejoin["messages"][-1]["sender"]["id"] == users["alice"].id
    page = helpers.logged_in(app, "alice").get(f"/rooms/{SLUG}").get_data(as_text=True)
    assert "You, anonymously" in page


def test_the_author_withdraws_by_deleting(app, anonymous_class, socket_for):
    alice = joined(socket_for, "alice")
    bob = joined(socket_for, "bob")
    qid = ask_anonymously(alice)["message"]["id"]
    unmark = ask(alice, "mark_question", id=qid, question=False)
    assert unmark["ok"] is False and unmark["error"] == "conflict"
    assert ask(bob, "delete_message", id=qid)["error"] == "forbidden"  # a classmate cannot
    deleted = ask(alice, "delete_message", id=qid)
    assert deleted["ok"], deleted
    with app.app_context():
        assert db.session.get(Message, qid).is_deleted


def test_moderator_mutes_the_author_by_message_id(app, anonymous_class, socket_for, users):
    teacher = joined(socket_for, "staff")
    alice = joined(socket_for, "alice")
    bob = joined(socket_for, "bob")
    qid = ask_anonymously(alice)["message"]["id"]
    assert ask(bob, "mute", id=qid, minutes=5)["error"] == "forbidden"  # a member cannot
    ack = ask(teacher, "mute", id=qid, minutes=5)
    assert ack["ok"], ack
    with app.app_context():
        membership = db.session.scalar(
            db.select(Membership).filter_by(user_id=users["alice"].id, room_id=anonymous_class.id))
        assert membership.is_muted()
    refused = ask_anonymously(alice, "again?", "q2")
    assert refused["ok"] is False and refused["error"] == "forbidden"
    assert ask(teacher, "mute", minutes=5)["error"] == "invalid"  # neither a user nor a message


def test_moderator_answers_an_anonymous_question(app, anonymous_class, socket_for):
    teacher = joined(socket_for, "staff")
    alice = joined(socket_for, "alice")
    qid = ask_anonymously(alice)["message"]["id"]
    ack = ask(teacher, "answer_question", id=qid)
    assert ack["ok"] and ack["message"]["question"]["answered"] is True
    assert ack["message"]["sender"]["username"] == "alice"


def test_slow_mode_applies_to_anonymous_questions(app, anonymous_class, socket_for):
    teacher = joined(socket_for, "staff")
    assert ask(teacher, "room_settings", slow_mode_seconds=60)["ok"]
    alice = joined(socket_for, "alice")
    assert ask_anonymously(alice)["ok"]
    second = ask_anonymously(alice, "another", "q2")
    assert second["ok"] is False and second["error"] == "rate_limited"


def test_the_author_cannot_react_to_their_own_anonymous_question(app, anonymous_class, socket_for):
    alice = joined(socket_for, "alice")
    qid = ask_anonymously(alice)["message"]["id"]
    ack = alice.emit("react", {"room": SLUG, "id": qid, "emoji": "👍", "on": True}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"


# -- nothing a classmate can reach names the author ------------------------------------------------


def _user_shaped(node):
    """Every dict inside node that looks like a USER, and every list of user ids."""
    if isinstance(node, dict):
        if "username" in node or "display_name" in node:
            yield node
        for key, value in node.items():
            if key in {"user_ids", "mentions"}:
                yield {"ids": value}
            yield from _user_shaped(value)
    elif isinstance(node, list):
        for item in node:
            yield from _user_shaped(item)


def _about(node, qid: int) -> bool:
    """Whether a MESSAGE payload is the question or quotes it."""
    return isinstance(node, dict) and (node.get("id") == qid or (node.get("reply_to") or {}).get("id") == qid)


def _messages_in(node):
    if isinstance(node, dict):
        if "body" in node and "sender" in node:
            yield node
        for value in node.values():
            yield from _messages_in(value)
    elif isinstance(node, list):
        for item in node:
            yield from _messages_in(item)


def test_no_classmate_payload_names_the_author(app, anonymous_class, socket_for, users, token_for):
    alice_id = users["alice"].id
    bob = joined(socket_for, "bob")
    teacher = joined(socket_for, "staff")
    alice = joined(socket_for, "alice")
    gathered: list = []  # everything bob receives or is answered

    first = ask_anonymously(alice, "Is @bob right that 1 is prime? searchable", "q1")
    qid = first["message"]["id"]
    gathered += [packet["args"] for packet in bob.get_received()]  # live broadcast (and the mention)
    # The class acts on it: a reply quoting it, reactions, an answer, an edit, a pin.
    reply = helpers.send(bob, SLUG, "No, it is not.", "r1", reply_to=qid)
    assert reply["ok"], reply
    gathered.append(reply)
    gathered.append(bob.emit("react", {"room": SLUG, "id": qid, "emoji": "👍", "on": True}, callback=True))
    assert teacher.emit("react", {"room": SLUG, "id": qid, "emoji": "🎉", "on": True}, callback=True)["ok"]
    assert ask(teacher, "answer_question", id=qid)["ok"]
    assert alice.emit("edit_message", {"room": SLUG, "id": qid, "body": "Is 1 prime? searchable"},
                      callback=True)["ok"]
    assert ask(teacher, "pin", id=qid)["ok"]
    gathered += [packet["args"] for packet in bob.get_received()]
    # Reading it back: a fresh join, catch-up after an earlier id and revision, history, search.
    fresh = socket_for("bob")
    gathered.append(fresh.emit("join", {"room": SLUG}, callback=True))
    gathered.append(fresh.emit("join", {"room": SLUG, "after": qid - 1, "revision": 0}, callback=True))
    gathered.append(fresh.emit("history", {"room": SLUG}, callback=True))
    gathered.append(fresh.emit("history", {"room": SLUG, "around": qid}, callback=True))
    found = fresh.emit("search", {"room": SLUG, "q": "searchable"}, callback=True)
    assert found["ok"] and found["messages"], found
    gathered.append(found)
    gathered.append(ask(fresh, "seen_by", id=qid))
    # Over HTTP: the API with bob's token.
    status, answer = helpers.api(app.test_client(), "GET", f"/rooms/{SLUG}/messages", token_for("bob", "read"))
    assert status == 200
    gathered.append(answer)

    payloads = [m for m in _messages_in(gathered) if _about(m, qid)]
    assert len(payloads) >= 10, payloads  # the test saw the question in every place above
    for payload in payloads:
        text = json.dumps(payload, ensure_ascii=False)
        assert "alice" not in text.lower(), text
        assert payload.get("client_id") in (None, "r1"), text
        for shape in _user_shaped(payload):
            if "ids" in shape:
                assert alice_id not in shape["ids"], text
            else:
                assert shape.get("id") != alice_id, text
    question = next(m for m in payloads if m["id"] == qid)
    assert question["anonymous"] is True and question["sender"]["id"] is None

    # The room page bob loads: the question's item names nobody (the member list names alice, as ever).
    page = helpers.logged_in(app, "bob").get(f"/rooms/{SLUG}?around={qid}").get_data(as_text=True)
    item = re.search(rf'<li class="msg[^"]*" data-id="{qid}".*?</li>', page, re.S)
    assert item is not None
    assert "alice" not in item.group(0).lower() and f'data-sender-id="{alice_id}"' not in item.group(0)
    assert "Anonymous" in item.group(0)
    pinned = re.search(r'<ul id="pinned-list".*?</ul>', page, re.S)
    assert pinned is not None and "alice" not in pinned.group(0).lower()
    reply_item = re.search(rf'<li class="msg[^"]*" data-id="{reply["message"]["id"]}".*?</li>', page, re.S)
    assert reply_item is not None and "alice" not in reply_item.group(0).lower()



def test_e_mails_to_the_class_never_name_the_author(app, anonymous_class, socket_for, users, mailbox):
    alice = joined(socket_for, "alice")
    with app.app_context():
        bob = db.session.get(User, users["bob"].id)
        bob.email, bob.mail_mentions = "bob@school.example", True
        db.session.commit()
    qid = ask_anonymously(alice, "Can @bob explain it again?")["message"]["id"]
    with app.app_context():
        # The teacher pins it: the class's announcement e-mail names the teacher, never the author.
        moderation.pin_message(actor=db.session.get(User, users["staff"].id), message=db.session.get(Message, qid))
        # Time passes: the mention notice is due too (member_mail's delay).
        db.session.execute(db.update(Message).values(created_at=utcnow().replace(year=utcnow().year - 1)))
        db.session.execute(db.update(OutboxJob).where(OutboxJob.state == "pending").values(run_after=utcnow()))
        db.session.commit()
        assert outbox.run_due() == 2  # the announcement and the mention notice, both to bob
    mails = mailbox.wait_for(2)
    assert len(mails) == 2
    for mail in mails:
        text = mail.get_body(("plain",)).get_content()
        assert "Alice" not in text and "alice" not in text, text
    assert any("Staff" in mail.get_body(("plain",)).get_content() for mail in mails)
