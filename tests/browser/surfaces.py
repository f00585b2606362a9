"""The three pages that deliver messages — the room page, the support widget and the agent
console — driven alike, so that one set of fault scenarios runs on each (test_room_faults.py)."""
from __future__ import annotations

import functools

from playwright.sync_api import Locator

from chatapp.extensions import db
from chatapp.models import Conversation, Room
from chatapp.services import sites
from harness.browser import ACTION_TIMEOUT_MS, CAUGHT_UP, ChatPage

SURFACES = ["room", "widget", "console"]


class WidgetPage(ChatPage):
    """A website visitor in the support widget, on the frame's own page (what the loader's iframe
    loads). No login: the visitor token the frame keeps in localStorage is who they are."""

    def __init__(self, *args, site_key: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.site_key = site_key

    @property
    def url(self) -> str:
        return f"{self.base_url}/widget/frame?site={self.site_key}"

    @property
    def connection(self) -> Locator:
        return self.page.locator("#status[role=status]")

    def log_in_and_open(self) -> None:
        """Open the frame; it starts (or resumes) the visitor's session and connects."""
        self.page.goto(self.url)
        self.expect_connected()

    def expect_connected(self, timeout: float = ACTION_TIMEOUT_MS) -> None:
        """Connected and caught up; the conversation's room is known from then on."""
        self.page.wait_for_function(CAUGHT_UP, timeout=timeout)
        self.room = self.page.evaluate("() => window.chatapp.delivery.room")
        super().expect_connected(timeout)


class ConsolePage(ChatPage):
    """A support agent in the console, with one conversation (`room`) open."""

    @property
    def path(self) -> str:
        return f"/support?c={self.room}"


class Talk:
    """Two people on one surface: `me`, whose page is under test, and `other`, who must see what I send.

    room: Alice and Bob in the lobby. widget: a visitor in the widget, an agent answering in the
    console. console: that agent in the console, the visitor in the widget.
    """

    def __init__(self, surface: str, open_room, server) -> None:
        self.surface = surface
        self.open_room = open_room
        self.server = server
        self.room = "lobby"
        if surface != "room":
            server.add_user("agent", role="staff", display_name="Alex Agent")
            with server.app().app_context():
                self.site_key = sites.create_site(actor=None, name="Acme bicycles", origins=["https://shop.example"]).site_key

    def open(self, *, setup=None) -> tuple[ChatPage, ChatPage]:
        """Open both pages, live; `setup(context)` runs for my page before it loads."""
        if self.surface == "room":
            return self.open_room("alice", setup=setup), self.open_room("bob")
        widget = functools.partial(WidgetPage, site_key=self.site_key)
        if self.surface == "widget":
            me = self.open_room("visitor", page_class=widget, setup=setup)
            self.room = me.room
            return me, self.open_room("agent", room=self.room, page_class=ConsolePage)
        other = self.open_room("visitor", page_class=widget)
        self.room = other.room
        return self.open_room("agent", room=self.room, page_class=ConsolePage, setup=setup), other

    def _usernames(self) -> tuple[str, str]:
        if self.surface == "room":
            return "alice", "bob"
        with self.server.app().app_context():
            conversation = db.session.scalar(db.select(Conversation).join(Room).where(Room.slug == self.room))
            visitor = conversation.visitor.username
        return (visitor, "agent") if self.surface == "widget" else ("agent", visitor)

    @property
    def my_username(self) -> str:
        """Whose messages my page sends, as the database names them."""
        return self._usernames()[0]

    @property
    def other_username(self) -> str:
        """Who the other person is, as the database names them (to store messages as them)."""
        return self._usernames()[1]
