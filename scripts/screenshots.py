"""The README's screenshots, for docs/screenshots/: `make screenshots` (or `.venv/bin/python scripts/screenshots.py`).

Starts the real server (harness.live.LiveServer) on a throwaway database with demo people, a
class conversation over three days (day separators, grouped messages, a picture) and a
support conversation, then photographs the pages in headless Chromium: desktop and phone,
light and dark, English and Chinese. `make screenshots` also runs classroom_screenshots.py
and messaging_screenshots.py; tests/test_screenshots.py checks every picture the README
shows is one a script makes.
"""
from __future__ import annotations

import datetime as dt
import io
import sys
import tempfile
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(PROJECT_ROOT))

from PIL import Image, ImageDraw  # noqa: E402
from playwright.sync_api import expect, sync_playwright  # noqa: E402

from chatapp.extensions import db  # noqa: E402
from chatapp.models import Message, User  # noqa: E402
from chatapp.services import messages, rooms, sites, uploads  # noqa: E402
from harness.browser import DESKTOP, PHONE, ChatPage, launch_chromium, log_in  # noqa: E402
from harness.database import PASSWORD, migrated_database  # noqa: E402
from harness.live import LiveServer  # noqa: E402

OUT = PROJECT_ROOT / "docs" / "screenshots"
# Tall enough for the three days of the class conversation: separators, groups and the picture.
TALL = {"width": 1280, "height": 1120}

# (days ago, minutes before now on that day, who, text): two days of a class, then today.
CONVERSATION = [
    (2, 95, "rivera", "Good morning! Today: cell membranes. Chapter 4 is on the shared drive."),
    (2, 94, "rivera", "Bring your lab coats on Thursday."),
    (1, 60, "mei", "Is the quiz still on Friday?"),
    (1, 59, "mei", "And is it open book?"),
    (0, 40, "rivera", "Yes, Friday, first 15 minutes. Open book."),
    (0, 31, "wang", "好的，谢谢老师！我们可以用实验笔记吗？"),
    (0, 30, "tom", "Can we use our lab notes too?"),
    (0, 29, "rivera", "Lab notes are fine. No phones."),
    (0, 12, "mei", "Thanks 🙏 Also: is <b>osmosis</b> on it? (asking for a friend)"),
]


def drawing() -> bytes:
    """A student's sketch of a cell, as a PNG."""
    image = Image.new("RGB", (800, 520), (246, 241, 226))
    pen = ImageDraw.Draw(image)
    pen.ellipse((120, 60, 680, 460), fill=(187, 222, 170), outline=(62, 120, 70), width=10)
    pen.ellipse((330, 190, 470, 320), fill=(150, 110, 190), outline=(90, 60, 130), width=6)
    for x, y in ((220, 150), (560, 170), (250, 360), (560, 350)):
        pen.ellipse((x, y, x + 46, y + 28), fill=(232, 150, 90))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def seed(server: LiveServer) -> str:
    """Demo people, rooms, a three-day class conversation and a widget site; returns the site key."""
    server.add_user("rivera", role="staff", display_name="Ms. Rivera")
    server.add_user("mei", display_name="Mei Chen")
    server.add_user("tom", display_name="Tom Okafor")
    server.add_user("wang", display_name="王小明")
    server.add_room("biology-7b", name="Biology 7B", owner="rivera")
    server.add_room("homework-help", name="Homework help")
    server.add_room("lab-partners", name="Lab partners", private=True, owner="mei")
    now = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)
    with server.app().app_context():
        room = rooms.get_room("biology-7b")
        for n, (days, minutes, username, body) in enumerate(CONVERSATION):
            result = messages.post_message(sender=_user(username), room=room, body=body, client_id=f"demo-{n}",
                                           enforce_rate_limit=False)
            # Demo history: the services stamp "now"; the story needs yesterday and the day before.
            db.session.get(Message, result.message.id).created_at = now - dt.timedelta(days=days, minutes=minutes)
            db.session.commit()
        room = rooms.get_room("biology-7b")
        upload = uploads.store_upload(uploader=_user("tom"), room=room, data=drawing(), filename="cell.png")
        messages.post_message(sender=_user("tom"), room=room, body="My drawing of the cell, for the poster",
                              client_id="demo-picture", attachments=[upload.attachment.id], enforce_rate_limit=False)
        site = sites.create_site(actor=None, name="Acme bicycles", origins=[server.url])
        return site.site_key


def open_room(browser, server: LiveServer, username: str, viewport: dict, **context_options) -> ChatPage:
    """A logged-in person on the demo room, live."""
    context = browser.new_context(viewport=viewport, is_mobile=viewport is PHONE, has_touch=viewport is PHONE,
                                  device_scale_factor=2 if viewport is PHONE else 1, **context_options)
    chat = ChatPage(context, context.new_page(), server.url, username, "biology-7b")
    chat.log_in_and_open()
    return chat


def shoot(page, name: str, **options) -> None:
    """Save docs/screenshots/<name>.png and say so."""
    path = OUT / f"{name}.png"
    page.screenshot(path=path, **options)
    print(path)


def rooms_and_login(browser, server: LiveServer) -> None:
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(server.url + "/auth/login")
    shoot(page, "login")
    log_in(page, server.url, "mei")
    shoot(page, "rooms", full_page=True)
    page.goto(server.url + "/no-such-page")
    shoot(page, "error-404")
    context.close()


def the_room(browser, server: LiveServer) -> None:
    """The class room: light, dark, Chinese, a phone, and a picture opened."""
    # Tom is in the room too, typing, so presence and the typing line show.
    tom = open_room(browser, server, "tom", DESKTOP)
    mei = open_room(browser, server, "mei", TALL)
    tom.textbox.press_sequentially("I think it", delay=10)
    expect(mei.typing_line).to_have_text("Tom Okafor is typing…")
    mei.textbox.fill("See you Friday!")
    shoot(mei.page, "room")
    mei.page.locator("li.msg a.attachment").first.click()
    expect(mei.page.locator("dialog[open]")).to_be_visible()
    shoot(mei.page, "picture-preview")
    mei.context.close()

    dark = open_room(browser, server, "mei", TALL, color_scheme="dark")
    shoot(dark.page, "room-dark")
    dark.context.close()

    phone = open_room(browser, server, "mei", PHONE)
    tom.textbox.press_sequentially(" depends on", delay=300)  # long enough to say so again
    expect(phone.typing_line).to_have_text("Tom Okafor is typing…")
    shoot(phone.page, "room-phone")
    phone.context.close()
    tom.context.close()

    # Wang reads in Chinese: a browser asking for Chinese gets the whole page in Chinese.
    context = browser.new_context(viewport=TALL, extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    page = context.new_page()
    page.goto(f"{server.url}/auth/login?next=/rooms/biology-7b")
    page.get_by_label("用户名").fill("wang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    page.get_by_role("textbox", name="消息").fill("周五见！")
    shoot(page, "room-zh")
    context.close()


def the_support_desk(browser, server: LiveServer, site_key: str) -> None:
    """A visitor writes from the widget on the demo page; Ms. Rivera answers from the console."""
    agent_context = browser.new_context(viewport=DESKTOP)
    agent = agent_context.new_page()
    log_in(agent, server.url, "rivera", next_path="/support")
    expect(agent.locator("#connection")).to_have_attribute("data-state", "online")

    visitor_context = browser.new_context(viewport=DESKTOP)
    visitor = visitor_context.new_page()
    visitor.goto(f"{server.url}/support/demo?site={site_key}")
    visitor.get_by_role("button", name="Open chat").click()
    frame = visitor.frame_locator("iframe[title=Chat]")
    box = frame.get_by_role("textbox", name="Message")
    expect(box).to_be_enabled()
    box.fill("Hello, does the cargo bike come in green?")
    frame.get_by_role("button", name="Send").click()

    agent.locator(".queue-item", has_text="cargo bike").click()
    agent.get_by_role("button", name="Claim").click()
    agent.get_by_role("textbox", name="Message").fill("Yes, it does: green ships in March. Shall I reserve one?")
    agent.get_by_role("button", name="Send").click()
    expect(frame.locator("li.msg", has_text="green ships")).to_have_count(1)
    box.fill("Yes please!")
    shoot(visitor, "support-widget-desktop")
    shoot(agent, "support-console-conversation")
    visitor_context.close()
    agent_context.close()


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chatapp-screens-") as tmp:
        folder = Path(tmp)
        server = LiveServer(folder, migrated_database(folder / "template.sqlite3"))
        site_key = seed(server)
        server.start()
        try:
            with sync_playwright() as playwright:
                browser = launch_chromium(playwright)
                rooms_and_login(browser, server)
                the_room(browser, server)
                the_support_desk(browser, server, site_key)
                browser.close()
        finally:
            server.stop()


if __name__ == "__main__":
    main()
