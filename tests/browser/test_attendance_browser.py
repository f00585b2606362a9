"""Attendance in Chromium: a teacher opens it from the moderator tools and sees who is in the class and who
wrote; a student opens their own from the class page and sees only their row."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import rooms

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_a_teacher_reads_attendance_and_a_student_only_their_own(open_room, chat_server):
    chat_server.add_user("teacher", role="staff", display_name="Ms Teach")
    with chat_server.app().app_context():
        teacher, alice, bob = (db.session.scalar(db.select(User).filter_by(username=name))
                               for name in ("teacher", "alice", "bob"))
        klass = rooms.create_class(name="Year 9 History", teacher=teacher)
        for student in (alice, bob):
            rooms.join_by_code(user=student, code=klass.join_code)
        slug = klass.slug
    student = open_room("alice", room=slug)
    student.send("Hello from Alice")
    expect(student.item("Hello from Alice")).to_be_visible()
    ms = open_room("teacher", room=slug)
    ms.page.get_by_role("link", name="Attendance").click()
    expect(ms.page.get_by_role("heading", level=1)).to_have_text("Attendance in Year 9 History")
    table = ms.page.locator("#attendance-table")
    expect(table.locator("tbody tr")).to_have_count(3)  # the absent one too
    alice_row = table.locator("tr", has_text="@alice")
    expect(alice_row.locator("td").nth(1)).to_have_text("yes")
    expect(alice_row.locator("td").nth(3)).to_have_text("1")
    expect(table.locator("tr", has_text="@bob").locator("td").nth(1)).to_have_text("no")
    expect(ms.page.get_by_role("link", name="Download as CSV")).to_be_visible()
    assert_accessible(ms.page, "the attendance page")
    student.page.get_by_role("link", name="My attendance").click()
    expect(student.page.locator("#attendance-table tbody tr")).to_have_count(1)
    expect(student.page.locator("#attendance-table")).to_contain_text("@alice")
    expect(student.page.get_by_role("link", name="Download as CSV")).to_have_count(0)
