"""Files in Chromium: Alice sends a PDF, Bob sees its card appear live and downloads it; the card passes axe."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from ..test_files import pdf
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
