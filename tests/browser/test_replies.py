"""Replies in Chromium: answering a particular message with the keyboard, the quote live and after a reload,
its jump to the original (loaded or not), and the quote following the original's deletion."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import messages, rooms

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_replying_to_a_message_old_and_new(chat_server, open_room):
    with chat_server.app().app_context():
        bob_user = db.session.scalar(db.select(User).filter_by(username="bob"))
        lobby = rooms.get_room("lobby")
        old = messages.post_message(sender=bob_user, room=lobby, body="Homework: page 12, exercises 1 to 4",
                                    client_id="old", enforce_rate_limit=False).message.id
        for n in range(60):  # the first page holds 50: the old one is not on it
            messages.post_message(sender=bob_user, room=lobby, body=f"chatter {n}", client_id=f"c{n}",
                                  enforce_rate_limit=False)
    alice, bob = open_room("alice"), open_room("bob")

    # Alice answers Bob's latest message with the keyboard: Tab to its Reply, Enter, type, Enter.
    target = alice.item("chatter 59")
    target.get_by_role("button", name="Reply to Bob").focus()
    alice.page.keyboard.press("Enter")
    expect(alice.page.locator(".reply-bar")).to_contain_text("Replying to Bob: chatter 59")
    expect(alice.textbox).to_be_focused()
    alice.page.keyboard.type("Done with that one")
    alice.page.keyboard.press("Enter")
    alice.expect_sent("Done with that one")
    expect(alice.page.locator(".reply-bar")).to_be_hidden()
    quote = bob.item("Done with that one").locator(".reply-quote")
    expect(quote).to_have_text(re.compile(r"In reply to\s*Bob\s+chatter 59"))  # live, on Bob's page
    assert_accessible(bob.page, "a room with a reply")

    # Escape drops a reply started by mistake.
    alice.item("chatter 58").get_by_role("button", name="Reply to Bob").click()
    alice.textbox.press("Escape")
    expect(alice.page.locator(".reply-bar")).to_be_hidden()

    # A reply to a message from before the loaded page: its quote opens the page around the original.
    # (Sent by Alice's socket, as a script on a page that had the old message would send it.)
    alice.page.evaluate("""id => new Promise((done) => window.chatapp.delivery.socket.emit(
        'send', {room: 'lobby', body: 'Which exercises again?', client_id: 'q-old', reply_to: id}, done))""", old)
    old_quote = bob.item("Which exercises again?").locator(".reply-quote")
    expect(old_quote).to_contain_text("Homework: page 12")
    old_quote.click()
    expect(bob.page).to_have_url(re.compile(rf"\?around={old}$"))
    expect(bob.item("Homework: page 12, exercises 1 to 4")).to_be_focused()

    # On a quote of a message in the list, the jump stays on the page.
    bob.page.goto(f"{chat_server.url}/rooms/lobby")
    bob.expect_connected()
    bob.item("Done with that one").locator(".reply-quote").click()
    expect(bob.item("chatter 59")).to_be_focused()

    # Bob deletes the message Alice answered: her quote says so at once, and after a reload.
    bob.page.evaluate(
        "id => window.chatapp.delivery.socket.emit('delete_message', {room: 'lobby', id}, () => {})",
        int(alice.item("chatter 59").get_attribute("data-id")),
    )
    expect(alice.item("Done with that one").locator(".reply-quote")).to_have_text(
        re.compile(r"In reply to\s*Bob\s+Message deleted"))
    alice.page.reload()
    alice.expect_connected()
    expect(alice.item("Done with that one").locator(".reply-quote.deleted")).to_contain_text("Message deleted")
