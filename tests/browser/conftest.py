"""Browser fixtures: one headless Chromium per session, and logged-in room pages on a live server.

These tests never skip: without Chromium they fail, saying how to install it.
"""
from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from chatapp import PROJECT_ROOT
from harness.browser import ACTION_TIMEOUT_MS, DESKTOP, ChatPage, chromium_missing, launch_chromium

from .chat import STATE_RECORDER
from .surfaces import SURFACES, Talk

ARTIFACTS = Path(PROJECT_ROOT) / "test-artifacts"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can tell that the test failed."""
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser():
    """Headless Chromium for the whole session; a missing Chromium fails every browser test."""
    problem = chromium_missing()
    if problem:
        pytest.fail(problem, pytrace=False)
    # Every expect() waits this long unless told otherwise: the machine is shared and noisy.
    expect.set_options(timeout=ACTION_TIMEOUT_MS)
    with sync_playwright() as playwright:
        browser = launch_chromium(playwright)
        yield browser
        browser.close()


@pytest.fixture
def chat_server(live_server):
    """The live server with Alice and Bob and the public room "lobby", started."""
    live_server.add_user("alice", display_name="Alice")
    live_server.add_user("bob", display_name="Bob")
    live_server.add_room("lobby", name="Lobby")
    live_server.start()
    return live_server


@pytest.fixture
def open_room(request, browser, chat_server):
    """open_room("alice") is Alice, logged in through the form, on the live room page.

    page_class: another page that delivers messages, driven alike (surfaces.py: the widget, the console).

    Each call gets its own browser context (cookies, localStorage). `setup(context)` runs
    before the first page loads, for routes and init scripts. After the test every page
    must be free of uncaught script errors and dialogs.
    """
    opened: list[ChatPage] = []

    def open_(username: str, *, room: str = "lobby", viewport: dict | None = None, setup=None, page_class=ChatPage,
              **options) -> ChatPage:
        context = browser.new_context(viewport=viewport or DESKTOP, **options)
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        context.set_default_navigation_timeout(ACTION_TIMEOUT_MS)
        context.add_init_script(STATE_RECORDER)
        if setup is not None:
            setup(context)
        chat = page_class(context, context.new_page(), chat_server.url, username, room)
        opened.append(chat)
        chat.log_in_and_open()
        return chat

    yield open_

    reports = [getattr(request.node, f"report_{when}", None) for when in ("setup", "call")]
    if any(report is not None and report.failed for report in reports):
        save_artifacts(request.node, opened, chat_server)
    problems = [f"{chat.username}: script error: {error}" for chat in opened for error in chat.page_errors]
    problems += [f"{chat.username}: dialog: {dialog}" for chat in opened for dialog in chat.dialogs]
    for chat in opened:
        chat.context.close()
    assert not problems, "\n".join(problems)


def save_artifacts(node, pages: list[ChatPage], server) -> None:
    """Screenshots, console output and the server log of a failed test, under test-artifacts/."""
    folder = ARTIFACTS / re.sub(r"[^\w.-]+", "_", node.nodeid)
    folder.mkdir(parents=True, exist_ok=True)
    for n, chat in enumerate(pages):
        name = f"{n}-{chat.username}"
        try:
            chat.page.screenshot(path=folder / f"{name}.png", full_page=True, timeout=5000)
        except Exception as error:  # noqa: BLE001 - a crashed page still gets its console saved
            (folder / f"{name}.screenshot-error.txt").write_text(repr(error))
        (folder / f"{name}.console.txt").write_text("\n".join(chat.console + chat.page_errors))
    if server.log_path.exists():
        shutil.copy(server.log_path, folder / "server.log")


@pytest.fixture(params=SURFACES)
def conversation(request, open_room, chat_server) -> Talk:
    """Two people talking on each surface in turn: the room page, the support widget, the agent console."""
    return Talk(request.param, open_room, chat_server)


@pytest.fixture
def contexts(browser):
    """contexts.new(**options): a fresh browser context; every page must be free of script errors."""
    opened = []

    class Contexts:
        def new(self, viewport=DESKTOP, **options) -> Page:
            context = browser.new_context(viewport=viewport, **options)
            context.set_default_timeout(ACTION_TIMEOUT_MS)
            page = context.new_page()
            errors: list[str] = []
            page.on("pageerror", lambda error: errors.append(str(error)))
            opened.append((context, errors))
            return page

    yield Contexts()
    problems = [error for _, errors in opened for error in errors]
    for context, _ in opened:
        context.close()
    assert not problems, problems
