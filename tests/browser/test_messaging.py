"""Messaging in Chromium: pictures with progress and Cancel, edits, direct messages, search in context."""
from __future__ import annotations

import re
from pathlib import Path

import pytest
from PIL import Image
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Attachment, User
from chatapp.services import messages as message_service
from chatapp.services import rooms as room_service

from ..helpers import stored_messages
from .chat import wait_until

pytestmark = pytest.mark.browser

# Every value the upload progress bars show, in order, and whether one was ever on screen.
PROGRESS_RECORDER = """
(() => {
  const seen = { values: [], shown: false };
  window.__chatappProgress = seen;
  new MutationObserver(() => {
    for (const bar of document.querySelectorAll("#upload-list progress")) {
      seen.shown = true;
      if (seen.values[seen.values.length - 1] !== bar.value) seen.values.push(bar.value);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
})();
"""


def noise_png(path: Path, size=(900, 700)) -> Path:
    """A real PNG that does not compress (some hundreds of kB): the upload takes a moment."""
    Image.effect_noise(size, 90).convert("RGB").save(path, format="PNG")
    return path


def attachments_stored(server) -> list[tuple[int, int | None]]:
    with server.app().app_context():
        return [(a.id, a.message_id) for a in db.session.scalars(db.select(Attachment).order_by(Attachment.id))]


def expect_picture_loaded(chat, locator) -> None:
    """The thumbnail is on the page and its bytes arrived (the server let this person fetch it)."""
    expect(locator).to_be_visible()
    wait_until(chat.page, lambda: locator.evaluate("img => img.complete && img.naturalWidth > 0"), 15,
               f"{chat.username}'s picture did not load")


def test_a_picture_uploads_with_progress_and_shows_on_both_pages(open_room, chat_server, tmp_path):
    alice = open_room("alice", setup=lambda context: context.add_init_script(PROGRESS_RECORDER))
    bob = open_room("bob")
    photo = noise_png(tmp_path / "field trip.png")

    alice.page.locator("#attach-input").set_input_files(str(photo))
    ready = alice.page.locator("#upload-list li.ready img")
    expect_picture_loaded(alice, ready)
    expect(ready).to_have_attribute("alt", "Picture to send: field trip.png")
    progress = alice.page.evaluate("() => window.__chatappProgress")
    assert progress["shown"] and progress["values"][-1] == 100, progress

    alice.textbox.fill("Photos from the **field trip**")
    alice.send_button.click()
    # (Until the ack the pending copy shows the source as typed; then the server's rendering.)
    expect(alice.item("Photos from the field trip").locator(".state")).to_have_text("Sent")
    expect(alice.page.locator("#upload-tray")).to_be_hidden()
    for chat in (alice, bob):
        item = chat.item("Photos from the field trip")
        expect(item.locator(".body strong")).to_have_text("field trip")
        expect_picture_loaded(chat, item.locator(".attachments img"))
        expect(item.locator(".attachments img")).to_have_attribute("alt", "Picture: field trip.png")
    [(attachment_id, message_id)] = attachments_stored(chat_server)
    assert message_id == stored_messages(chat_server, "lobby")[-1]["id"]

    # A picture alone, without text, goes too (the message box is not required then).
    alice.page.locator("#attach-input").set_input_files(str(noise_png(tmp_path / "second.png", (300, 200))))
    expect_picture_loaded(alice, alice.page.locator("#upload-list li.ready img"))
    alice.send_button.click()
    expect(bob.log.locator("li.msg .attachments img")).to_have_count(2)


def test_an_upload_can_be_cancelled_and_refusals_are_explained(open_room, chat_server, tmp_path):
    alice = open_room("alice")
    held = []
    # The server never answers this upload: it stays in progress until Cancel.
    alice.page.route(re.compile(r"/rooms/lobby/uploads$"), lambda route: held.append(route))
    alice.page.locator("#attach-input").set_input_files(str(noise_png(tmp_path / "slow.png")))
    expect(alice.page.get_by_role("progressbar", name="Uploading slow.png")).to_be_visible()
    alice.page.get_by_role("button", name="Cancel upload of slow.png").click()
    expect(alice.page.locator("#upload-tray")).to_be_hidden()
    expect(alice.page.get_by_text("Upload of slow.png cancelled.")).to_be_attached()
    # Let the held request go nowhere (unrouting a pending one would let it through to the server).
    for route in held:
        try:
            route.abort()
        except Exception:  # noqa: BLE001 - the page's abort may have settled it already
            pass
    alice.page.unroute(re.compile(r"/rooms/lobby/uploads$"))
    assert attachments_stored(chat_server) == []

    # A script renamed .png: the server looks at the bytes and says no, in words.
    script = tmp_path / "homework.png"
    script.write_bytes(b"#!/bin/sh\necho pwned\n")
    alice.page.locator("#attach-input").set_input_files(str(script))
    expect(alice.page.locator("#upload-list [role=alert]")).to_have_text(
        "That file is not a picture chatapp accepts: send a PNG, JPEG, GIF or WebP image."
    )
    alice.page.get_by_role("button", name="Dismiss").click()

    # Over 5 MB: refused before a byte is sent, with the limit.
    big = tmp_path / "huge.png"
    big.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * (5 * 1024 * 1024 + 1))
    alice.page.locator("#attach-input").set_input_files(str(big))
    expect(alice.page.locator("#upload-list [role=alert]")).to_contain_text("A picture can be at most 5 MB")
    assert attachments_stored(chat_server) == []


def test_an_edit_shows_as_edited_on_the_other_page(open_room):
    alice = open_room("alice")
    bob = open_room("bob")
    alice.send("See you at 9")
    alice.expect_sent("See you at 9")
    bob.expect_once("See you at 9")

    alice.item("See you at 9").get_by_role("button", name="Edit message").click()
    box = alice.page.get_by_role("textbox", name="Edit message")
    expect(box).to_be_focused()
    expect(box).to_have_value("See you at 9")
    box.fill("See you at *10*, not 9")
    box.press("Enter")

    for chat in (alice, bob):
        item = chat.item("See you at 10, not 9")
        expect(item).to_have_count(1)
        expect(item.locator(".edited")).to_have_text("edited")
        expect(item.locator(".body em")).to_have_text("10")
    expect(bob.item("See you at 9")).to_have_count(0)
    # Bob cannot edit Alice's message: there is no button for it.
    expect(bob.item("See you at 10, not 9").get_by_role("button", name="Edit message")).to_have_count(0)
    # After a reload the page still says so (server-rendered).
    bob.page.reload()
    bob.expect_connected()
    expect(bob.item("See you at 10, not 9").locator(".edited")).to_have_text("edited")


def test_a_direct_message_from_the_member_list(open_room, chat_server):
    alice = open_room("alice")
    bob = open_room("bob")
    expect(alice.member("Bob")).to_be_visible()

    alice.member("Bob").get_by_role("button", name="Message Bob").click()
    alice.page.wait_for_url(re.compile(r"/rooms/dm-[0-9a-f]+$"))
    expect(alice.page.get_by_role("heading", level=1)).to_have_text("Direct messages with Bob")
    alice.room = alice.page.url.rsplit("/", 1)[1]
    alice.expect_connected()
    alice.send("Psst, did you finish question 3?")
    alice.expect_sent("Psst, did you finish question 3?")

    # Bob finds it on his room list, under Direct messages, with its unread count.
    bob.page.goto(chat_server.url + "/")
    direct = bob.page.locator("#direct-list li").filter(has_text="Alice")
    expect(direct.locator(".unread .count")).to_have_text("1")
    direct.get_by_role("link").click()
    bob.room = alice.room
    bob.expect_connected()
    bob.expect_once("Psst, did you finish question 3?")
    # Nobody else gets in.
    carol_id = chat_server.add_user("carol", display_name="Carol")
    assert carol_id
    carol = open_room("carol")
    response = carol.page.goto(f"{chat_server.url}/rooms/{alice.room}")
    assert response.status == 403
    expect(carol.page.get_by_text("These direct messages are between two other people.")).to_be_visible()
    # A site admin reads it (and both were told so on their page), with no box to write in.
    expect(bob.page.get_by_text("Site admins can read direct messages.", exact=True)).to_be_visible()
    chat_server.add_user("mira", role="admin", display_name="Mira")
    mira = open_room("mira", room=alice.room)
    expect(mira.page.get_by_role("heading", level=1)).to_have_text("Direct messages between Alice and Bob")
    mira.expect_once("Psst, did you finish question 3?")
    alice.send("Meet at the library?")
    mira.expect_once("Meet at the library?")  # live, like anyone who may read here
    expect(mira.textbox).to_be_hidden()
    expect(
        mira.page.get_by_text("Site admins can read direct messages, but only their two people write there.")
    ).to_be_visible()


def test_a_search_result_opens_the_message_in_its_context(open_room, chat_server):
    with chat_server.app().app_context():
        bob_user = db.session.scalar(db.select(User).filter_by(username="bob"))
        lobby = room_service.get_room("lobby")
        bodies = [f"filler message {n}" for n in range(150)]
        bodies[40] = "The field trip form is due on Friday"
        for n, body in enumerate(bodies):
            message_service.post_message(
                sender=bob_user, room=lobby, body=body, client_id=f"s{n}", enforce_rate_limit=False
            )
    alice = open_room("alice")
    expect(alice.item("The field trip form is due on Friday")).to_have_count(0)  # long scrolled away

    alice.page.get_by_role("searchbox", name="Search messages").fill("trip form")
    alice.page.get_by_role("button", name="Search", exact=True).click()
    results = alice.page.get_by_role("region", name="Search results")
    expect(results.get_by_role("status")).to_have_text("1 message match “trip form”:")
    result = results.get_by_role("link")
    expect(result).to_have_count(1)
    expect(result.locator("mark")).to_have_text(["trip", "form"])
    result.click()

    alice.page.wait_for_url(re.compile(r"/rooms/lobby\?around=\d+$"))
    alice.expect_connected()
    target = alice.item("The field trip form is due on Friday")
    expect(target).to_have_class(re.compile(r"\btarget\b"))
    expect(target).to_be_in_viewport()
    expect(alice.item("filler message 39")).to_have_count(1)  # its neighbours around it
    expect(alice.item("filler message 41")).to_have_count(1)
    # Catching up brought the newer ones too: nothing is missing below it.
    expect(alice.item("filler message 149")).to_have_count(1)
