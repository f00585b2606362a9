"""An admin registers a webhook, tests it and reads its log and the deliveries page, in Chromium.

Against `python wsgi.py`, whose own worker makes the calls to a receiver on 127.0.0.1 written
from docs/webhooks.md (harness/receiver.py); the pages pass axe-core, in English and Chinese,
on a desktop and on a phone.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from harness.browser import PHONE, log_in
from harness.database import PASSWORD
from harness.receiver import WebhookReceiver

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser


@pytest.fixture
def receiver():
    found = WebhookReceiver()
    yield found
    found.close()


@pytest.fixture
def admin_server(live_server):
    live_server.env.update(WEBHOOK_ALLOW_PRIVATE_ADDRESSES="1", OUTBOX_POLL_SECONDS="0.2",
                           OUTBOX_BACKOFF_SECONDS="600")
    live_server.add_user("admin", role="admin", display_name="Ada Admin")
    live_server.start()
    return live_server


def test_an_admin_registers_a_webhook_tests_it_and_reads_its_log(admin_server, receiver, contexts, tmp_path):
    server = admin_server
    page = contexts.new()
    log_in(page, server.url, "admin", next_path="/admin/webhooks")
    assert_accessible(page, "the webhooks page, empty")

    # A mistake first: no event chosen. The form says so and keeps the URL typed.
    page.get_by_label("URL that receives the calls").fill(receiver.url)
    page.get_by_role("button", name="Register webhook").click()
    expect(page.get_by_role("alert")).to_contain_text("Choose at least one event")  # said at the top, and
    expect(page.locator("#new-events-error")).to_contain_text("Choose at least one event")  # at the field
    expect(page.get_by_label("URL that receives the calls")).to_have_value(receiver.url)
    page.get_by_role("checkbox", name="A message is posted").check()
    page.get_by_role("button", name="Register webhook").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(receiver.url)
    receiver.secret = page.locator("code.secret, [data-secret]").first.inner_text().strip().encode()
    assert_accessible(page, "a webhook's page")

    # The test call goes out from the server's own worker, signed as the docs say.
    page.get_by_role("button", name="Send a test call").click()
    [call] = receiver.wait_for(1, timeout=15)
    assert receiver.types() == ["ping"] and receiver.verify(call["headers"], call["body"])
    page.reload()
    expect(page.locator('[data-ok="true"]').first).to_be_visible()

    # A receiver that fails: the call waits for its next try, shown on the deliveries page with "retry now".
    receiver.answers = [500]
    page.get_by_role("button", name="Send a test call").click()
    receiver.wait_for(2, timeout=15)
    page.goto(f"{server.url}/admin/deliveries")
    waiting = page.locator('tr[data-state="pending"]').first
    expect(waiting).to_be_visible()
    assert_accessible(page, "the deliveries page")
    waiting.get_by_role("button", name="Retry now").click()
    receiver.wait_for(3, timeout=15)
    assert receiver.accepted() == 2  # the ping, and the retried one
    page.screenshot(path=str(tmp_path / "deliveries.png"), full_page=True)

    # On a phone, in Chinese: every delivery is a block of labelled lines, no table wider than the screen.
    phone = contexts.new(viewport=PHONE, locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    phone.goto(f"{server.url}/auth/login?next=/admin/deliveries")
    phone.get_by_label("用户名").fill("admin")
    phone.get_by_label("密码").fill(PASSWORD)
    phone.get_by_label("密码").press("Enter")
    phone.wait_for_url(f"{server.url}/admin/deliveries")
    expect(phone.get_by_role("heading", level=1)).to_have_text("投递")
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone, "the deliveries page on a phone, in Chinese")
    phone.screenshot(path=str(tmp_path / "deliveries-zh-phone.png"), full_page=True)
    phone.goto(f"{server.url}/admin/webhooks")
    phone.screenshot(path=str(tmp_path / "webhooks-zh-phone.png"), full_page=True)
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert_accessible(phone, "the webhooks page on a phone, in Chinese")
