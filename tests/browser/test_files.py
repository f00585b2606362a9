"""Files in Chromium: Alice sends a PDF, Bob sees its card appear live and downloads it; the card passes axe.
A PDF's card shows its first page, and a conversation around it (a reply, a reaction) works as around text."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from ..test_files import RED_SQUARE, pdf
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


def test_a_pdf_sent_by_alice_appears_on_bobs_page_and_downloads(open_room, tmp_path):
    alice = open_room("alice")
    bob = open_room("bob")
    document = tmp_path / "Lesson plan.pdf"
    document.write_bytes(pdf())

    alice.page.locator("#attach-input").set_input_files(str(document))
    ready = alice.page.locator("#upload-list li.ready")
    expect(ready).to_contain_text("File to send: Lesson plan.pdf")
    alice.textbox.fill("Tomorrow's plan")
    alice.send_button.click()
    expect(alice.item("Tomorrow's plan").locator(".state")).to_have_text("Sent")

    for chat in (alice, bob):  # alice's from the ack, bob's live from the `message` event
        card = chat.item("Tomorrow's plan").locator(".file-card")
        expect(card.locator(".file-name")).to_have_text("Lesson plan.pdf")
        expect(card.locator(".file-meta")).to_have_text(f"PDF · {len(pdf())} bytes")

    with bob.page.expect_download() as download_info:
        bob.item("Tomorrow's plan").locator(".file-name").click()
    download = download_info.value
    assert download.suggested_filename == "Lesson plan.pdf"
    assert open(download.path(), "rb").read() == pdf()

    # Reloaded, the server draws the same card.
    bob.page.reload()
    expect(bob.item("Tomorrow's plan").locator(".file-card .file-name")).to_have_text("Lesson plan.pdf")
    assert_accessible(bob.page, "a room with a file card")


def test_a_file_whose_content_lies_is_refused_in_words(open_room, tmp_path):
    alice = open_room("alice")
    fake = tmp_path / "report.pdf"
    fake.write_bytes(b"<!DOCTYPE html><html><script>alert(1)</script></html>")
    alice.page.locator("#attach-input").set_input_files(str(fake))
    expect(alice.page.locator("#upload-list [role=alert]")).to_have_text(
        "This file is not a PDF: its content is HTML. Send the real file."
    )


def card_of(chat, body: str) -> list:
    """A message's file card as a tree of tags and attributes (text trimmed, white space between tags ignored)."""
    return chat.item(body).locator(".file-card").evaluate(
        """card => {
            const tree = (node) => node.nodeType === Node.TEXT_NODE ? node.textContent.trim() : [
                node.tagName.toLowerCase(),
                Object.fromEntries([...node.attributes].map(a => [a.name, a.value]).sort()),
                [...node.childNodes].map(tree).filter(child => child !== ""),
            ];
            return tree(card);
        }"""
    )


def expect_preview_drawn(chat, body: str, name: str) -> None:
    """The card's first page is there, described in words, and the browser really decoded the picture."""
    preview = chat.item(body).locator(".file-card .file-preview img")
    expect(preview).to_have_attribute("alt", f"First page of {name}")
    expect(preview).to_have_js_property("complete", True)
    assert preview.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [320, 160]


def test_two_users_reacting_replying_and_sending_a_pdf(open_room, tmp_path):
    alice, bob = open_room("alice"), open_room("bob")
    document = tmp_path / "Worksheet.pdf"
    document.write_bytes(pdf(content=RED_SQUARE))

    # Alice sends the PDF; Bob's page draws its card, first page and all, from the live `message`.
    alice.page.locator("#attach-input").set_input_files(str(document))
    expect(alice.page.locator("#upload-list li.ready")).to_contain_text("File to send: Worksheet.pdf")
    alice.textbox.fill("Worksheet for Monday")
    alice.send_button.click()
    alice.expect_sent("Worksheet for Monday")
    for chat in (alice, bob):
        expect_preview_drawn(chat, "Worksheet for Monday", "Worksheet.pdf")
    drawn = card_of(bob, "Worksheet for Monday")

    # Clicking the first page downloads the PDF itself.
    with bob.page.expect_download() as download_info:
        bob.item("Worksheet for Monday").locator(".file-preview").click()
    assert download_info.value.suggested_filename == "Worksheet.pdf"
    assert open(download_info.value.path(), "rb").read() == document.read_bytes()

    # Bob answers it; Alice sees the quote live.
    bob.item("Worksheet for Monday").get_by_role("button", name="Reply to Alice").click()
    expect(bob.page.locator(".reply-bar")).to_contain_text("Replying to Alice: Worksheet for Monday")
    bob.textbox.fill("Got it, I will print it")
    bob.textbox.press("Enter")
    bob.expect_sent("Got it, I will print it")
    quote = re.compile(r"In reply to\s*Alice\s+Worksheet for Monday")
    expect(alice.item("Got it, I will print it").locator(".reply-quote")).to_have_text(quote)

    # Alice reacts to the reply; Bob sees it live.
    reply = alice.item("Got it, I will print it")
    reply.get_by_role("button", name="Add reaction").click()
    reply.get_by_role("button", name="React with 🎉").click()
    expect(reply.get_by_role("button", name="🎉 1: Alice")).to_have_attribute("aria-pressed", "true")
    expect(bob.item("Got it, I will print it").get_by_role("button", name="🎉 1: Alice")).to_have_attribute(
        "aria-pressed", "false"
    )

    # After a reload both pages show the same from the server: the card (as the script drew it),
    # the quote and the reaction, each message once.
    for chat in (alice, bob):
        chat.page.reload()
        chat.expect_connected()
        chat.expect_once("Worksheet for Monday")
        chat.expect_once("Got it, I will print it")
        expect_preview_drawn(chat, "Worksheet for Monday", "Worksheet.pdf")
        expect(chat.item("Got it, I will print it").locator(".reply-quote")).to_have_text(quote)
        expect(chat.item("Got it, I will print it").get_by_role("button", name="🎉 1: Alice")).to_have_attribute(
            "aria-pressed", "true" if chat is alice else "false"
        )
    assert card_of(bob, "Worksheet for Monday") == drawn
    assert_accessible(bob.page, "a room with a PDF's first page, a reply and a reaction")
