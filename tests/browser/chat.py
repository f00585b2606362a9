"""What only the browser tests need beside harness/browser.py.

The reconnect timeout, the state recorder, polling a page.
"""
from __future__ import annotations

import time
from typing import Callable

from playwright.sync_api import Page

# A server restart, then socket.io-client's backoff (at most 10 s between tries), then catch-up.
RECONNECT_TIMEOUT_MS = 45_000

# Records every state text ("Sending…", "Sent", "Not sent: …") each own message shows, in order,
# so a test can tell that a message really went through "Sending…" before "Sent".
STATE_RECORDER = """
(() => {
  const seen = {};
  window.__chatappStates = seen;
  const record = () => {
    for (const li of document.querySelectorAll("li.msg")) {
      const body = li.querySelector(".body")?.textContent;
      const state = li.querySelector(".state")?.textContent;
      if (body == null || !state) continue;
      const states = (seen[body] ||= []);
      if (states[states.length - 1] !== state) states.push(state);
    }
  };
  new MutationObserver(record).observe(document, { subtree: true, childList: true, characterData: true });
})();
"""


def wait_until(page: Page, predicate: Callable[[], object], timeout_s: float, message: str) -> None:
    """Poll predicate until it is true; fail with message after timeout_s.

    Waits with page.wait_for_timeout, not time.sleep: Playwright runs route and WebSocket
    handlers only while the test is inside a Playwright call.
    """
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        page.wait_for_timeout(100)
    assert predicate(), message
