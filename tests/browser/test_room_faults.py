"""What the pages that deliver messages do when the network or the server fails: outbox, retries
and catch-up. The scenarios that take a `conversation` run on each surface in turn (the room page,
the support widget, the agent console: surfaces.py), since all three share one delivery engine."""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, User
from chatapp.services import editing, moderation
from chatapp.services import messages as message_service
from chatapp.services import rooms as room_service
from harness.browser import ACTION_TIMEOUT_MS, STORED

from ..helpers import stored_messages, under_every_async_mode
from .chat import RECONNECT_TIMEOUT_MS, wait_until

pytestmark = pytest.mark.browser

SOCKET_IO = re.compile(r"/socket\.io/")
RECONNECT_S = RECONNECT_TIMEOUT_MS / 1000


def store_messages(server, *, sender: str, room: str, bodies: list[str]) -> list[int]:
    """Store messages straight through the service (as another device would); no one is told live."""
    with server.app().app_context():
        user = db.session.scalar(db.select(User).filter_by(username=sender))
        target = room_service.get_room(room)
        return [
            message_service.post_message(
                sender=user,
                room=target,
                body=body,
                client_id=f"seed-{sender}-{n}-{body[:20]}",
                enforce_rate_limit=False,
            ).message.id
            for n, body in enumerate(bodies)
        ]


def expect_reconnecting(chat) -> None:
    """The status line tells the person the page is trying to get back."""
    expect(chat.connection).to_have_attribute("data-state", "reconnecting")
    expect(chat.connection).to_contain_text("Reconnecting…")


# The two that stop the server run under both async modes: the page's reconnect meets each one's
# start-up. (All eight pass under gevent; the other six, faults on the client side, would add a minute.)
@under_every_async_mode
def test_message_sent_during_an_outage_is_delivered_once(conversation, chat_server):
    alice, bob = conversation.open()

    alice.page.evaluate(
        "() => window.chatapp.socket.io.on('reconnect_attempt', n => { window.reconnectAttempts = n; })"
    )
    chat_server.kill()
    for chat in (alice, bob):
        expect_reconnecting(chat)

    body = "Typed while the server was down"
    alice.send(body)
    item = alice.expect_once(body)
    expect(item.locator(".state")).to_have_text("Sending…")
    (entry,) = alice.outbox()
    assert entry["body"] == body
    # Stay down long enough for the page to fail a few tries and back off (1, 2, 4 s, ...).
    wait_until(alice.page, lambda: alice.page.evaluate("window.reconnectAttempts || 0") >= 3, RECONNECT_S,
               "the page stopped trying to reconnect")
    expect_reconnecting(alice)
    expect(item.locator(".state")).to_have_text("Sending…")
    assert stored_messages(chat_server, conversation.room) == []

    chat_server.start()
    # Nobody reloads: socket.io-client's backoff brings both pages back by themselves.
    alice.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    alice.expect_sent(body, timeout=RECONNECT_TIMEOUT_MS)
    bob.expect_once(body, timeout=RECONNECT_TIMEOUT_MS)
    for chat in (alice, bob):
        chat.round_trip()
        expect(chat.item(body)).to_have_count(1)
    assert alice.outbox() == []
    (stored,) = stored_messages(chat_server, conversation.room)
    expected = (body, conversation.my_username, entry["client_id"])
    assert (stored["body"], stored["sender"], stored["client_id"]) == expected


@under_every_async_mode
def test_outbox_survives_a_reload_while_the_server_is_down(conversation, chat_server):
    """Unacked, then the page is reloaded while the server is down: nothing of the old page is left
    to send it, so only the reloaded page, reading the outbox from localStorage, can deliver it."""
    alice, bob = conversation.open()
    chat_server.kill()
    expect_reconnecting(alice)

    body = "Sent, then the page was reloaded"
    alice.send(body)
    expect(alice.item(body).locator(".state")).to_have_text("Sending…")
    (entry,) = alice.outbox()

    # The reload fails (the server is down) and leaves Chromium's error page: the old document,
    # with its socket and retry timers, is gone.
    with pytest.raises(PlaywrightError, match="ERR_CONNECTION_REFUSED"):
        alice.page.reload()
    expect(alice.log).to_have_count(0)
    assert stored_messages(chat_server, conversation.room) == []
    # Chromium reloads its error page by itself once the server answers again, which would race
    # the reload below ("navigation interrupted by another navigation"). Leave the error page.
    alice.page.goto("about:blank")

    chat_server.start()
    alice.page.goto(alice.url)  # the person reloads again, now that the server is back
    alice.expect_connected()
    alice.expect_sent(body)
    assert alice.outbox() == []
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    bob.expect_once(body, timeout=RECONNECT_TIMEOUT_MS)
    for chat in (alice, bob):
        chat.round_trip()
        expect(chat.item(body)).to_have_count(1)
    (stored,) = stored_messages(chat_server, conversation.room)
    assert (stored["body"], stored["client_id"]) == (body, entry["client_id"])


class AckDropper:
    """A WebSocket proxy that loses, on the page's first WebSocket only, every frame the server
    sends that mentions `marker`: the send's ack and its broadcast. The server stores the message;
    the page never hears so. Later WebSockets (after a reload) pass everything."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.connections = 0
        self.dropped: list[str] = []
        self.from_page: list[tuple[int, str]] = []

    def __call__(self, ws) -> None:
        number = self.connections
        self.connections += 1
        server = ws.connect_to_server()

        def page_to_server(frame):
            self.from_page.append((number, frame if isinstance(frame, str) else repr(frame)))
            server.send(frame)

        def server_to_page(frame):
            if number == 0 and isinstance(frame, str) and self.marker in frame:
                self.dropped.append(frame)
                return
            ws.send(frame)

        ws.on_message(page_to_server)
        server.on_message(server_to_page)


@pytest.mark.parametrize("pushed_out", [False, True], ids=["still-on-page", "pushed-out-of-latest-50"])
def test_outbox_survives_a_reload_after_a_lost_ack(conversation, chat_server, pushed_out):
    """Stored, but the ack never arrived; the person reloads. The reloaded page must show the
    message once, as sent, and the server must still hold it once.

    still-on-page: the reloaded page's HTML already has the message, so the page can recognise it.
    pushed-out-of-latest-50: 50 newer messages push it out of the HTML, so the page must re-send it
    with the same client_id and the server must answer with the stored message."""
    marker = "lost-ack-7f3a"
    dropper = AckDropper(marker)
    alice, bob = conversation.open(setup=lambda context: context.route_web_socket(SOCKET_IO, dropper))
    wait_until(alice.page, lambda: alice.transport() == "websocket", 10, "the page never upgraded to WebSocket")

    body = f"Ack lost for this one {marker}"
    alice.send(body)
    bob.expect_once(body)  # the server stored and broadcast it...
    (stored,) = stored_messages(chat_server, conversation.room)
    (entry,) = alice.outbox()  # ...but Alice's page never heard back
    assert stored["client_id"] == entry["client_id"]
    expect(alice.item(body).locator(".state")).to_have_text("Sending…")
    wait_until(
        alice.page,
        lambda: len(dropper.dropped) >= 2,
        10,
        f"expected the ack and the broadcast dropped: {dropper.dropped}",
    )
    if pushed_out:
        store_messages(chat_server, sender=conversation.other_username, room=conversation.room,
                       bodies=[f"newer {n}" for n in range(50)])

    posted: list[str] = []
    alice.page.on("request", lambda r: posted.append(r.post_data or "") if r.method == "POST" else None)
    alice.page.reload()
    alice.expect_connected()
    item = alice.expect_once(body)
    expect(item.locator(".state")).to_have_text(STORED)
    assert alice.outbox() == []
    resent = [p for p in posted if entry["client_id"] in p]
    resent += [frame for number, frame in dropper.from_page if number > 0 and entry["client_id"] in frame]
    if pushed_out:
        assert resent, "the reloaded page never re-sent the unacked message"
        expect(alice.log.locator("li.msg")).to_have_count(51)
    alice.round_trip()
    bob.round_trip()
    expect(alice.item(body)).to_have_count(1)
    expect(bob.item(body)).to_have_count(1)
    assert [m["body"] for m in stored_messages(chat_server, conversation.room)].count(body) == 1


def test_catch_up_after_the_network_drops(open_room, chat_server):
    """Bob's network goes away while Alice talks; when it is back, Bob's page fills the gap."""
    alice = open_room("alice")
    bob = open_room("bob")
    alice.send("Before the gap")
    bob.expect_once("Before the gap")

    bob.context.set_offline(True)  # this also cuts Bob's open WebSocket (checked right here)
    expect_reconnecting(bob)
    missed = [f"Missed {n}" for n in range(3)]
    for body in missed:
        alice.send(body)
        alice.expect_sent(body)
    # And more from Alice's other devices, through the same service (nobody is told of these live).
    missed += [f"From another device {n}" for n in range(60)]
    store_messages(chat_server, sender="alice", room="lobby", bodies=missed[3:])
    expect(bob.item("Missed 0")).to_have_count(0)

    bob.context.set_offline(False)
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    all_ids = [m["id"] for m in stored_messages(chat_server, "lobby")]
    expect(bob.log.locator("li.msg[data-id]")).to_have_count(len(all_ids), timeout=RECONNECT_TIMEOUT_MS)
    bob.round_trip()
    assert bob.message_ids() == all_ids
    assert bob.bodies() == ["Before the gap", *missed]


def test_catch_up_from_an_empty_room(open_room, chat_server):
    """Bob opened the room before anyone spoke; he misses more than one page of messages."""
    bob = open_room("bob")
    expect(bob.page.get_by_text("No messages yet")).to_be_visible()
    bob.context.set_offline(True)
    expect_reconnecting(bob)
    missed = [f"While Bob was away {n}" for n in range(70)]
    ids = store_messages(chat_server, sender="alice", room="lobby", bodies=missed)

    bob.context.set_offline(False)
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    expect(bob.log.locator("li.msg[data-id]")).to_have_count(len(ids), timeout=RECONNECT_TIMEOUT_MS)
    assert bob.message_ids() == ids
    assert bob.bodies() == missed
    expect(bob.page.get_by_text("No messages yet")).to_be_hidden()


def test_catch_up_shows_edits_removals_and_pins_made_while_away(open_room, chat_server):
    """Bob's network goes; meanwhile a message is edited, one removed and one pinned, and nobody
    tells his page live. When he is back, his page shows all three, without a reload."""
    chat_server.add_user("mira", role="admin", display_name="Mira")
    alice = open_room("alice")
    bob = open_room("bob")
    bodies = ["Meet at 9", "Wrong room, sorry", "Bring calculators"]
    for body in bodies:
        alice.send(body)
        alice.expect_sent(body)
        bob.expect_once(body)

    bob.context.set_offline(True)
    expect_reconnecting(bob)
    with chat_server.app().app_context():
        by_body = {m.body: m for m in db.session.scalars(db.select(Message))}
        author = db.session.scalar(db.select(User).filter_by(username="alice"))
        admin = db.session.scalar(db.select(User).filter_by(username="mira"))
        lobby = room_service.get_room("lobby")
        editing.edit_message(editor=author, room=lobby, message_id=by_body["Meet at 9"].id, body="Meet at *10*")
        moderation.delete_message(actor=admin, message=by_body["Wrong room, sorry"])
        moderation.pin_message(actor=admin, message=by_body["Bring calculators"])
    expect(bob.item("Meet at 9")).to_have_count(1)  # his page has not heard

    bob.context.set_offline(False)
    bob.expect_connected(timeout=RECONNECT_TIMEOUT_MS)
    edited = bob.item("Meet at 10")
    expect(edited.locator(".edited")).to_have_text("edited", timeout=RECONNECT_TIMEOUT_MS)
    expect(edited.locator(".body em")).to_have_text("10")
    expect(bob.item("Meet at 9")).to_have_count(0)
    expect(bob.item("Removed by a moderator")).to_have_count(1)
    expect(bob.item("Wrong room, sorry")).to_have_count(0)
    expect(bob.page.get_by_role("region", name="Pinned")).to_contain_text("Bring calculators")
    assert bob.bodies()[0] == "Meet at 10"  # in place: nothing moved, nothing added
    assert len(bob.message_ids()) == 3


class HistoryHold:
    """Holds the page's first catch-up `history` request (HTTP long-polling or WebSocket) until
    released, so a test can make a live message arrive in the middle of a catch-up."""

    def __init__(self) -> None:
        self.held: list = []  # callables that let the held request go
        self.released = False

    @staticmethod
    def is_catch_up(data: str) -> bool:
        return '"history"' in data and '"after"' in data

    def route(self, route) -> None:
        request = route.request
        if not self.released and request.method == "POST" and self.is_catch_up(request.post_data or ""):
            self.held.append(route.continue_)
        else:
            route.continue_()

    def websocket(self, ws) -> None:
        server = ws.connect_to_server()

        def page_to_server(frame):
            if not self.released and isinstance(frame, str) and self.is_catch_up(frame):
                self.held.append(lambda: server.send(frame))
            else:
                server.send(frame)

        ws.on_message(page_to_server)
        server.on_message(ws.send)

    def release(self) -> None:
        self.released = True
        for let_go in self.held:
            let_go()


def test_catch_up_of_many_pages_with_a_live_message_arriving_midway(conversation, chat_server):
    """More than join's 500 plus one history page are missed, and a live message lands between
    two catch-up pages: the page must still fetch everything in between, in id order, once."""
    hold = HistoryHold()
    bob, alice = conversation.open(setup=lambda context: context.route_web_socket(SOCKET_IO, hold.websocket))
    bob.page.route("**/socket.io/**", hold.route)
    alice.send("Before the gap")
    bob.expect_once("Before the gap")

    bob.context.set_offline(True)
    expect_reconnecting(bob)
    missed = [f"m{n}" for n in range(650)]
    store_messages(chat_server, sender=conversation.other_username, room=conversation.room, bodies=missed)

    bob.context.set_offline(False)
    wait_until(bob.page, lambda: hold.held, RECONNECT_S, "Bob's page never asked for a catch-up page")
    alice.send("Live, during the catch-up")
    alice.expect_sent("Live, during the catch-up")
    bob.expect_once("Live, during the catch-up")
    hold.release()

    all_ids = [m["id"] for m in stored_messages(chat_server, conversation.room)]
    expect(bob.log.locator("li.msg[data-id]")).to_have_count(len(all_ids), timeout=RECONNECT_TIMEOUT_MS)
    bob.round_trip()
    assert bob.message_ids() == all_ids
    assert bob.bodies() == ["Before the gap", *missed, "Live, during the catch-up"]


# What the browser does when the network comes back or the page is shown again after sleep: `online`
# from Chromium itself (its network emulation goes back on), the other two as the browser fires them
# on waking (a headless page never sleeps).
WAKE_UPS = {
    "online": None,
    "visibilitychange": "() => document.dispatchEvent(new Event('visibilitychange'))",
    "pageshow": "() => window.dispatchEvent(new PageTransitionEvent('pageshow', { persisted: true }))",
}


@pytest.mark.parametrize("wake_up", list(WAKE_UPS))
def test_a_page_coming_back_reconnects_at_once(conversation, chat_server, wake_up):
    """With the next backoff step a minute away, the page is back as soon as the browser says the
    network is back or the page is visible again: no further reconnect attempt of the backoff, and
    what was typed meanwhile is delivered once."""
    alice, bob = conversation.open()
    # Backoff steps of 30-60 s from here: only the wake-up can bring the page back within the test.
    alice.page.evaluate(
        "() => { const io = window.chatapp.socket.io; io.reconnectionDelay(60000); io.reconnectionDelayMax(60000);"
        " window.reconnectAttempts = 0; io.on('reconnect_attempt', () => { window.reconnectAttempts += 1; }); }"
    )
    if wake_up == "online":
        alice.context.set_offline(True)
    else:
        chat_server.kill()
    expect_reconnecting(alice)
    body = f"Typed before the {wake_up}"
    alice.send(body)
    expect(alice.item(body).locator(".state")).to_have_text("Sending…")

    if wake_up == "online":
        alice.context.set_offline(False)
    else:
        chat_server.start()
        alice.page.evaluate(WAKE_UPS[wake_up])
    alice.expect_connected(timeout=ACTION_TIMEOUT_MS)
    assert alice.page.evaluate("window.reconnectAttempts") == 0
    alice.expect_sent(body)
    bob.expect_once(body, timeout=RECONNECT_TIMEOUT_MS)
    for chat in (alice, bob):
        chat.round_trip()
        expect(chat.item(body)).to_have_count(1)
    assert [m["body"] for m in stored_messages(chat_server, conversation.room)] == [body]
