"""Screenshots of the main pages, for docs/screenshots/: `.venv/bin/python scripts/screenshots.py`.

Starts the real server (tests.live.LiveServer) on a throwaway database with demo people and a
short conversation, then photographs the pages in headless Chromium at desktop and phone size.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from flask_migrate import upgrade  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402
from sqlalchemy import text  # noqa: E402

from chatapp import create_app  # noqa: E402
from chatapp.extensions import db  # noqa: E402
from chatapp.models import User  # noqa: E402
from chatapp.services import messages, rooms  # noqa: E402
from tests.browser.chat import DESKTOP, PHONE, ChatPage, launch_chromium, log_in  # noqa: E402
from tests.conftest import base_config  # noqa: E402
from tests.live import LiveServer  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "screenshots"

CONVERSATION = [
    ("rivera", "Good morning! Today: cell membranes. Chapter 4 is on the shared drive."),
    ("mei", "Morning! Is the quiz still on Friday?"),
    ("rivera", "Yes, Friday, first 15 minutes. Open book."),
    ("tom", "Can we use our lab notes too?"),
    ("rivera", "Lab notes are fine. No phones."),
    ("mei", "Thanks 🙏 Also: is <b>osmosis</b> on it? (asking for a friend)"),
]


def migrated_database(folder: Path) -> Path:
    """An empty database file brought up to date by the real migrations."""
    path = folder / "template.sqlite3"
    app = create_app(base_config(path))
    with app.app_context():
        upgrade()
        db.session.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
        db.session.remove()
        db.engine.dispose()
    return path


def seed(server: LiveServer) -> None:
    """Demo people, rooms and a conversation, through the same services as every other door."""
    server.add_user("rivera", role="staff", display_name="Ms. Rivera")
    server.add_user("mei", display_name="Mei Chen")
    server.add_user("tom", display_name="Tom Okafor")
    server.add_room("biology-7b", name="Biology 7B", owner="rivera")
    server.add_room("homework-help", name="Homework help")
    server.add_room("lab-partners", name="Lab partners", private=True, owner="mei")
    with server.app().app_context():
        room = rooms.get_room("biology-7b")
        for n, (username, body) in enumerate(CONVERSATION):
            sender = db.session.scalar(db.select(User).filter_by(username=username))
            messages.post_message(sender=sender, room=room, body=body, client_id=f"demo-{n}", enforce_rate_limit=False)


def open_room(browser, server: LiveServer, username: str, viewport: dict) -> ChatPage:
    """A logged-in person on the demo room, live."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                                  device_scale_factor=2 if viewport is PHONE else 1)
    chat = ChatPage(context, context.new_page(), server.url, username, "biology-7b")
    chat.log_in_and_open()
    return chat


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatapp-screens-") as tmp:
        folder = Path(tmp)
        server = LiveServer(folder, migrated_database(folder))
        seed(server)
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                context = browser.new_context(viewport=DESKTOP)
                page = context.new_page()
                page.goto(server.url + "/auth/login")
                page.screenshot(path=OUT / "login.png")
                log_in(page, server.url, "mei")
                page.screenshot(path=OUT / "rooms.png", full_page=True)
                context.close()

                # Tom is in the room too, typing, so presence and the typing line show.
                tom = open_room(browser, server, "tom", DESKTOP)
                mei = open_room(browser, server, "mei", DESKTOP)
                tom.textbox.press_sequentially("I think it", delay=10)
                expect(mei.typing_line).to_have_text("Tom Okafor is typing…")
                mei.textbox.fill("See you Friday!")
                mei.page.screenshot(path=OUT / "room.png")

                phone = open_room(browser, server, "mei", PHONE)
                tom.textbox.press_sequentially(" depends on", delay=300)  # long enough to say so again
                expect(phone.typing_line).to_have_text("Tom Okafor is typing…")
                phone.page.screenshot(path=OUT / "room-phone.png")
                browser.close()
        finally:
            server.stop()
    for name in ("login.png", "rooms.png", "room.png", "room-phone.png"):
        print(OUT / name)


if __name__ == "__main__":
    main()
