"""A class in Chromium: the teacher makes it, a student joins by code, pins, slow mode, a question answered."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, ModerationAction, Room
from harness.browser import PHONE

pytestmark = pytest.mark.browser

QUESTION = "Which chapters are on the test?"
ANNOUNCEMENT = "Welcome to Physics 9A! Test on Friday."


@pytest.fixture
def class_server(chat_server):
    """The live server with a teacher (staff) and a student besides the chat fixtures."""
    chat_server.add_user("rivera", role="staff", display_name="Ms Rivera")
    chat_server.add_user("sam", display_name="Sam")
    return chat_server


def wait_seconds_left(chat) -> int:
    """The seconds the slow-mode countdown in the message box says are left."""
    text = chat.page.locator("#send-wait").text_content()
    match = re.fullmatch(r"You can send again in (\d+) s", text or "")
    assert match, text
    return int(match.group(1))


def test_a_class_with_join_code_pins_slow_mode_and_an_answered_question(open_room, class_server):
    base = class_server.url

    # The teacher creates the class from the home page.
    teacher = open_room("rivera")
    home = teacher.page
    home.goto(base + "/")
    home.get_by_label("Room name").fill("Physics 9A")
    home.get_by_label("Class (students join with a code; you moderate)").check()
    home.get_by_role("button", name="Create room").click()
    home.wait_for_url(base + "/rooms/physics-9a")
    teacher.room = "physics-9a"
    teacher.expect_connected()
    code = home.locator("code.join-code").text_content()
    assert code and re.fullmatch(r"[A-Z2-9]{8}", code), code
    expect(home.get_by_role("group", name="Moderator tools")).to_be_visible()

    # A student, on a phone, joins by typing the code.
    student = open_room("sam", viewport=PHONE, is_mobile=True, has_touch=True)
    page = student.page
    page.goto(base + "/")
    page.get_by_label("Join code").fill(code.lower())
    page.get_by_role("button", name="Join room").click()
    page.wait_for_url(base + "/rooms/physics-9a")
    student.room = "physics-9a"
    student.expect_connected()
    expect(page.get_by_role("group", name="Moderator tools")).to_have_count(0)
    expect(page.locator("code.join-code")).to_have_count(0)
    expect(teacher.member("Sam")).to_have_class(re.compile(r"\bonline\b"))

    # The teacher posts an announcement and pins it; the student sees it at the top.
    teacher.send(ANNOUNCEMENT)
    teacher.expect_sent(ANNOUNCEMENT)
    teacher.item(ANNOUNCEMENT).get_by_role("button", name="Actions for the message from Ms Rivera").click()
    home.get_by_role("menuitem", name="Pin to the top").click()
    for chat in (teacher, student):
        pinned = chat.page.get_by_role("region", name="Pinned")
        expect(pinned).to_be_visible()
        expect(pinned).to_contain_text(ANNOUNCEMENT)
        expect(chat.item(ANNOUNCEMENT).locator(".pin-mark")).to_have_text("Pinned")

    # The teacher turns on slow mode; the student's page says so at once.
    home.get_by_label("Slow mode").select_option("30")
    expect(home.locator("#mod-status")).to_have_text("Slow mode is on: one message every 30 s per member.")
    expect(page.locator("#slow-mode-note")).to_have_text("Slow mode is on: one message every 30 s.")

    # The student asks a question (the hand raised in the composer) and sees the countdown.
    page.get_by_label("Ask as a question").check()
    student.send(QUESTION)
    student.expect_sent(QUESTION)
    expect(student.item(QUESTION).locator(".question-mark")).to_have_text("Question")
    expect(page.get_by_label("Ask as a question")).not_to_be_checked()
    expect(page.locator("#send-wait")).to_have_text(re.compile(r"You can send again in \d+ s"))
    expect(student.send_button).to_be_disabled()
    first = wait_seconds_left(student)
    assert 25 <= first <= 30, first
    page.wait_for_timeout(1500)
    assert wait_seconds_left(student) < first  # it counts down
    # Enter does not get around it: nothing is sent, the text stays in the box.
    student.textbox.fill("One more thing")
    student.textbox.press("Enter")
    expect(student.textbox).to_have_value("One more thing")
    expect(student.item("One more thing")).to_have_count(0)
    # Nothing sideways on the phone, and the composer is on screen.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    expect(student.textbox).to_be_in_viewport()

    # The teacher sees the question in the open questions, answers it and marks it answered.
    questions = home.get_by_role("region", name=re.compile(r"^Open questions"))
    expect(questions).to_contain_text(QUESTION)
    expect(questions.locator(".count")).to_have_text("1")
    teacher.send("Chapters 3 and 4, Sam.")
    teacher.expect_sent("Chapters 3 and 4, Sam.")  # moderators are not slowed down
    questions.get_by_role("button", name=f"Mark answered: Sam, “{QUESTION}”").click()
    expect(questions).to_contain_text("No open questions.")
    expect(questions.locator(".count")).to_have_text("0")

    # The student sees it answered, live.
    student.expect_once("Chapters 3 and 4, Sam.")
    expect(student.item(QUESTION).locator(".question-mark")).to_have_text("Question · Answered")
    expect(page.locator("#classroom-status")).to_have_text("Your question was marked answered.")

    # The teacher's moderation log has each step.
    home.get_by_text("Moderation log", exact=True).click()
    log = home.get_by_role("list", name="Moderation log")
    expect(log).to_be_visible()
    expect(log).to_contain_text("Ms Rivera pinned a message by Ms Rivera")
    expect(log).to_contain_text("Ms Rivera set slow mode to 30 s")
    expect(log).to_contain_text("Ms Rivera marked a question from Sam answered")

    # What the pages showed is what the database holds.
    with class_server.app().app_context():
        room = db.session.scalar(db.select(Room).filter_by(slug="physics-9a"))
        assert room.is_class and room.slow_mode_seconds == 30
        question = db.session.scalar(db.select(Message).filter_by(body=QUESTION))
        assert question.is_question and question.answered_at is not None
        assert db.session.scalar(db.select(Message).filter_by(body=ANNOUNCEMENT)).pinned_at is not None
        actions = list(db.session.scalars(db.select(ModerationAction.action).order_by(ModerationAction.id)))
        assert actions == ["pin", "settings", "answer_question"]
        assert db.session.scalar(db.select(Message.id).filter_by(body="One more thing")) is None

    # After a reload the student's page still shows it all, rendered by the server.
    page.reload()
    student.expect_connected()
    expect(page.get_by_role("region", name="Pinned")).to_contain_text(ANNOUNCEMENT)
    expect(student.item(QUESTION).locator(".question-mark")).to_have_text("Question · Answered")
    expect(student.send_button).to_be_disabled()  # still waiting out slow mode, from the server's count


def test_moderator_removes_a_message_and_announcement_only_closes_the_composer(open_room, class_server):
    """The moderator side, with the teacher on a phone: a removal shows as such, never vanishes."""
    with class_server.app().app_context():
        from chatapp.models import User
        from chatapp.services import rooms

        teacher_user = db.session.scalar(db.select(User).filter_by(username="rivera"))
        student_user = db.session.scalar(db.select(User).filter_by(username="sam"))
        room = rooms.create_class(name="Biology", teacher=teacher_user)
        rooms.join_by_code(user=student_user, code=room.join_code)
    teacher = open_room("rivera", room="biology", viewport=PHONE, is_mobile=True, has_touch=True)
    student = open_room("sam", room="biology")
    # At 360 px the moderator tools fold under their summary, and nothing scrolls sideways.
    tools = teacher.page.get_by_role("group", name="Moderator tools")
    expect(tools).to_be_hidden()
    teacher.page.get_by_text("Moderator tools", exact=True).click()
    expect(tools).to_be_visible()
    assert teacher.page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    student.send("something I regret")
    student.expect_sent("something I regret")
    teacher.expect_once("something I regret")
    teacher.item("something I regret").get_by_role("button", name="Actions for the message from Sam").click()
    teacher.page.get_by_role("menuitem", name="Remove message").click()
    confirm = teacher.page.get_by_role("menuitem", name="Remove: are you sure?")
    confirm.click()
    for chat in (teacher, student):
        expect(chat.item("Removed by a moderator")).to_have_count(1)
        expect(chat.item("something I regret")).to_have_count(0)

    teacher.page.get_by_label("Announcement-only").check()
    expect(student.page.locator("#composer-closed")).to_have_text(
        "This room is announcement-only: only its moderators can post."
    )
    expect(student.textbox).to_be_hidden()
    expect(teacher.textbox).to_be_visible()
    teacher.page.get_by_label("Announcement-only").uncheck()
    expect(student.textbox).to_be_visible()


def test_member_menus_follow_the_servers_capabilities_live(open_room, class_server):
    """A moderator moderates members only: not the owner, not another moderator, even one made so while they look."""
    class_server.add_user("lee", display_name="Mr Lee")
    with class_server.app().app_context():
        from chatapp.models import User
        from chatapp.services import moderation, rooms

        def user(name):
            return db.session.scalar(db.select(User).filter_by(username=name))

        room = rooms.create_class(name="Chemistry", teacher=user("rivera"))
        for name in ("sam", "lee"):
            rooms.join_by_code(user=user(name), code=room.join_code)
        moderation.set_member_role(actor=user("rivera"), room=room, target=user("lee"), role="moderator")
    teacher = open_room("rivera", room="chemistry")
    helper = open_room("lee", room="chemistry")
    student = open_room("sam", room="chemistry")

    for name in ("Sam", "Mr Lee"):
        expect(teacher.member(name).get_by_role("button", name=f"Moderate {name}")).to_have_count(1)
    expect(helper.member("Sam").get_by_role("button", name="Moderate Sam")).to_have_count(1)
    for name in ("Ms Rivera", "Mr Lee"):
        expect(helper.member(name).get_by_role("button", name=f"Moderate {name}")).to_have_count(0)
    expect(student.page.locator(".member-menu-button")).to_have_count(0)
    # Only the owner is offered to choose moderators.
    helper.member("Sam").get_by_role("button", name="Moderate Sam").click()
    expect(helper.page.get_by_role("menuitem", name="Mute for 10 minutes")).to_be_visible()
    expect(helper.page.get_by_role("menuitem", name="Make moderator")).to_have_count(0)
    helper.page.keyboard.press("Escape")

    # The teacher makes Sam a moderator: Mr Lee's page stops offering to moderate him.
    teacher.member("Sam").get_by_role("button", name="Moderate Sam").click()
    teacher.page.get_by_role("menuitem", name="Make moderator").click()
    expect(helper.member("Sam").get_by_role("button", name="Moderate Sam")).to_have_count(0)
    expect(teacher.member("Sam").get_by_role("button", name="Moderate Sam")).to_have_count(1)
    expect(student.page.locator("#classroom-status")).to_have_text(
        "You are now a moderator of this room. Reload the page to get the moderator tools."
    )
