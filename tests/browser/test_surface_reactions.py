"""Reactions and replies in the support widget and the agent console, in Chromium.

A visitor in the widget and an agent in the console react to each other's messages and see them live;
one side offline catches up on the other's reaction; the row fits a phone; a reply to a message with
only a file quotes the file's name.
"""
from __future__ import annotations

import functools
import re

import pytest
from playwright.sync_api import expect

from chatapp.services import sites
from harness.browser import PHONE

from ..test_files import pdf
from .chat import RECONNECT_TIMEOUT_MS
from .surfaces import ConsolePage, WidgetPage
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

THUMBS = "👍"


@pytest.fixture
def desk(chat_server):
    """An agent (Alex Agent) and a widget site: open(viewport=...) gives (visitor's widget, agent's console)."""
    chat_server.add_user("agent", role="staff", display_name="Alex Agent")
    with chat_server.app().app_context():
        site_key = sites.create_site(actor=None, name="Acme bicycles", origins=["https://shop.example"]).site_key

    def open_(open_room, *, viewport=None):
        return open_room("visitor", page_class=functools.partial(WidgetPage, site_key=site_key), viewport=viewport)

    return open_


def open_both(open_room, desk, *, viewport=None):
    """The visitor writes first (the conversation begins), then the agent opens it in the console."""
    visitor = desk(open_room, viewport=viewport)
    visitor.send("Do you ship to Norway?")
    expect_stored(visitor, "Do you ship to Norway?")
    agent = open_room("agent", room=visitor.room, page_class=ConsolePage)
    agent.expect_once("Do you ship to Norway?")
    return visitor, agent


def expect_stored(chat, body: str) -> None:
    """An own message shows once, stored: Sent, or Read already when the other side has it on screen."""
    expect(chat.expect_once(body).locator(".state")).to_have_text(re.compile(r"^(Sent|Read)$"))


def test_visitor_and_agent_react_to_each_others_messages_live(open_room, desk):
    visitor, agent = open_both(open_room, desk)
    question = visitor.item("Do you ship to Norway?")

    # The visitor, by keyboard only: Add reaction opens the six, Enter on 👍 reacts; the focus stays in the row.
    add = question.get_by_role("button", name="Add reaction")
    add.focus()
    visitor.page.keyboard.press("Enter")
    picker = question.get_by_role("group", name="Choose a reaction")
    expect(picker.get_by_role("button", name=f"React with {THUMBS}")).to_be_focused()
    visitor.page.keyboard.press("Enter")
    own = question.get_by_role("button", name=re.compile(rf"^{THUMBS} 1: Visitor \w+$"))
    expect(own).to_have_attribute("aria-pressed", "true")
    expect(own).to_be_focused()
    expect(picker).to_be_hidden()
    visitor.page.keyboard.press("Tab")  # along the row
    expect(add).to_be_focused()

    # The agent sees it live, not pressed for them, and adds theirs with a click.
    on_console = agent.item("Do you ship to Norway?").get_by_role("button", name=re.compile(rf"^{THUMBS} 1: Visitor"))
    expect(on_console).to_have_attribute("aria-pressed", "false")
    expect(on_console).to_have_attribute("title", re.compile(r"^Visitor \w+$"))  # who, on hover
    on_console.click()
    both = agent.item("Do you ship to Norway?").get_by_role(
        "button", name=re.compile(rf"^{THUMBS} 2: Visitor \w+ and Alex Agent$"))
    expect(both).to_have_attribute("aria-pressed", "true")
    expect(question.get_by_role("button", name=re.compile(rf"^{THUMBS} 2: .* and Alex Agent$"))).to_have_attribute(
        "aria-pressed", "true")  # the visitor's own still pressed

    # The agent answers; the visitor reacts to that with a click on the quick reactions; the console sees it.
    agent.send("Yes, in three to five days.")
    expect_stored(agent, "Yes, in three to five days.")
    answer = visitor.expect_once("Yes, in three to five days.")
    answer.get_by_role("button", name="Add reaction").click()
    answer.get_by_role("button", name="React with 🎉").click()
    expect(answer.get_by_role("button", name=re.compile(r"^🎉 1: Visitor"))).to_have_attribute("aria-pressed", "true")
    party = agent.item("Yes, in three to five days.").get_by_role("button", name=re.compile(r"^🎉 1: Visitor"))
    expect(party).to_have_attribute("aria-pressed", "false")

    # The agent takes theirs back by keyboard on the visitor's message (Tab reaches it, Enter toggles).
    both.focus()
    agent.page.keyboard.press("Enter")
    expect(question.get_by_role("button", name=re.compile(rf"^{THUMBS} 1: Visitor \w+$"))).to_have_attribute(
        "aria-pressed", "true")
    expect(agent.item("Do you ship to Norway?").locator("button.reaction")).to_have_attribute("aria-pressed", "false")

    assert_accessible(visitor.page, "the widget with reactions")
    agent.item("Yes, in three to five days.").get_by_role("button", name="Add reaction").click()
    expect(agent.page.get_by_role("group", name="Choose a reaction")).to_be_visible()
    assert_accessible(agent.page, "the console with reactions, the quick reactions open")


def test_a_reaction_made_while_the_other_side_was_offline_arrives_on_its_catch_up(open_room, desk):
    visitor, agent = open_both(open_room, desk)
    agent.send("Which town?")
    expect_stored(agent, "Which town?")
    visitor.expect_once("Which town?")

    # The visitor is offline while the agent reacts to the question.
    visitor.context.set_offline(True)
    expect(visitor.connection).to_have_attribute("data-state", "reconnecting")
    agent.item("Do you ship to Norway?").get_by_role("button", name="Add reaction").click()
    agent.item("Do you ship to Norway?").get_by_role("button", name="React with 😮").click()
    expect(agent.item("Do you ship to Norway?").get_by_role("button", name="😮 1: Alex Agent")).to_be_visible()
    expect(visitor.item("Do you ship to Norway?").locator("button.reaction")).to_have_count(0)
    visitor.context.set_offline(False)
    visitor.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    expect(visitor.item("Do you ship to Norway?").get_by_role("button", name="😮 1: Alex Agent")).to_have_attribute(
        "aria-pressed", "false")

    # Now the agent is offline while the visitor reacts to the agent's message.
    agent.context.set_offline(True)
    expect(agent.connection).to_have_attribute("data-state", "reconnecting")
    visitor.item("Which town?").get_by_role("button", name="Add reaction").click()
    visitor.item("Which town?").get_by_role("button", name="React with 🙏").click()
    expect(visitor.item("Which town?").get_by_role("button", name=re.compile(r"^🙏 1: Visitor"))).to_be_visible()
    agent.context.set_offline(False)
    agent.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    expect(agent.item("Which town?").get_by_role("button", name=re.compile(r"^🙏 1: Visitor"))).to_be_visible()


def test_the_reaction_row_fits_the_widget_on_a_phone(open_room, desk):
    visitor, agent = open_both(open_room, desk, viewport=PHONE)
    agent.send("Here is the tracking link.")
    expect_stored(agent, "Here is the tracking link.")
    answer = visitor.expect_once("Here is the tracking link.")
    for emoji in ["👍", "❤️", "😂", "🎉", "😮", "🙏"]:  # every quick reaction, from both sides
        for chat in (visitor, agent):
            item = chat.item("Here is the tracking link.")
            item.get_by_role("button", name="Add reaction").click()
            item.get_by_role("button", name=f"React with {emoji}").click()
            expect(item.locator(f'button.reaction[data-emoji="{emoji}"]')).to_have_attribute("aria-pressed", "true")
    expect(answer.locator("button.reaction .count")).to_have_text(["2"] * 6)
    for item in (answer, visitor.item("Do you ship to Norway?")):
        item.get_by_role("button", name="Add reaction").click()
        picker = item.get_by_role("group", name="Choose a reaction")
        expect(picker).to_be_visible()
        for box in (item.locator(".reactions").bounding_box(), picker.bounding_box()):
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
        visitor.page.keyboard.press("Escape")
    overflow = visitor.page.evaluate(
        "() => [document.documentElement.scrollWidth, document.getElementById('messages').scrollWidth,"
        " document.getElementById('messages').clientWidth]")
    assert overflow[0] <= PHONE["width"] and overflow[1] <= overflow[2], overflow
    assert_accessible(visitor.page, "the widget on a phone with a full reaction row")


def test_a_reply_to_a_message_with_only_a_file_quotes_the_files_name(open_room, tmp_path):
    alice, bob = open_room("alice"), open_room("bob")
    document = tmp_path / "Lesson plan.pdf"
    document.write_bytes(pdf())
    bob.page.locator("#attach-input").set_input_files(str(document))
    expect(bob.page.locator("#upload-list li.ready")).to_contain_text("Lesson plan.pdf")
    bob.send_button.click()  # the file is the message: no text
    file_only = alice.log.locator("li.msg", has=alice.page.locator(".file-name", has_text="Lesson plan.pdf"))
    expect(file_only).to_have_count(1)

    # Alice answers it: the bar above her composer, then her reply's quote, name the file.
    file_only.get_by_role("button", name="Reply to Bob").click()
    expect(alice.page.locator(".reply-bar")).to_contain_text("Replying to Bob: 📄 Lesson plan.pdf")
    alice.send("Got it, thanks")
    alice.expect_sent("Got it, thanks")
    for chat in (alice, bob):
        expect(chat.item("Got it, thanks").locator(".reply-quote .reply-excerpt")).to_have_text("📄 Lesson plan.pdf")

    # A reaction to the file changes the message, not what the reply quotes of it.
    on_bobs = bob.log.locator("li.msg", has=bob.page.locator(".file-name", has_text="Lesson plan.pdf"))
    on_bobs.get_by_role("button", name="Add reaction").click()
    on_bobs.get_by_role("button", name=f"React with {THUMBS}").click()
    expect(file_only.get_by_role("button", name=f"{THUMBS} 1: Bob")).to_be_visible()
    expect(alice.item("Got it, thanks").locator(".reply-excerpt")).to_have_text("📄 Lesson plan.pdf")

    # The server renders the same quote after a reload.
    alice.page.reload()
    alice.expect_connected()
    expect(alice.item("Got it, thanks").locator(".reply-excerpt")).to_have_text("📄 Lesson plan.pdf")
    assert_accessible(alice.page, "a reply to a file")
