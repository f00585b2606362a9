"""Business hours in the widget, in Chromium: a closed desk says when it opens again, in English
and in Chinese, still takes the message, and keeps the e-mail the visitor leaves.

The site is in Berlin and on holiday from today for a week, so whenever the test runs the desk
opens again eight days from now at 09:00 Berlin time.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import Page, expect

from chatapp.extensions import db
from chatapp.models import Message, Site, VisitorProfile
from chatapp.services import hours, sites
from harness.browser import CAUGHT_UP, STORED

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

PHONE_375 = {"width": 375, "height": 740}
CHINESE_WEEKDAYS = ("星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日")


def away_site(server) -> tuple[str, date]:
    """A site open 09:00-17:00 every day in Berlin, on holiday this week; its key and the day it opens."""
    berlin_today = datetime.now(ZoneInfo("Europe/Berlin")).date()
    # From yesterday: if midnight passes during the test, today is still a holiday and the opening day the same.
    days_off = [(berlin_today + timedelta(days=n)).isoformat() for n in range(-1, 8)]
    with server.app().app_context():
        site = sites.create_site(actor=None, name="Acme bicycles", origins=[server.url])
        site.timezone = hours.check_timezone("Europe/Berlin")
        site.schedule = hours.check_schedule({day: [["09:00", "17:00"]] for day in hours.WEEKDAYS})
        site.holidays = hours.check_holidays(days_off)
        db.session.commit()
        return site.site_key, berlin_today + timedelta(days=8)


def open_frame(page: Page, url: str) -> None:
    """The widget frame on its own page (what the loader's iframe loads), connected and caught up."""
    page.goto(url)
    page.wait_for_function(CAUGHT_UP)


def stored(server, body: str) -> int:
    with server.app().app_context():
        return len(db.session.scalars(db.select(Message).filter_by(body=body)).all())


def emails(server) -> list[str | None]:
    with server.app().app_context():
        return list(db.session.scalars(db.select(VisitorProfile.email)))


def test_a_closed_desk_says_when_it_opens_takes_the_message_and_the_e_mail(live_server, contexts):
    site_key, opens = away_site(live_server)
    live_server.start()
    page = contexts.new(viewport=PHONE_375)
    open_frame(page, f"{live_server.url}/widget/frame?site={site_key}")

    notice = page.get_by_role("status").filter(has_text="We're away now.")
    expect(notice).to_have_text(
        f"We're away now. We open again on {opens:%A}, {opens:%B} {opens.day} at 09:00 (Central European Time). "
        "Leave a message and we'll reply then."
    )
    expect(page.get_by_text("No one is online right now")).to_have_count(0)  # the away notice comes first
    assert_accessible(page, "the widget of a closed desk, on a phone")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_375["width"]

    # A bad address is refused, saying what to type; nothing is stored.
    email = page.get_by_label("Your e-mail (optional)")
    page.get_by_role("button", name="Save e-mail").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Type your e-mail address, like name@example.com, or just write your message."
    )
    email.fill("vera@")
    page.get_by_role("button", name="Save e-mail").click()
    expect(page.get_by_role("alert")).to_have_text("Type an e-mail address like name@example.com.")
    expect(email).to_have_attribute("aria-invalid", "true")
    expect(email).to_be_focused()
    assert emails(live_server) == [None]
    assert_accessible(page, "the widget's e-mail field with an error")

    email.fill("vera@example.com")
    email.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Thank you.")).to_have_text(
        "Thank you. We will answer at vera@example.com."
    )
    expect(email).to_be_hidden()
    assert emails(live_server) == ["vera@example.com"]

    # The composer keeps working while the desk is away: the message is stored, and shown once.
    box = page.get_by_role("textbox", name="Message")
    box.fill("Do you have the cargo bike in green?")
    page.get_by_role("button", name="Send").click()
    expect(page.locator("li.msg .state")).to_have_text(STORED)
    assert stored(live_server, "Do you have the cargo bike in green?") == 1

    # Back later: the same conversation, the message once, no second request for the e-mail.
    open_frame(page, f"{live_server.url}/widget/frame?site={site_key}")
    expect(page.get_by_role("log", name="Messages").locator("li.msg")).to_have_count(1)
    expect(page.get_by_role("log", name="Messages")).to_contain_text("Do you have the cargo bike in green?")
    expect(notice).to_be_visible()
    expect(page.get_by_label("Your e-mail (optional)")).to_be_hidden()
    # It waits for the next working day: not "an agent will be with you shortly".
    expect(page.locator("#assignment")).to_be_hidden()
    assert stored(live_server, "Do you have the cargo bike in green?") == 1


def test_a_closed_desk_speaks_chinese_in_a_chinese_widget(live_server, contexts):
    site_key, opens = away_site(live_server)
    live_server.start()
    page = contexts.new(locale="en-US")  # the widget's language comes from the host page, not the browser
    open_frame(page, f"{live_server.url}/widget/frame?site={site_key}&lang=zh-CN")

    weekday = CHINESE_WEEKDAYS[opens.weekday()]
    expect(page.get_by_role("status").filter(has_text="我们现在不在线")).to_have_text(
        f"我们现在不在线。我们将于{opens.month}月{opens.day}日{weekday} 09:00（中欧时间）恢复服务。"
        "请留言，届时我们会回复您。"
    )
    assert_accessible(page, "the Chinese widget of a closed desk")

    email = page.get_by_label("您的电子邮箱（可选）")
    email.fill("not an address")
    page.get_by_role("button", name="保存邮箱").click()
    expect(page.get_by_role("alert")).to_have_text("请输入邮箱地址，例如 name@example.com。")
    email.fill("wei@example.com")
    page.get_by_role("button", name="保存邮箱").click()
    saved = page.get_by_role("status").filter(has_text="wei@example.com")
    expect(saved).to_have_text("谢谢。我们会回复到 wei@example.com。")
    assert emails(live_server) == ["wei@example.com"]


def test_the_widget_hears_the_desk_opened_while_it_stays_open(live_server, contexts):
    with live_server.app().app_context():
        site = sites.create_site(actor=None, name="Acme bicycles", origins=[live_server.url])
        site.schedule = hours.check_schedule({})  # no opening hours at all: away
        db.session.commit()
        site_key, site_id = site.site_key, site.id
    # Pings far apart: jumping an hour ahead must not time the socket out (a reconnect asks anyway).
    live_server.env["SOCKETIO_PING_INTERVAL"] = "7200"
    live_server.start()
    page = contexts.new()
    page.clock.install()  # the page's timers run on, and the test may jump ahead
    open_frame(page, f"{live_server.url}/widget/frame?site={site_key}")
    socket_id = page.evaluate("() => window.chatapp.socket.id")
    desk = page.get_by_role("status").filter(has_text="We're")
    expect(desk).to_have_text("We're away now. Leave a message and we'll reply here.")
    expect(page.get_by_label("Your e-mail (optional)")).to_be_visible()

    with live_server.app().app_context():
        db.session.get(Site, site_id).schedule = None  # the lead opens the desk around the clock
        db.session.commit()
    page.clock.fast_forward("01:00:00")  # the widget asks again at the latest after an hour
    expect(page.locator("#agents")).to_have_text(
        "No one is online right now. Leave a message and we'll reply here as soon as we're back."
    )
    expect(page.get_by_label("Your e-mail (optional)")).to_be_hidden()
    assert page.evaluate("() => window.chatapp.socket.id") == socket_id  # the same socket asked: no reconnect
