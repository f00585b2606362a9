"""The end of term in Chromium: a teacher exports a class of 10,000 messages with pictures and files,
follows its progress, downloads the zip, and the page inside reads from disk with no server; then
archives the class, and a student's open page turns read-only and lists it under "Archived"."""
from __future__ import annotations

import zipfile
from datetime import timedelta

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, User, utcnow
from chatapp.services import rooms, uploads
from harness.browser import PHONE

from ..test_files import pdf
from ..test_uploads import picture
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

MESSAGES = 10_000


def seed_class(chat_server) -> str:
    """A class of Ms Teach with alice and bob: 10,000 messages over a term, three with a picture or a PDF."""
    chat_server.add_user("teacher", role="staff", display_name="Ms Teach")
    with chat_server.app().app_context():
        teacher, alice, bob = (db.session.scalar(db.select(User).filter_by(username=name))
                               for name in ("teacher", "alice", "bob"))
        klass = rooms.create_class(name="Year 9 History", teacher=teacher)
        for student in (alice, bob):
            rooms.join_by_code(user=student, code=klass.join_code)
        start = utcnow() - timedelta(days=90)
        senders = [teacher.id, alice.id, bob.id]
        db.session.execute(db.insert(Message), [
            {"room_id": klass.id, "sender_id": senders[n % 3], "body": f"Term message {n + 1} 学期",
             "client_id": f"seed-{n}", "created_at": start + timedelta(minutes=n)} for n in range(MESSAGES - 3)
        ])
        db.session.commit()
        files = [(picture(), "map.png"), (pdf(), "worksheet.pdf"), (picture("JPEG"), "trip.jpg")]
        for n, (data, name) in enumerate(files):
            attachment = uploads.store_upload(uploader=teacher, room=klass, data=data, filename=name).attachment
            message = Message(room_id=klass.id, sender_id=teacher.id, body=f"File {n + 1}: {name}", client_id=f"f{n}")
            db.session.add(message)
            db.session.flush()
            attachment.message_id = message.id
            db.session.commit()
        return klass.slug


def test_a_teacher_exports_ten_thousand_messages_and_the_page_reads_from_disk(open_room, chat_server, browser,
                                                                              tmp_path):
    slug = seed_class(chat_server)
    ms = open_room("teacher", room=slug)
    ms.page.get_by_role("link", name="History and archive").click()
    expect(ms.page.get_by_role("heading", level=1)).to_have_text("History and archive of Year 9 History")
    ms.page.get_by_role("button", name="Export the history").click()
    # The worker writes it in batches; the page follows, then shows the download.
    download_link = ms.page.locator(".export-download")
    expect(download_link).to_contain_text(f"{MESSAGES:,} messages".replace(",", ""), timeout=120_000)
    assert_accessible(ms.page, "the archive page with a finished export")
    with ms.page.expect_download() as download_info:
        download_link.click()
    download = download_info.value
    assert download.suggested_filename.startswith("Year 9 History")
    folder = tmp_path / "archive"
    zipfile.ZipFile(download.path()).extractall(folder)
    assert len(list((folder / "files").iterdir())) == 3

    # Offline: a fresh context that may reach nothing but the files on disk.
    context = browser.new_context()
    blocked: list[str] = []
    context.route("http*://**/*", lambda route: (blocked.append(route.request.url), route.abort()))
    page = context.new_page()
    page.goto((folder / "index.html").as_uri())
    expect(page.locator("li.msg")).to_have_count(MESSAGES)
    expect(page.locator("li.msg").first).to_contain_text("Term message 1 学期")
    expect(page.locator("li.msg").last).to_contain_text("File 3: trip.jpg")
    picture_shown = page.locator("img[alt='Picture: map.png']")
    picture_shown.scroll_into_view_if_needed()
    assert page.evaluate("(img) => img.complete && img.naturalWidth > 0", picture_shown.element_handle())
    expect(page.get_by_role("link", name="worksheet.pdf")).to_have_attribute("href", "files/" + next(
        p.name for p in (folder / "files").iterdir() if p.name.endswith("worksheet.pdf")))
    assert blocked == []
    context.close()


def test_archiving_turns_an_open_page_read_only_and_restoring_brings_it_back(open_room, chat_server):
    chat_server.add_user("teacher", role="staff", display_name="Ms Teach")
    with chat_server.app().app_context():
        teacher = db.session.scalar(db.select(User).filter_by(username="teacher"))
        klass = rooms.create_class(name="Year 9 History", teacher=teacher)
        rooms.join_by_code(user=db.session.scalar(db.select(User).filter_by(username="alice")), code=klass.join_code)
        slug = klass.slug
    alice = open_room("alice", room=slug)
    alice.send("Before the end of term")
    alice.expect_sent("Before the end of term")
    ms = open_room("teacher", room=slug, viewport=PHONE)
    ms.page.goto(f"{chat_server.url}/rooms/{slug}/archive")
    assert_accessible(ms.page, "the archive page on a phone")
    ms.page.get_by_role("button", name="Archive the class").click()
    expect(ms.page.get_by_role("status").filter(has_text="read-only")).to_have_count(2)
    # Alice's open page hears it and is drawn anew: read-only, in the server's words.
    expect(alice.page.locator("#composer-closed")).to_have_text(
        "This class was archived at the end of term: it is read-only. Its teacher can restore it.")
    expect(alice.page.locator("#composer")).to_be_hidden()
    alice.expect_once("Before the end of term")
    alice.page.goto(f"{chat_server.url}/")
    archived = alice.page.locator("#archived-rooms")
    archived.locator("summary").click()
    expect(archived.get_by_role("link", name="Year 9 History archived")).to_be_visible()
    expect(alice.page.locator("#room-list")).not_to_contain_text("Year 9 History")
    ms.page.get_by_role("button", name="Restore the class").click()
    alice.page.goto(f"{chat_server.url}/rooms/{slug}")
    expect(alice.page.locator("#composer")).to_be_visible()
