"""Homework in Chromium: the teacher sets it, three students hand in (one late), the teacher sees each state and
comments, and each student sees only their own hand-in and comment."""
from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Assignment, User, utcnow

from ..conftest import PASSWORD

pytestmark = pytest.mark.browser

STUDENTS = {"sam": "Sam", "alice": "Alice", "liming": "Li Ming"}


@pytest.fixture
def homework_class(live_server):
    """Ms Rivera's class with three students."""
    live_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    for username, name in STUDENTS.items():
        live_server.add_user(username, display_name=name)
    with live_server.app().app_context():
        from chatapp.services import rooms

        def user(name: str) -> User:
            return db.session.scalar(db.select(User).filter_by(username=name))

        room = rooms.create_class(name="Physics", teacher=user("rivera"))
        for name in STUDENTS:
            rooms.join_by_code(user=user(name), code=room.join_code)
        slug = room.slug
    live_server.start()
    return live_server, slug


def logged_in(contexts, server, username: str, path: str):
    page = contexts.new(extra_http_headers={"Accept-Language": "en"})
    page.goto(f"{server.url}/auth/login?next={path}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(server.url + path)
    return page


def test_a_teacher_sets_homework_three_students_hand_in_and_each_sees_only_their_own(contexts, homework_class):
    server, slug = homework_class
    teacher = logged_in(contexts, server, "rivera", f"/rooms/{slug}")
    sam_room = logged_in(contexts, server, "sam", f"/rooms/{slug}")
    expect(sam_room.locator("#connection")).to_have_attribute("data-state", "online")
    teacher.locator(".class-links").get_by_role("link", name="Homework").click()
    teacher.get_by_label("Title").fill("Forces worksheet")
    teacher.get_by_label("Instructions").fill("Answer **all** questions.")
    teacher.get_by_label("Due").fill((utcnow() + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"))
    teacher.get_by_role("button", name="Set homework").click()
    expect(teacher.get_by_role("heading", name="Forces worksheet")).to_be_visible()
    path = teacher.url.removeprefix(server.url)
    # In the room the homework's message links to its page, live and as the server renders it.
    for reloaded in (False, True):
        if reloaded:
            sam_room.reload()
        line = sam_room.locator("li.msg", has_text="Forces worksheet").locator(".assignment-line")
        expect(line.get_by_role("link", name="Open the homework")).to_have_attribute("href", path)
        expect(line.locator("time")).to_have_count(1)
    # The due time counts down in the page (the script's words, in the page's language).
    expect(teacher.locator(".due .left")).to_have_text("in 23 hours")
    expect(teacher.locator('tr[data-student="sam"]')).to_have_attribute("data-state", "missing")

    pages = {}
    for username in ("sam", "alice"):
        page = pages[username] = logged_in(contexts, server, username, path)
        expect(page.locator(".message-body strong")).to_have_text("all")
        page.get_by_label("Your answer").fill(f"{STUDENTS[username]}'s answers")
        page.get_by_role("button", name="Hand in").click()
        expect(page.locator(".hand-in-state")).to_contain_text("Handed in at")
    with server.app().app_context():
        db.session.scalar(db.select(Assignment)).due_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    late = pages["liming"] = logged_in(contexts, server, "liming", path)
    late.get_by_label("Your answer").fill("Li Ming's answers")
    late.get_by_role("button", name="Hand in").click()
    expect(late.locator(".hand-in-state")).to_contain_text("Handed in late")

    # The teacher's table followed every hand-in live, without a reload.
    for username, state in (("sam", "handed_in"), ("alice", "handed_in"), ("liming", "late")):
        expect(teacher.locator(f'tr[data-student="{username}"]')).to_have_attribute("data-state", state)
    teacher.locator('tr[data-student="alice"]').get_by_role("link", name="Open").click()
    expect(teacher.locator(".hand-in-text")).to_have_text("Alice's answers")
    teacher.get_by_label("Comment", exact=True).fill("Clear working, well done")
    teacher.get_by_label("Mark", exact=True).fill("A-")
    teacher.get_by_role("button", name="Send to the student").click()
    expect(teacher.get_by_text("Comment sent to the student.")).to_be_visible()

    for username, page in pages.items():
        page.reload()
        expect(page.get_by_label("Your answer")).to_have_value(f"{STUDENTS[username]}'s answers")
        for other in STUDENTS.values():
            if other != STUDENTS[username]:
                expect(page.get_by_text(f"{other}'s answers")).to_have_count(0)
        comment = page.get_by_text("Clear working, well done")
        expect(comment).to_have_count(1 if username == "alice" else 0)
    expect(pages["alice"].locator(".mark")).to_have_text("Mark: A-")
