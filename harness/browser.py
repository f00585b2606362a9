"""Driving chatapp in headless Chromium: launch it, log in, and read a room page as a person would see it."""
from __future__ import annotations

import json
import os
import re
from urllib.parse import quote

from playwright.sync_api import Browser, BrowserContext, Locator, Page, Playwright, expect

from .database import PASSWORD

CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
# Playwright's own browser download does not work here; Debian's Chromium does, with these.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 360, "height": 740}
# An own message the server has stored: Sent, then (direct rooms, conversations) Delivered, Read.
STORED = re.compile(r"^(Sent|Delivered|Read)$")

ACTION_TIMEOUT_MS = 15_000  # one click, one page load, one message showing up

# The page's delivery engine has caught up on its current connection (delivery.js: caughtUpOn).
CAUGHT_UP = "() => window.chatapp?.delivery && window.chatapp.delivery.caughtUpOn === window.chatapp.socket.id"


class ChromiumMissing(RuntimeError):
    """The browser the tests drive is not installed."""


def chromium_missing() -> str | None:
    """Why Chromium cannot be launched, or None when it can."""
    if os.access(CHROMIUM_PATH, os.X_OK):
        return None
    return (
        f"Chromium not found at {CHROMIUM_PATH}: install it (`make test` does, as root: scripts/system-deps.sh) "
        "or point CHROMIUM_PATH at it."
    )


def launch_chromium(playwright: Playwright) -> Browser:
    """Headless Debian Chromium; raise ChromiumMissing when it is not there."""
    problem = chromium_missing()
    if problem:
        raise ChromiumMissing(problem)
    return playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)


def log_in(page: Page, base_url: str, username: str, next_path: str = "/", password: str = PASSWORD) -> None:
    """Log in through the real login form and land on next_path."""
    page.goto(f"{base_url}/auth/login?next={quote(next_path)}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(base_url + next_path)


class ChatPage:
    """One logged-in person on one room page, and what they can see there."""

    def __init__(self, context: BrowserContext, page: Page, base_url: str, username: str, room: str) -> None:
        self.context = context
        self.page = page
        self.base_url = base_url
        self.username = username
        self.room = room
        self.page_errors: list[str] = []
        self.dialogs: list[str] = []
        self.console: list[str] = []
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("dialog", self._on_dialog)

    def _on_dialog(self, dialog) -> None:
        self.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    # -- getting there -------------------------------------------------------------

    @property
    def path(self) -> str:
        return f"/rooms/{self.room}"

    @property
    def url(self) -> str:
        return self.base_url + self.path

    def log_in_and_open(self) -> None:
        """Log in through the form, land on the page, wait until it is live."""
        log_in(self.page, self.base_url, self.username, next_path=self.path)
        self.expect_connected()

    def expect_connected(self, timeout: float = ACTION_TIMEOUT_MS) -> None:
        """The connection status says the page is live and has joined the room."""
        expect(self.connection).to_have_attribute("data-state", "online", timeout=timeout)
        # "Connected" shows before the join ack: wait until the page's catch-up on this connection is
        # done (delivery.js), then a round trip, after which every broadcast sent before has arrived.
        self.page.wait_for_function(CAUGHT_UP, timeout=timeout)
        self.round_trip(timeout=timeout)

    # -- what is on the page ---------------------------------------------------------

    @property
    def log(self) -> Locator:
        return self.page.get_by_role("log", name="Messages")

    @property
    def textbox(self) -> Locator:
        return self.page.get_by_role("textbox", name="Message")

    @property
    def send_button(self) -> Locator:
        return self.page.get_by_role("button", name="Send")

    @property
    def connection(self) -> Locator:
        return self.page.locator("#connection[role=status]")

    @property
    def typing_line(self) -> Locator:
        return self.page.locator("#typing")

    def member(self, display_name: str) -> Locator:
        """A row of the member list."""
        members = self.page.get_by_role("complementary", name="Members")
        return members.locator("li").filter(has=self.page.locator(".name", has_text=display_name))

    def item(self, body: str) -> Locator:
        """Every message in the log whose text is exactly body."""
        return self.log.locator("li.msg").filter(has=self.page.locator(".body").get_by_text(body, exact=True))

    def bodies(self) -> list[str]:
        """The texts of the messages in the log, top to bottom."""
        return self.log.locator("li.msg .body").all_text_contents()

    def message_ids(self) -> list[int]:
        """The ids of the stored messages in the log, top to bottom."""
        return [int(i) for i in self.log.locator("li.msg[data-id]").evaluate_all("els => els.map(e => e.dataset.id)")]

    def states_seen(self, body: str) -> list[str]:
        """Every state text the own message `body` has shown, in order."""
        return self.page.evaluate("body => (window.__chatappStates || {})[body] || []", body)

    def outbox(self) -> list[dict]:
        """The unacked messages this page keeps in localStorage."""
        raw = self.page.evaluate(
            "() => Object.keys(localStorage).filter(k => k.startsWith('chatapp.outbox.'))"
            ".flatMap(k => JSON.parse(localStorage.getItem(k) || '[]'))"
        )
        return list(raw)

    def transport(self) -> str:
        """The Engine.IO transport the page uses now: 'websocket' or 'polling'."""
        return self.page.evaluate("() => window.chatapp.socket.io.engine.transport.name")

    # -- doing things ----------------------------------------------------------------

    def send(self, body: str, *, press_enter: bool = False) -> None:
        """Type body into the message box and send it with the button (or Enter)."""
        self.textbox.fill(body)
        if press_enter:
            self.textbox.press("Enter")
        else:
            self.send_button.click()

    def expect_once(self, body: str, timeout: float = ACTION_TIMEOUT_MS) -> Locator:
        """body shows in the log, exactly once; return it."""
        item = self.item(body)
        expect(item).to_have_count(1, timeout=timeout)
        return item

    def expect_sent(self, body: str, timeout: float = ACTION_TIMEOUT_MS) -> None:
        """Own message body shows once, stored (Sent, or already Delivered or Read where the other side
        says so), after having shown Sending…."""
        item = self.expect_once(body, timeout=timeout)
        expect(item.locator(".state")).to_have_text(STORED, timeout=timeout)
        states = self.states_seen(body)
        assert states and STORED.match(states[-1]), states
        assert states[0] == "Sending…", f"{body!r} went {states}, not Sending… first"

    def round_trip(self, timeout: float = ACTION_TIMEOUT_MS) -> None:
        """Ask the server something over this page's socket and wait for the answer.

        The server answers events in order on one connection, so once this returns, every
        broadcast it sent this page before the answer has arrived: a doubled message would show.
        """
        ack = self.page.evaluate(
            "([room, ms]) => window.chatapp.socket.timeout(ms).emitWithAck('history', {room, limit: 1})",
            [self.room, int(timeout)],
        )
        assert ack["ok"], ack

    def debug_state(self) -> str:
        """What to print when a test fails."""
        try:
            status = self.connection.text_content(timeout=1000)
        except Exception as error:  # noqa: BLE001 - a closed page still gets reported
            status = f"<{error.__class__.__name__}>"
        return json.dumps({"user": self.username, "status": status, "errors": self.page_errors}, ensure_ascii=False)
