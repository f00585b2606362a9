"""Stored XSS: hostile message bodies, display names and room names are text everywhere.

A corpus of payloads goes through all three fields, and on through what quotes or lists them
(reply excerpts, the names on a reaction) and a file's name; in real Chromium nothing executes
(no dialog, no script error, no Content-Security-Policy violation reported by the
console, which would mean markup got as far as trying), no element is made from the
payloads, and every payload is shown literally.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from harness.browser import ChatPage, log_in

from ..test_files import pdf

pytestmark = pytest.mark.browser

# Each is a valid display name (≤ 64 characters, no control characters) and room name (≤ 80).
NAME_PAYLOADS = [
    "<script>alert('name')</script>",
    "<img src=x onerror=alert('img')>",
    "<svg onload=alert('svg')>",
    "\"><b onmouseover=alert('attr')>x",
    "javascript:alert('url')",
    "{{7*7}} ${alert('tpl')}",
]
BODY_PAYLOADS = NAME_PAYLOADS + [
    "<iframe src=javascript:alert('frame')></iframe>",
    "[click me](javascript:alert('md'))",
    "<a href=\"javascript:alert('a')\">link</a>",
    "![x](https://example.invalid/x.png\" onerror=\"alert('mdimg'))",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert('mxss')>",
    "\u202egnp.exe <b>RTL override</b>",
    "<details open ontoggle=alert('toggle')>",
]
HOSTILE_SELECTOR = (
    "script:not([src]), iframe, svg[onload], img[src='x'], img[onerror], b[onmouseover], details[ontoggle], "
    "a[href^='javascript' i], math, [onerror], [onload], [onmouseover], [ontoggle]"
)


def no_injection(chat: ChatPage) -> None:
    """Nothing built from a payload, nothing tried to run."""
    assert chat.page.locator("main").locator(HOSTILE_SELECTOR).count() == 0
    assert not chat.dialogs and not chat.page_errors
    refused = [line for line in chat.console if "Content Security Policy" in line or "Refused to" in line]
    assert not refused, refused


def test_payloads_in_bodies_names_and_room_names_stay_text(chat_server, open_room, tmp_path):
    for n, name in enumerate(NAME_PAYLOADS):
        chat_server.add_user(f"mallory{n}", display_name=name)
    chat_server.add_room("hostile", name=NAME_PAYLOADS[0], owner="mallory0")

    mallory = open_room("mallory1", room="hostile")
    alice = open_room("alice", room="hostile")
    others = [open_room(f"mallory{n}", room="hostile") for n in (2, 3, 4, 5)]

    for body in BODY_PAYLOADS:
        mallory.send(body)
        mallory.expect_once(body)
    for body in BODY_PAYLOADS:
        alice.expect_once(body)  # shown literally, live

    # The room name: heading and tab title, literally.
    expect(alice.page.get_by_role("heading", level=1)).to_have_text(NAME_PAYLOADS[0])
    assert NAME_PAYLOADS[0] in alice.page.title()
    # Display names: in the member list and as message senders, literally.
    for name in NAME_PAYLOADS[1:]:
        expect(alice.member(name)).to_have_count(1)
    senders = alice.log.locator("li.msg .sender").all_text_contents()
    assert set(senders) == {NAME_PAYLOADS[1]}
    # A Markdown link to javascript: is not a link.
    assert alice.log.locator("a[href^='javascript' i]").count() == 0

    # Replies quote each payload (their excerpts, live on Mallory's page): text too.
    for n, body in enumerate(BODY_PAYLOADS):
        target = int(alice.item(body).get_attribute("data-id"))
        alice.page.evaluate("""([id, n]) => new Promise((done) => window.chatapp.delivery.socket.emit(
            'send', {room: 'hostile', body: `re ${n}`, client_id: `re-${n}`, reply_to: id}, done))""", [target, n])
    for n, body in enumerate(BODY_PAYLOADS):
        folded = " ".join(body.split())
        expect(mallory.item(f"re {n}").locator(".reply-excerpt")).to_have_text(
            folded if len(folded) <= 140 else folded[:139].rstrip() + "…")

    # Reactions name who gave them (hostile display names) in the button's name and title: text.
    target = alice.item(BODY_PAYLOADS[0])
    target_id = int(target.get_attribute("data-id"))
    for chat in others:
        assert chat.page.evaluate("""(id) => new Promise((done) => window.chatapp.delivery.socket.emit(
            'react', {room: 'hostile', id, emoji: '👍', on: true}, done))""", target_id)["ok"]
    reaction = target.locator(".reactions button.reaction")
    expect(reaction.locator(".count")).to_have_text(str(len(others)))
    title = reaction.get_attribute("title")
    for n in (2, 3, 4, 5):
        assert NAME_PAYLOADS[n] in title

    # A file whose name is markup: its card shows the name as text (and the download keeps it).
    hostile = tmp_path / "<img src=x onerror=alert('file')>.pdf"
    hostile.write_bytes(pdf())
    mallory.page.locator("#attach-input").set_input_files(str(hostile))
    expect(mallory.page.locator("#upload-list li.ready")).to_have_count(1)
    mallory.send("the file")
    mallory.expect_sent("the file")
    expect(alice.item("the file").locator(".file-name")).to_have_text("<img src=x onerror=alert('file')>.pdf")

    # Server-rendered: reload, and the same holds before any script runs and after.
    alice.page.reload()
    alice.expect_connected()
    for body in BODY_PAYLOADS:
        alice.expect_once(body)
    expect(alice.item(BODY_PAYLOADS[0]).locator(".reactions button.reaction")).to_have_attribute("title", title)
    expect(alice.item("the file").locator(".file-name")).to_have_text("<img src=x onerror=alert('file')>.pdf")
    for chat in [alice, mallory, *others]:
        no_injection(chat)

    # The room list shows the hostile room name as text.
    alice.page.goto(f"{chat_server.url}/")
    expect(alice.page.get_by_text(NAME_PAYLOADS[0], exact=True)).to_have_count(1)
    no_injection(alice)


def test_admin_account_list_shows_hostile_names_as_text(chat_server, browser):
    for n, name in enumerate(NAME_PAYLOADS):
        chat_server.add_user(f"eve{n}", display_name=name)
    chat_server.add_user("root", role="admin")
    context = browser.new_context()
    try:
        page = context.new_page()
        chat = ChatPage(context, page, chat_server.url, "root", "lobby")
        log_in(page, chat_server.url, "root", next_path="/admin/users")
        for name in NAME_PAYLOADS:
            expect(page.get_by_role("cell", name=name, exact=True)).to_have_count(1)
        no_injection(chat)
    finally:
        context.close()


def test_a_polls_question_and_options_stay_text(chat_server, open_room):
    """A hostile teacher's poll: its question and every option are shown literally, live and after a reload."""
    chat_server.add_user("mallory", role="staff", display_name=NAME_PAYLOADS[0])
    with chat_server.app().app_context():
        from chatapp.extensions import db
        from chatapp.models import User
        from chatapp.services import rooms

        def user(name: str) -> User:
            return db.session.scalar(db.select(User).filter_by(username=name))

        slug = rooms.create_class(name=NAME_PAYLOADS[1], teacher=user("mallory")).slug
        rooms.join_by_code(user=user("alice"), code=rooms.get_room(slug).join_code)
    question = BODY_PAYLOADS[6]
    options = NAME_PAYLOADS + BODY_PAYLOADS[7:10]
    mallory = open_room("mallory", room=slug)
    alice = open_room("alice", room=slug)
    ack = mallory.page.evaluate("""([room, question, options]) => new Promise((done) =>
        window.chatapp.delivery.socket.emit('create_poll', {room, question, options, client_id: 'xss-poll'}, done))""",
                                [slug, question, options])
    assert ack["ok"], ack
    for reloaded in (False, True):  # live, then as the server renders it
        if reloaded:
            alice.page.reload()
            alice.expect_connected()
        poll = alice.expect_once(question)
        for option in options:
            expect(poll.get_by_text(option, exact=True).first).to_be_visible()
        no_injection(alice)
    no_injection(mallory)
