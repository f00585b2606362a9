"""A team's lead runs their desk in Chromium: automatic routing and business hours through /support/desk.

By keyboard, at phone width, axe-clean (with an error shown too), in English and in Chinese.
"""
from __future__ import annotations

import pytest
from playwright.sync_api import expect

from chatapp.extensions import db
from chatapp.models import Site, User
from chatapp.services import sites, teams
from harness.browser import PHONE, log_in

from ..conftest import PASSWORD
from .test_accessibility import assert_accessible

pytestmark = pytest.mark.browser

# The words a person reads on the page, per language (the Accept-Language header chooses it;
# no `locale`, which in Chromium would override the header).
WORDS = {
    "en": {
        "header": "en", "username": "Username", "password": "Password", "log_in": "Log in",
        "desk": "Desk settings", "automatic": "Automatic: hand each new conversation to an available agent",
        "cap": "Open conversations per agent (empty: no limit)",
        "requeue": "When an agent goes offline, put their open conversations back in the queue",
        "timezone": "Time zone", "always_open": "Always open (no business hours)", "monday": "Monday",
        "friday": "Friday", "holidays": "Holidays (one date per line, such as 2026-12-25)",
        "routing_saved": "Routing of Shop saved.", "hours_saved": "Business hours of Shop saved.",
        "bad_zone": "Choose a time zone from the list, such as Europe/Berlin or Asia/Shanghai.",
    },
    "zh": {
        "header": "zh-CN,zh;q=0.9", "username": "用户名", "password": "密码", "log_in": "登录",
        "desk": "服务台设置", "automatic": "自动：把每个新对话分配给有空的客服",
        "cap": "每位客服的未结对话数（留空：不限）",
        "requeue": "客服离线时，把其未结对话放回队列",
        "timezone": "时区", "always_open": "全天开放（不设营业时间）", "monday": "星期一", "friday": "星期五",
        "holidays": "节假日（每行一个日期，例如 2026-12-25）",
        "routing_saved": "Shop 的分配方式已保存。", "hours_saved": "Shop 的营业时间已保存。",
        "bad_zone": "请从列表中选择时区，例如 Europe/Berlin 或 Asia/Shanghai。",
    },
}


@pytest.fixture
def desk_server(live_server):
    """Lina leads team Alpha, which answers the site Shop."""
    lina = live_server.add_user("lina", role="staff", display_name="Lina Lead")
    with live_server.app().app_context():
        alpha = teams.save_team(actor=None, name="Alpha")
        teams.set_member(actor=None, team=alpha, user=db.session.get(User, lina), lead=True)
        shop = sites.create_site(actor=None, name="Shop", origins=["https://shop.example"])
        teams.set_site_team(actor=None, site=shop, team_id=alpha.id)
    live_server.start()
    return live_server


def stored_shop(server) -> Site:
    with server.app().app_context():
        shop = db.session.scalar(db.select(Site).filter_by(name="Shop"))
        db.session.expunge(shop)
        return shop


@pytest.mark.parametrize("language", ["en", "zh"])
def test_a_lead_turns_on_automatic_routing_and_sets_business_hours(desk_server, contexts, language):
    words = WORDS[language]
    page = contexts.new(viewport={**PHONE, "width": 375}, extra_http_headers={"Accept-Language": words["header"]})
    page.goto(f"{desk_server.url}/auth/login?next=/support")
    page.get_by_label(words["username"]).fill("lina")
    page.get_by_label(words["password"]).fill(PASSWORD)
    page.get_by_role("button", name=words["log_in"], exact=True).click()
    page.wait_for_url(f"{desk_server.url}/support")
    # The console has listed its queue (the status line says what the agent's status means) before a click.
    expect(page.locator("#my-status-note")).not_to_be_empty()

    page.get_by_role("link", name=words["desk"]).click()
    page.wait_for_url(f"{desk_server.url}/support/desk")
    expect(page.get_by_role("heading", level=1)).to_have_text(words["desk"])
    assert_accessible(page, f"the desk settings page ({language}, phone)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375  # nothing sideways on a phone

    # Routing, by keyboard: the radio and the checkbox with Space, the cap typed, Enter submits.
    page.get_by_label(words["automatic"]).focus()
    page.keyboard.press("Space")
    page.get_by_label(words["requeue"]).focus()
    page.keyboard.press("Space")
    page.get_by_label(words["cap"]).focus()
    page.keyboard.type("3")
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text=words["routing_saved"])).to_be_visible()
    shop = stored_shop(desk_server)
    assert (shop.routing, shop.agent_cap, shop.requeue_on_offline) == ("auto", 3, True)
    expect(page.get_by_label(words["automatic"])).to_be_checked()

    # Business hours: a time zone that does not exist first, then the right one.
    page.get_by_label(words["always_open"]).focus()
    page.keyboard.press("Space")
    page.get_by_label(words["timezone"]).fill("Asia/Shangai")
    page.get_by_label(words["monday"]).fill("09:00-12:00, 13:00-18:00")
    page.get_by_label(words["friday"]).fill("09:00-15:00")
    page.get_by_label(words["holidays"]).fill("2026-10-01")
    page.get_by_label(words["friday"]).press("Enter")
    zone = page.get_by_label(words["timezone"])
    expect(zone).to_have_attribute("aria-invalid", "true")
    expect(page.locator(f"#{zone.get_attribute('aria-describedby')}")).to_have_text(words["bad_zone"])
    expect(page.get_by_label(words["monday"])).to_have_value("09:00-12:00, 13:00-18:00")  # nothing typed is lost
    assert_accessible(page, f"the desk settings page with an error ({language}, phone)")
    assert stored_shop(desk_server).timezone == "UTC"

    zone.fill("Asia/Shanghai")
    zone.press("Enter")
    expect(page.get_by_role("status").filter(has_text=words["hours_saved"])).to_be_visible()
    shop = stored_shop(desk_server)
    assert shop.timezone == "Asia/Shanghai"
    assert shop.schedule == {"0": [["09:00", "12:00"], ["13:00", "18:00"]], "4": [["09:00", "15:00"]]}
    assert shop.holidays == ["2026-10-01"]
    expect(page.get_by_label(words["always_open"])).not_to_be_checked()
    assert_accessible(page, f"the desk settings page after saving ({language}, phone)")


@pytest.fixture
def admin_server(live_server):
    """An admin, the agent lina, and the site Shop of no team yet."""
    live_server.add_user("root", role="admin", display_name="Root Admin")
    live_server.add_user("lina", role="staff", display_name="Lina Lead")
    with live_server.app().app_context():
        sites.create_site(actor=None, name="Shop", origins=["https://shop.example"])
    live_server.start()
    return live_server


def test_an_admin_makes_a_team_names_its_lead_and_gives_it_a_site(admin_server, contexts):
    """By keyboard at 375 px: the teams page and the site's Team select, axe-clean; the lead then runs the desk."""
    page = contexts.new(viewport={**PHONE, "width": 375})
    log_in(page, admin_server.url, "root", next_path="/admin/teams")
    assert_accessible(page, "the teams page, no teams yet (phone)")

    page.get_by_label("Team name").fill("Alpha")
    page.get_by_label("Team name").press("Enter")
    expect(page.get_by_role("status").filter(has_text="Team Alpha created.")).to_be_visible()
    page.get_by_label("Agent").select_option(label="Lina Lead (lina)")
    page.get_by_label("Leads the team").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Add to Alpha").focus()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="Lina Lead is in Alpha now.")).to_be_visible()
    expect(page.get_by_role("row").filter(has_text="Lina Lead")).to_contain_text("lead")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert_accessible(page, "the teams page with a team (phone)")

    page.get_by_role("navigation", name="Account").get_by_role("link", name="Sites").click()
    page.get_by_role("link", name="Shop").click()
    page.get_by_role("combobox", name="Team").select_option(label="Alpha")
    page.get_by_role("button", name="Save team").press("Enter")
    expect(page.get_by_role("status").filter(has_text="Shop is answered by Alpha now.")).to_be_visible()
    assert_accessible(page, "a site's page with its Team select (phone)")
    assert stored_shop(admin_server).team_id is not None

    lead = contexts.new(viewport={**PHONE, "width": 375}, extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    lead.goto(f"{admin_server.url}/auth/login?next=/support/desk")
    lead.get_by_label("用户名").fill("lina")
    lead.get_by_label("密码").fill(PASSWORD)
    lead.get_by_role("button", name="登录", exact=True).click()
    lead.wait_for_url(f"{admin_server.url}/support/desk")
    expect(lead.get_by_role("heading", level=2, name="Shop")).to_be_visible()
    expect(lead.get_by_text("团队：Alpha")).to_be_visible()
