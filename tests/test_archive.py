"""The end of term (services/archive.py, services/room_export.py): a class archived is read-only for
everyone and listed under "Archived"; its teacher restores it; its moderators export its whole
history as a zip that reads offline."""
from __future__ import annotations

import io
import json
import zipfile

import pytest

from chatapp.extensions import db
from chatapp.models import ModerationAction, Room, RoomExport
from chatapp.services import archive, outbox, rooms

from .conftest import received
from .test_uploads import Uploader, picture, uploaded


def send(sock, room, body, client_id, **extra):
    return sock.emit("send", {"room": room, "body": body, "client_id": client_id, **extra}, callback=True)


@pytest.fixture
def klass(app, users, socket_for):
    """Ms staff's class with alice and bob, a few messages in it, every socket joined."""
    with app.app_context():
        room = rooms.create_class(name="Year 9 History", teacher=users["staff"])
        for name in ("alice", "bob"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        slug = room.slug
    sockets = {name: socket_for(name) for name in ("staff", "alice", "bob")}
    for sock in sockets.values():
        assert sock.emit("join", {"room": slug}, callback=True)["ok"]
    send(sockets["staff"], slug, "Welcome to **Year 9**", "t1")
    send(sockets["alice"], slug, "When is the test?", "a1", question=True)
    return slug, sockets


def set_archived(app, username, slug, archived=True):
    with app.app_context():
        from chatapp.models import User

        actor = db.session.scalar(db.select(User).filter_by(username=username))
        return archive.set_archived(actor=actor, room=rooms.get_room(slug), archived=archived)


def test_the_teacher_archives_and_the_room_hears_it_and_the_log_keeps_it(app, klass):
    slug, sockets = klass
    for sock in sockets.values():
        sock.get_received()
    set_archived(app, "staff", slug)
    [updated] = received(sockets["alice"], "room_updated")
    assert updated["slug"] == slug and updated["archived_at"]
    with app.app_context():
        actions = db.session.scalars(db.select(ModerationAction.action).join(Room).where(Room.slug == slug)).all()
        assert "archive" in actions
    sockets["bob"].get_received()
    set_archived(app, "staff", slug, archived=False)
    [restored] = received(sockets["bob"], "room_updated")
    assert "archived_at" not in restored


def test_only_the_teacher_or_an_admin_archives_and_only_classes(app, users, klass, public_room):
    slug, _ = klass
    with app.app_context():
        rooms.get_membership(user=users["bob"], room=rooms.get_room(slug)).role = "moderator"
        db.session.commit()
    for name in ("alice", "bob"):  # a student; a moderator who is not the owner
        with pytest.raises(Exception) as refused:
            set_archived(app, name, slug)
        assert getattr(refused.value, "code", None) == "forbidden"
    with pytest.raises(Exception) as not_a_class:
        set_archived(app, "admin", "lobby")
    assert "Only classes" in not_a_class.value.message
    assert set_archived(app, "admin", slug).archived_at is not None


def test_an_archived_class_refuses_every_write_in_words_and_keeps_reading(app, users, klass):
    slug, sockets = klass
    message = send(sockets["alice"], slug, "mine", "a2")["message"]
    set_archived(app, "staff", slug)
    words = "This class was archived at the end of term: it is read-only. Its teacher can restore it."
    attempts = {
        "send": send(sockets["alice"], slug, "too late", "a3"),
        "teacher send": send(sockets["staff"], slug, "me neither", "t2"),
        "react": sockets["bob"].emit("react", {"room": slug, "id": message["id"], "emoji": "👍", "on": True},
                                     callback=True),
        "edit": sockets["alice"].emit("edit_message", {"room": slug, "id": message["id"], "body": "changed"},
                                      callback=True),
        "delete own": sockets["alice"].emit("delete_message", {"room": slug, "id": message["id"]}, callback=True),
        "typing": sockets["bob"].emit("typing", {"room": slug, "typing": True}, callback=True),
        "pin": sockets["staff"].emit("pin", {"room": slug, "id": message["id"]}, callback=True),
        "settings": sockets["staff"].emit("room_settings", {"room": slug, "slow_mode_seconds": 30},
                                          callback=True),
    }
    for what, ack in attempts.items():
        assert ack["ok"] is False and ack["error"] == "forbidden", what
        assert ack["message"] == words, what
    upload = Uploader(app, "alice").upload(picture(), room=slug)
    assert upload.status_code == 403 and upload.get_json()["message"] == words
    # Reading goes on: the join, history, search, and the moderators' lists.
    joined = sockets["bob"].emit("join", {"room": slug}, callback=True)
    assert joined["ok"] and joined["room"]["archived_at"]
    assert [m["body"] for m in joined["messages"]][-1] == "mine"
    assert sockets["bob"].emit("search", {"room": slug, "q": "test"}, callback=True)["messages"]
    assert sockets["staff"].emit("moderation_log", {"room": slug}, callback=True)["ok"]
    # Nothing was stored.
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(
            db.select(Room).where(Room.slug == slug).subquery())) == 1


def test_nobody_joins_an_archived_class_by_its_code(app, users, klass):
    slug, _ = klass
    with app.app_context():
        code = rooms.get_room(slug).join_code
    set_archived(app, "staff", slug)
    with app.app_context(), pytest.raises(Exception) as refused:
        rooms.join_by_code(user=users["carol"], code=code)
    assert refused.value.code == "forbidden"


def test_the_room_list_keeps_an_archived_class_under_archived(app, client, auth, klass):
    slug, _ = klass
    auth.login("alice")
    set_archived(app, "staff", slug)
    page = client.get("/").get_data(as_text=True)
    listed, archived_part = page.split('id="archived-rooms"', 1)
    assert "Year 9 History" not in listed.split('id="room-list"', 1)[-1]
    assert "Year 9 History" in archived_part
    room_page = client.get(f"/rooms/{slug}").get_data(as_text=True)
    assert "read-only" in room_page and 'id="composer" class="composer" autocomplete="off" hidden' in room_page
    set_archived(app, "staff", slug, archived=False)
    assert 'id="archived-rooms"' not in client.get("/").get_data(as_text=True)


# ---- exports -------------------------------------------------------------------------------


def start_export(app, username, slug):
    client = Uploader(app, username)
    response = client.client.post(f"/rooms/{slug}/exports", data={"csrf_token": client.token})
    return client, response


def test_a_moderator_exports_the_whole_history_as_a_zip_that_reads_offline(app, klass):
    slug, sockets = klass
    teacher = Uploader(app, "staff")
    shot = uploaded(teacher.upload(picture(), filename="map.png", room=slug))
    send(sockets["staff"], slug, "The map", "t3", attachments=[shot["id"]])
    gone = send(sockets["bob"], slug, "oops", "b1")["message"]
    sockets["bob"].emit("delete_message", {"room": slug, "id": gone["id"]}, callback=True)
    client, response = start_export(app, "staff", slug)
    assert response.status_code == 302
    with app.app_context():
        export = db.session.scalar(db.select(RoomExport))
        assert export.state == "queued"
        export_id = export.id
        assert outbox.run_due() >= 1
    status = client.client.get(f"/rooms/{slug}/exports/{export_id}").get_json()["export"]
    assert status["state"] == "done" and status["done"] == status["total"] == 4
    download = client.client.get(f"/rooms/{slug}/exports/{export_id}/download")
    assert download.status_code == 200 and download.mimetype == "application/zip"
    assert download.headers["Content-Disposition"].startswith("attachment")
    archive_zip = zipfile.ZipFile(io.BytesIO(download.data))
    names = archive_zip.namelist()
    assert {"index.html", "messages.json"} <= set(names)
    assert f"files/{shot['id']}-map.png" in names
    data = json.loads(archive_zip.read("messages.json"))
    assert data["room"]["slug"] == slug
    assert [m["body"] for m in data["messages"]] == ["Welcome to **Year 9**", "When is the test?", "The map", ""]
    assert data["messages"][1]["question"] == {"answered": False, "answered_at": None, "answered_by": None}
    assert data["messages"][2]["attachments"][0]["file"] == f"files/{shot['id']}-map.png"
    assert "url" not in data["messages"][2]["attachments"][0]
    assert data["messages"][3]["deleted"] is True
    page = archive_zip.read("index.html").decode()
    assert "<strong>Year 9</strong>" in page and f'src="files/{shot["id"]}-map.png"' in page
    assert "Question, not answered" in page and "Message deleted" in page and "<script" not in page


def test_only_moderators_export_and_download(app, klass):
    slug, _ = klass
    _, refused = start_export(app, "alice", slug)
    assert refused.status_code == 403
    client, _ = start_export(app, "staff", slug)
    with app.app_context():
        export_id = db.session.scalar(db.select(RoomExport.id))
        outbox.run_due()
    student = Uploader(app, "alice")
    assert student.client.get(f"/rooms/{slug}/exports/{export_id}/download").status_code == 403
    assert student.client.get(f"/rooms/{slug}/exports/{export_id}").status_code == 403
    assert Uploader(app, "carol").client.get(f"/rooms/{slug}/exports/{export_id}/download").status_code == 403
    # Another room's address for it is not found, even for a moderator of that room.
    assert Uploader(app, "admin").client.get(f"/rooms/lobby/exports/{export_id}/download").status_code == 404


def test_one_export_at_a_time_and_not_ready_until_done(app, klass):
    slug, _ = klass
    client, _ = start_export(app, "staff", slug)
    start_export(app, "staff", slug)
    with app.app_context():
        [export] = db.session.scalars(db.select(RoomExport)).all()
        export_id = export.id
    early = client.client.get(f"/rooms/{slug}/exports/{export_id}/download", headers={"Accept": "application/json"})
    assert early.status_code == 409 and "not ready" in early.get_json()["message"]


def test_an_archived_class_is_still_exported(app, klass):
    slug, _ = klass
    set_archived(app, "staff", slug)
    client, response = start_export(app, "staff", slug)
    assert response.status_code == 302
    with app.app_context():
        outbox.run_due()
        assert db.session.scalar(db.select(RoomExport.state)) == "done"


def test_the_archive_page_is_in_the_users_language(app, klass):
    slug, _ = klass
    client = Uploader(app, "staff")
    client.client.post("/lang", data={"lang": "zh_CN", "csrf_token": client.token})
    page = client.client.get(f"/rooms/{slug}/archive").get_data(as_text=True)
    assert "导出" in page


def test_the_archive_holds_each_poll_with_its_results(app, klass):
    """Even a poll whose results the students do not see yet: the archive is the moderators'."""
    slug, sockets = klass
    posted = sockets["staff"].emit("create_poll", {
        "room": slug, "question": "Which century?", "options": ["17th", "18th"], "hidden_until_closed": True,
        "client_id": "p1"}, callback=True)
    assert posted["ok"], posted
    poll = posted["message"]["poll"]
    first, second = (option["id"] for option in poll["options"])
    for name, option in (("alice", second), ("bob", second)):
        assert sockets[name].emit("poll_vote", {"room": slug, "poll_id": poll["id"], "options": [option]},
                                  callback=True)["ok"]
    client, _response = start_export(app, "staff", slug)
    with app.app_context():
        export_id = db.session.scalar(db.select(RoomExport)).id
        assert outbox.run_due() >= 1
    download = client.client.get(f"/rooms/{slug}/exports/{export_id}/download")
    archive_zip = zipfile.ZipFile(io.BytesIO(download.data))
    shown = json.loads(archive_zip.read("messages.json"))["messages"][-1]["poll"]
    assert [(option["text"], option["count"]) for option in shown["options"]] == [("17th", 0), ("18th", 2)]
    assert shown["voters"] == 2 and not shown["closed"]
    page = archive_zip.read("index.html").decode()
    assert "Poll open. 2 voted." in page and "18th: 2 (100%)" in page and "17th: 0 (0%)" in page


def test_the_archive_holds_the_homework_with_every_hand_in_and_comment(app, klass):
    from datetime import timedelta

    from chatapp.models import User, utcnow
    from chatapp.services import homework

    slug, _sockets = klass
    student = Uploader(app, "alice")
    work = uploaded(student.upload(picture(), filename="answer.png", room=slug))
    with app.app_context():
        def user(name):
            return db.session.scalar(db.select(User).filter_by(username=name))

        room = rooms.get_room(slug)
        due = (utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
        spec = homework.check_assignment(title="Essay on Rome", instructions="Two pages.", due=due, allow_late=True)
        assignment = homework.create_assignment(actor=user("staff"), room=room, spec=spec)
        handed = homework.hand_in(student=user("alice"), room=room, assignment_id=assignment.id,
                                  text="Rome was not built in a day.", attachments=[work["id"]])
        homework.comment_hand_in(actor=user("staff"), room=room, assignment_id=assignment.id,
                                 hand_in_id=handed.id, comment="Good start", mark="B+")
    client, _response = start_export(app, "staff", slug)
    with app.app_context():
        export_id = db.session.scalar(db.select(RoomExport)).id
        assert outbox.run_due() >= 1
    archive_zip = zipfile.ZipFile(io.BytesIO(client.client.get(f"/rooms/{slug}/exports/{export_id}/download").data))
    [shown] = json.loads(archive_zip.read("homework.json"))["assignments"]
    assert shown["title"] == "Essay on Rome" and shown["instructions"] == "Two pages."
    [hand_in] = shown["hand_ins"]
    assert hand_in["user"]["username"] == "alice" and hand_in["text"] == "Rome was not built in a day."
    assert (hand_in["comment"], hand_in["mark"], hand_in["late"]) == ("Good start", "B+", False)
    assert hand_in["files"][0]["file"] in archive_zip.namelist()
    page = archive_zip.read("index.html").decode()
    assert "Essay on Rome" in page and "Rome was not built in a day." in page and "Good start" in page
