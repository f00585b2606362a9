"""Attendance in a class (services/attendance.py): presence intervals from socket joins and leaves, the
report per member with time present merged and clipped to the span, the page and the CSV, and who may
see what."""
from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import AttendanceInterval, Message, User
from chatapp.services import attendance, rooms
from chatapp.services.errors import ServiceError

from .helpers import logged_in, send

T0 = datetime(2026, 3, 2, 9, 0)  # a lesson from 09:00 to 10:00 (UTC, the tests' server time zone)
T1 = T0 + timedelta(hours=1)


def user(username):
    return db.session.scalar(db.select(User).filter_by(username=username))


@pytest.fixture
def klass(app, users):
    """Ms staff's class with alice and bob (carol is not in it); its slug."""
    with app.app_context():
        room = rooms.create_class(name="Year 9 History", teacher=users["staff"])
        for name in ("alice", "bob"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        return room.slug


def interval(room, username, start, end):
    db.session.add(AttendanceInterval(room_id=room.id, user_id=user(username).id, started_at=start, ended_at=end))
    db.session.commit()


def minutes(report):
    return {row.user.username: row.minutes_present for row in report.rows}


def test_two_tabs_count_once_edges_are_clipped_and_absent_members_are_listed(app, klass):
    with app.app_context():
        room = rooms.get_room(klass)
        # alice: two tabs, 09:10–09:40 and 09:20–09:50 → 40 minutes, not 60.
        interval(room, "alice", T0 + timedelta(minutes=10), T0 + timedelta(minutes=40))
        interval(room, "alice", T0 + timedelta(minutes=20), T0 + timedelta(minutes=50))
        # staff: 08:30–09:15 and 09:45–10:30 → 15 + 15 minutes inside the lesson.
        interval(room, "staff", T0 - timedelta(minutes=30), T0 + timedelta(minutes=15))
        interval(room, "staff", T0 + timedelta(minutes=45), T1 + timedelta(minutes=30))
        report = attendance.attendance_report(actor=user("staff"), room=room, start=T0, end=T1,
                                              now=T1 + timedelta(days=1))
        assert minutes(report) == {"staff": 30, "alice": 40, "bob": 0}
        present = {row.user.username: row.present for row in report.rows}
        assert present == {"staff": True, "alice": True, "bob": False}
        assert report.whole_class


def test_an_interval_left_open_counts_until_the_span_end_or_now(app, klass):
    with app.app_context():
        room = rooms.get_room(klass)
        interval(room, "bob", T0 + timedelta(minutes=50), None)  # their process died, or they are still here
        report = attendance.attendance_report(actor=user("staff"), room=room, start=T0, end=T1,
                                              now=T1 + timedelta(hours=5))
        assert minutes(report)["bob"] == 10
        report = attendance.attendance_report(actor=user("staff"), room=room, start=T0, end=T1,
                                              now=T0 + timedelta(minutes=55))
        assert minutes(report)["bob"] == 5
        # Next time bob comes online, the dangling interval closes then, and a new one opens.
        attendance.record_arrival(user=user("bob"), room=room, now=T1 + timedelta(hours=2))
        rows = db.session.scalars(db.select(AttendanceInterval).order_by(AttendanceInterval.id)).all()
        assert [row.ended_at for row in rows] == [T1 + timedelta(hours=2), None]


def test_messages_and_questions_are_counted_in_the_span(app, klass, socket_for):
    alice = socket_for("alice")
    assert alice.emit("join", {"room": klass}, callback=True)["ok"]
    assert send(alice, klass, "Hello", "a1")["ok"]
    assert send(alice, klass, "When is the test?", "a2", question=True)["ok"]
    with app.app_context():
        room = rooms.get_room(klass)
        db.session.add(Message(room_id=room.id, sender_id=user("bob").id, body="old",
                               created_at=T0 - timedelta(days=1)))
        db.session.commit()
        now = db.session.scalar(db.select(db.func.max(Message.created_at)))
        report = attendance.attendance_report(actor=user("staff"), room=room, start=now - timedelta(minutes=5),
                                              end=now + timedelta(minutes=5))
        counts = {row.user.username: (row.messages, row.questions) for row in report.rows}
        assert counts == {"staff": (0, 0), "alice": (2, 1), "bob": (0, 0)}


def test_socket_join_and_leave_open_and_close_intervals_once_per_person(app, klass, socket_for):
    first, second = socket_for("alice"), socket_for("alice")

    def intervals():
        with app.app_context():
            return [(row.started_at, row.ended_at) for row in db.session.scalars(
                db.select(AttendanceInterval).order_by(AttendanceInterval.id))]

    assert first.emit("join", {"room": klass}, callback=True)["ok"]
    assert second.emit("join", {"room": klass}, callback=True)["ok"]
    [(started, ended)] = intervals()  # the second tab opens nothing
    assert ended is None
    assert first.emit("leave", {"room": klass}, callback=True)["ok"]
    assert intervals()[0][1] is None  # still there in the other tab
    second.disconnect()
    [(_, ended)] = intervals()
    assert ended is not None and ended >= started
    assert first.emit("join", {"room": klass}, callback=True)["ok"]
    assert first.emit("leave", {"room": klass}, callback=True)["ok"]
    assert len(intervals()) == 2 and all(end is not None for _, end in intervals())


def test_rooms_that_are_not_classes_keep_no_attendance(app, public_room, socket_for):
    sock = socket_for("alice")
    assert sock.emit("join", {"room": "lobby"}, callback=True)["ok"]
    sock.disconnect()
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(AttendanceInterval)) == 0


def test_the_teacher_sees_everyone_on_the_page_and_downloads_the_csv(app, klass):
    with app.app_context():
        interval(rooms.get_room(klass), "alice", T0 + timedelta(minutes=5), T0 + timedelta(minutes=25))
    client = logged_in(app, "staff")
    room_page = client.get(f"/rooms/{klass}").get_data(as_text=True)
    assert f"/rooms/{klass}/attendance" in room_page
    response = client.get(f"/rooms/{klass}/attendance?start=2026-03-02T09:00&end=2026-03-02T10:00")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert 'value="2026-03-02T09:00"' in text and "Alice" in text and "Bob" in text
    assert f"/rooms/{klass}/attendance.csv" in text
    response = client.get(f"/rooms/{klass}/attendance.csv?start=2026-03-02T09:00&end=2026-03-02T10:00")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[1] == ["Username", "Name", "Role", "Present", "Minutes present", "Messages", "Questions"]
    by_name = {row[0]: row for row in rows[2:]}
    assert by_name["alice"][3:5] == ["yes", "20"] and by_name["bob"][3:5] == ["no", "0"]


def test_the_page_starts_with_the_last_hour(app, klass):
    response = logged_in(app, "staff").get(f"/rooms/{klass}/attendance")
    assert response.status_code == 200
    assert 'id="attendance-table"' in response.get_data(as_text=True)


def test_a_student_sees_only_their_own_row_and_no_csv(app, klass):
    with app.app_context():
        interval(rooms.get_room(klass), "bob", T0, T0 + timedelta(minutes=30))
    client = logged_in(app, "alice")
    assert "My attendance" in client.get(f"/rooms/{klass}").get_data(as_text=True)
    response = client.get(f"/rooms/{klass}/attendance?start=2026-03-02T09:00&end=2026-03-02T10:00")
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "Alice" in text and "Bob" not in text and "attendance.csv" not in text
    assert "You see your own attendance only." in text
    response = client.get(f"/rooms/{klass}/attendance.csv?start=2026-03-02T09:00&end=2026-03-02T10:00")
    assert response.status_code == 403
    with app.app_context():
        report = attendance.attendance_report(actor=user("alice"), room=rooms.get_room(klass), start=T0, end=T1)
        assert [row.user.username for row in report.rows] == ["alice"] and not report.whole_class
        with pytest.raises(ServiceError) as refused:
            attendance.attendance_csv(actor=user("alice"), room=rooms.get_room(klass), start=T0, end=T1)
        assert refused.value.code == "forbidden"


def test_a_non_member_is_refused(app, klass):
    client = logged_in(app, "carol")
    assert client.get(f"/rooms/{klass}/attendance").status_code == 403
    assert client.get(f"/rooms/{klass}/attendance.csv").status_code == 403
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            attendance.attendance_report(actor=user("carol"), room=rooms.get_room(klass), start=T0, end=T1)
        assert refused.value.code == "forbidden"


def test_a_room_that_is_not_a_class_has_no_attendance(app, public_room):
    assert logged_in(app, "staff").get("/rooms/lobby/attendance").status_code == 404


@pytest.mark.parametrize("query, message", [
    ("start=2026-03-02T10:00&end=2026-03-02T09:00", "The end must be after the start"),
    ("start=2026-03-02T09:00&end=2026-03-02T09:00", "The end must be after the start"),
    ("start=2026-01-01T09:00&end=2026-03-02T09:00", "A report covers at most 31 days"),
    ("start=yesterday&end=2026-03-02T09:00", "Enter a start and an end as date and time"),
    ("start=2026-03-02T09:00", "Enter a start and an end as date and time"),
])
def test_invalid_spans_are_refused_in_words(app, klass, query, message):
    client = logged_in(app, "staff")
    response = client.get(f"/rooms/{klass}/attendance?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)
    response = client.get(f"/rooms/{klass}/attendance.csv?{query}")
    assert response.status_code == 400 and message in response.get_data(as_text=True)


def test_refusals_are_said_in_chinese(app, klass):
    response = logged_in(app, "staff").get(f"/rooms/{klass}/attendance?start=2026-03-02T10:00&end=2026-03-02T09:00",
                                           headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 400 and "结束时间必须晚于开始时间" in response.get_data(as_text=True)


def test_a_teacher_schedules_weekly_lessons_and_the_page_offers_their_recent_occurrences(app, klass):
    with app.app_context():
        room = rooms.get_room(klass)
        attendance.add_lesson(actor=user("staff"), room=room, weekday=T0.weekday(), start="09:00", duration="45")
        spans = attendance.recent_lessons(room=room, now=T0 + timedelta(days=7, minutes=10))
        assert [(span.start, span.end) for span in spans[:2]] == [
            (T0 + timedelta(days=7), T0 + timedelta(days=7, minutes=45)), (T0, T0 + timedelta(minutes=45))]
        assert len(spans) == 4  # four weeks back, the lesson under way included
    client = logged_in(app, "staff")
    text = client.get(f"/rooms/{klass}/attendance").get_data(as_text=True)
    assert 'id="weekly-lessons"' in text and "Monday at 09:00 for 45 min" in text
    assert 'id="recent-lessons"' in text


def test_lessons_over_http_and_their_refusals(app, klass):
    from harness.forms import csrf_token_from

    client = logged_in(app, "staff")
    token = csrf_token_from(client.get(f"/rooms/{klass}/attendance").get_data(as_text=True))
    response = client.post(f"/rooms/{klass}/lessons", data={"csrf_token": token, "weekday": "2", "start": "10:30",
                                                           "duration": "50"}, follow_redirects=True)
    assert "The weekly lesson is scheduled." in response.get_data(as_text=True)
    response = client.post(f"/rooms/{klass}/lessons", data={"csrf_token": token, "weekday": "2", "start": "25:99",
                                                           "duration": "50"}, follow_redirects=True)
    assert "Enter the lesson&#39;s start as hours and minutes" in response.get_data(as_text=True)
    with app.app_context():
        room = rooms.get_room(klass)
        [lesson] = attendance.list_lessons(room=room)
        assert (lesson.weekday, lesson.start_minute, lesson.duration_minutes) == (2, 630, 50)
        for weekday, duration in ((7, 45), (1, 0), (1, 601)):
            with pytest.raises(ServiceError) as refused:
                attendance.add_lesson(actor=user("staff"), room=room, weekday=weekday, start="09:00", duration=duration)
            assert refused.value.code == "invalid"
        for name in ("alice", "carol"):
            with pytest.raises(ServiceError) as refused:
                attendance.add_lesson(actor=user(name), room=room, weekday=1, start="09:00", duration=45)
            assert refused.value.code == "forbidden"
        lesson_id = lesson.id
    student = logged_in(app, "alice")
    assert "add-lesson" not in student.get(f"/rooms/{klass}/attendance").get_data(as_text=True)
    student_token = csrf_token_from(student.get(f"/rooms/{klass}/attendance").get_data(as_text=True))
    assert student.post(f"/rooms/{klass}/lessons/{lesson_id}/delete",
                        data={"csrf_token": student_token}).status_code == 403
    response = client.post(f"/rooms/{klass}/lessons/{lesson_id}/delete", data={"csrf_token": token},
                           follow_redirects=True)
    assert "The weekly lesson is removed." in response.get_data(as_text=True)
