"""Desk settings (services/desk_settings.py, /support/desk): who may change a site's routing, hours and caps.

And what is refused, how the page says so, and that it keeps what was typed.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pytest

from chatapp.extensions import db
from chatapp.models import AgentState, Conversation, Site, User, utcnow
from chatapp.services import accounts, desk_settings, hours, sites, teams
from chatapp.services.errors import ServiceError

from .conftest import PASSWORD, csrf_token_from, received
from .helpers import logged_in
from .pages import page
from .support_fixtures import start_visitor

WEEKDAY_HOURS = {"0": [["09:00", "17:00"]], "4": [["09:00", "12:00"], ["13:00", "16:00"]]}


@dataclass(frozen=True)
class Desk:
    """Two teams, each with a lead and an agent and a site; a site of no team; the ids of everything."""

    shop: int  # team Alpha's site
    other: int  # team Beta's site
    loose: int  # nobody's site
    ids: dict


@pytest.fixture
def desk(app, users) -> Desk:
    """Alpha (lead lina, agent ann) answers Shop; Beta (lead lars, agent bea) answers Other; Loose has no team."""
    with app.app_context():
        made = {}
        for username in ("lina", "ann", "lars", "bea"):
            made[username] = accounts.create_user(username=username, password=PASSWORD, role="staff",
                                                  display_name=username.capitalize()).id
        alpha = teams.save_team(actor=None, name="Alpha")
        beta = teams.save_team(actor=None, name="Beta")
        for team, lead, agent in ((alpha, "lina", "ann"), (beta, "lars", "bea")):
            teams.set_member(actor=None, team=team, user=db.session.get(User, made[lead]), lead=True)
            teams.set_member(actor=None, team=team, user=db.session.get(User, made[agent]))
        shop = sites.create_site(actor=None, name="Shop", origins=["https://shop.example"])
        other = sites.create_site(actor=None, name="Other", origins=["https://other.example"])
        loose = sites.create_site(actor=None, name="Loose", origins=["https://loose.example"])
        teams.set_site_team(actor=None, site=shop, team_id=alpha.id)
        teams.set_site_team(actor=None, site=other, team_id=beta.id)
        made.update({name: users[name].id for name in users})
        return Desk(shop=shop.id, other=other.id, loose=loose.id, ids=made)


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def _site(site_id: int) -> Site:
    return db.session.get(Site, site_id)


def _error(call) -> ServiceError:
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


# -- the services: who may -------------------------------------------------------------------

SETTINGS = {
    "routing": lambda actor, site: desk_settings.update_routing(
        actor=actor, site=site, routing="auto", agent_cap=3, requeue_on_offline=True),
    "hours": lambda actor, site: desk_settings.update_hours(
        actor=actor, site=site, timezone="Europe/Berlin", schedule=WEEKDAY_HOURS, holidays=["2026-12-25"]),
}


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("username", ["alice", "staff", "ann", "lars"])
def test_only_the_sites_lead_or_an_admin_changes_its_settings(app, desk, setting, username):
    """A member, staff who leads no team, the site's own (non-lead) agent and another team's lead are refused."""
    with app.app_context():
        error = _error(lambda: SETTINGS[setting](_user(username), _site(desk.shop)))
        assert error.code == "forbidden"
        assert "lead of this site's team" in error.message
        db.session.rollback()
        shop = _site(desk.shop)
        assert (shop.routing, shop.agent_cap, shop.timezone, shop.schedule) == ("manual", None, "UTC", None)


@pytest.mark.parametrize("setting", SETTINGS)
@pytest.mark.parametrize("username", ["lina", "admin"])
def test_the_sites_lead_and_an_admin_change_its_settings(app, desk, setting, username):
    with app.app_context():
        SETTINGS[setting](_user(username), _site(desk.shop))
        db.session.expire_all()
        shop = _site(desk.shop)
        if setting == "routing":
            assert (shop.routing, shop.agent_cap, shop.requeue_on_offline) == ("auto", 3, True)
        else:
            assert (shop.timezone, shop.schedule, shop.holidays) == ("Europe/Berlin", WEEKDAY_HOURS, ["2026-12-25"])


@pytest.mark.parametrize("setting", SETTINGS)
def test_a_site_without_a_team_is_run_by_admins_only(app, desk, setting):
    with app.app_context():
        for username in ("lina", "lars", "staff"):
            actor = _user(username)
            assert _error(lambda: SETTINGS[setting](actor, _site(desk.loose))).code == "forbidden"  # noqa: B023
        SETTINGS[setting](_user("admin"), _site(desk.loose))
        assert _site(desk.loose).routing == "auto" or _site(desk.loose).timezone == "Europe/Berlin"


@pytest.mark.parametrize("username", ["alice", "staff", "ann", "lars"])
def test_only_a_lead_of_the_agents_team_or_an_admin_sets_their_cap(app, desk, username):
    with app.app_context():
        error = _error(lambda: desk_settings.set_agent_cap(actor=_user(username), agent=_user("ann"), cap=2))
        assert error.code == "forbidden"
        db.session.rollback()
        assert db.session.get(AgentState, desk.ids["ann"]) is None


@pytest.mark.parametrize("username", ["lina", "admin"])
def test_a_lead_sets_an_agents_cap_making_their_state_row_and_none_clears_it(app, desk, username):
    with app.app_context():
        desk_settings.set_agent_cap(actor=_user(username), agent=_user("ann"), cap=2)
        assert desk_settings.agent_cap_of(_user("ann")) == 2
        desk_settings.set_agent_cap(actor=_user(username), agent=_user("ann"), cap=None)
        assert db.session.get(AgentState, desk.ids["ann"]).cap is None


def test_a_lead_sees_their_own_sites_and_agents_an_admin_all(app, desk):
    with app.app_context():
        assert [site.name for site in teams.sites_run_by(_user("lina"))] == ["Shop"]
        assert [led.user.username for led in desk_settings.agents_led_by(_user("lina"))] == ["ann", "lina"]
        assert desk_settings.agents_led_by(_user("staff")) == []
        assert [site.name for site in teams.sites_run_by(_user("admin"))] == ["Loose", "Other", "Shop"]
        assert [led.user.username for led in desk_settings.agents_led_by(_user("admin"))] == [
            "ann", "bea", "lars", "lina"]


# -- the services: what is refused ------------------------------------------------------------


@pytest.mark.parametrize("cap", ["0", "-1", "abc", "2.5", "1001", 0, True, 2.5, [3]])
def test_a_cap_is_a_whole_number_from_1_to_1000(app, desk, cap):
    with app.app_context():
        error = _error(lambda: desk_settings.update_routing(
            actor=_user("lina"), site=_site(desk.shop), routing="auto", agent_cap=cap, requeue_on_offline=False))
        assert (error.code, error.extra["field"]) == ("invalid", "agent_cap")
        assert "whole number from 1 to 1000" in error.message
        assert _error(lambda: desk_settings.set_agent_cap(actor=_user("lina"), agent=_user("ann"), cap=cap)
                      ).extra["field"] == "cap"


@pytest.mark.parametrize("cap, stored", [("", None), ("  ", None), (None, None), (" 7 ", 7), (1000, 1000)])
def test_an_empty_cap_means_no_limit(app, desk, cap, stored):
    with app.app_context():
        desk_settings.update_routing(actor=_user("lina"), site=_site(desk.shop), routing="manual", agent_cap=cap,
                                     requeue_on_offline=False)
        assert _site(desk.shop).agent_cap == stored


def test_an_unknown_routing_mode_is_refused(app, desk):
    with app.app_context():
        error = _error(lambda: desk_settings.update_routing(
            actor=_user("lina"), site=_site(desk.shop), routing="random", agent_cap=None, requeue_on_offline=False))
        assert (error.code, error.extra["field"]) == ("invalid", "routing")


@pytest.mark.parametrize("timezone, schedule, holidays, field, words", [
    ("Mars/Olympus", None, [], "timezone", "Choose a time zone from the list"),
    ("", None, [], "timezone", "Choose a time zone from the list"),
    ("UTC", {"2": [["9:00", "17:00"]]}, [], "day_2", "such as 09:00-17:30"),
    ("UTC", {"3": [["17:00", "09:00"]]}, [], "day_3", "must end after it starts (17:00-09:00)"),
    ("UTC", {"6": [["09:00", "13:00"], ["12:00", "18:00"]]}, [], "day_6", "must not overlap"),
    ("UTC", {"7": [["09:00", "17:00"]]}, [], "schedule", "for each weekday"),
    ("UTC", {}, [], "day_0", "at least one day, or choose Always open"),
    ("UTC", {"1": []}, [], "day_0", "at least one day, or choose Always open"),
    ("UTC", None, ["2026-02-30"], "holidays", "2026-12-25"),
    ("UTC", None, ["next friday"], "holidays", "2026-12-25"),
])
def test_bad_business_hours_say_which_field_and_store_nothing(app, desk, timezone, schedule, holidays, field, words):
    with app.app_context():
        error = _error(lambda: desk_settings.update_hours(
            actor=_user("lina"), site=_site(desk.shop), timezone=timezone, schedule=schedule, holidays=holidays))
        assert (error.code, error.extra["field"]) == ("invalid", field)
        assert words in error.message
        db.session.rollback()
        assert (_site(desk.shop).timezone, _site(desk.shop).holidays) == ("UTC", [])


def test_hours_parse_what_people_type():
    assert hours.parse_periods_text("09:00-12:00, 13:00 - 17:30") == [["09:00", "12:00"], ["13:00", "17:30"]]
    assert hours.parse_periods_text("09：00–12：00，13:00~17:00") == [["09:00", "12:00"], ["13:00", "17:00"]]
    assert hours.parse_periods_text("  ") == []
    assert hours.parse_holidays_text("2026-12-25\n2026-12-26, 2027-01-01") == ["2026-12-25", "2026-12-26",
                                                                                "2027-01-01"]
    assert hours.parse_schedule_text("09:00-17:00\n\n10:00-11:00")["2"] == [["10:00", "11:00"]]


# -- the page --------------------------------------------------------------------------------


def _token(http) -> str:
    return csrf_token_from(http.get("/support/desk").get_data(as_text=True))


def _routing_form(site_id: int, **values) -> dict:
    data = {"routing": "auto", "agent_cap": "4", "requeue_on_offline": "y", **values}
    return {f"r{site_id}-{name}": value for name, value in data.items() if value is not None}


def _hours_form(site_id: int, **values) -> dict:
    data = {"timezone": "Asia/Shanghai", "day_0": "09:00-12:00, 13:00-18:00", "day_4": "09:00-17:00",
            "holidays": "2026-10-01\n2026-10-02", **values}
    return {f"h{site_id}-{name}": value for name, value in data.items() if value is not None}


@pytest.mark.parametrize("username", ["alice", "staff", "ann"])
def test_the_desk_page_is_forbidden_to_members_agents_and_staff_who_lead_no_team(app, desk, username):
    http = logged_in(app, username)
    assert http.get("/support/desk").status_code == 403
    console = http.get("/support")
    if console.status_code == 200:  # staff: the console has no link to it
        assert page(console).find("a", href="/support/desk") is None


@pytest.mark.parametrize("username", ["lina", "admin"])
def test_the_console_links_leads_and_admins_to_the_desk_page(app, desk, username):
    link = page(logged_in(app, username).get("/support")).find("a", href="/support/desk")
    assert link is not None and link.text == "Desk settings"


def test_a_lead_sees_their_teams_sites_and_agents_only(app, desk):
    shown = page(logged_in(app, "lina").get("/support/desk"))
    assert [section.attrs["data-site-id"] for section in shown.find_all("section", class_="desk-site")] == [
        str(desk.shop)]
    assert [item.attrs["data-username"] for item in shown.find_all("li")
            if "data-username" in item.attrs] == ["ann", "lina"]
    assert shown.labelled("Time zone").attrs["value"] == "UTC"
    assert shown.field(f"r{desk.shop}-routing") is not None


def test_an_admin_sees_every_site(app, desk):
    shown = page(logged_in(app, "admin").get("/support/desk"))
    assert len(shown.find_all("section", class_="desk-site")) == 3


@pytest.mark.parametrize("username", ["alice", "staff", "ann", "lars"])
def test_every_desk_form_is_forbidden_to_whoever_does_not_run_it(app, desk, username):
    http = logged_in(app, username)
    token = csrf_token_from(http.get("/").get_data(as_text=True))
    attempts = [
        (f"/support/desk/sites/{desk.shop}/routing", _routing_form(desk.shop)),
        (f"/support/desk/sites/{desk.shop}/hours", _hours_form(desk.shop)),
        (f"/support/desk/agents/{desk.ids['ann']}/cap", {f"a{desk.ids['ann']}-cap": "2"}),
    ]
    for url, data in attempts:
        assert http.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    with app.app_context():
        shop = _site(desk.shop)
        assert (shop.routing, shop.timezone) == ("manual", "UTC")
        assert db.session.get(AgentState, desk.ids["ann"]) is None


def test_a_lead_cannot_post_to_a_site_of_no_team(app, desk):
    http = logged_in(app, "lina")
    response = http.post(f"/support/desk/sites/{desk.loose}/routing",
                         data={**_routing_form(desk.loose), "csrf_token": _token(http)})
    assert response.status_code == 403
    assert "Only an admin or a lead of this site's team" in page(response).text()


def test_a_lead_saves_routing_through_the_page(app, desk):
    http = logged_in(app, "lina")
    response = http.post(f"/support/desk/sites/{desk.shop}/routing",
                         data={**_routing_form(desk.shop), "csrf_token": _token(http)}, follow_redirects=True)
    assert response.status_code == 200
    assert "Routing of Shop saved." in page(response).notices()
    shown = page(response)
    assert shown.field(f"r{desk.shop}-agent_cap").attrs["value"] == "4"
    assert "checked" in shown.find("input", id=f"r{desk.shop}-requeue_on_offline").attrs
    assert "checked" in shown.find("input", value="auto").attrs
    with app.app_context():
        assert (_site(desk.shop).routing, _site(desk.shop).agent_cap, _site(desk.shop).requeue_on_offline) == (
            "auto", 4, True)


def test_a_lead_saves_business_hours_through_the_page(app, desk):
    http = logged_in(app, "lina")
    response = http.post(f"/support/desk/sites/{desk.shop}/hours",
                         data={**_hours_form(desk.shop), "csrf_token": _token(http)}, follow_redirects=True)
    assert "Business hours of Shop saved." in page(response).notices()
    with app.app_context():
        shop = _site(desk.shop)
        assert shop.timezone == "Asia/Shanghai"
        assert shop.schedule == {"0": [["09:00", "12:00"], ["13:00", "18:00"]], "4": [["09:00", "17:00"]]}
        assert shop.holidays == ["2026-10-01", "2026-10-02"]
    shown = page(response)
    assert shown.labelled("Monday").attrs["value"] == "09:00-12:00, 13:00-18:00"
    assert shown.labelled("Tuesday").attrs.get("value", "") == ""
    assert "checked" not in shown.find("input", id=f"h{desk.shop}-always_open").attrs


def test_always_open_clears_the_schedule(app, desk):
    http = logged_in(app, "lina")
    http.post(f"/support/desk/sites/{desk.shop}/hours", data={**_hours_form(desk.shop), "csrf_token": _token(http)})
    http.post(f"/support/desk/sites/{desk.shop}/hours",
              data={**_hours_form(desk.shop, always_open="y"), "csrf_token": _token(http)})
    with app.app_context():
        assert _site(desk.shop).schedule is None
    assert "checked" in page(http.get("/support/desk")).find("input", id=f"h{desk.shop}-always_open").attrs


@pytest.mark.parametrize("values, field, words", [
    ({"timezone": "Europe/Atlantis"}, "timezone", "Choose a time zone from the list"),
    ({"day_2": "9-5"}, "day_2", "such as 09:00-17:30"),
    ({"day_4": "17:00-09:00"}, "day_4", "must end after it starts"),
    ({"holidays": "2026-13-01"}, "holidays", "A holiday is a date written 2026-12-25."),
    ({"day_0": "", "day_4": ""}, "day_0", "Give the opening times of at least one day, or choose Always open."),
])
def test_a_bad_hours_value_is_shown_beside_its_field_and_keeps_the_input(app, desk, values, field, words):
    http = logged_in(app, "lina")
    posted = _hours_form(desk.shop, **values)
    response = http.post(f"/support/desk/sites/{desk.shop}/hours", data={**posted, "csrf_token": _token(http)})
    assert response.status_code == 400
    shown = page(response)
    control = shown.find(id=f"h{desk.shop}-{field}")
    assert control.attrs["aria-invalid"] == "true"
    error = shown.find(id=control.attrs["aria-describedby"])
    assert words in error.text and "field-error" in error.classes
    for name, value in posted.items():  # nothing typed is lost
        kept = shown.field(name)
        shown_value = kept.text if kept.tag == "textarea" else kept.attrs["value"]
        assert shown_value == " ".join(value.split()), name  # (.text folds the lines of a textarea)
    with app.app_context():
        assert _site(desk.shop).timezone == "UTC"


def test_a_bad_cap_is_shown_beside_its_field_and_keeps_the_input(app, desk):
    http = logged_in(app, "lina")
    response = http.post(f"/support/desk/sites/{desk.shop}/routing",
                         data={**_routing_form(desk.shop, agent_cap="lots"), "csrf_token": _token(http)})
    assert response.status_code == 400
    shown = page(response)
    control = shown.field(f"r{desk.shop}-agent_cap")
    assert control.attrs["value"] == "lots" and control.attrs["aria-invalid"] == "true"
    assert "A cap is a whole number from 1 to 1000; leave it empty for no limit." in shown.notices()
    assert "checked" in shown.find("input", value="auto").attrs  # the rest of the form as sent

    ann = desk.ids["ann"]
    response = http.post(f"/support/desk/agents/{ann}/cap", data={f"a{ann}-cap": "0", "csrf_token": _token(http)})
    assert response.status_code == 400
    assert page(response).field(f"a{ann}-cap").attrs["value"] == "0"
    assert "A cap is a whole number from 1 to 1000; leave it empty for no limit." in page(response).notices()


def test_errors_are_in_the_viewers_language(app, desk):
    http = logged_in(app, "lina", headers={"Accept-Language": "zh-CN"})
    response = http.post(f"/support/desk/sites/{desk.shop}/hours",
                         data={**_hours_form(desk.shop, timezone="Nowhere"), "csrf_token": _token(http)})
    shown = page(response)
    assert shown.find("h1").text == "服务台设置"
    error = shown.find(id=f"h{desk.shop}-timezone-error").text
    assert "Choose a time zone" not in error and "时区" in error


def test_a_lead_sets_an_agents_cap_through_the_page(app, desk):
    http = logged_in(app, "lina")
    ann = desk.ids["ann"]
    response = http.post(f"/support/desk/agents/{ann}/cap", data={f"a{ann}-cap": "3", "csrf_token": _token(http)},
                         follow_redirects=True)
    assert "The cap of Ann saved." in page(response).notices()
    assert page(response).field(f"a{ann}-cap").attrs["value"] == "3"
    with app.app_context():
        assert db.session.get(AgentState, ann).cap == 3


def test_desk_forms_need_the_csrf_token(app, desk):
    http = logged_in(app, "lina")
    assert http.post(f"/support/desk/sites/{desk.shop}/routing", data=_routing_form(desk.shop)).status_code == 400
    with app.app_context():
        assert _site(desk.shop).routing == "manual"


def test_the_page_says_whether_the_desk_is_open_now_and_when_it_opens_next(app, desk):
    """After saving hours a lead sees their effect, in the site's time zone (hours.is_open / next_opening)."""
    http = logged_in(app, "lina")
    now = page(http.get("/support/desk")).find("p", class_="desk-now")
    assert now.attrs["data-open"] == "true" and now.text.startswith("Open now (")  # always open, as made
    with app.app_context():
        today = utcnow().weekday()
        closed_today = {str(day): [["09:00", "17:00"]] for day in range(7) if day != today}
        desk_settings.update_hours(actor=_user("lina"), site=_site(desk.shop), timezone="UTC", schedule=closed_today,
                                   holidays=[])
        opening = hours.next_opening(_site(desk.shop), utcnow())
    now = page(http.get("/support/desk")).find("p", class_="desk-now")
    assert now.attrs["data-open"] == "false"
    assert now.text.startswith("Closed now (") and now.text.endswith(f"opens {opening:%a} 09:00.")
    chinese = page(logged_in(app, "lina", headers={"Accept-Language": "zh-CN"}).get("/support/desk"))
    assert "现在休息" in chinese.find("p", class_="desk-now").text


def test_hours_now_is_in_the_sites_time_zone(app, desk):
    with app.app_context():
        desk_settings.update_hours(actor=_user("lina"), site=_site(desk.shop), timezone="Asia/Shanghai",
                                   schedule={str(day): [["09:00", "18:00"]] for day in range(7)}, holidays=[])
        # 2026-12-02 00:30 UTC is 08:30 in Shanghai: closed, opening at 09:00 local (01:00 UTC).
        at = desk_settings.hours_now(_site(desk.shop), datetime(2026, 12, 2, 0, 30))
        assert (at.is_open, at.local_time.strftime("%H:%M"), at.next_opening.strftime("%a %H:%M")) == (
            False, "08:30", "Wed 09:00")
        assert desk_settings.hours_now(_site(desk.shop), datetime(2026, 12, 2, 2, 0)).is_open


# -- a change hands out what waits (routing.route_waiting) ------------------------------------


def _shop_key(app, desk: Desk) -> str:
    with app.app_context():
        return _site(desk.shop).site_key


def _waiting_visitor(app, desk: Desk, visitor_socket, body: str):
    visitor = start_visitor(app, _shop_key(app, desk))
    ack = visitor_socket(visitor).emit("send", {"room": visitor.room, "body": body, "client_id": body}, callback=True)
    assert ack["ok"], ack
    return visitor


def _assignee(app, visitor) -> str | None:
    with app.app_context():
        conversation = db.session.scalar(db.select(Conversation).filter_by(visitor_id=visitor.id))
        return conversation.assignee.username if conversation.assignee else None


def _console(socket_for, username: str):
    sock = socket_for(username)
    assert sock.emit("support_list", {}, callback=True)["ok"]  # listed: present and online
    return sock


def test_raising_a_cap_on_the_page_hands_a_waiting_conversation_out(app, desk, socket_for, visitor_socket):
    with app.app_context():
        desk_settings.update_routing(actor=_user("lina"), site=_site(desk.shop), routing="auto", agent_cap=1,
                                     requeue_on_offline=False)
    ann = _console(socket_for, "ann")
    first = _waiting_visitor(app, desk, visitor_socket, "first")
    second = _waiting_visitor(app, desk, visitor_socket, "second")
    assert (_assignee(app, first), _assignee(app, second)) == ("ann", None)  # ann is at the site's cap of 1

    http = logged_in(app, "lina")
    ann_id = desk.ids["ann"]
    response = http.post(f"/support/desk/agents/{ann_id}/cap",
                         data={f"a{ann_id}-cap": "2", "csrf_token": _token(http)})
    assert response.status_code == 302
    assert _assignee(app, second) == "ann"
    heard = [c["assignee"] and c["assignee"]["username"]
             for c in received(ann, "conversation") if c["room"] == second.room]
    assert heard[-1] == "ann"  # her console heard of it


def test_turning_a_site_to_automatic_routing_hands_out_what_waits(app, desk, socket_for, visitor_socket):
    _console(socket_for, "ann")
    waiting = _waiting_visitor(app, desk, visitor_socket, "hello")
    assert _assignee(app, waiting) is None  # manual: it waits in the queue
    http = logged_in(app, "lina")
    http.post(f"/support/desk/sites/{desk.shop}/routing",
              data={**_routing_form(desk.shop, agent_cap=""), "csrf_token": _token(http)})
    assert _assignee(app, waiting) == "ann"


def test_opening_the_desk_hands_out_what_waited_for_business_hours(app, desk, socket_for, visitor_socket):
    with app.app_context():
        today = utcnow().weekday()
        closed_today = {str(day): [["00:00", "24:00"]] for day in range(7) if day != today}
        desk_settings.update_hours(actor=_user("lina"), site=_site(desk.shop), timezone="UTC", schedule=closed_today,
                                   holidays=[])
        desk_settings.update_routing(actor=_user("lina"), site=_site(desk.shop), routing="auto", agent_cap=None,
                                     requeue_on_offline=False)
    _console(socket_for, "ann")
    waiting = _waiting_visitor(app, desk, visitor_socket, "anyone?")
    assert _assignee(app, waiting) is None  # closed today
    http = logged_in(app, "lina")
    http.post(f"/support/desk/sites/{desk.shop}/hours",
              data={**_hours_form(desk.shop, timezone="UTC", always_open="y", holidays=""),
                    "csrf_token": _token(http)})
    assert _assignee(app, waiting) == "ann"
