"""Homework in classes: a teacher sets an assignment, students hand in (late, replaced, refused), the teacher sees
who has and comments for that student alone; every refusal through the services and the real doors (the pages, the
Socket.IO test client for the live events).
"""
from __future__ import annotations

import io
from datetime import timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import Assignment, HandIn, OutboxJob, Room, User, utcnow
from chatapp.services import homework, outbox, rooms, uploads
from chatapp.services.errors import ServiceError

from .conftest import AuthActions, csrf_token_from, detached, received


def user(name: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=name))


def klass_room() -> Room:
    return db.session.scalar(db.select(Room).filter_by(is_class=True))


def due_text(delta: timedelta) -> str:
    """A due time delta from now, as a teacher types it (the zone is UTC in tests)."""
    return (utcnow() + delta).strftime(homework.DUE_FORMAT)


@pytest.fixture
def klass(app, users):
    """A class of the teacher (staff) with alice, bob and carol as students."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=users["staff"])
        for name in ("alice", "bob", "carol"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        return detached(room)


def set_homework(app, *, due: timedelta = timedelta(days=2), allow_late: bool = True, title: str = "Fractions") -> int:
    with app.app_context():
        spec = homework.check_assignment(title=title, instructions="Do **page 12**.", due=due_text(due),
                                         allow_late=allow_late)
        return homework.create_assignment(actor=user("staff"), room=klass_room(), spec=spec).id


def make_late(app, assignment_id: int) -> None:
    with app.app_context():
        db.session.get(Assignment, assignment_id).due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


def hand(app, name: str, assignment_id: int, text: str = "My answer", attachments=None) -> HandIn:
    with app.app_context():
        return detached(homework.hand_in(student=user(name), room=klass_room(), assignment_id=assignment_id,
                                         text=text, attachments=attachments))


def refused(app, action, **kwargs) -> ServiceError:
    with app.app_context():
        with pytest.raises(ServiceError) as caught:
            action(room=klass_room(), **kwargs)
        return caught.value


def login(app, name: str):
    http = app.test_client()
    assert AuthActions(http).login(name).status_code == 302
    return http


def post_form(http, path: str, data: dict):
    token = csrf_token_from(http.get(path).get_data(as_text=True))
    return http.post(path, data={**data, "csrf_token": token}, content_type="multipart/form-data")


# -- services ------------------------------------------------------------------------------------


def test_an_assignment_is_a_message_of_the_class(app, klass):
    assignment_id = set_homework(app)
    with app.app_context():
        item = db.session.get(Assignment, assignment_id)
        shown = homework.assignment_message(item).to_dict()
        assert shown["assignment"]["title"] == "Fractions"
        assert "<strong>page 12</strong>" in shown["html"]
        assert [a.id for a in homework.list_assignments(user=user("alice"), room=klass_room())] == [assignment_id]


def test_due_time_is_entered_in_the_configured_zone(app):
    app.config["CLASS_TIME_ZONE"] = "Asia/Shanghai"
    with app.app_context():
        due = homework.check_due("2026-12-24T18:00")
        assert due.strftime("%H:%M") == "10:00"  # 18:00 in Shanghai is 10:00 UTC
        assert homework.due_in_zone(due) == "2026-12-24T18:00"
        with pytest.raises(ServiceError):
            homework.check_due("tomorrow")


def test_one_hand_in_per_student_replaced_in_place_and_a_retry_changes_nothing(app, klass):
    assignment_id = set_homework(app)
    first = hand(app, "alice", assignment_id, "v1")
    again = hand(app, "alice", assignment_id, "v1")
    replaced = hand(app, "alice", assignment_id, "v2")
    assert first.id == again.id == replaced.id
    with app.app_context():
        rows = list(db.session.scalars(db.select(HandIn)))
        assert [(row.text, row.late) for row in rows] == [("v2", False)]


def test_the_database_keeps_one_hand_in_per_assignment_and_student(app, klass):
    assignment_id = set_homework(app)
    hand(app, "alice", assignment_id)
    with app.app_context():
        db.session.add(HandIn(assignment_id=assignment_id, user_id=user("alice").id, text="twice"))
        with pytest.raises(Exception, match="UNIQUE"):
            db.session.commit()


def test_a_late_hand_in_is_marked_late_when_allowed(app, klass):
    assignment_id = set_homework(app)
    hand(app, "alice", assignment_id, "in time")
    make_late(app, assignment_id)
    assert hand(app, "bob", assignment_id).late is True
    # Replacing after the due time: taken, and marked late.
    assert hand(app, "alice", assignment_id, "changed").late is True


def test_a_late_hand_in_and_a_late_replacement_are_refused_when_forbidden(app, klass):
    assignment_id = set_homework(app, allow_late=False)
    hand(app, "alice", assignment_id, "in time")
    make_late(app, assignment_id)
    for name in ("bob", "alice"):
        with app.app_context():
            error = refused(app, homework.hand_in, student=user(name), assignment_id=assignment_id, text="late")
        assert error.code == "forbidden" and "late" in error.message
    with app.app_context():
        assert db.session.scalar(db.select(HandIn).filter_by(user_id=user("alice").id)).text == "in time"
    # The same hand-in again (a retry after a lost answer) is no new hand-in, so it is not refused.
    assert hand(app, "alice", assignment_id, "in time").late is False


def test_a_student_cannot_set_homework_review_or_comment(app, klass):
    assignment_id = set_homework(app)
    row = hand(app, "bob", assignment_id)
    with app.app_context():
        spec = homework.check_assignment(title="Mine", instructions="", due=due_text(timedelta(days=1)),
                                         allow_late=True)
        assert refused(app, homework.create_assignment, actor=user("alice"), spec=spec).code == "forbidden"
        assert refused(app, homework.roster, actor=user("alice"), assignment_id=assignment_id).code == "forbidden"
        assert refused(app, homework.get_hand_in, actor=user("alice"), assignment_id=assignment_id,
                       hand_in_id=row.id).code == "not_found"
        assert refused(app, homework.comment_hand_in, actor=user("alice"), assignment_id=assignment_id,
                       hand_in_id=row.id, comment="Great").code == "forbidden"
        assert refused(app, homework.remind_missing, actor=user("alice"),
                       assignment_id=assignment_id).code == "forbidden"


def test_a_non_member_cannot_hand_in_or_read(app, klass, users):
    assignment_id = set_homework(app)
    with app.app_context():
        outsider = user("admin")  # an admin enters every room but is no student of it
        assert refused(app, homework.hand_in, student=outsider, assignment_id=assignment_id,
                       text="x").code == "forbidden"
        stranger = User(username="dave", display_name="Dave", role="member")
        stranger.set_password("x" * 12)
        db.session.add(stranger)
        db.session.commit()
        assert refused(app, homework.hand_in, student=stranger, assignment_id=assignment_id,
                       text="x").code == "forbidden"
        assert refused(app, homework.list_assignments, user=stranger).code == "forbidden"
        assert refused(app, homework.own_hand_in, student=stranger, assignment_id=assignment_id).code == "forbidden"


def test_the_teacher_sees_every_student_with_their_state(app, klass):
    assignment_id = set_homework(app)
    hand(app, "alice", assignment_id)
    make_late(app, assignment_id)
    hand(app, "bob", assignment_id)
    with app.app_context():
        rows = homework.roster(actor=user("staff"), room=klass_room(), assignment_id=assignment_id)
        assert [(row.student.username, row.state) for row in rows] == [
            ("alice", "handed_in"), ("bob", "late"), ("carol", "missing")]


def test_handed_in_files_must_be_the_students_own_uploads(app, klass):
    assignment_id = set_homework(app)
    with app.app_context():
        room = klass_room()
        bobs = uploads.store_upload(uploader=user("bob"), room=room, data=b"bob's essay\n", filename="essay.txt")
        alices = uploads.store_upload(uploader=user("alice"), room=room, data=b"my essay\n", filename="essay.txt")
        bobs_id, alices_id = bobs.attachment.id, alices.attachment.id
    with app.app_context():
        error = refused(app, homework.hand_in, student=user("alice"), assignment_id=assignment_id, text="",
                        attachments=[bobs_id])
        assert error.code == "not_found"
    row = hand(app, "alice", assignment_id, text="", attachments=[alices_id])
    with app.app_context():
        # The teacher may open it; another student may not; pruning unsent uploads keeps it.
        assert uploads.open_attachment(viewer=user("staff"), attachment_id=alices_id, variant="full")
        with pytest.raises(ServiceError):
            uploads.open_attachment(viewer=user("bob"), attachment_id=alices_id, variant="full")
        uploads.prune_unsent_uploads(older_than=timedelta(seconds=-60))
        assert [f.attachment_id for f in db.session.get(HandIn, row.id).file_rows] == [alices_id]


def test_remind_once_per_ten_minutes_with_mail_through_the_outbox(app, klass, mailbox):
    assignment_id = set_homework(app)
    hand(app, "alice", assignment_id)
    with app.app_context():
        bob = user("bob")
        bob.email = "bob@example.org"
        db.session.commit()
        assert homework.remind_missing(actor=user("staff"), room=klass_room(), assignment_id=assignment_id) == 2
        jobs = list(db.session.scalars(db.select(OutboxJob).filter_by(kind="announcement")))
        assert [job.payload["user_id"] for job in jobs] == [bob.id]  # carol has no address; alice handed in
        assert outbox.run_due() == 1
    [mail] = mailbox.wait_for(1)
    assert "bob@example.org" in str(mail["To"]) and "Maths 7B" in str(mail["Subject"])
    with app.app_context():
        error = refused(app, homework.remind_missing, actor=user("staff"), assignment_id=assignment_id)
        assert error.code == "rate_limited" and "again at" in error.message
        db.session.get(Assignment, assignment_id).reminded_at = utcnow() - timedelta(minutes=11)
        db.session.commit()
        assert homework.remind_missing(actor=user("staff"), room=klass_room(), assignment_id=assignment_id) == 2


# -- live events ---------------------------------------------------------------------------------


def test_the_teacher_hears_hand_ins_and_only_the_student_hears_the_comment(app, klass, socket_for):
    assignment_id = set_homework(app)
    teacher = socket_for("staff")
    assert teacher.emit("join", {"room": klass.slug}, callback=True)["ok"]
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (teacher, alice, bob):
        sock.get_received()
    row = hand(app, "alice", assignment_id)
    [event] = received(teacher, "hand_in_updated")
    assert event["student"]["user"]["username"] == "alice" and event["student"]["state"] == "handed_in"
    assert "text" not in event["student"]
    assert received(bob, "hand_in_updated") == []
    hand(app, "alice", assignment_id)  # a retry: the same hand-in again
    assert received(teacher, "hand_in_updated") == []
    with app.app_context():
        homework.comment_hand_in(actor=user("staff"), room=klass_room(), assignment_id=assignment_id,
                                 hand_in_id=row.id, comment="Well done", mark="A")
    [feedback] = received(alice, "hand_in_feedback")
    assert feedback["feedback"]["comment"] == "Well done" and feedback["feedback"]["mark"] == "A"
    assert received(bob, "hand_in_feedback") == []
    with app.app_context():
        homework.remind_missing(actor=user("staff"), room=klass_room(), assignment_id=assignment_id)
    packets = bob.get_received()
    [reminder] = [p["args"][0] for p in packets if p["name"] == "homework_reminder"]
    [notice] = [p["args"][0] for p in packets if p["name"] == "mention"]
    assert reminder["assignment"]["id"] == assignment_id
    assert notice["homework_reminder"] is True and notice["message"]["assignment"]["id"] == assignment_id
    assert received(alice, "homework_reminder") == []


def test_homework_cannot_be_edited(app, klass, socket_for):
    set_homework(app)
    teacher = socket_for("staff")
    assert teacher.emit("join", {"room": klass.slug}, callback=True)["ok"]
    with app.app_context():
        message_id = db.session.scalar(db.select(Assignment)).message_id
    ack = teacher.emit("edit_message", {"room": klass.slug, "id": message_id, "body": "changed"},
                       callback=True)
    assert ack["ok"] is False and ack["error"] == "conflict"


# -- pages ---------------------------------------------------------------------------------------


def test_pages_teacher_sets_students_hand_in_and_see_only_their_own(app, klass):
    teacher = login(app, "staff")
    page = teacher.get(f"/rooms/{klass.slug}").get_data(as_text=True)
    assert f"/rooms/{klass.slug}/assignments" in page
    response = post_form(teacher, f"/rooms/{klass.slug}/assignments", {
        "title": "Essay", "instructions": "Write *one* page.", "due": due_text(timedelta(days=1)), "allow_late": "y",
        "files": (io.BytesIO(b"the worksheet\n"), "worksheet.txt"),
    })
    assert response.status_code == 303, response.get_data(as_text=True)
    path = response.headers["Location"]
    alice, bob = login(app, "alice"), login(app, "bob")
    page = alice.get(path).get_data(as_text=True)
    assert "<em>one</em>" in page and "worksheet.txt" in page
    assert post_form(alice, path, {"text": "Alice's essay",
                                   "files": (io.BytesIO(b"draft\n"), "draft.txt")}).status_code == 303
    assert post_form(bob, path, {"text": "Bob's essay"}).status_code == 303
    page = bob.get(path).get_data(as_text=True)
    assert "Bob&#39;s essay" in page and "Alice" not in page.split("Your hand-in", 1)[1]
    table = teacher.get(path).get_data(as_text=True)
    assert 'data-student="alice" data-state="handed_in"' in table
    assert 'data-student="carol" data-state="missing"' in table
    with app.app_context():
        alices = db.session.scalar(db.select(HandIn).filter_by(user_id=user("alice").id))
        alices_id, bobs_id = alices.id, db.session.scalar(db.select(HandIn).filter_by(user_id=user("bob").id)).id
        file_url = alices.file_rows[0].attachment.to_dict()["url"]
    hand_in_path = f"{path}/hand-ins/{alices_id}"
    assert "draft.txt" in teacher.get(hand_in_path).get_data(as_text=True)
    assert teacher.get(file_url).status_code == 200
    assert bob.get(file_url).status_code == 404
    assert post_form(teacher, hand_in_path, {"comment": "Good start", "mark": "B+"}).status_code == 303
    assert "Good start" in alice.get(path).get_data(as_text=True)
    assert "Good start" not in bob.get(path).get_data(as_text=True)
    # Another student's hand-in and comment are not there for bob; nor can he comment or set homework.
    assert bob.get(hand_in_path).status_code == 404
    token = csrf_token_from(bob.get(path).get_data(as_text=True))
    assert bob.post(hand_in_path, data={"comment": "mine", "csrf_token": token}).status_code == 404
    assert bob.get(f"{path}/hand-ins/{bobs_id}").status_code == 404
    assert bob.post(f"/rooms/{klass.slug}/assignments", data={
        "title": "X", "due": due_text(timedelta(days=1)), "csrf_token": token}).status_code == 403


def test_pages_errors_in_the_users_language_and_csrf(app, klass):
    assignment_id = set_homework(app, allow_late=False)
    make_late(app, assignment_id)
    alice = login(app, "alice")
    path = f"/rooms/{klass.slug}/assignments/{assignment_id}"
    assert alice.post(path, data={"text": "late"}).status_code == 400  # no CSRF token
    with app.app_context():
        user("alice").language = "zh_CN"
        db.session.commit()
    page = alice.get(path).get_data(as_text=True)
    assert "不接受迟交" in page
    response = post_form(alice, path, {"text": "late"})
    assert response.status_code == 403 and "请询问你的老师" in response.get_data(as_text=True)
    teacher = login(app, "staff")
    response = post_form(teacher, f"/rooms/{klass.slug}/assignments", {"title": "T", "due": "soon"})
    assert response.status_code == 400 and "2026-12-24T18:00" in response.get_data(as_text=True)


def test_a_stranger_cannot_open_the_pages(app, klass):
    assignment_id = set_homework(app)
    with app.app_context():
        stranger = User(username="dave", display_name="Dave", role="member")
        stranger.set_password("correct horse battery")
        db.session.add(stranger)
        db.session.commit()
    http = app.test_client()
    assert AuthActions(http).login("dave", password="correct horse battery").status_code == 302
    assert http.get(f"/rooms/{klass.slug}/assignments").status_code == 403
    assert http.get(f"/rooms/{klass.slug}/assignments/{assignment_id}").status_code == 403


def test_pages_remind_twice_says_when_it_can_be_sent_again(app, klass):
    assignment_id = set_homework(app)
    teacher = login(app, "staff")
    path = f"/rooms/{klass.slug}/assignments/{assignment_id}"
    token = csrf_token_from(teacher.get(path).get_data(as_text=True))
    first = teacher.post(f"{path}/remind", data={"csrf_token": token}, follow_redirects=True)
    assert "Reminded 3 students." in first.get_data(as_text=True)
    again = teacher.post(f"{path}/remind", data={"csrf_token": token}, follow_redirects=True)
    assert "you can remind them again at" in again.get_data(as_text=True)
    student = login(app, "alice")
    token = csrf_token_from(student.get(path).get_data(as_text=True))
    assert student.post(f"{path}/remind", data={"csrf_token": token}).status_code == 403
