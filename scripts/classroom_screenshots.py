"""Screenshots of a class, for docs/screenshots/classroom-*.png: `.venv/bin/python scripts/classroom_screenshots.py`.

Starts the real server (harness.live.LiveServer) on a throwaway database, makes a class with a
teacher and students through the services, then photographs the teacher's and the students'
pages in headless Chromium at desktop and phone size.
"""
from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from playwright.sync_api import expect, sync_playwright  # noqa: E402

from chatapp.extensions import db  # noqa: E402
from chatapp.models import User  # noqa: E402
from chatapp.services import messages, moderation, questions, rooms  # noqa: E402
from harness.browser import DESKTOP, PHONE, ChatPage, launch_chromium, log_in  # noqa: E402
from harness.database import migrated_database  # noqa: E402
from harness.live import LiveServer  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "screenshots"
SLUG = "physics-9a"

CONVERSATION = [
    ("rivera", "Welcome to Physics 9A! The test is on Friday, chapters 3 and 4. Calculators allowed."),
    ("mei", "Good morning!"),
    ("tom", "Is the formula sheet given or do we bring our own?", True),
    ("rivera", "It is given: one page, printed on the back of the test."),
    ("ana", "Do we need to know the derivation of v = u + at?", True),
    ("tom", "lol this class is so boring"),
    ("mei", "What about the lab report, when is it due?", True),
]


def user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def seed(server: LiveServer) -> str:
    """A class with a pinned announcement, questions (one answered), a removed message and slow mode; returns the code."""
    server.add_user("rivera", role="staff", display_name="Ms. Rivera")
    for username, name in [("mei", "Mei Chen"), ("tom", "Tom Okafor"), ("ana", "Ana Souza")]:
        server.add_user(username, display_name=name)
    with server.app().app_context():
        teacher = user("rivera")
        room = rooms.create_room(name="Physics 9A", slug=SLUG, creator=teacher, private=True, is_class=True)
        for username in ("mei", "tom", "ana"):
            rooms.join_by_code(user=user(username), code=room.join_code)
        stored = {}
        for n, (username, body, *question) in enumerate(CONVERSATION):
            stored[body] = messages.post_message(
                sender=user(username), room=room, body=body, client_id=f"demo-{n}", enforce_rate_limit=False,
                question=bool(question),
            ).message
        moderation.pin_message(actor=teacher, message=stored[CONVERSATION[0][1]])
        questions.answer_question(actor=teacher, message=stored[CONVERSATION[2][1]])
        moderation.delete_message(actor=teacher, message=stored["lol this class is so boring"])
        moderation.mute_member(actor=teacher, room=room, target=user("tom"), minutes=10)
        moderation.set_room_settings(actor=teacher, room=room, slow_mode_seconds=30)
        return room.join_code


def open_page(browser, server: LiveServer, username: str, viewport: dict) -> ChatPage:
    """A logged-in person on the class, live."""
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
    chat = ChatPage(context, context.new_page(), server.url, username, SLUG)
    chat.log_in_and_open()
    return chat


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []

    def shoot(page, name: str, **options) -> None:
        path = OUT / f"classroom-{name}.png"
        page.screenshot(path=path, **options)
        shots.append(path)

    with tempfile.TemporaryDirectory(prefix="chatapp-classroom-") as tmp:
        folder = Path(tmp)
        server = LiveServer(folder, migrated_database(folder / "template.sqlite3"))
        code = seed(server)
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)

                # The teacher's home page, about to create another class.
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                log_in(page, server.url, "rivera")
                page.get_by_label("Room name").fill("Chemistry 9B")
                page.get_by_label("Class (students join with a code; you moderate)").check()
                page.get_by_label("Class join code valid for").select_option("10080")
                shoot(page, "create")
                context.close()

                # A student opening the join link.
                context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
                page = context.new_page()
                server.add_user("leo", display_name="Leo Park")
                page.goto(f"{server.url}/join/{code}")
                page.get_by_label("Username").fill("leo")
                page.get_by_label("Password").fill("correct-horse-42")
                page.get_by_role("button", name="Log in").click()
                page.wait_for_url(re.compile(r"/join/"))
                shoot(page, "join-phone")
                page.get_by_role("button", name="Join class").click()
                page.wait_for_url(f"{server.url}/rooms/{SLUG}")
                context.close()

                # The teacher's room: toolbar, pinned, open questions, the log.
                teacher = open_page(browser, server, "rivera", DESKTOP)
                teacher.page.get_by_text("Moderation log", exact=True).click()
                expect(teacher.page.locator("#modlog li")).to_have_count(5)
                shoot(teacher.page, "teacher")

                # A student in slow mode, right after asking.
                mei = open_page(browser, server, "mei", DESKTOP)
                mei.page.get_by_label("Ask as a question").check()
                mei.send("Can we bring a ruler?")
                expect(mei.item("Can we bring a ruler?").locator(".state")).to_have_text("Sent")
                expect(mei.page.locator("#send-wait")).to_contain_text("You can send again in")
                mei.textbox.fill("Also, is it open book?")
                shoot(mei.page, "student")

                # The teacher answers from the open questions and opens a message's menu.
                questions_panel = teacher.page.get_by_role("region", name=re.compile(r"^Open questions"))
                expect(questions_panel).to_contain_text("Can we bring a ruler?")
                teacher.send("Yes, rulers are fine.")
                questions_panel.get_by_role("button", name="Mark answered: Mei Chen, “Can we bring a ruler?”").click()
                expect(mei.item("Can we bring a ruler?").locator(".question-mark")).to_have_text("Question · Answered")
                teacher.item("Good morning!").get_by_role("button", name="Actions for the message from Mei Chen").click()
                shoot(teacher.page, "teacher-menu")
                teacher.page.keyboard.press("Escape")
                teacher.page.get_by_role("button", name="Moderate Tom Okafor").click()
                shoot(teacher.page, "member-menu")
                teacher.page.keyboard.press("Escape")

                # A student on a phone: pinned, answered question, countdown; then a muted student.
                phone = open_page(browser, server, "ana", PHONE)
                phone.page.get_by_label("Ask as a question").check()
                phone.send("Is the test multiple choice?")
                expect(phone.item("Is the test multiple choice?").locator(".state")).to_have_text("Sent")
                expect(phone.page.locator("#send-wait")).to_contain_text("You can send again in")
                shoot(phone.page, "student-phone")
                tom = open_page(browser, server, "tom", PHONE)
                expect(tom.page.locator("#muted-note")).to_be_visible()
                shoot(tom.page, "muted-phone")

                # Announcement-only, as a student sees it.
                teacher.page.get_by_label("Announcement-only").check()
                expect(mei.page.locator("#composer-closed")).to_be_visible()
                shoot(mei.page, "announcement-only")

                # The teacher on a phone.
                teacher_phone = open_page(browser, server, "rivera", PHONE)
                shoot(teacher_phone.page, "teacher-phone", full_page=True)
                browser.close()
        finally:
            server.stop()
    for path in shots:
        print(path)


if __name__ == "__main__":
    main()
