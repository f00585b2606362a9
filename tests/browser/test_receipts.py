"""Receipts in Chromium: a direct message goes Sent, Delivered (the other person's page has it, in a
tab in the background), Read (they looked), live and after a reload; "Seen by" on a teacher's
announcement, naming who has not read it."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.services import rooms

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_a_direct_message_says_read_when_the_other_has_read_it(open_room, chat_server):
    alice, bob = open_room("alice"), open_room("bob")
    alice.member("Bob").get_by_role("button", name="Message Bob").click()
    alice.page.wait_for_url(re.compile(r"/rooms/dm-[0-9a-f]+$"))
    alice.room = alice.page.url.rsplit("/", 1)[1]
    alice.expect_connected()
    alice.send("Lunch at noon?")
    alice.expect_sent("Lunch at noon?")
    state = alice.item("Lunch at noon?").locator(".state")
    expect(state).to_have_text("Sent")
    bob.page.goto(f"{chat_server.url}/rooms/{alice.room}")  # Bob opens it: the newest message is on screen
    bob.room = alice.room
    bob.expect_connected()
    expect(state).to_have_text("Read")  # live on Alice's page
    alice.page.reload()
    alice.expect_connected()
    expect(alice.item("Lunch at noon?").locator(".state")).to_have_text("Read")  # from the join's read positions


# The tab is in the background: the page has what arrives but nobody looks at it.
HIDE = """() => {
  Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
  Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
  document.dispatchEvent(new Event("visibilitychange"));
}"""
SHOW = """() => {
  delete document.hidden;
  delete document.visibilityState;
  document.dispatchEvent(new Event("visibilitychange"));
}"""


def test_a_direct_message_goes_sent_delivered_read(open_room, chat_server):
    alice, bob = open_room("alice"), open_room("bob")
    alice.member("Bob").get_by_role("button", name="Message Bob").click()
    alice.page.wait_for_url(re.compile(r"/rooms/dm-[0-9a-f]+$"))
    alice.room = bob.room = alice.page.url.rsplit("/", 1)[1]
    alice.expect_connected()
    alice.send("First")
    alice.expect_sent("First")
    expect(alice.item("First").locator(".state")).to_have_text("Sent")  # Bob has not opened it
    bob.page.goto(f"{chat_server.url}/rooms/{alice.room}")
    bob.expect_connected()
    expect(alice.item("First").locator(".state")).to_have_text("Read")
    bob.page.evaluate(HIDE)
    alice.send("Second, while Bob is in another tab")
    bob.expect_once("Second, while Bob is in another tab")
    second = alice.item("Second, while Bob is in another tab").locator(".state")
    expect(second).to_have_text("Delivered")  # Bob's page has it; nobody has looked
    expect(second).to_have_attribute("data-state", "delivered")
    alice.page.reload()
    alice.expect_connected()
    second = alice.item("Second, while Bob is in another tab").locator(".state")
    expect(second).to_have_text("Delivered")  # from the join's positions
    expect(alice.item("First").locator(".state")).to_have_text("Read")
    bob.page.evaluate(SHOW)  # Bob comes back to the tab
    expect(second).to_have_text("Read")


def test_a_teacher_sees_who_has_not_seen_an_announcement(open_room, chat_server):
    chat_server.add_user("teacher", role="staff", display_name="Ms Teach")
    chat_server.add_user("carol", display_name="Carol")
    with chat_server.app().app_context():
        from chatapp.extensions import db
        from chatapp.models import User

        teacher = db.session.scalar(db.select(User).filter_by(username="teacher"))
        klass = rooms.create_class(name="Year 9", teacher=teacher)
        for name in ("alice", "bob", "carol"):
            rooms.join_by_code(user=db.session.scalar(db.select(User).filter_by(username=name)), code=klass.join_code)
        slug = klass.slug
    ms = open_room("teacher", room=slug)
    ms.send("Trip forms are due on Friday")
    ms.expect_sent("Trip forms are due on Friday")
    alice, bob = open_room("alice", room=slug), open_room("bob", room=slug)
    alice.expect_once("Trip forms are due on Friday")
    bob.expect_once("Trip forms are due on Friday")
    expect(alice.item("Trip forms are due on Friday").locator(".seen-button")).to_have_count(0)  # not hers
    ms.page.wait_for_timeout(1500)  # the pages' reads are sent at most once a second
    button = ms.item("Trip forms are due on Friday").get_by_role("button", name="Seen by")
    button.click()
    panel = ms.item("Trip forms are due on Friday").locator(".seen-panel")
    expect(panel.locator(".seen-count")).to_have_text("Seen by 2 of 3")
    expect(panel.locator(".seen-missing")).to_have_text("Not seen yet: Carol")
    expect(button).to_have_attribute("aria-expanded", "true")
    assert_accessible(ms.page, "a class with a message's Seen by open")


def test_in_a_class_of_thirty_seen_by_says_23_of_30_and_names_the_seven(open_room, chat_server):
    from chatapp.extensions import db
    from chatapp.models import User
    from chatapp.services import accounts, messages, moderation

    chat_server.add_user("teacher", role="staff", display_name="Ms Teach")
    with chat_server.app().app_context():  # the class and its reads made directly, for speed
        teacher = db.session.scalar(db.select(User).filter_by(username="teacher"))
        klass = rooms.create_class(name="Year 9", teacher=teacher)
        moderation.set_room_settings(actor=teacher, room=klass, announcement_only=True)
        students = []
        for n in range(31):
            student = accounts.create_user(
                username=f"s{n:02d}", password="correct-horse-42", role="member",
                display_name=f"Student {n:02d}" if n < 30 else "Quiet Student",
            )
            rooms.join_by_code(user=student, code=klass.join_code)
            students.append(student)
        students[30].share_reads = False  # reads it, shares nothing
        db.session.commit()
        announcement = messages.post_message(sender=teacher, room=klass, body="Trip forms are due on Friday",
                                             client_id="a1", enforce_rate_limit=False).message
        for student in students[:23] + students[30:]:
            messages.mark_read(user=student, room=klass, last_id=announcement.id)
        slug = klass.slug
    ms = open_room("teacher", room=slug)
    item = ms.expect_once("Trip forms are due on Friday")
    button = item.get_by_role("button", name="Seen by")
    button.click()
    panel = item.locator(".seen-panel")
    expect(panel.locator(".seen-count")).to_have_text("Seen by 23 of 30")
    expect(panel.locator(".seen-missing")).to_have_text(
        "Not seen yet: " + ", ".join(f"Student {n:02d}" for n in range(23, 30))
    )
    expect(panel.locator(".seen-list")).to_contain_text("Student 00, Student 01")
    expect(panel).not_to_contain_text("Quiet Student")
    expect(button).to_have_attribute("aria-expanded", "true")
    # A second press closes it.
    button.click()
    expect(panel).to_have_count(0)
    expect(button).to_have_attribute("aria-expanded", "false")
