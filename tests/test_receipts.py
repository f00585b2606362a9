"""Read receipts (services/receipts.py): "Read" in direct messages and conversations, "Seen by" in rooms."""
from __future__ import annotations

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import direct, rooms

from .conftest import received


def _user(name: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=name))


def send(sock, room, body, client_id):
    return sock.emit("send", {"room": room, "body": body, "client_id": client_id}, callback=True)


def _direct(app, *names):
    with app.app_context():
        for name in names:
            rooms.join_room(user=_user(name), room=rooms.get_room("lobby"))
        return direct.open_direct_room(user=_user(names[0]), other=_user(names[1])).slug


def receipt(slug, user, *, delivered, read):
    return {"room": slug, "user_id": user.id, "visitor": False, "delivered_id": delivered, "last_read_id": read}


def test_the_other_side_of_a_direct_room_hears_when_its_message_was_delivered_and_read(app, users, public_room,
                                                                                        socket_for):
    slug = _direct(app, "alice", "bob")
    alice, bob = socket_for("alice"), socket_for("bob")
    assert alice.emit("join", {"room": slug}, callback=True)["ok"]
    sent = send(alice, slug, "are you there?", "d1")["message"]
    alice.get_received()
    # Bob's join brings him everything up to the newest message: Alice's shows Delivered.
    joined = bob.emit("join", {"room": slug}, callback=True)
    assert joined["receipts"] is True
    assert joined["read_positions"] == [
        {"user_id": users["alice"].id, "visitor": False, "delivered_id": 0, "last_read_id": 0}]
    assert received(alice, "read_receipt") == [receipt(slug, users["bob"], delivered=sent["id"], read=0)]
    assert bob.emit("read", {"room": slug, "last_id": sent["id"]}, callback=True)["ok"]
    assert received(alice, "read_receipt") == [receipt(slug, users["bob"], delivered=sent["id"], read=sent["id"])]
    # Reading it again moves nothing: no second receipt.
    bob.emit("read", {"room": slug, "last_id": sent["id"]}, callback=True)
    assert received(alice, "read_receipt") == []
    # Alice's join after a reload says how far Bob has received and read.
    again = socket_for("alice").emit("join", {"room": slug}, callback=True)
    assert again["read_positions"] == [
        {"user_id": users["bob"].id, "visitor": False, "delivered_id": sent["id"], "last_read_id": sent["id"]}]


def test_a_live_message_is_delivered_when_the_other_page_says_it_received_it(app, users, public_room, socket_for):
    slug = _direct(app, "alice", "bob")
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        sock.emit("join", {"room": slug}, callback=True)
    first = send(alice, slug, "one", "d1")["message"]
    second = send(alice, slug, "two", "d2")["message"]
    alice.get_received()
    assert bob.emit("delivered", {"room": slug, "last_id": first["id"]}, callback=True) == {"ok": True}
    assert received(alice, "read_receipt") == [receipt(slug, users["bob"], delivered=first["id"], read=0)]
    # Never back, never twice, never past the newest message.
    bob.emit("delivered", {"room": slug, "last_id": first["id"]}, callback=True)
    assert received(alice, "read_receipt") == []
    assert bob.emit("delivered", {"room": slug, "last_id": second["id"] + 50}, callback=True)["ok"]
    assert received(alice, "read_receipt") == [receipt(slug, users["bob"], delivered=second["id"], read=0)]


def test_delivered_is_for_members_of_the_room_only_and_says_nothing_in_a_public_room(app, users, public_room,
                                                                                     socket_for):
    slug = _direct(app, "alice", "bob")
    carol = socket_for("carol")
    refused = carol.emit("delivered", {"room": slug, "last_id": 1}, callback=True)
    assert refused["ok"] is False and refused["error"] in ("forbidden", "not_found")
    bad = socket_for("bob").emit("delivered", {"room": slug, "last_id": "soon"}, callback=True)
    assert bad["ok"] is False and bad["error"] == "invalid"
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        joined = sock.emit("join", {"room": "lobby"}, callback=True)
        assert "receipts" not in joined and "read_positions" not in joined
    sent = send(alice, "lobby", "hello", "m1")["message"]
    alice.get_received()
    assert bob.emit("delivered", {"room": "lobby", "last_id": sent["id"]}, callback=True)["ok"]
    assert received(alice, "read_receipt") == []


def test_who_turned_receipts_off_shares_delivered_but_never_read(app, users, public_room, socket_for):
    slug = _direct(app, "alice", "bob")
    with app.app_context():
        _user("bob").share_reads = False
        db.session.commit()
    alice, bob = socket_for("alice"), socket_for("bob")
    alice.emit("join", {"room": slug}, callback=True)
    sent = send(alice, slug, "hi", "d1")["message"]
    alice.get_received()
    bob.emit("join", {"room": slug}, callback=True)
    bob.emit("read", {"room": slug, "last_id": sent["id"]}, callback=True)
    heard = received(alice, "read_receipt")
    assert heard and all(one["last_read_id"] is None for one in heard)
    assert heard[-1]["delivered_id"] == sent["id"]
    [position] = socket_for("alice").emit("join", {"room": slug}, callback=True)["read_positions"]
    assert position["last_read_id"] is None and position["delivered_id"] == sent["id"]


def test_a_public_room_sends_no_receipts(app, users, public_room, socket_for):
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        sock.emit("join", {"room": "lobby"}, callback=True)
    sent = send(alice, "lobby", "hello", "m1")["message"]
    alice.get_received()
    bob.emit("read", {"room": "lobby", "last_id": sent["id"]}, callback=True)
    assert received(alice, "read_receipt") == []


def _class_of_thirty(app):
    with app.app_context():
        klass = rooms.create_class(name="Year 9", teacher=_user("staff"))
        students = []
        for n in range(30):
            from chatapp.services import accounts

            student = accounts.create_user(username=f"s{n:02d}", password="correct-horse-42", role="member",
                                           display_name=f"Student {n:02d}")
            rooms.join_by_code(user=student, code=klass.join_code)
            students.append(student.id)
        return klass.slug, students


def test_a_teacher_sees_exactly_who_has_not_read_an_announcement(app, users, socket_for):
    slug, students = _class_of_thirty(app)
    teacher = socket_for("staff")
    teacher.emit("join", {"room": slug}, callback=True)
    sent = send(teacher, slug, "Trip forms due Friday", "a1")["message"]
    from chatapp.services import messages

    with app.app_context():
        room = rooms.get_room(slug)
        for student_id in students[:23]:
            messages.mark_read(user=db.session.get(User, student_id), room=room, last_id=sent["id"])
    answer = teacher.emit("seen_by", {"room": slug, "id": sent["id"]}, callback=True)
    assert answer["ok"] and answer["total"] == 30
    assert len(answer["seen"]) == 23
    assert sorted(user["username"] for user in answer["unseen"]) == [f"s{n:02d}" for n in range(23, 30)]


def test_only_the_author_and_moderators_see_who_read_and_an_opted_out_viewer_sees_nothing(app, users, socket_for):
    slug, students = _class_of_thirty(app)
    teacher = socket_for("staff")
    teacher.emit("join", {"room": slug}, callback=True)
    sent = send(teacher, slug, "Homework", "a1")["message"]
    student = socket_for("s01")
    student.emit("join", {"room": slug}, callback=True)
    refused = student.emit("seen_by", {"room": slug, "id": sent["id"]}, callback=True)
    assert refused["ok"] is False and refused["error"] == "forbidden"
    own = send(student, slug, "Question about the homework", "q1")["message"]
    assert student.emit("seen_by", {"room": slug, "id": own["id"]}, callback=True)["ok"]  # the author may
    outsider = socket_for("carol")  # not in the class
    assert outsider.emit("seen_by", {"room": slug, "id": sent["id"]}, callback=True)["error"] == "forbidden"
    with app.app_context():
        _user("s02").share_reads = False
        _user("staff").share_reads = False
        db.session.commit()
    hidden = teacher.emit("seen_by", {"room": slug, "id": sent["id"]}, callback=True)
    assert hidden["ok"] is False and "account settings" in hidden["message"]
    with app.app_context():
        _user("staff").share_reads = True
        db.session.commit()
    shown = teacher.emit("seen_by", {"room": slug, "id": sent["id"]}, callback=True)
    assert shown["total"] == 29 and "s02" not in {u["username"] for u in shown["seen"] + shown["unseen"]}


# A class of thirty who share read receipts, and one more student who turned them off.
CLASS_SIZE, READERS = 30, 23


def _announcement_class(app) -> tuple[str, dict[str, str]]:
    """An announcement-only class: 30 students s00..s29 and one, "quiet", who does not share reads.

    Returns its slug and {username: display name} of the thirty.
    """
    from chatapp.services import accounts, moderation

    with app.app_context():
        teacher = _user("staff")
        klass = rooms.create_class(name="Year 9", teacher=teacher)
        moderation.set_room_settings(actor=teacher, room=klass, announcement_only=True)
        names = {}
        for n in range(CLASS_SIZE + 1):
            username, display = (f"s{n:02d}", f"Student {n:02d}") if n < CLASS_SIZE else ("quiet", "Quiet Student")
            student = accounts.create_user(username=username, password="correct-horse-42", role="member",
                                           display_name=display)
            rooms.join_by_code(user=student, code=klass.join_code)
            if n < CLASS_SIZE:
                names[username] = display
        _user("quiet").share_reads = False
        db.session.commit()
        return klass.slug, names


def test_in_a_class_of_thirty_the_teacher_sees_the_23_who_read_the_announcement_and_the_7_who_did_not(
    app, users, socket_for
):
    slug, names = _announcement_class(app)
    teacher = socket_for("staff")
    assert teacher.emit("join", {"room": slug}, callback=True)["ok"]
    welcome = send(teacher, slug, "Welcome to Year 9", "w1")["message"]
    announcement = send(teacher, slug, "Trip forms are due on Friday", "a1")["message"]
    later = send(teacher, slug, "Bring a packed lunch", "a2")["message"]
    readers, others = sorted(names)[:READERS], sorted(names)[READERS:]
    # The 23 (and the student who shares nothing) open the class and read past the announcement, each
    # through the door their page uses; three of the others read only as far as the message before it.
    for username, last_id in [*((name, later["id"]) for name in [*readers, "quiet"]),
                              *((name, welcome["id"]) for name in others[:3])]:
        student = socket_for(username)
        assert student.emit("join", {"room": slug}, callback=True)["ok"], username
        assert student.emit("read", {"room": slug, "last_id": last_id}, callback=True)["ok"], username
        student.disconnect()

    answer = teacher.emit("seen_by", {"room": slug, "id": announcement["id"]}, callback=True)
    assert answer["ok"] and answer["id"] == announcement["id"]
    assert answer["total"] == CLASS_SIZE
    assert [user["display_name"] for user in answer["seen"]] == [names[name] for name in readers]
    assert [user["display_name"] for user in answer["unseen"]] == [names[name] for name in others]
    assert len(answer["seen"]) == READERS and len(answer["unseen"]) == CLASS_SIZE - READERS
    # The student who turned receipts off read it too, and is in neither list; nor is the teacher.
    listed = {user["username"] for user in answer["seen"] + answer["unseen"]}
    assert "quiet" not in listed and "staff" not in listed
    # The message before it was seen by those three as well, the one after only by the 23.
    earlier = teacher.emit("seen_by", {"room": slug, "id": welcome["id"]}, callback=True)
    assert len(earlier["seen"]) == READERS + 3
    assert [u["username"] for u in earlier["unseen"]] == others[3:]
