"""A whole lesson in Chromium, as a teacher runs one: a poll that five students answer (two of them
over long-polling), a question asked anonymously, an announcement everyone must acknowledge, then
the lesson's attendance and the poll's results as CSV."""
from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import rooms

from .test_room_chat import no_websocket_api

pytestmark = pytest.mark.browser

STUDENTS = ("alice", "bob", "sam", "kim", "lee")
POLLING = ("kim", "lee")
QUESTION = "Which planet is the largest?"
VOTES = {"alice": "Jupiter", "bob": "Jupiter", "sam": "Saturn", "kim": "Jupiter", "lee": "Saturn"}
SHY = "Could you explain orbits once more, slowly?"
ANNOUNCEMENT = "The test is next Monday: chapters 3 and 4."


@pytest.fixture
def lesson(chat_server):
    """Ms Rivera's class with five students in it; its slug."""
    chat_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    for name in ("sam", "kim", "lee"):
        chat_server.add_user(name)
    with chat_server.app().app_context():
        def user(name: str) -> User:
            return db.session.scalar(db.select(User).filter_by(username=name))

        room = rooms.create_class(name="Astronomy", teacher=user("rivera"))
        for name in STUDENTS:
            rooms.join_by_code(user=user(name), code=room.join_code)
        return room.slug


def test_a_lesson_with_a_poll_an_anonymous_question_an_acknowledged_announcement_and_attendance(open_room, lesson):
    teacher = open_room("rivera", room=lesson)
    students = {name: open_room(name, room=lesson, setup=no_websocket_api if name in POLLING else None)
                for name in STUDENTS}
    for name, chat in students.items():
        chat.expect_connected()
        assert chat.transport() == ("polling" if name in POLLING else "websocket")

    # The poll: posted from the moderator tools, answered by everyone, on both transports.
    teacher.page.get_by_text("New poll", exact=True).click()
    form = teacher.page.locator("#poll-create")
    form.get_by_label("Question", exact=True).fill(QUESTION)
    form.get_by_label("Options, one per line (2 to 10)").fill("Jupiter\nSaturn\nNeptune")
    form.get_by_role("button", name="Post poll").click()
    expect(teacher.page.locator("#poll-create-status")).to_have_text("Poll posted.")
    for name, chat in students.items():
        poll = chat.expect_once(QUESTION)
        poll.get_by_role("radio", name=VOTES[name]).check()
        poll.get_by_role("button", name="Vote").click()
        expect(poll.get_by_role("button", name="Change vote")).to_be_visible()
    for chat in (teacher, *students.values()):
        results = chat.item(QUESTION).locator(".poll-results")
        expect(results.get_by_text("Jupiter: 3 (60%)", exact=True)).to_be_visible()
        expect(results.get_by_text("Saturn: 2 (40%)", exact=True)).to_be_visible()
    teacher.item(QUESTION).get_by_role("button", name="Close poll").click()
    for chat in students.values():
        expect(chat.item(QUESTION).locator(".poll-state")).to_have_text("Poll closed. 5 voted.")

    # A shy question: the class sees no name, the teacher does.
    teacher.page.get_by_label("Allow anonymous questions").check()
    shy = students["kim"]  # on long-polling
    expect(shy.page.get_by_label("Ask anonymously")).to_be_visible()
    shy.page.get_by_label("Ask anonymously").check()
    shy.send(SHY)
    shy.expect_sent(SHY)
    for name, chat in students.items():
        if name != "kim":
            expect(chat.expect_once(SHY).locator(".sender")).to_have_text("Anonymous")
            assert "Kim" not in chat.item(SHY).inner_html()
    expect(teacher.expect_once(SHY).locator(".sender")).to_have_text("Kim")

    # The announcement everyone must acknowledge; the teacher watches the count reach five.
    teacher.send(ANNOUNCEMENT)
    teacher.expect_sent(ANNOUNCEMENT)
    teacher.item(ANNOUNCEMENT).get_by_role("button", name="Actions for the message from Ms Rivera").click()
    teacher.page.get_by_role("menuitem", name="Pin, asking students to acknowledge").click()
    count = teacher.page.get_by_role("region", name="Pinned").locator(".ack-count-text")
    expect(count).to_have_text("0 of 5 acknowledged")
    for done, chat in enumerate(students.values(), start=1):
        chat.page.get_by_role("button", name="I have read this: the announcement from Ms Rivera").click()
        expect(chat.page.locator("#pinned .ack-done")).to_be_visible()
        expect(count).to_have_text(f"{done} of 5 acknowledged")

    # The poll's results as CSV: names beside answers (the poll was not anonymous).
    csv_link = teacher.item(QUESTION).get_by_role("link", name="Download results (CSV)")
    answer = teacher.page.context.request.get(teacher.base_url + csv_link.get_attribute("href"))
    assert answer.ok
    rows = list(csv.reader(io.StringIO(answer.text().lstrip("\ufeff"))))
    assert ["Jupiter", "3", "60"] in rows and ["Saturn", "2", "40"] in rows and ["Neptune", "0", "0"] in rows
    for name, option in VOTES.items():
        assert [name, name.capitalize(), option] in rows

    # Attendance for the lesson: all five present; the shy question counts for its asker, and only the
    # teacher reads it.
    teacher.page.get_by_role("link", name="Attendance").click()
    table = teacher.page.locator("#attendance-table")
    expect(table.locator("tbody tr")).to_have_count(len(STUDENTS) + 1)  # the teacher too
    for name in STUDENTS:
        row = table.locator("tr", has_text=f"@{name}")
        expect(row.locator("td").nth(1)).to_have_text("yes")
    expect(table.locator("tr", has_text="@kim").locator("td").nth(4)).to_have_text("1")
