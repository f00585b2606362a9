"""Two people chatting in one room in Chromium: messages, states, typing, presence, transports."""
from __future__ import annotations

import re
import time

import pytest
from playwright.sync_api import expect

from harness.browser import ACTION_TIMEOUT_MS, PHONE

from ..helpers import stored_messages

pytestmark = pytest.mark.browser


def converse(alice, bob) -> list[str]:
    """Alice and Bob each send with the button and with Enter; return the bodies in send order."""
    sent = []
    for sender, body, enter in [
        (alice, "Hello Bob, button here", False),
        (bob, "Hi Alice, button too", False),
        (alice, "And this one went with Enter", True),
        (bob, "Enter from Bob", True),
    ]:
        sender.send(body, press_enter=enter)
        sender.expect_sent(body)
        expect(sender.textbox).to_have_value("")
        sent.append(body)
    return sent


def expect_same_conversation(pages, bodies: list[str]) -> None:
    """Every page shows every body exactly once, in the order they were stored."""
    for chat in pages:
        for body in bodies:
            chat.expect_once(body)
        chat.round_trip()  # anything doubled is on the page by now
        assert chat.bodies() == bodies, chat.username
        ids = chat.message_ids()
        assert ids == sorted(set(ids)), (chat.username, ids)


def test_two_people_chat_with_typing_and_presence(open_room, chat_server):
    alice = open_room("alice")
    bob = open_room("bob")

    # Presence: each sees both online, Bob arriving after Alice's page was rendered included.
    for chat in (alice, bob):
        for name in ("Alice", "Bob"):
            expect(chat.member(name)).to_have_class(re.compile(r"\bonline\b"))
            expect(chat.member(name).locator(".presence-label")).to_have_text("online")

    # Typing: while Alice types, Bob sees it; Alice does not see herself.
    alice.textbox.press_sequentially("Hello", delay=20)
    expect(bob.typing_line).to_have_text("Alice is typing…")
    expect(alice.typing_line).to_have_text("")
    alice.textbox.fill("")
    expect(bob.typing_line).to_have_text("")

    bob.textbox.press_sequentially("Hi", delay=20)
    expect(alice.typing_line).to_have_text("Bob is typing…")
    bob.textbox.fill("")

    bodies = converse(alice, bob)
    expect(alice.typing_line).to_have_text("")
    expect(bob.typing_line).to_have_text("")
    expect_same_conversation([alice, bob], bodies)
    # Others' messages carry no delivery state; own ones do.
    expect(bob.item(bodies[0]).locator(".state")).to_have_count(0)
    expect(bob.item(bodies[0]).locator(".sender")).to_have_text("Alice")
    # Once sent, one's own message carries one's name, as it will after a reload.
    expect(alice.item(bodies[0]).locator(".sender")).to_have_text("Alice")

    assert [m["body"] for m in stored_messages(chat_server, "lobby")] == bodies

    # When Bob leaves, Alice sees him go offline.
    bob.context.close()
    expect(alice.member("Bob")).to_have_class(re.compile(r"\boffline\b"))
    expect(alice.member("Bob").locator(".presence-label")).to_have_text("offline")


def test_typing_indicator_lasts_as_long_as_the_typing(open_room):
    """A long message takes longer to type than a typing notice lasts on its own (6 s):
    the others must keep seeing "is typing…" for as long as the typing goes on."""
    alice = open_room("alice")
    bob = open_room("bob")
    alice.textbox.click()
    seen = []  # (seconds since typing began, Bob's typing line)
    start = time.monotonic()
    while time.monotonic() - start < 10:  # well past the 6 s one notice is shown for
        alice.page.keyboard.type("typing a long message ")  # a burst, then a short pause
        seen.append((time.monotonic() - start, bob.typing_line.text_content()))
        alice.page.wait_for_timeout(300)
    late = [text for elapsed, text in seen if elapsed > 7.5]
    assert "Alice is typing…" in late, seen
    # And when Alice stops (idle for 3 s), it goes away by itself.
    expect(bob.typing_line).to_have_text("", timeout=ACTION_TIMEOUT_MS)


def no_websocket_api(context) -> None:
    """A browser (or an extension) without WebSocket at all."""
    context.add_init_script("delete window.WebSocket;")


def websocket_refused(context) -> None:
    """A proxy that lets HTTP through but closes every WebSocket."""
    context.route_web_socket(re.compile(r"/socket\.io/"), lambda ws: ws.close(code=1011, reason="refused by test"))


@pytest.mark.parametrize("block", [no_websocket_api, websocket_refused], ids=["no-websocket-api", "websocket-refused"])
def test_long_polling_carries_the_conversation(open_room, chat_server, block):
    alice = open_room("alice", setup=block)
    bob = open_room("bob", setup=block)
    for chat in (alice, bob):
        assert chat.transport() == "polling"

    bodies = converse(alice, bob)
    expect_same_conversation([alice, bob], bodies)
    # Still polling at the end: the upgrade never happened behind our back.
    for chat in (alice, bob):
        assert chat.transport() == "polling"
    assert [m["body"] for m in stored_messages(chat_server, "lobby")] == bodies


def test_text_is_shown_as_text(open_room, chat_server):
    alice = open_room("alice")
    bob = open_room("bob")
    hostile = [
        "<img src=x onerror=alert(1)>",
        "<script>alert(1)</script>",
        '"><svg onload=alert(1)>&amp; <b>bold?</b>',
    ]
    for body in hostile:
        alice.send(body)
        alice.expect_sent(body)
    for chat in (alice, bob):
        for body in hostile:
            chat.expect_once(body)
        # Live-rendered: the markup is text; no element was made from it.
        expect(chat.log.locator("img, script, svg, b")).to_have_count(0)

    # Server-rendered too: a fresh load of the page shows the same literal text.
    bob.page.reload()
    bob.expect_connected()
    for body in hostile:
        bob.expect_once(body)
    expect(bob.log.locator("img, script, svg, b")).to_have_count(0)
    # (The page's CSP would also stop inline handlers, so the dialog check alone proves little;
    # the element counts above are what prove text stays text.)
    assert alice.dialogs == [] and bob.dialogs == []
    assert [m["body"] for m in stored_messages(chat_server, "lobby")] == hostile


def test_phone_size_room_is_usable(open_room):
    alice = open_room("alice", viewport=PHONE, is_mobile=True, has_touch=True, device_scale_factor=2)
    bob = open_room("bob")
    page = alice.page

    for control in (alice.textbox, alice.send_button):
        expect(control).to_be_visible()
        expect(control).to_be_in_viewport(ratio=1)
    box, button = alice.textbox.bounding_box(), alice.send_button.bounding_box()
    assert box["width"] >= 150, box  # room to type, not a sliver
    assert button["height"] >= 32 and button["width"] >= 44, button  # a finger can hit it
    # Nothing makes the page scroll sideways.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]

    alice.textbox.tap()
    alice.textbox.fill("Typed on a phone")
    alice.send_button.tap()
    alice.expect_sent("Typed on a phone")
    bob.expect_once("Typed on a phone")
    bob.send("Reply to the phone")
    alice.expect_once("Reply to the phone")
    # After a reply comes in, the composer is still on screen and the newest message visible.
    expect(alice.send_button).to_be_in_viewport(ratio=1)
    expect(alice.item("Reply to the phone")).to_be_in_viewport(timeout=ACTION_TIMEOUT_MS)
