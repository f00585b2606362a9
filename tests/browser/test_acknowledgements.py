"""An announcement that must be acknowledged, in Chromium: the teacher pins it asking, two students
acknowledge (one on a phone, by keyboard), the teacher's count goes up live, a reload keeps it all."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Acknowledgement, User
from chatapp.services import rooms
from harness.browser import PHONE

pytestmark = pytest.mark.browser

ANNOUNCEMENT = "Field trip on Thursday: bring the signed form."
SLUG = "maths-7b"


@pytest.fixture
def class_server(chat_server):
    """The live server with the teacher's class "maths-7b", which Alice and Bob joined by code."""
    chat_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    with chat_server.app().app_context():
        teacher = db.session.scalar(db.select(User).filter_by(username="rivera"))
        room = rooms.create_class(name="Maths 7B", teacher=teacher)
        for name in ("alice", "bob"):
            rooms.join_by_code(user=db.session.scalar(db.select(User).filter_by(username=name)), code=room.join_code)
    return chat_server


def test_students_acknowledge_and_the_teacher_sees_the_count_live(open_room, class_server):
    teacher = open_room("rivera", room=SLUG)
    alice = open_room("alice", room=SLUG)
    bob = open_room("bob", room=SLUG, viewport=PHONE, is_mobile=True, has_touch=True)
    for chat in (teacher, alice, bob):
        chat.expect_connected()

    # The teacher pins an announcement asking each student to acknowledge it.
    teacher.send(ANNOUNCEMENT)
    teacher.expect_sent(ANNOUNCEMENT)
    teacher.item(ANNOUNCEMENT).get_by_role("button", name="Actions for the message from Ms Rivera").click()
    teacher.page.get_by_role("menuitem", name="Pin, asking students to acknowledge").click()
    pinned = teacher.page.get_by_role("region", name="Pinned")
    count = pinned.locator(".ack-count-text")
    expect(count).to_have_text("0 of 2 acknowledged")
    expect(count).to_have_attribute("aria-live", "polite")

    # The teacher opens who has not acknowledged: both students.
    pinned.locator(".ack-count").click()
    expect(pinned.locator(".ack-count")).to_have_attribute("aria-expanded", "true")
    pending = pinned.get_by_role("list", name="Students who have not acknowledged")
    expect(pending.get_by_role("listitem")).to_have_text(["Alice", "Bob"])

    # Alice acknowledges with the mouse; the teacher's count and list follow at once.
    read = alice.page.get_by_role("button", name="I have read this: the announcement from Ms Rivera")
    expect(read).to_be_visible()
    read.click()
    expect(alice.page.locator("#pinned .ack-done")).to_have_text("✓ You acknowledged this")
    expect(count).to_have_text("1 of 2 acknowledged")
    expect(pending.get_by_role("listitem")).to_have_text(["Bob"])

    # The teacher reminds Bob; his page says so. A second reminder at once is refused with when.
    pinned.get_by_role("button", name="Remind those who have not").click()
    expect(pinned.locator(".ack-note")).to_have_text("Reminded 1 student.")
    expect(bob.page.locator("#classroom-status")).to_have_text(
        "Ms Rivera reminds you to acknowledge the pinned announcement.")
    pinned.get_by_role("button", name="Remind those who have not").click()
    expect(pinned.locator(".ack-note")).to_contain_text("you can remind them again in 10 min")

    # Bob, on his phone, acknowledges with the keyboard.
    bob_read = bob.page.get_by_role("button", name="I have read this: the announcement from Ms Rivera")
    bob_read.focus()
    bob.page.keyboard.press("Enter")
    expect(bob.page.locator("#pinned .ack-done")).to_be_visible()
    expect(count).to_have_text("2 of 2 acknowledged")
    expect(pinned.locator(".ack-pending-title")).to_have_text("Every student has acknowledged it.")

    # A reload keeps everyone's state.
    for chat in (teacher, alice, bob):
        chat.page.reload()
        chat.expect_connected()
    expect(teacher.page.locator("#pinned .ack-count-text")).to_have_text("2 of 2 acknowledged")
    for student in (alice, bob):
        expect(student.page.locator("#pinned .ack-done")).to_be_visible()
        expect(student.page.get_by_role("button", name="I have read this: the announcement from Ms Rivera")) \
            .to_have_count(0)
    with class_server.app().app_context():
        assert db.session.scalar(db.select(db.func.count(Acknowledgement.id))) == 2
