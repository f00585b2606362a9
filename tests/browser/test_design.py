"""The look, in Chromium: grouped messages, day separators, avatars, the picture preview, the theme
switch and the favicon's unread dot (static/js/grouping.js, preview.js, notify.js; main/theme.py)."""
from __future__ import annotations

import datetime as dt
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, User
from chatapp.services import messages as message_service
from chatapp.services import rooms as room_service
from chatapp.services import uploads as upload_service

pytestmark = pytest.mark.browser


def post(server, username: str, body: str, *, ago: dt.timedelta | None = None, picture: bytes | None = None) -> int:
    """Store a message through the service (optionally `ago` in the past, or with a picture); return its id."""
    with server.app().app_context():
        sender = db.session.scalar(db.select(User).filter_by(username=username))
        room = room_service.get_room("lobby")
        attachments = None
        if picture is not None:
            upload = upload_service.store_upload(uploader=sender, room=room, data=picture, filename="cells.png")
            attachments = [upload.attachment.id]
        message = message_service.post_message(
            sender=sender, room=room, body=body, client_id=f"seed-{body}", enforce_rate_limit=False,
            attachments=attachments,
        ).message
        if ago is not None:
            message = db.session.get(Message, message.id)
            message.created_at = dt.datetime.now(dt.timezone.utc).replace(tzinfo=None) - ago
            db.session.commit()
        return message.id


def on_screen(locator) -> bool:
    """Whether the element takes room on screen (a visually hidden one is a 1px clipped box)."""
    box = locator.bounding_box()
    return box is not None and box["width"] > 1 and box["height"] > 1


def test_quick_messages_by_one_sender_share_one_header(chat_server, open_room):
    alice = open_room("alice")
    bob = open_room("bob")
    for body in ("first of mine", "second of mine"):
        alice.send(body)
        alice.expect_sent(body)
    bob.send("bob cuts in")
    bob.expect_sent("bob cuts in")  # stored before Alice's next: otherwise it may take the later id
    alice.send("after bob")
    alice.expect_sent("after bob")

    for chat in (alice, bob):
        expect(chat.item("after bob")).to_have_count(1)
        grouped = chat.log.locator("li.msg.grouped .body").all_text_contents()
        assert grouped == ["second of mine"], grouped
        # One name on screen for Alice's two messages; the second keeps it for screen readers only.
        assert on_screen(chat.item("first of mine").locator(".sender"))
        assert not on_screen(chat.item("second of mine").locator(".sender"))
        expect(chat.item("second of mine").locator(".sender")).to_have_text("Alice")
    # Bob sees Alice's avatar on the first of her messages only, and his own messages have none shown.
    expect(bob.item("first of mine").locator(".avatar")).to_be_visible()
    expect(bob.item("second of mine").locator(".avatar")).not_to_be_visible()
    expect(bob.item("bob cuts in").locator(".avatar")).not_to_be_visible()


def test_a_message_more_than_five_minutes_later_starts_a_new_group(chat_server, open_room):
    post(chat_server, "alice", "long ago", ago=dt.timedelta(minutes=20))
    post(chat_server, "alice", "a bit later", ago=dt.timedelta(minutes=10))
    post(chat_server, "alice", "right after", ago=dt.timedelta(minutes=9))
    bob = open_room("bob")
    expect(bob.log.locator("li.msg")).to_have_count(3)
    assert bob.log.locator("li.msg.grouped .body").all_text_contents() == ["right after"]


def test_days_are_separated_and_the_separators_are_not_messages(chat_server, open_room):
    post(chat_server, "bob", "two days back", ago=dt.timedelta(days=2, hours=1))
    post(chat_server, "bob", "yesterday's news", ago=dt.timedelta(days=1))
    alice = open_room("alice")
    alice.send("today's news")
    alice.expect_sent("today's news")

    separators = alice.log.locator("li.day-separator")
    expect(separators).to_have_count(3)
    labels = separators.all_text_contents()
    assert labels[1:] == ["Yesterday", "Today"], labels
    # Hidden from the accessibility tree (the live log does not read them), and not messages.
    for separator in separators.all():
        expect(separator).to_have_attribute("aria-hidden", "true")
    assert alice.bodies() == ["two days back", "yesterday's news", "today's news"]
    order = alice.log.locator("li").evaluate_all(
        "items => items.map(li => li.classList.contains('day-separator')"
        " ? 'day' : li.querySelector('.body').textContent)"
    )
    assert order == ["day", "two days back", "day", "yesterday's news", "day", "today's news"], order


def test_older_pages_prepended_on_scroll_up_are_grouped_with_what_was_there(chat_server, open_room):
    # 60 quick messages by Bob: the page shows the newest 50; the older 10 come with "Load older".
    with chat_server.app().app_context():
        bob = db.session.scalar(db.select(User).filter_by(username="bob"))
        room = room_service.get_room("lobby")
        for n in range(60):
            message_service.post_message(sender=bob, room=room, body=f"line {n}", client_id=f"line-{n}",
                                         enforce_rate_limit=False)
    alice = open_room("alice")
    expect(alice.page.get_by_role("button", name="Load older messages")).to_be_visible()
    alice.page.get_by_role("button", name="Load older messages").click()
    expect(alice.log.locator("li.msg")).to_have_count(60)
    # One group, one header, one separator: the boundary between the pages was looked at again.
    expect(alice.log.locator("li.msg:not(.grouped)")).to_have_count(1)
    expect(alice.log.locator("li.msg:not(.grouped) .body")).to_have_text("line 0")
    expect(alice.log.locator("li.day-separator")).to_have_count(1)


def test_avatars_show_initials_in_a_stable_colour(chat_server, open_room):
    chat_server.add_user("wang", display_name="王小明")
    chat_server.add_user("ada", display_name="ada lovelace byron")
    post(chat_server, "wang", "你好")
    post(chat_server, "ada", "hello")
    post(chat_server, "bob", "hi")
    alice = open_room("alice")
    expect(alice.item("你好").locator(".avatar")).to_have_text("王")
    expect(alice.item("hello").locator(".avatar")).to_have_text("AL")
    expect(alice.item("hi").locator(".avatar")).to_have_text("B")
    for body in ("你好", "hello", "hi"):
        expect(alice.item(body).locator(".avatar")).to_have_attribute("aria-hidden", "true")
    colour = alice.item("hi").locator(".avatar").get_attribute("data-colour")
    alice.page.reload()
    alice.expect_connected()
    expect(alice.item("hi").locator(".avatar")).to_have_attribute("data-colour", colour)


def test_a_thumbnail_opens_the_picture_in_a_dialog_and_escape_closes_it(chat_server, open_room):
    picture = io.BytesIO()
    Image.new("RGB", (640, 400), (80, 150, 110)).save(picture, format="PNG")
    post(chat_server, "bob", "my drawing", picture=picture.getvalue())
    alice = open_room("alice")
    thumbnail = alice.item("my drawing").locator("a.attachment")
    thumbnail.click()
    dialog = alice.page.get_by_role("dialog", name="Picture: cells.png")
    expect(dialog).to_be_visible()
    full = dialog.get_by_role("img", name="Picture: cells.png")
    expect(full).to_have_attribute("src", thumbnail.get_attribute("href"))
    assert full.evaluate("img => img.complete && img.naturalWidth") == 640
    alice.page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    expect(thumbnail).to_be_focused()
    # And again, closed with its button this time.
    thumbnail.press("Enter")
    expect(dialog).to_be_visible()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()
    expect(thumbnail).to_be_focused()


def test_the_theme_switch_is_remembered_across_reloads(chat_server, open_room):
    alice = open_room("alice", color_scheme="light")
    page = alice.page
    background = "() => getComputedStyle(document.body).backgroundColor"
    light = page.evaluate(background)
    theme = page.get_by_role("form", name="Theme")
    expect(theme.get_by_role("button", name="Theme of the system")).to_have_attribute("aria-pressed", "true")

    theme.get_by_role("button", name="Dark theme").click()
    alice.expect_connected()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    dark = page.evaluate(background)
    assert dark != light
    page.reload()
    alice.expect_connected()
    expect(page.locator("html")).to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == dark
    expect(page.get_by_role("form", name="Theme").get_by_role("button", name="Dark theme")).to_have_attribute(
        "aria-pressed", "true")

    page.get_by_role("form", name="Theme").get_by_role("button", name="Theme of the system").click()
    alice.expect_connected()
    expect(page.locator("html")).not_to_have_attribute("data-theme", "dark")
    assert page.evaluate(background) == light


def test_the_tab_icon_gets_a_dot_for_messages_that_came_while_it_was_hidden(chat_server, open_room):
    alice = open_room("alice")
    bob = open_room("bob")
    icon = alice.page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("href", "/static/favicon.svg")
    # Alice's tab goes to the background (as when she switches tabs): Chromium reports it hidden.
    alice.page.evaluate("""() => {
      Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
      Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
      document.dispatchEvent(new Event("visibilitychange"));
    }""")
    bob.send("are you there?")
    expect(icon).to_have_attribute("href", "/static/favicon-unread.svg")
    expect(alice.page).to_have_title("(1) Lobby · chatapp")
    # She comes back: the dot goes.
    alice.page.evaluate("""() => {
      delete document.hidden;
      delete document.visibilityState;
      document.dispatchEvent(new Event("visibilitychange"));
    }""")
    expect(icon).to_have_attribute("href", "/static/favicon.svg")
    expect(alice.page).to_have_title("Lobby · chatapp")


def test_after_midnight_today_becomes_yesterday_without_a_reload(chat_server, open_room):
    """A page left open overnight: its separators move on with the date, not at the next message."""
    alice = open_room("alice", setup=lambda context: context.clock.install())
    alice.send("late last night")
    alice.expect_sent("late last night")
    separators = alice.log.locator("li.day-separator")
    expect(separators).to_have_text(["Today"])
    alice.page.clock.set_system_time(dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=1))
    alice.page.clock.fast_forward(61_000)  # the minute's check comes round once
    expect(separators).to_have_text(["Yesterday"])


def as_a_browser_without_light_dark(context) -> None:
    """Serve the stylesheets as a browser from before 2024 reads them: light-dark() is an unknown function."""

    def rewrite(route):
        response = route.fetch()
        route.fulfill(response=response, body=response.text().replace("light-dark(", "no-such-function("))

    context.route(re.compile(r"/static/css/[\w-]+\.css"), rewrite)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_a_browser_without_light_dark_gets_the_light_colours(chat_server, open_room, color_scheme):
    alice = open_room("alice", setup=as_a_browser_without_light_dark, color_scheme=color_scheme)
    alice.send("Still readable")
    alice.expect_sent("Still readable")
    send = alice.page.get_by_role("button", name="Send")
    expect(send).to_have_css("background-color", "rgb(47, 95, 208)")  # --accent, light half
    expect(send).to_have_css("color", "rgb(255, 255, 255)")
    expect(alice.page.locator("body")).to_have_css("background-color", "rgb(246, 247, 249)")
    expect(alice.page.locator("body")).to_have_css("color", "rgb(29, 35, 48)")
    expect(alice.item("Still readable")).to_have_css("background-color", "rgb(231, 238, 252)")  # --own
