"""An anonymous question in Chromium: the teacher allows them, a student asks one, the class sees no name."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, User
from chatapp.services import rooms

pytestmark = pytest.mark.browser

QUESTION = "Is it fine that I still do not get fractions?"


def test_the_class_sees_an_anonymous_question_without_a_name(open_room, chat_server):
    chat_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    chat_server.add_user("sam", display_name="Sam")
    with chat_server.app().app_context():
        teacher_account = db.session.scalar(db.select(User).filter_by(username="rivera"))
        room = rooms.create_class(name="Maths 7B", teacher=teacher_account)
        for name in ("sam", "bob"):
            rooms.join_by_code(user=db.session.scalar(db.select(User).filter_by(username=name)), code=room.join_code)
        slug = room.slug

    teacher = open_room("rivera", room=slug)
    student = open_room("sam", room=slug)
    classmate = open_room("bob", room=slug)
    for chat in (teacher, student, classmate):
        chat.expect_connected()
    expect(student.page.get_by_label("Ask anonymously")).to_be_hidden()

    # The teacher allows anonymous questions; the student's composer offers the box at once.
    teacher.page.get_by_label("Allow anonymous questions").check()
    expect(teacher.page.locator("#mod-status")).to_have_text(
        "Anonymous questions are allowed: the class does not see who asked.")
    expect(student.page.get_by_label("Ask anonymously")).to_be_visible()

    student.page.get_by_label("Ask anonymously").check()
    student.send(QUESTION)
    student.expect_sent(QUESTION)
    expect(student.item(QUESTION).locator(".sender")).to_have_text("You, anonymously")
    expect(student.item(QUESTION).locator(".question-mark")).to_have_text("Question")

    # The classmate sees it without a name, live and after a reload; the teacher sees who asked.
    expect(classmate.expect_once(QUESTION).locator(".sender")).to_have_text("Anonymous")
    expect(teacher.expect_once(QUESTION).locator(".sender")).to_have_text("Sam")
    expect(teacher.item(QUESTION).locator(".anonymous-mark")).to_have_text("anonymous to the class")
    questions = teacher.page.get_by_role("region", name=re.compile(r"^Open questions"))
    expect(questions).to_contain_text(QUESTION)
    expect(questions.locator(".sender")).to_have_text("Sam")
    expect(questions.locator(".anonymous-mark")).to_have_text("anonymous to the class")
    classmate.page.reload()
    classmate.expect_connected()
    expect(classmate.item(QUESTION).locator(".sender")).to_have_text("Anonymous")
    assert "Sam" not in (classmate.item(QUESTION).inner_html())

    with chat_server.app().app_context():
        stored = db.session.scalar(db.select(Message).filter_by(body=QUESTION))
        assert stored.anonymous and stored.is_question and stored.sender.username == "sam"
