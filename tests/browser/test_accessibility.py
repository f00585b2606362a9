"""axe-core scans of the login, room, support console and widget pages, in Chromium.

axe-core comes from npm (package.json, installed by `npm ci`); it is read from
node_modules and run in the page with `evaluate`, not added as a <script> tag: the app's
Content-Security-Policy forbids inline scripts, and DevTools-evaluated code is not subject
to it. The pages are therefore scanned exactly as served, under their real CSP (no
bypass_csp, which could let through styles or scripts the real page would not get).

Each scan runs the WCAG 2.0 and 2.1 level A and AA rules and fails on any violation whose
impact is "serious" or "critical", listing rule, impact, help and the offending selectors.
"""
from __future__ import annotations

from functools import cache
from pathlib import Path

import pytest
from playwright.sync_api import Frame, Page, expect

from chatapp import PROJECT_ROOT
from chatapp.services import messages, rooms, sites
from harness.browser import DESKTOP, PHONE, STORED, log_in

pytestmark = pytest.mark.browser

AXE_PATH = Path(PROJECT_ROOT) / "node_modules" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}


@cache
def axe_source() -> str:
    assert AXE_PATH.exists(), f"{AXE_PATH} is missing: run `npm ci` (make deps) to install axe-core"
    return AXE_PATH.read_text(encoding="utf-8")


def axe_violations(target: Page | Frame) -> list[dict]:
    """Run axe-core in a page or frame; return its serious and critical violations."""
    if not target.evaluate("() => typeof window.axe === 'object'"):
        target.evaluate(axe_source())
    results = target.evaluate(
        # Frames are scanned on their own (iframes: false): axe would wait for a copy of itself in each.
        "tags => axe.run(document,"
        " { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'], iframes: false })",
        WCAG_TAGS,
    )
    return [v for v in results["violations"] if v.get("impact") in BLOCKING]


def describe(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']} [{violation['helpUrl']}]")
        for node in violation["nodes"]:
            lines.append(f"    {' > '.join(map(str, node['target']))}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"      {summary}")
    return "\n".join(lines)


def assert_accessible(target: Page | Frame, what: str) -> None:
    violations = axe_violations(target)
    assert not violations, f"axe-core: serious/critical WCAG A/AA violations on {what}:\n{describe(violations)}"


def seed_conversation(server) -> None:
    """Alice and Bob have said a few things in the lobby."""
    with server.app().app_context():
        from chatapp.extensions import db
        from chatapp.models import User

        room = rooms.get_room("lobby")
        alice = db.session.scalar(db.select(User).filter_by(username="alice"))
        bob = db.session.scalar(db.select(User).filter_by(username="bob"))
        lines = [
            (alice, "Morning! Is the stand-up at ten today?"),
            (bob, "Yes, ten. I'll share the agenda in a minute."),
            (alice, "Thanks, see you there."),
            (bob, "Here it is: https://example.com/agenda"),
        ]
        for n, (sender, body) in enumerate(lines):
            messages.post_message(sender=sender, room=room, body=body, client_id=f"seed-{n}", enforce_rate_limit=False)


def widget_site(server) -> None:
    """A widget site for the app's own origin, so /support/demo shows the widget."""
    with server.app().app_context():
        sites.create_site(actor=None, name="Acme bicycles", origins=[server.url], prechat_enabled=True)


def open_widget(page: Page, url: str) -> Frame:
    """Open the demo host page, click the launcher, and return the widget's frame once it is ready."""
    page.goto(url)
    page.get_by_role("button", name="Open chat").click()
    chat = page.frame_locator("iframe[title=Chat]")
    expect(chat.get_by_role("button", name="Start chat")).to_be_visible()
    frame = page.locator("iframe[title=Chat]").element_handle().content_frame()
    assert frame is not None
    return frame


def start_widget_chat(page: Page, frame: Frame, body: str) -> None:
    chat = page.frame_locator("iframe[title=Chat]")
    chat.get_by_label("Name (optional)").fill("Vera Visitor")
    chat.get_by_role("button", name="Start chat").click()
    chat.get_by_role("textbox", name="Message").fill(body)
    chat.get_by_role("button", name="Send").click()
    expect(chat.locator("li.msg .state")).to_have_text(STORED)


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_login_page(chat_server, contexts, color_scheme):
    page = contexts.new(color_scheme=color_scheme)
    page.goto(chat_server.url + "/auth/login")
    expect(page.get_by_label("Username")).to_be_visible()
    assert_accessible(page, f"the login page, logged out ({color_scheme})")


@pytest.mark.parametrize(
    "viewport, color_scheme",
    [(DESKTOP, "light"), (PHONE, "light"), (DESKTOP, "dark"), (PHONE, "dark")],
    ids=["desktop-light", "phone-light", "desktop-dark", "phone-dark"],
)
def test_room_page(chat_server, open_room, viewport, color_scheme):
    seed_conversation(chat_server)
    alice = open_room("alice", viewport=viewport, color_scheme=color_scheme)
    alice.send("On my way.")
    alice.expect_sent("On my way.")
    expect(alice.log.locator("li.msg")).to_have_count(5)
    assert_accessible(alice.page, f"the room page ({color_scheme}, {viewport['width']}px)")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_support_console_with_a_conversation_open(live_server, contexts, color_scheme):
    live_server.add_user("agent", role="staff", display_name="Alex Agent")
    widget_site(live_server)
    live_server.start()

    visitor = contexts.new()
    frame = open_widget(visitor, live_server.url + "/support/demo")
    start_widget_chat(visitor, frame, "Hello, does the cargo bike come in green?")

    agent = contexts.new(color_scheme=color_scheme)
    log_in(agent, live_server.url, "agent", next_path="/support")
    expect(agent.locator("#connection")).to_have_attribute("data-state", "online")
    agent.locator(".queue-item", has_text="Vera Visitor").click()
    expect(agent.get_by_role("log", name="Messages")).to_contain_text("cargo bike")
    assert_accessible(agent, f"the support console ({color_scheme}), conversation open")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_widget(live_server, contexts, color_scheme):
    widget_site(live_server)
    live_server.start()
    visitor = contexts.new(color_scheme=color_scheme)
    frame = open_widget(visitor, live_server.url + "/support/demo")
    assert_accessible(visitor, f"the demo host page with the widget open ({color_scheme})")
    assert_accessible(frame, f"the widget's pre-chat form ({color_scheme})")
    start_widget_chat(visitor, frame, "Hello, does the cargo bike come in green?")
    assert_accessible(frame, f"the widget's chat ({color_scheme})")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_widget_on_a_phone(live_server, contexts, color_scheme):
    widget_site(live_server)
    live_server.start()
    visitor = contexts.new(viewport=PHONE, color_scheme=color_scheme)
    frame = open_widget(visitor, live_server.url + "/support/demo")
    start_widget_chat(visitor, frame, "Hello?")
    assert_accessible(frame, f"the widget's chat on a phone ({color_scheme})")
