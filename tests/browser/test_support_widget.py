"""The support widget on another website, and an agent answering it, in Chromium.

A host page served from a second local port (another origin) embeds the one-tag snippet.
A visitor opens the widget and writes; an agent in a second browser context sees it arrive
in the console, claims it and replies; the visitor sees the reply, comes back to the host
page and still has the conversation; the agent resolves it and the visitor rates it.
"""
from __future__ import annotations

import functools
import http.server
import re
import threading

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Conversation, User
from chatapp.services import sites, support
from harness.browser import DESKTOP, PHONE, STORED, log_in

pytestmark = pytest.mark.browser

HOST_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Acme</title></head>
<body>
  <h1>Acme bicycles</h1>
  <p id="content">Somebody else's website, on another origin.</p>
  {snippet}
</body>
</html>
"""


# Headless Chromium shows no desktop notifications: record what the console asks to show instead.
NOTIFICATION_RECORDER = """
(() => {
  window.__notifications = [];
  class RecordedNotification {
    constructor(title, options) { window.__notifications.push({ title, body: options && options.body }); }
    static get permission() { return "granted"; }
    static requestPermission() { return Promise.resolve("granted"); }
    addEventListener() {}
    close() {}
  }
  window.Notification = RecordedNotification;
})();
"""


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves the host page's folder without logging every request to stderr."""

    def log_message(self, format, *args):  # noqa: A002 - the base class's name
        pass


@pytest.fixture
def host_site(tmp_path, live_server):
    """A static website on its own 127.0.0.1 port, registered as a widget site; yields (url, site key)."""
    folder = tmp_path / "host"
    folder.mkdir()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    host_url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    with live_server.app().app_context():
        site = sites.create_site(actor=None, name="Acme bicycles", origins=[host_url], prechat_enabled=True)
        key = site.site_key
        snippet = sites.embed_snippet(site=site, app_url=live_server.url)
    (folder / "index.html").write_text(HOST_PAGE.format(snippet=snippet))
    assert host_url != live_server.url  # another origin: another port
    yield host_url, key
    server.shutdown()
    server.server_close()


@pytest.fixture
def people(contexts):
    """people.new(viewport): a fresh browser context per person (its own cookies and storage)."""
    return contexts


def chat_frame(page):
    """The widget's chat inside the host page (the iframe from chatapp's origin)."""
    return page.frame_locator("iframe[title=Chat]")


def test_visitor_on_another_site_chats_with_an_agent(live_server, host_site, people):
    host_url, site_key = host_site
    agent_id = live_server.add_user("agent", role="staff", display_name="Alex Agent")
    with live_server.app().app_context():
        support.save_canned(
            agent=db.session.get(User, agent_id), shortcut="reserve", body="Shall I reserve one for you?"
        )
    live_server.start()

    # The agent has the console open before anyone writes, with desktop notifications allowed.
    agent = people.new()
    agent.context.add_init_script(NOTIFICATION_RECORDER)
    log_in(agent, live_server.url, "agent", next_path="/support")
    expect(agent.locator("#connection")).to_have_attribute("data-state", "online")
    expect(agent.get_by_text("No conversations here.")).to_be_visible()

    # A visitor on the host page: only the launcher, no chat loaded yet.
    visitor = people.new()
    visitor.goto(host_url + "/")
    launcher = visitor.get_by_role("button", name="Open chat")
    expect(launcher).to_be_visible()
    assert visitor.locator("iframe").count() == 0
    launcher.click()
    frame = chat_frame(visitor)
    expect(frame.get_by_role("status").filter(has_text="We're online")).to_be_visible()
    frame.get_by_label("Name (optional)").fill("Vera Visitor")
    frame.get_by_role("button", name="Start chat").click()
    message_box = frame.get_by_role("textbox", name="Message")
    expect(message_box).to_be_enabled()
    assert message_box.evaluate("el => parseFloat(getComputedStyle(el).fontSize)") >= 16  # no zoom on phones
    message_box.fill("Hello, does the cargo bike come in green?")
    frame.get_by_role("button", name="Send").click()
    own = frame.get_by_role("log", name="Messages").locator("li.msg", has_text="cargo bike")
    expect(own.locator(".state")).to_have_text(STORED)

    # It arrives in the agent's queue, live, with an unread count in the list and the tab title.
    item = agent.locator(".queue-item", has_text="Vera Visitor")
    expect(item).to_be_visible()
    expect(item.locator(".unread")).to_contain_text("1")
    expect(agent).to_have_title(re.compile(r"^\(1\) Support"))
    assert agent.evaluate("window.__notifications") == [
        {"title": "Vera Visitor · Acme bicycles", "body": "Hello, does the cargo bike come in green?"}]
    item.click()
    expect(agent.get_by_role("log", name="Messages")).to_contain_text("Hello, does the cargo bike come in green?")
    expect(agent.locator("[data-field=page]")).to_have_text(host_url + "/")
    expect(agent).to_have_title("Support · chatapp")
    agent.get_by_role("button", name="Claim").click()
    expect(agent.locator("#thread-meta")).to_contain_text("assigned to you")

    # An internal note, then a reply typed where the visitor sees the typing.
    agent.get_by_role("radio", name="Internal note").check()
    agent.get_by_role("textbox", name="Message").fill("Green ships in March")
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator("li.msg.note", has_text="Green ships in March").locator(".state")).to_have_text(STORED)
    agent.get_by_role("radio", name="Reply to visitor").check()
    agent.get_by_role("textbox", name="Message").press_sequentially("Yes, it does", delay=20)
    expect(frame.locator("#typing")).to_have_text("Alex Agent is typing…")
    agent.get_by_role("textbox", name="Message").press("Enter")
    log = frame.get_by_role("log", name="Messages")
    expect(log.locator("li.msg", has_text="Yes, it does")).to_have_count(1)
    expect(log).not_to_contain_text("Green ships in March")  # the note never reaches the visitor
    message_box.press_sequentially("Great", delay=20)
    expect(agent.locator("#typing")).to_have_text("Vera Visitor is typing…")
    message_box.fill("")

    # Escape closes the panel; focus goes back to the launcher.
    message_box.press("Escape")
    expect(visitor.locator("iframe[title=Chat]")).to_be_hidden()
    expect(launcher).to_be_focused()

    # The visitor leaves; a second reply comes; back on the host page the launcher shows it.
    visitor.goto("about:blank")
    agent.get_by_role("textbox", name="Message").fill("/reserve")
    agent.get_by_role("textbox", name="Message").press("Tab")  # the canned response replaces its shortcut
    expect(agent.get_by_role("textbox", name="Message")).to_have_value("Shall I reserve one for you?")
    agent.get_by_role("button", name="Send").click()
    expect(agent.locator("li.msg", has_text="reserve one").locator(".state")).to_have_text(STORED)
    visitor.goto(host_url + "/")
    expect(visitor.get_by_role("status").filter(has_text="1 new message")).to_be_attached()
    visitor.get_by_role("button", name="Open chat").click()
    log = chat_frame(visitor).get_by_role("log", name="Messages")
    for body in ["Hello, does the cargo bike come in green?", "Yes, it does", "Shall I reserve one for you?"]:
        expect(log.locator("li.msg", has_text=body)).to_have_count(1)
    assert log.locator("li.msg .body").all_text_contents() == [
        "Hello, does the cargo bike come in green?", "Yes, it does", "Shall I reserve one for you?"]

    # The agent resolves it; the visitor rates the help; the agent sees the rating.
    agent.get_by_role("button", name="Resolve").click()
    frame = chat_frame(visitor)
    expect(frame.get_by_text("This conversation is resolved.")).to_be_visible()
    frame.get_by_role("radio", name="5 stars").check()
    frame.get_by_label("Comment (optional)").fill("Quick and friendly")
    frame.get_by_role("button", name="Send rating").click()
    expect(frame.get_by_role("status").filter(has_text="You rated our help 5 out of 5")).to_be_visible()
    expect(agent.locator("[data-field=rating]")).to_have_text("5/5 · “Quick and friendly”")
    with live_server.app().app_context():
        conversation = db.session.scalar(db.select(Conversation))
        assert (conversation.status, conversation.rating, conversation.rating_comment) == (
            "resolved",
            5,
            "Quick and friendly",
        )
        assert conversation.assignee.username == "agent"
        assert conversation.site.site_key == site_key


def test_widget_is_full_screen_on_a_phone_and_a_side_panel_on_a_desktop(live_server, host_site, people):
    host_url, _ = host_site
    live_server.start()
    for viewport, full_screen in [(PHONE, True), (DESKTOP, False)]:
        page = people.new(viewport=viewport)
        page.goto(host_url + "/")
        page.get_by_role("button", name="Open chat").click()
        frame = page.locator("iframe[title=Chat]")
        expect(chat_frame(page).get_by_role("button", name="Start chat")).to_be_visible()
        box = frame.bounding_box()
        if full_screen:
            assert (box["x"], box["y"], box["width"], box["height"]) == (0, 0, viewport["width"], viewport["height"])
            chat_frame(page).get_by_role("button", name="Close chat").click()
            expect(frame).to_be_hidden()
        else:
            assert 300 <= box["width"] <= 420 and box["x"] > viewport["width"] / 2
            assert box["height"] < viewport["height"]


def test_widget_frame_refuses_to_be_framed_by_an_unregistered_site(live_server, host_site, people, tmp_path):
    """The same snippet on an origin the site does not list: the browser refuses to show the chat (CSP
    frame-ancestors)."""
    _, site_key = host_site
    live_server.start()
    folder = tmp_path / "intruder"
    folder.mkdir()
    (folder / "index.html").write_text(HOST_PAGE.format(
        snippet=f'<script src="{live_server.url}/widget.js" data-site="{site_key}" async></script>'))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(folder)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = people.new()
        blocked = []
        page.on("console", lambda msg: blocked.append(msg.text) if "frame-ancestors" in msg.text else None)
        page.goto(f"http://127.0.0.1:{server.server_address[1]}/")
        page.get_by_role("button", name="Open chat").click()
        page.wait_for_timeout(1500)
        frame = next((f for f in page.frames if "/widget/frame" in f.url), None)
        assert frame is None or not frame.locator("#message-input").count(), "the chat rendered inside a foreign site"
        assert blocked, "Chromium did not report the frame-ancestors refusal"
    finally:
        server.shutdown()
        server.server_close()


def test_long_conversation_pages_back_in_the_widget(live_server, host_site, people):
    """The widget shows the latest 50 messages; older ones come with "Load older messages", in order."""
    host_url, _ = host_site
    staff_id = live_server.add_user("agent", role="staff", display_name="Alex Agent")
    live_server.start()
    visitor = people.new()
    visitor.goto(host_url + "/")
    visitor.get_by_role("button", name="Open chat").click()
    frame = chat_frame(visitor)
    frame.get_by_role("button", name="Start chat").click()
    frame.get_by_role("textbox", name="Message").fill("first question")
    frame.get_by_role("button", name="Send").click()
    expect(frame.locator("li.msg .state")).to_have_text(STORED)
    with live_server.app().app_context():
        from chatapp.services import messages, rooms

        room = rooms.get_room(db.session.scalar(db.select(Conversation)).room.slug)
        staff = db.session.get(User, staff_id)
        for n in range(55):
            messages.post_message(
                sender=staff, room=room, body=f"answer {n}", client_id=f"a{n}", enforce_rate_limit=False
            )
    visitor.reload()
    visitor.get_by_role("button", name="Open chat").click()
    frame = chat_frame(visitor)
    bodies = frame.get_by_role("log", name="Messages").locator("li.msg .body")
    expect(bodies).to_have_count(50)
    frame.get_by_role("button", name="Load older messages").click()
    expect(bodies).to_have_count(56)
    assert bodies.all_text_contents() == ["first question"] + [f"answer {n}" for n in range(55)]
    expect(frame.get_by_role("button", name="Load older messages")).to_be_hidden()
