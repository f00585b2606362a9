"""Screenshots of messaging, for docs/screenshots/messaging-*.png: `.venv/bin/python scripts/messaging_screenshots.py`.

Starts the real server (harness.live.LiveServer) on a throwaway database, adds a teacher and
three students through the services, then in headless Chromium: Markdown and @mentions, the
emoji picker, a picture upload, an edit, search and a result in its context, a direct
message from the member list, the room list's unread counts (live), and a phone.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from chatapp.extensions import db  # noqa: E402
from chatapp.models import User  # noqa: E402
from chatapp.services import messages, rooms  # noqa: E402
from harness.browser import DESKTOP, PHONE, ChatPage, launch_chromium, log_in  # noqa: E402
from harness.database import migrated_database  # noqa: E402
from harness.live import LiveServer  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "screenshots"
SLUG = "maths-7b"

ANNOUNCEMENTS = [
    "Good morning, 7B! Homework for **Friday**: exercises 4–9 on page 42.",
    "Remember: show your working, not just the answer.",
    "Questions about the homework? Ask here or send me a direct message.",
]


def seed(server: LiveServer) -> None:
    """A teacher, three students, a class room and the lobby, through the services."""
    server.add_user("mslee", role="staff", display_name="Ms Lee")
    for username, name in [("alice", "Alice Chen"), ("bob", "Bob Okafor"), ("carol", "Carol Diaz")]:
        server.add_user(username, display_name=name)
    server.add_room("lobby", name="Lobby", owner="mslee")
    server.add_room(SLUG, name="Maths 7B", owner="mslee")
    with server.app().app_context():
        people = {u.username: u for u in db.session.scalars(db.select(User))}
        maths, lobby = rooms.get_room(SLUG), rooms.get_room("lobby")
        for username in ("alice", "bob", "carol"):
            rooms.enter_room(user=people[username], room=maths)
            rooms.enter_room(user=people[username], room=lobby)
        for n, body in enumerate(ANNOUNCEMENTS):
            messages.post_message(sender=people["mslee"], room=maths, body=body, client_id=f"t{n}", enforce_rate_limit=False)
        messages.post_message(sender=people["carol"], room=lobby, body="Has anyone seen my calculator? 🧮",
                              client_id="c0", enforce_rate_limit=False)


def working_photo(path: Path) -> Path:
    """A photo of worked-out homework (drawn with Pillow)."""
    image = Image.new("RGB", (960, 640), (250, 250, 245))
    draw = ImageDraw.Draw(image)
    for y in range(40, 640, 40):
        draw.line((0, y, 960, y), fill=(200, 215, 235), width=2)
    try:
        font = ImageFont.truetype("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", 64)
    except OSError:
        font = ImageFont.load_default()
    draw.text((60, 120), "Q6:  3/4 × 8", fill=(30, 40, 120), font=font)
    draw.text((60, 260), "= 24/4", fill=(30, 40, 120), font=font)
    draw.text((60, 400), "= 6  ✓", fill=(20, 120, 40), font=font)
    image.save(path)
    return path


def open_page(browser, server: LiveServer, username: str, viewport: dict, room: str = SLUG) -> ChatPage:
    """A logged-in person on a room page, live."""
    phone = viewport is PHONE
    context = browser.new_context(viewport=viewport, is_mobile=phone, has_touch=phone, device_scale_factor=2 if phone else 1)
    chat = ChatPage(context, context.new_page(), server.url, username, room)
    chat.log_in_and_open()
    return chat


def pictures_loaded(page) -> None:
    page.wait_for_function("() => [...document.querySelectorAll('.attachments img, #upload-list img')]"
                           ".every(img => img.complete && img.naturalWidth > 0)")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    shots = []

    def shoot(page, name: str) -> None:
        path = OUT / f"messaging-{name}.png"
        page.screenshot(path=path)
        shots.append(path)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        server = LiveServer(folder, migrated_database(folder / "template.sqlite3"))
        seed(server)
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                alice = open_page(browser, server, "alice", DESKTOP)
                bob = open_page(browser, server, "bob", DESKTOP)

                # Markdown and a mention; Bob sees it highlighted.
                alice.textbox.fill("I'm stuck on **question 6** — is it `3/4 × 8`?\n@bob did you get it?")
                alice.textbox.press("Enter")
                expect(bob.page.locator("li.msg.mentioned")).to_have_count(1)

                # The emoji picker.
                bob.textbox.fill("@alice yes, I got 6 ")
                bob.page.get_by_role("button", name="Insert emoji").click()
                bob.page.get_by_role("button", name="thumbs up").focus()
                shoot(bob.page, "emoji-picker")
                bob.page.get_by_role("button", name="thumbs up").click()
                bob.textbox.press("Enter")

                # A picture, uploaded and ready to go with the next message.
                bob.page.locator("#attach-input").set_input_files(str(working_photo(folder / "working.png")))
                expect(bob.page.locator("#upload-list li.ready img")).to_be_visible()
                pictures_loaded(bob.page)
                bob.textbox.fill("Here's my working:")
                shoot(bob.page, "upload-ready")
                bob.send_button.click()
                expect(alice.page.locator(".attachments img")).to_be_visible()
                pictures_loaded(alice.page)

                # Alice edits her message; Bob's page shows "edited".
                alice.item("I'm stuck on question 6 — is it 3/4 × 8? @bob did you get it?").get_by_role(
                    "button", name="Edit message").click()
                editor = alice.page.get_by_role("textbox", name="Edit message")
                editor.fill("I'm stuck on **question 6** on page 42 — is it `3/4 × 8`?\n@bob did you get it?")
                shoot(alice.page, "editing")
                editor.press("Enter")
                expect(bob.page.locator("li.msg .edited")).to_have_count(1)
                pictures_loaded(bob.page)
                shoot(bob.page, "room-bob")
                shoot(alice.page, "room-alice")

                # Search, and a result opened in its context.
                alice.page.get_by_role("searchbox", name="Search messages").fill("homework")
                alice.page.get_by_role("button", name="Search", exact=True).click()
                expect(alice.page.locator("#search-list li")).to_have_count(2)
                shoot(alice.page, "search")
                # The result is on this page already: it is scrolled to and marked without a reload
                # (one that is not opens /rooms/<slug>?around=ID, tests/browser/test_messaging.py).
                alice.page.locator("#search-list a").last.click()
                expect(alice.page.locator("li.msg.target")).to_be_in_viewport()
                pictures_loaded(alice.page)
                shoot(alice.page, "search-result-in-context")

                # A direct message from the member list.
                bob.member("Ms Lee").get_by_role("button", name="Message Ms Lee").click()
                bob.page.wait_for_url("**/rooms/dm-*")
                bob.room = bob.page.url.rsplit("/", 1)[1]
                bob.expect_connected()
                bob.send("Ms Lee, can I hand in the homework on Monday? My little sister was ill.")
                expect(bob.page.locator("li.msg .state")).to_have_text("Sent")
                shoot(bob.page, "direct")

                # The teacher's room list: unread counts, direct messages apart, counting on live.
                context = browser.new_context(viewport=DESKTOP)
                teacher = context.new_page()
                log_in(teacher, server.url, "mslee")
                expect(teacher.locator("#direct-list .unread .count")).to_have_text("1")
                shoot(teacher, "home-unread")
                alice.page.goto(f"{server.url}/rooms/lobby")
                alice.room = "lobby"
                alice.expect_connected()
                alice.send("@mslee the projector in room 12 isn't working")
                expect(teacher.locator('li[data-room="lobby"] .unread .count')).to_have_text("2")
                shoot(teacher, "home-live")

                # A phone.
                carol = open_page(browser, server, "carol", PHONE)
                pictures_loaded(carol.page)
                shoot(carol.page, "phone")
                browser.close()
        finally:
            server.stop()
    print("\n".join(str(path.relative_to(PROJECT_ROOT)) for path in shots))


if __name__ == "__main__":
    main()
