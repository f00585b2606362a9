"""A poll in Chromium: the teacher posts one, two students vote (one on a phone, by keyboard), everyone sees the
results live, the teacher closes it and the results stay after a reload."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import User
from harness.browser import PHONE

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

QUESTION = "When shall we have the test?"


@pytest.fixture
def poll_class(chat_server):
    """A class of Ms Rivera's with Sam and Alice in it."""
    chat_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    chat_server.add_user("sam", display_name="Sam")
    with chat_server.app().app_context():
        from chatapp.services import rooms

        def user(name: str) -> User:
            return db.session.scalar(db.select(User).filter_by(username=name))

        room = rooms.create_class(name="Physics", teacher=user("rivera"))
        for name in ("sam", "alice"):
            rooms.join_by_code(user=user(name), code=room.join_code)
        return room.slug


def result(chat, text: str):
    """A line of the poll's results as shown ("Friday: 1 (50%)")."""
    return chat.item(QUESTION).locator(".poll-results").get_by_text(text, exact=True)


def test_a_teacher_polls_two_students_who_see_the_results_live_until_it_closes(open_room, poll_class):
    teacher = open_room("rivera", room=poll_class)
    sam = open_room("sam", room=poll_class)
    alice = open_room("alice", room=poll_class, viewport=PHONE, is_mobile=True, has_touch=True)

    # Students have no poll form; the teacher writes one in the moderator tools.
    expect(sam.page.get_by_text("New poll", exact=True)).to_have_count(0)
    teacher.page.get_by_text("New poll", exact=True).click()
    form = teacher.page.locator("#poll-create")
    form.get_by_label("Question", exact=True).fill(QUESTION)
    form.get_by_label("Options, one per line (2 to 10)").fill("Monday\nFriday")
    form.get_by_role("button", name="Post poll").click()
    expect(teacher.page.locator("#poll-create-status")).to_have_text("Poll posted.")

    # Sam votes with the mouse; everyone's bars follow at once.
    poll = sam.expect_once(QUESTION)
    poll.get_by_role("radio", name="Friday").check()
    poll.get_by_role("button", name="Vote").click()
    for chat in (teacher, sam, alice):
        expect(result(chat, "Friday: 1 (100%)")).to_be_visible()
    expect(poll.get_by_role("radio", name="Friday")).to_be_checked()
    expect(poll.get_by_role("button", name="Change vote")).to_be_visible()

    # Alice, on a phone, by keyboard only: focus Monday, Space chooses it, Tab to Vote, Enter.
    mine = alice.item(QUESTION)
    mine.get_by_role("radio", name="Monday").focus()
    alice.page.keyboard.press("Space")
    alice.page.keyboard.press("Tab")
    expect(mine.get_by_role("button", name="Vote")).to_be_focused()
    alice.page.keyboard.press("Enter")
    for chat in (teacher, sam, alice):
        expect(result(chat, "Monday: 1 (50%)")).to_be_visible()
        expect(result(chat, "Friday: 1 (50%)")).to_be_visible()
    assert alice.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(mine.locator(".poll-results")).to_have_attribute("aria-live", "polite")
    assert_accessible(alice.page, "a room with a poll")

    # Only the teacher may close it and download the results.
    expect(sam.item(QUESTION).get_by_role("button", name="Close poll")).to_have_count(0)
    expect(teacher.item(QUESTION).get_by_role("link", name="Download results (CSV)")).to_be_visible()
    teacher.item(QUESTION).get_by_role("button", name="Close poll").click()
    for chat in (teacher, sam, alice):
        expect(chat.item(QUESTION).locator(".poll-state")).to_have_text("Poll closed. 2 voted.")
        expect(chat.item(QUESTION).get_by_role("radio", name="Monday")).to_be_disabled()
    expect(sam.item(QUESTION).get_by_role("button", name="Change vote")).to_have_count(0)

    # The results stay in the history.
    sam.page.reload()
    sam.expect_connected()
    expect(result(sam, "Friday: 1 (50%)")).to_be_visible()
    expect(sam.item(QUESTION).get_by_role("radio", name="Friday")).to_be_checked()
