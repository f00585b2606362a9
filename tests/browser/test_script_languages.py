"""The room's scripts in the page's language: status lines and delivery states in Chinese for a
Chinese browser, and message times relative ("just now", "10 minutes ago", "yesterday 14:05"),
the full date and time on hover, in both languages."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Message, Room, User, utcnow

from ..conftest import PASSWORD
from .chat import STATE_RECORDER

pytestmark = pytest.mark.browser

# No `locale`: in Chromium it would override the header. The browser's own language stays English.
CHINESE = {"timezone_id": "UTC", "extra_http_headers": {"Accept-Language": "zh-CN,zh;q=0.9"}}


def seed_earlier_messages(server) -> None:
    """Bob wrote in the lobby yesterday and ten minutes ago (the page renders these itself)."""
    with server.app().app_context():
        room = db.session.scalar(db.select(Room).filter_by(slug="lobby"))
        bob = db.session.scalar(db.select(User).filter_by(username="bob"))
        now = utcnow()
        for body, ago in (("From yesterday", timedelta(days=1)), ("Ten minutes ago", timedelta(minutes=10))):
            db.session.add(Message(room_id=room.id, sender_id=bob.id, body=body, created_at=now - ago))
        db.session.commit()


def time_of(page, body: str):
    """The <time> of the message whose body is `body`."""
    item = page.locator("#messages li.msg").filter(has=page.locator(".body").get_by_text(body, exact=True))
    return item.locator("time")


def stamped_at(time) -> datetime:
    """The instant a <time> stands for (its datetime attribute), in UTC."""
    return datetime.fromisoformat(time.get_attribute("datetime").replace("Z", "+00:00")).astimezone(timezone.utc)


def test_room_in_chinese_for_a_chinese_browser(contexts, chat_server):
    """Accept-Language zh-CN (the browser itself in English): the scripts' words and dates are Chinese."""
    seed_earlier_messages(chat_server)
    page = contexts.new(**CHINESE)
    page.context.add_init_script(STATE_RECORDER)
    page.goto(f"{chat_server.url}/auth/login?next=/rooms/lobby")
    page.get_by_label("用户名").fill("alice")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(f"{chat_server.url}/rooms/lobby")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    assert not page.evaluate("navigator.language").startswith("zh")

    expect(page.locator("#connection")).to_have_text("已连接")
    page.get_by_role("textbox", name="消息").fill("你好")
    page.get_by_role("button", name="发送", exact=True).click()
    mine = page.locator("#messages li.msg").filter(has=page.locator(".body").get_by_text("你好", exact=True))
    expect(mine.locator(".state")).to_have_text("已发送")
    states = page.evaluate("() => window.__chatappStates['你好']")
    assert states[0] == "正在发送…" and states[-1] == "已发送", states

    # Relative times in Chinese, though the browser's own language is English; the full date on hover.
    expect(time_of(page, "你好")).to_have_text("刚刚")
    expect(time_of(page, "Ten minutes ago")).to_have_text(re.compile(r"^\d+分钟前$"))
    expect(time_of(page, "From yesterday")).to_have_text(re.compile(r"^昨天 \d\d:\d\d$"))
    for body in ("你好", "From yesterday"):
        when = stamped_at(time_of(page, body))
        expect(time_of(page, body)).to_have_attribute(
            "title", re.compile(rf"^{when.year}年{when.month}月{when.day}日星期")
        )


def test_room_times_are_relative_in_english(open_room, chat_server):
    """The default, English: "just now", "10 minutes ago", "yesterday 04:05 AM"; the full date as the title."""
    seed_earlier_messages(chat_server)
    alice = open_room("alice", timezone_id="UTC")
    expect(alice.connection).to_have_text("Connected")
    alice.send("Hello")
    alice.expect_sent("Hello")
    page = alice.page
    expect(time_of(page, "Hello")).to_have_text("just now")
    expect(time_of(page, "Ten minutes ago")).to_have_text(re.compile(r"^\d+ minutes ago$"))
    expect(time_of(page, "From yesterday")).to_have_text(re.compile(r"^yesterday \d\d:\d\d"))
    for body in ("Hello", "From yesterday"):
        when = stamped_at(time_of(page, body))
        full = f"{when:%A}, {when:%B} {when.day}, {when.year}"
        expect(time_of(page, body)).to_have_attribute("title", re.compile(rf"^{full}"))
        assert page.locator("#i18n-catalogue").count() == 0
