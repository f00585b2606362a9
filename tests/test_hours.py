"""Business hours (services/hours.py) and how the widget meets them: the schedule at its edges,
across the 2026 daylight-saving changes in Berlin and New York, holidays, the widget's HOURS
in the session answer and over `support_hours`, the e-mail a visitor leaves while the desk is away.

Expected UTC times are written out by hand (Berlin is UTC+1 in winter and +2 in summer;
New York -5 and -4), not computed with zoneinfo, so that they check the service, not repeat it.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import Message, Site, VisitorProfile, isoformat_utc, utcnow
from chatapp.services import hours, visitors
from chatapp.services.errors import ServiceError

from .conftest import received
from .support_fixtures import SHOP, make_site, start_visitor, visitor_socket  # noqa: F401 - fixtures

WEEKDAYS_9_TO_5 = {day: [["09:00", "17:00"]] for day in ("0", "1", "2", "3", "4")}
ALL_DAY = {day: [["00:00", "24:00"]] for day in hours.WEEKDAYS}
MINUTE = timedelta(minutes=1)


def site(timezone: str = "UTC", schedule=WEEKDAYS_9_TO_5, holidays=()) -> Site:
    """A site that is only asked about its hours (never stored)."""
    return Site(name="Shop", site_key="k", timezone=timezone, schedule=schedule, holidays=list(holidays))


def utc(text: str) -> datetime:
    """A naive UTC moment from "2026-03-30 07:00"."""
    return datetime.fromisoformat(text)


def iso(text: str) -> str:
    """The protocol's TIME of a moment written "2026-03-30 07:00"."""
    return isoformat_utc(utc(text))


# -- the schedule at its edges -----------------------------------------------------------------------------

# (zone, a working day around a daylight-saving change, 09:00 and 17:00 local of that day in UTC)
DAYS = [
    ("Europe/Berlin", "Friday before summer time", "2026-03-27 08:00", "2026-03-27 16:00"),
    ("Europe/Berlin", "Monday after summer time began (29 March)", "2026-03-30 07:00", "2026-03-30 15:00"),
    ("Europe/Berlin", "Friday before winter time", "2026-10-23 07:00", "2026-10-23 15:00"),
    ("Europe/Berlin", "Monday after winter time began (25 October)", "2026-10-26 08:00", "2026-10-26 16:00"),
    ("America/New_York", "Friday before daylight time", "2026-03-06 14:00", "2026-03-06 22:00"),
    ("America/New_York", "Monday after daylight time began (8 March)", "2026-03-09 13:00", "2026-03-09 21:00"),
    ("America/New_York", "Friday before standard time", "2026-10-30 13:00", "2026-10-30 21:00"),
    ("America/New_York", "Monday after standard time began (1 November)", "2026-11-02 14:00", "2026-11-02 22:00"),
]


@pytest.mark.parametrize("zone, day, opens, closes", DAYS, ids=[f"{zone}: {day}" for zone, day, _o, _c in DAYS])
def test_open_from_the_opening_minute_until_just_before_closing(zone, day, opens, closes):
    desk = site(zone)
    assert hours.is_open(desk, utc(opens) - MINUTE) is False
    assert hours.is_open(desk, utc(opens)) is True
    assert hours.is_open(desk, utc(closes) - MINUTE) is True
    assert hours.is_open(desk, utc(closes)) is False


@pytest.mark.parametrize("zone, day, opens, closes", DAYS, ids=[f"{zone}: {day}" for zone, day, _o, _c in DAYS])
def test_the_widget_payload_at_the_edges_of_a_day(zone, day, opens, closes):
    desk = site(zone)
    before = hours.desk_status(desk, utc(opens) - MINUTE)
    assert before == {"open": False, "opens_at": iso(opens), "changes_at": iso(opens), "timezone": zone}
    assert hours.desk_status(desk, utc(opens)) == {
        "open": True, "opens_at": None, "changes_at": iso(closes), "timezone": zone,
    }
    assert hours.desk_status(desk, utc(closes) - MINUTE)["changes_at"] == iso(closes)
    after = hours.desk_status(desk, utc(closes))
    assert after["open"] is False and after["opens_at"] == after["changes_at"]
    assert after["opens_at"] > iso(closes)


# Closing on Friday at 17:00 local, the desk opens again on Monday at 09:00 local: a daylight-saving
# change over the weekend moves the UTC hour of Monday's opening, not its local hour.
WEEKENDS = [
    ("Europe/Berlin", "2026-03-27 16:00", "2026-03-30 07:00"),
    ("Europe/Berlin", "2026-10-23 15:00", "2026-10-26 08:00"),
    ("America/New_York", "2026-03-06 22:00", "2026-03-09 13:00"),
    ("America/New_York", "2026-10-30 21:00", "2026-11-02 14:00"),
]


@pytest.mark.parametrize("zone, friday_close, monday_open", WEEKENDS)
def test_after_friday_the_desk_opens_at_nine_on_monday_across_a_clock_change(zone, friday_close, monday_open):
    desk = site(zone)
    assert hours.next_opening(desk, utc(friday_close)) == utc(monday_open)
    assert hours.next_opening(desk, utc(friday_close) - MINUTE) == utc(friday_close) - MINUTE  # still open
    status = hours.desk_status(desk, utc(friday_close))
    assert status == {"open": False, "opens_at": iso(monday_open), "changes_at": iso(monday_open), "timezone": zone}
    assert hours.desk_status(desk, utc(monday_open) - MINUTE)["open"] is False


@pytest.mark.parametrize("zone, friday_close, monday_open", WEEKENDS)
def test_business_seconds_over_a_clock_change_weekend_count_only_open_time(zone, friday_close, monday_open):
    desk = site(zone)
    # From Friday 13:00 local to Monday 13:00 local: 4 hours on Friday and 4 on Monday.
    friday_13 = utc(friday_close) - timedelta(hours=4)
    monday_13 = utc(monday_open) + timedelta(hours=4)
    assert hours.business_seconds(desk, friday_13, monday_13) == 8 * 3600
    assert hours.business_seconds(desk, utc(friday_close), utc(monday_open)) == 0


@pytest.mark.parametrize(
    "zone, change_day, hours_that_day",
    [
        ("Europe/Berlin", "2026-03-29", 23),
        ("Europe/Berlin", "2026-10-25", 25),
        ("America/New_York", "2026-03-08", 23),
        ("America/New_York", "2026-11-01", 25),
    ],
)
def test_a_day_open_around_the_clock_lasts_as_long_as_the_clocks_say(zone, change_day, hours_that_day):
    desk = site(zone, schedule=ALL_DAY)
    day = date.fromisoformat(change_day)
    # From the day before's noon to the day after's noon, whatever the offset: 12 + that day + 12.
    start = datetime(day.year, day.month, day.day) - timedelta(hours=12)
    seconds = hours.business_seconds(desk, start, start + timedelta(hours=12 + hours_that_day + 12))
    assert seconds == (12 + hours_that_day + 12) * 3600
    assert hours.desk_status(desk, start)["changes_at"] is None  # open around the clock: it never closes


def test_a_period_until_midnight_runs_on_into_the_next_days_first_period():
    desk = site("Europe/Berlin", schedule={"0": [["18:00", "24:00"]], "1": [["00:00", "02:00"], ["09:00", "17:00"]]})
    monday_evening = utc("2026-11-30 20:00")  # 21:00 in Berlin
    assert hours.next_closing(desk, monday_evening) == utc("2026-12-01 01:00")  # Tuesday 02:00 local
    assert hours.next_closing(desk, utc("2026-12-01 01:00")) is None  # closed then


def test_a_holiday_is_closed_all_day_and_the_desk_opens_on_the_next_working_day():
    desk = site("Europe/Berlin", holidays=["2026-12-25"])  # a Friday
    christmas_morning = utc("2026-12-25 09:00")  # 10:00 in Berlin
    assert hours.is_open(desk, christmas_morning) is False
    assert hours.next_opening(desk, utc("2026-12-24 16:00")) == utc("2026-12-28 08:00")  # Thursday's close -> Monday
    assert hours.is_open(site("Europe/Berlin"), christmas_morning) is True  # without the holiday
    assert hours.business_seconds(desk, utc("2026-12-24 00:00"), utc("2026-12-26 00:00")) == 8 * 3600


def test_a_site_without_a_schedule_is_always_open():
    desk = site("Europe/Berlin", schedule=None)
    sunday_night = utc("2026-03-29 01:30")  # the hour the clocks skip in Berlin
    assert hours.is_open(desk, sunday_night) is True
    assert hours.next_opening(desk, sunday_night) == sunday_night
    assert hours.next_closing(desk, sunday_night) is None
    assert hours.business_seconds(desk, sunday_night, sunday_night + timedelta(days=2)) == 2 * 86400
    assert hours.desk_status(desk, sunday_night) == {
        "open": True, "opens_at": None, "changes_at": None, "timezone": "Europe/Berlin",
    }


def test_a_site_whose_schedule_has_no_period_never_opens():
    desk = site("America/New_York", schedule={})
    now = utc("2026-11-02 15:00")
    assert hours.is_open(desk, now) is False
    assert hours.next_opening(desk, now) is None
    assert hours.business_seconds(desk, now, now + timedelta(days=30)) == 0
    assert hours.desk_status(desk, now) == {
        "open": False, "opens_at": None, "changes_at": None, "timezone": "America/New_York",
    }


def test_an_unknown_stored_time_zone_is_read_as_utc():
    desk = site("Mars/Olympus_Mons")
    assert hours.desk_status(desk, utc("2026-11-30 08:59"))["opens_at"] == iso("2026-11-30 09:00")
    assert hours.desk_status(desk, utc("2026-11-30 08:59"))["timezone"] == "UTC"


# -- checking what a lead types -------------------------------------------------------------------------


def test_check_timezone_takes_iana_names_and_refuses_others(app):
    with app.test_request_context():
        assert hours.check_timezone(" Europe/Berlin ") == "Europe/Berlin"
        assert hours.check_timezone("UTC") == "UTC"
        for bad in ("Berlin", "", None, 3, "../etc/passwd"):
            with pytest.raises(ServiceError) as refused:
                hours.check_timezone(bad)
            assert refused.value.code == "invalid" and "Europe/Berlin" in refused.value.message


def test_check_schedule_keeps_good_periods_in_order_and_drops_empty_days(app):
    with app.test_request_context():
        assert hours.check_schedule(None) is None
        typed = {"0": [["13:30", "18:00"], ["09:00", "12:30"]], "5": [], "6": [["20:00", "24:00"]]}
        assert hours.check_schedule(typed) == {"0": [["09:00", "12:30"], ["13:30", "18:00"]], "6": [["20:00", "24:00"]]}


@pytest.mark.parametrize(
    "schedule, says",
    [
        ({"7": [["09:00", "17:00"]]}, "weekday"),
        ([["09:00", "17:00"]], "weekday"),
        ({"0": [["9:00", "17:00"]]}, "09:00-17:30"),
        ({"0": [["09:00", "24:30"]]}, "09:00-17:30"),
        ({"0": [["09:00"]]}, "09:00-17:30"),
        ({"0": [["17:00", "09:00"]]}, "end after it starts"),
        ({"0": [["09:00", "09:00"]]}, "end after it starts"),
        ({"0": [["09:00", "13:00"], ["12:00", "17:00"]]}, "overlap"),
        ({"0": [[f"{h:02d}:00", f"{h:02d}:30"] for h in range(5)]}, "at most 4"),
    ],
)
def test_check_schedule_refuses_what_it_cannot_read_and_says_why(app, schedule, says):
    with app.test_request_context(), pytest.raises(ServiceError) as refused:
        hours.check_schedule(schedule)
    assert refused.value.code == "invalid" and says in refused.value.message


def test_check_holidays_sorts_distinct_dates_and_refuses_anything_else(app):
    with app.test_request_context():
        assert hours.check_holidays(["2026-12-26", "2026-12-25", "2026-12-25"]) == ["2026-12-25", "2026-12-26"]
        assert hours.check_holidays(None) == []
        for bad in (["25.12.2026"], ["2026-02-30"], [20261225], "2026-12-25", ["2026-01-01"] * 101):
            with pytest.raises(ServiceError) as refused:
                hours.check_holidays(bad)
            assert refused.value.code == "invalid"


# -- the widget: HOURS to a visitor ------------------------------------------------------------------------


def set_hours(app, site_key: str, **columns) -> None:
    """Give a stored site a time zone, schedule or holidays (the settings pages are another door)."""
    with app.app_context():
        stored = db.session.scalar(db.select(Site).filter_by(site_key=site_key))
        for name, value in columns.items():
            setattr(stored, name, value)
        db.session.commit()


def session(client, site_key: str, **body):
    return client.post("/widget/api/session", json={"site_key": site_key, **body}, headers={"Origin": SHOP})


def test_the_session_answer_says_a_closed_desk_is_away_and_asks_for_an_e_mail(app, client):
    key = make_site(app)
    set_hours(app, key, timezone="America/New_York", schedule={})
    data = session(client, key).get_json()
    assert data["hours"] == {
        "open": False, "opens_at": None, "changes_at": None, "timezone": "America/New_York", "ask_email": True,
    }


def test_the_session_answer_says_when_a_desk_on_holiday_opens_again(app, client):
    key = make_site(app)
    today = utcnow().date()
    # Closed from yesterday to tomorrow (even if midnight passes during the test): open from the day after.
    days_off = [(today + timedelta(days=n)).isoformat() for n in (-1, 0, 1)]
    set_hours(app, key, timezone="UTC", schedule=ALL_DAY, holidays=days_off)
    data = session(client, key).get_json()
    opens = datetime.combine(today + timedelta(days=2), datetime.min.time())
    assert data["hours"] == {
        "open": False, "opens_at": isoformat_utc(opens), "changes_at": isoformat_utc(opens), "timezone": "UTC",
        "ask_email": True,
    }


def test_an_open_desk_asks_for_no_e_mail(app, client):
    key = make_site(app)  # no schedule: always open
    data = session(client, key).get_json()
    assert data["hours"] == {"open": True, "opens_at": None, "changes_at": None, "timezone": "UTC", "ask_email": False}


def test_a_closed_desk_does_not_ask_again_for_an_e_mail_it_has_or_the_pre_chat_form_requires(app, client):
    key = make_site(app)
    set_hours(app, key, schedule={})
    assert session(client, key, email="vera@example.com").get_json()["hours"]["ask_email"] is False
    required = make_site(app, name="Strict", prechat_enabled=True, prechat_email_required=True)
    set_hours(app, required, schedule={})
    assert session(client, required).get_json()["hours"]["ask_email"] is False


def test_the_e_mail_left_while_away_is_stored_on_the_visitors_profile(app, client):
    key = make_site(app)
    set_hours(app, key, schedule={})
    first = session(client, key).get_json()
    again = session(client, key, visitor_token=first["visitor_token"], email=" vera@example.com ").get_json()
    assert again["ok"] is True and again["contact"]["email"] == "vera@example.com"
    assert again["hours"]["ask_email"] is False
    assert again["conversation"]["room"] == first["conversation"]["room"]
    with app.app_context():
        profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=first["visitor"]["id"]))
        assert profile.email == "vera@example.com"


@pytest.mark.parametrize(
    "language, says", [("en", "Type an e-mail address like name@example.com."), ("zh-CN", "name@example.com")]
)
def test_a_bad_e_mail_address_is_refused_in_the_widgets_language_and_nothing_is_stored(app, client, language, says):
    key = make_site(app)
    set_hours(app, key, schedule={})
    first = session(client, key).get_json()
    response = client.post(
        "/widget/api/session", json={"site_key": key, "visitor_token": first["visitor_token"], "email": "vera@"},
        headers={"Origin": SHOP, "Accept-Language": language},
    )
    assert response.status_code == 400
    answer = response.get_json()
    assert answer["error"] == "invalid" and says in answer["message"]
    if language == "zh-CN":
        assert "Type an e-mail" not in answer["message"]  # translated
    with app.app_context():
        profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=first["visitor"]["id"]))
        assert profile.email is None


def test_desk_for_visitor_at_the_edges_of_the_schedule(app):
    key = make_site(app)
    set_hours(app, key, timezone="Europe/Berlin", schedule=WEEKDAYS_9_TO_5)
    visitor = start_visitor(app, key)
    with app.app_context():
        profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=visitor.id))
        desk = profile.site
        before = visitors.desk_for_visitor(site=desk, profile=profile, at=utc("2026-03-30 06:59"))
        assert before == {"open": False, "opens_at": iso("2026-03-30 07:00"), "changes_at": iso("2026-03-30 07:00"),
                          "timezone": "Europe/Berlin", "ask_email": True}
        at_opening = visitors.desk_for_visitor(site=desk, profile=profile, at=utc("2026-03-30 07:00"))
        assert at_opening["open"] is True and at_opening["ask_email"] is False
        assert at_opening["changes_at"] == iso("2026-03-30 15:00")
        at_closing = visitors.desk_for_visitor(site=desk, profile=profile, at=utc("2026-03-30 15:00"))
        assert at_closing["open"] is False and at_closing["opens_at"] == iso("2026-03-31 07:00")


# -- the widget's socket -----------------------------------------------------------------------------------


def test_the_widget_asks_again_and_hears_the_desk_opened(app, visitor_socket):
    key = make_site(app)
    set_hours(app, key, schedule={})
    visitor = start_visitor(app, key)
    sock = visitor_socket(visitor)
    closed = sock.emit("support_hours", {}, callback=True)
    assert closed == {"ok": True, "hours": {"open": False, "opens_at": None, "changes_at": None, "timezone": "UTC",
                                            "ask_email": True}}
    set_hours(app, key, schedule=None)  # the lead opened the desk around the clock
    assert sock.emit("support_hours", {}, callback=True)["hours"]["open"] is True


def test_a_message_sent_while_the_desk_is_away_is_stored_once(app, visitor_socket):
    key = make_site(app)
    set_hours(app, key, schedule={})
    visitor = start_visitor(app, key)
    sock = visitor_socket(visitor)
    assert sock.emit("join", {"room": visitor.room}, callback=True)["ok"] is True
    payload = {"room": visitor.room, "body": "Is the shop open on Sunday?", "client_id": "away-1"}
    first = sock.emit("send", payload, callback=True)
    retried = sock.emit("send", payload, callback=True)
    assert first["ok"] is True and retried["message"]["id"] == first["message"]["id"]
    assert [message["body"] for message in received(sock, "message")] == ["Is the shop open on Sunday?"]
    with app.app_context():
        stored = db.session.scalars(db.select(Message).filter_by(body="Is the shop open on Sunday?")).all()
        assert len(stored) == 1


@pytest.mark.parametrize("username", ["staff", "alice", "admin"])
def test_only_a_widget_visitor_asks_for_its_desks_hours(socket_for, users, username):
    ack = socket_for(username).emit("support_hours", {}, callback=True)
    assert ack["ok"] is False and ack["error"] == "forbidden"


@pytest.mark.parametrize("payload", [None, {"site": "other"}, [], "x"])
def test_support_hours_refuses_a_payload_it_does_not_take(app, visitor_socket, payload):
    key = make_site(app)
    sock = visitor_socket(start_visitor(app, key))
    ack = sock.emit("support_hours", payload, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid"
    assert sock.is_connected()
