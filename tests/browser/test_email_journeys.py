"""A conversation that goes on by e-mail, in Chromium against `python wsgi.py` and a real SMTP server on 127.0.0.1.

The server's own worker (inside `python wsgi.py`, the default) sends the e-mails. A visitor
asks in the widget and closes the tab; the agent answers in the console; the reply arrives by
e-mail once, even with the server SIGKILLed while it waited; its link opens the conversation
again in the browser, where the visitor asks for the transcript, which arrives too.
"""
from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from chatapp.services import sites
from harness.browser import PHONE, STORED, log_in

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

LINK = re.compile(r"(http://\S+/widget/continue/[\w.\-]+)")


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def mailing_server(live_server, smtp_server):
    """The live server e-mailing through the test SMTP server; a visitor's reply e-mail waits 3 s."""
    live_server.env.update(
        SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_server.port), SMTP_SECURITY="none",
        MAIL_FROM="Acme desk <desk@acme.example>", CHATAPP_URL=live_server.url,
        VISITOR_REPLY_DELAY_SECONDS="3", OUTBOX_POLL_SECONDS="0.2", AGENT_NOTICE_DELAY_SECONDS="3600",
    )
    live_server.add_user("agent", role="staff", display_name="Alex Agent")
    with live_server.app().app_context():
        key = sites.create_site(actor=None, name="Acme bicycles", origins=["https://acme.example"],
                                 prechat_enabled=True).site_key
    live_server.start()
    return live_server, key, smtp_server.mailbox


def test_the_reply_reaches_a_visitor_who_left_and_its_link_brings_them_back(mailing_server, contexts, tmp_path):
    server, key, mailbox = mailing_server
    agent = contexts.new()
    log_in(agent, server.url, "agent", next_path="/support")
    expect(agent.locator("#connection")).to_have_attribute("data-state", "online")

    # The visitor asks, leaving an address in the pre-chat form, and closes the tab.
    visitor = contexts.new()
    visitor.goto(f"{server.url}/widget/frame?site={key}")
    visitor.get_by_label("Name (optional)").fill("Vera Visitor")
    visitor.locator("#prechat-email").fill("vera@example.com")
    visitor.get_by_role("button", name="Start chat").click()
    visitor.get_by_role("textbox", name="Message").fill("Does the cargo bike come in green?")
    visitor.get_by_role("button", name="Send").click()
    own = visitor.get_by_role("log", name="Messages").locator("li.msg", has_text="cargo bike")
    expect(own.locator(".state")).to_have_text(STORED)
    visitor.close()

    item = agent.locator(".queue-item", has_text="Vera Visitor")
    item.click()
    expect(agent.locator("[data-field=online]")).to_contain_text("Offline")
    agent.get_by_role("textbox", name="Message").fill("Yes, green ships in March.")
    agent.get_by_role("textbox", name="Message").press("Enter")
    expect(agent.locator("li.msg", has_text="green ships").locator(".state")).to_have_text(STORED)
    agent.get_by_role("textbox", name="Message").fill("I can reserve one for you.")
    agent.get_by_role("textbox", name="Message").press("Enter")
    expect(agent.locator("li.msg", has_text="reserve one").locator(".state")).to_have_text(STORED)

    # The server dies before the e-mail is due, and comes back: the job was stored with the reply.
    server.kill()
    assert mailbox.wait_for(1, timeout=1) == []
    server.start()
    [message] = mailbox.wait_for(1, timeout=30)
    text = _plain(message)
    assert "vera@example.com" in str(message["To"]) and "Acme bicycles" in str(message["Subject"])
    assert text.index("green ships in March") < text.index("reserve one")  # both replies, one e-mail
    assert len(mailbox.wait_for(2, timeout=3)) == 1  # and only once

    # The link opens the conversation again, as the visitor, on a phone.
    back = contexts.new(viewport=PHONE)
    back.goto(LINK.search(text).group(1))
    log = back.get_by_role("log", name="Messages")
    expect(log.locator("li.msg", has_text="green ships in March")).to_have_count(1)
    expect(log.locator("li.msg", has_text="cargo bike")).to_have_count(1)
    assert_accessible(back, "the conversation opened from an e-mail")
    back.screenshot(path=str(tmp_path / "continued-phone.png"))

    # There, the visitor asks for the whole conversation by e-mail.
    back.get_by_role("button", name="E-mail me this conversation").click()
    expect(back.locator("#transcript-status")).to_contain_text("vera@example.com")
    transcript = mailbox.wait_for(2, timeout=30)[1]
    assert "conversation with Acme bicycles" in str(transcript["Subject"])
    assert _plain(transcript).index("cargo bike") < _plain(transcript).index("reserve one")


def test_the_chinese_widget_s_visitor_gets_chinese_e_mail_and_a_chinese_page(mailing_server, contexts, tmp_path):
    server, key, mailbox = mailing_server
    agent = contexts.new()
    log_in(agent, server.url, "agent", next_path="/support")
    visitor = contexts.new(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN"})
    visitor.goto(f"{server.url}/widget/frame?site={key}")
    visitor.locator("#prechat-email").fill("li@example.com")
    visitor.get_by_role("button", name="开始聊天").click()
    visitor.get_by_role("textbox", name="消息").fill("我的订单到哪里了？")
    visitor.get_by_role("textbox", name="消息").press("Enter")
    expect(visitor.get_by_role("log").locator("li.msg", has_text="订单").locator(".state")).to_have_text("已发送")
    visitor.close()
    agent.locator(".queue-item", has_text="订单").click()
    expect(agent.locator("[data-field=online]")).to_contain_text("Offline")
    agent.get_by_role("textbox", name="Message").fill("已经发货了，明天到。")
    agent.get_by_role("textbox", name="Message").press("Enter")
    [message] = mailbox.wait_for(1, timeout=30)
    assert message["Content-Language"] == "zh-CN" and "回复" in str(message["Subject"])
    back = contexts.new(locale="zh-CN")
    back.goto(LINK.search(_plain(message)).group(1))
    expect(back.get_by_role("log").locator("li.msg", has_text="已经发货了")).to_have_count(1)
    expect(back.get_by_role("button", name="把这段对话发到我的邮箱")).to_be_visible()
    back.screenshot(path=str(tmp_path / "continued-zh.png"))
