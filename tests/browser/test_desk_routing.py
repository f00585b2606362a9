"""A desk with automatic assignment, in Chromium: an agent sets away, a visitor writes, the
conversation goes to the other agent by itself, who opens it from the keyboard and answers."""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Conversation, Site
from chatapp.services import sites
from harness.browser import log_in

pytestmark = pytest.mark.browser


@pytest.fixture
def routed_site(live_server):
    """Two agents, Ann and Ben, and a site whose conversations are assigned automatically."""
    live_server.add_user("ann", role="staff", display_name="Ann Agent")
    live_server.add_user("ben", role="staff", display_name="Ben Agent")
    with live_server.app().app_context():
        site = sites.create_site(actor=None, name="Acme bicycles", origins=["https://shop.example"])
        db.session.get(Site, site.id).routing = "auto"
        db.session.commit()
        key = site.site_key
    live_server.start()
    return key


def test_an_away_agent_is_skipped_and_the_other_answers_from_the_keyboard(live_server, routed_site, contexts):
    ann = contexts.new()
    log_in(ann, live_server.url, "ann", next_path="/support")
    expect(ann.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ann.locator("#my-status-note")).to_have_text("Online: new conversations can be assigned to you.")
    ann.get_by_label("Your status").select_option("away")
    expect(ann.locator("#my-status-note")).to_have_text("Away: you get no new conversations.")

    ben = contexts.new()
    log_in(ben, live_server.url, "ben", next_path="/support")
    expect(ben.locator("#connection")).to_have_attribute("data-state", "online")
    expect(ben.locator("#team-list li[data-status=away]", has_text="Ann Agent")).to_have_count(1)
    expect(ben.locator("#team-summary")).to_have_text("Agents: 1 of 2 online")

    # Ben's Alt+A goes away and back; Ann's console hears both, live.
    ben.locator("body").press("Alt+a")
    expect(ben.get_by_label("Your status")).to_have_value("away")
    expect(ann.locator("#team-list li[data-status=away]", has_text="Ben Agent")).to_have_count(1)
    ben.locator("body").press("Alt+a")
    expect(ben.get_by_label("Your status")).to_have_value("online")
    expect(ann.locator("#team-list li[data-status=online]", has_text="Ben Agent")).to_have_count(1)

    visitor = contexts.new()
    visitor.goto(f"{live_server.url}/widget/frame?site={routed_site}")
    box = visitor.get_by_role("textbox", name="Message")
    expect(box).to_be_enabled()
    box.fill("Is the cargo bike in stock?")
    box.press("Enter")
    expect(visitor.locator("#assignment")).to_have_text("Ben Agent is helping you.")

    # Ben finds it in "Mine", opens it with Alt+↓ and answers; Ann's queue never had it as hers.
    ben.get_by_role("button", name="Mine").click()
    expect(ben.locator(".queue-item", has_text="Assigned to you")).to_have_count(1)
    ben.locator("body").press("Alt+ArrowDown")
    expect(ben.get_by_role("log", name="Messages")).to_contain_text("Is the cargo bike in stock?")
    reply = ben.get_by_role("textbox", name="Message")
    reply.fill("Yes, two left.")
    reply.press("Enter")
    expect(visitor.get_by_role("log", name="Messages").locator("li.msg", has_text="Yes, two left.")).to_have_count(1)
    ann.get_by_role("button", name="Mine").click()
    expect(ann.locator("#queue-empty")).to_be_visible()
    with live_server.app().app_context():
        conversation = db.session.scalar(db.select(Conversation))
        assert conversation.assignee.username == "ben"
