"""The console's filter bar and labels in Chromium: keyboard only, axe-clean, and on a phone."""
from __future__ import annotations

import pytest
from playwright.sync_api import Locator, Page, expect

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import labels, sites, support, visitors
from harness.browser import DESKTOP, log_in

from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

PHONE_375 = {"width": 375, "height": 740}


def seed_desk(server) -> None:
    """Ann (ann@example.com, labelled Billing) and Bo (bo@example.net) wrote on the shop; labels Billing and Bug."""
    with server.app().app_context():
        site = sites.create_site(actor=None, name="Acme bicycles", origins=["https://shop.example"])
        agent = db.session.scalar(db.select(User).filter_by(username="agent"))
        billing = labels.save_label(actor=None, name="Billing", colour="#2563eb")
        labels.save_label(actor=None, name="Bug", colour="#dc2626")
        for name, email, body in [("Ann Lee", "ann@example.com", "My invoice is wrong"),
                                  ("Bo Chen", "bo@example.net", "The bell is missing")]:
            started = visitors.start_session(site_key=site.site_key, name=name, email=email)
            support.post_to_conversation(sender=started.visitor, room=started.conversation.room, body=body,
                                         client_id=f"seed-{name}")
            if name == "Ann Lee":
                labels.set_label(agent=agent, slug=started.conversation.room.slug, label_id=billing.id,
                                 labelled=True)


@pytest.fixture
def desk(live_server):
    live_server.add_user("agent", role="staff", display_name="Alex Agent")
    seed_desk(live_server)
    live_server.start()
    return live_server


def open_console(contexts, server, **options) -> Page:
    page = contexts.new(**options)
    log_in(page, server.url, "agent", next_path="/support")
    expect(page.locator("#connection")).to_have_attribute("data-state", "online")
    expect(page.locator(".queue-item")).to_have_count(2)
    return page


def tab_to(page: Page, name: str | None = None, *, role: str = "button", target: Locator | None = None,
           backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the control (with this role and accessible name) has the focus."""
    target = target if target is not None else page.get_by_role(role, name=name, exact=True)
    for _ in range(limit):
        if target.evaluate("element => element === document.activeElement"):
            return
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
    raise AssertionError(f"{role} {name!r} is not reachable with Tab")


def queue_names(page: Page):
    return page.locator(".queue-item .queue-name")


def test_agent_filters_by_label_searches_by_e_mail_and_labels_with_the_keyboard_only(desk, contexts):
    page = open_console(contexts, desk, viewport=DESKTOP)
    expect(page.locator(".queue-item", has_text="Ann Lee").locator(".label-chip")).to_have_text("Billing")

    # Filter by label: Tab to the select, arrow to "Billing".
    tab_to(page, "Label", role="combobox")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("combobox", name="Label", exact=True)).to_have_value(
        page.get_by_role("option", name="Billing").first.get_attribute("value")
    )
    expect(queue_names(page)).to_have_text(["Ann Lee"])
    expect(page.locator('.count[data-count="unassigned"]')).to_have_text("1")

    # Back to any label, then search by Bo's e-mail.
    page.keyboard.press("ArrowUp")
    expect(queue_names(page)).to_have_count(2)
    tab_to(page, "Search", role="searchbox", backwards=True)
    page.keyboard.type("bo@example.net")
    page.keyboard.press("Enter")
    expect(queue_names(page)).to_have_text(["Bo Chen"])
    expect(page.locator('.count[data-count="unassigned"]')).to_have_text("1")

    # Open Bo's conversation and give it the Bug label, then take it off: Tab, arrows, Enter.
    tab_to(page, target=page.locator(".queue-item", has_text="Bo Chen"))
    page.keyboard.press("Enter")
    expect(page.locator("#thread-title")).to_have_text("Bo Chen")
    tab_to(page, "Label to add", role="combobox", backwards=True)
    page.keyboard.press("ArrowDown")
    page.keyboard.press("ArrowDown")
    expect(page.get_by_role("combobox", name="Label to add")).to_have_value(
        page.locator("#add-label option", has_text="Bug").get_attribute("value")
    )
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    chips = page.get_by_role("list", name="Labels")
    expect(chips.get_by_role("listitem")).to_have_text(["Bug×"])
    expect(page.locator(".queue-item", has_text="Bo Chen").locator(".label-chip")).to_have_text("Bug")
    tab_to(page, "Remove label Bug", role="button", backwards=True)
    page.keyboard.press("Enter")
    expect(chips.get_by_role("listitem")).to_have_count(0)
    expect(page.get_by_role("combobox", name="Label to add")).to_be_focused()  # the keyboard stays put
    expect(page.locator(".queue-item", has_text="Bo Chen").locator(".label-chip")).to_have_count(0)


def test_a_search_the_server_cannot_parse_says_what_to_do(desk, contexts):
    page = open_console(contexts, desk)
    page.get_by_role("searchbox", name="Search").fill('"unclosed')
    page.keyboard.press("Enter")
    expect(page.locator("#queue-filters-error")).to_contain_text("double quotes")


@pytest.mark.parametrize("color_scheme", ["light", "dark"])
def test_console_with_filters_and_labels_is_axe_clean(desk, contexts, color_scheme):
    page = open_console(contexts, desk, color_scheme=color_scheme)
    page.locator(".queue-item", has_text="Ann Lee").click()
    expect(page.get_by_role("list", name="Labels").get_by_role("listitem")).to_have_text(["Billing×"])
    page.get_by_role("combobox", name="Label", exact=True).select_option(label="Billing")
    expect(queue_names(page)).to_have_text(["Ann Lee"])
    assert_accessible(page, f"the support console with a label filter and labels ({color_scheme})")


def test_console_filters_and_labels_fit_a_phone(desk, contexts):
    page = open_console(contexts, desk, viewport=PHONE_375)
    page.locator(".queue-item", has_text="Ann Lee").click()
    expect(page.get_by_role("list", name="Labels").get_by_role("listitem")).to_have_count(1)
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE_375["width"]
    for control in ("#queue-search", "#status-filter", "#label-filter", "#assignee-filter", "#site-filter",
                    "#add-label"):
        box = page.locator(control).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE_375["width"], control
    assert_accessible(page, "the support console on a 375 px phone")


def test_the_admin_labels_page_is_axe_clean(live_server, contexts):
    live_server.add_user("boss", role="admin", display_name="Boss")
    with live_server.app().app_context():
        labels.save_label(actor=None, name="Billing", colour="#2563eb")
    live_server.start()
    for viewport in (DESKTOP, PHONE_375):
        page = contexts.new(viewport=viewport)
        log_in(page, live_server.url, "boss", next_path="/admin/labels")
        expect(page.get_by_role("heading", name="Labels", exact=True)).to_be_visible()
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
        assert_accessible(page, f"the labels page ({viewport['width']} px)")
