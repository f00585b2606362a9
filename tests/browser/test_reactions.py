"""Emoji reactions in two open room pages: Alice reacts by keyboard only, Bob sees it live and adds his by mouse."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from harness.browser import PHONE

from .chat import RECONNECT_TIMEOUT_MS
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

THUMBS = "👍"


def test_a_reaction_reaches_the_other_page_live_and_both_toggle_it(open_room):
    alice, bob = open_room("alice"), open_room("bob")
    alice.send("Pizza on Friday?")
    alice.expect_sent("Pizza on Friday?")
    mine = alice.item("Pizza on Friday?")

    # Alice, by keyboard only: Add reaction (Enter) opens the six, the first has focus; Tab moves,
    # Escape closes and gives focus back; Enter on 👍 reacts.
    add = mine.get_by_role("button", name="Add reaction")
    add.focus()
    alice.page.keyboard.press("Enter")
    picker = mine.get_by_role("group", name="Choose a reaction")
    expect(picker).to_be_visible()
    expect(add).to_have_attribute("aria-expanded", "true")
    expect(picker.get_by_role("button")).to_have_count(6)
    expect(picker.get_by_role("button", name=f"React with {THUMBS}")).to_be_focused()
    alice.page.keyboard.press("Tab")
    expect(picker.get_by_role("button", name="React with ❤️")).to_be_focused()
    alice.page.keyboard.press("Escape")
    expect(picker).to_be_hidden()
    expect(add).to_be_focused()
    alice.page.keyboard.press("Enter")
    expect(picker.get_by_role("button", name=f"React with {THUMBS}")).to_be_focused()
    alice.page.keyboard.press("Enter")
    own = mine.get_by_role("button", name=f"{THUMBS} 1: Alice")
    expect(own).to_have_attribute("aria-pressed", "true")
    expect(own).to_be_focused()  # the keyboard stays in the row
    expect(picker).to_be_hidden()

    # Bob sees it live, not pressed for him, and adds his with a click.
    theirs = bob.item("Pizza on Friday?").get_by_role("button", name=f"{THUMBS} 1: Alice")
    expect(theirs).to_have_attribute("aria-pressed", "false")
    expect(theirs).to_have_attribute("title", "Alice")
    theirs.click()
    both = bob.item("Pizza on Friday?").get_by_role("button", name=f"{THUMBS} 2: Alice and Bob")
    expect(both).to_have_attribute("aria-pressed", "true")
    expect(both.locator(".count")).to_have_text("2")
    # Alice's page counts on by itself, her own still pressed.
    on_alices = mine.get_by_role("button", name=f"{THUMBS} 2: Alice and Bob")
    expect(on_alices).to_have_attribute("aria-pressed", "true")
    assert_accessible(bob.page, "a room with reactions")

    # Alice takes hers back by keyboard (Enter on her focused button); Bob sees one again.
    on_alices.focus()
    alice.page.keyboard.press("Enter")
    expect(mine.get_by_role("button", name=f"{THUMBS} 1: Bob")).to_have_attribute("aria-pressed", "false")
    expect(bob.item("Pizza on Friday?").get_by_role("button", name=f"{THUMBS} 1: Bob")).to_have_attribute(
        "aria-pressed", "true"
    )

    # After a reload the server renders the same row as the script drew.
    drawn = row_of(bob, "Pizza on Friday?")
    bob.page.reload()
    bob.expect_connected()
    rendered = bob.item("Pizza on Friday?").get_by_role("button", name=re.compile(f"^{THUMBS} 1: Bob$"))
    expect(rendered).to_have_attribute("aria-pressed", "true")
    assert row_of(bob, "Pizza on Friday?") == drawn


def row_of(chat, body: str) -> list[dict]:
    """The reaction row's buttons as a person and a screen reader meet them."""
    return chat.item(body).locator(".reactions button").evaluate_all(
        """buttons => buttons.map(b => ({
            class: b.className, pressed: b.getAttribute("aria-pressed"), label: b.getAttribute("aria-label"),
            title: b.title, text: b.textContent.trim(), disabled: b.disabled,
            popup: b.getAttribute("aria-haspopup"), expanded: b.getAttribute("aria-expanded"),
        }))"""
    )


def test_a_reaction_made_while_a_page_was_offline_arrives_on_its_catch_up(open_room):
    # Bob on a phone in the dark theme: the row and the quick reactions must fit and read well there too.
    alice, bob = open_room("alice"), open_room("bob", viewport=PHONE, color_scheme="dark")
    alice.send("Who is coming?")
    alice.expect_sent("Who is coming?")
    bob.expect_once("Who is coming?")
    bob.context.set_offline(True)  # this also cuts Bob's open WebSocket
    expect(bob.connection).to_have_attribute("data-state", "reconnecting")
    alice.item("Who is coming?").get_by_role("button", name="Add reaction").click()
    alice.item("Who is coming?").get_by_role("button", name="React with 🎉").click()
    expect(alice.item("Who is coming?").get_by_role("button", name="🎉 1: Alice")).to_be_visible()
    expect(bob.item("Who is coming?").locator("button.reaction")).to_have_count(0)
    bob.context.set_offline(False)
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    expect(bob.item("Who is coming?").get_by_role("button", name="🎉 1: Alice")).to_be_visible()
    # The quick reactions open on Bob's page too: still free of WCAG faults.
    bob.item("Who is coming?").get_by_role("button", name="Add reaction").click()
    expect(bob.item("Who is coming?").get_by_role("group", name="Choose a reaction")).to_be_visible()
    assert_accessible(bob.page, "a room with reactions after a catch-up, the quick reactions open (phone, dark)")
    expect_on_screen(bob.item("Who is coming?").get_by_role("group", name="Choose a reaction"))
    # On his own message (on the right) too.
    bob.send("Me!")
    bob.expect_sent("Me!")
    bob.item("Me!").get_by_role("button", name="Add reaction").click()
    expect_on_screen(bob.item("Me!").get_by_role("group", name="Choose a reaction"))
    expect(bob.page.get_by_role("group", name="Choose a reaction")).to_have_count(1)  # one open at a time


def expect_on_screen(picker) -> None:
    """The quick reactions are wholly inside a phone's width."""
    expect(picker).to_be_visible()
    box = picker.bounding_box()
    assert box and 0 <= box["x"] and box["x"] + box["width"] <= PHONE["width"], box
