"""The desk's reports: the hand-computed history (report_history.py) in the service, on the page and in the CSV."""
from __future__ import annotations

import csv
import io
from datetime import date, timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import Conversation, Episode, Message, Site, User, utcnow
from chatapp.services import reports, support, visitors
from chatapp.services.errors import ServiceError

from .helpers import logged_in
from .pages import page
from .report_history import END, START, History, seed_history


@pytest.fixture
def history(app) -> History:
    return seed_history(app)


def report_as(app, username: str, **kwargs) -> reports.Report:
    with app.app_context():
        actor = db.session.scalar(db.select(User).filter_by(username=username))
        kwargs.setdefault("start", START)
        kwargs.setdefault("end", END)
        return reports.desk_report(actor=actor, **kwargs)


def key_numbers(numbers: reports.Numbers) -> tuple:
    return (numbers.opened, numbers.resolved, numbers.first_response.median, numbers.first_response.p90,
            numbers.resolution.median, numbers.resolution.p90, numbers.replies_per_conversation,
            numbers.ratings, numbers.rating_average)


def rows(breakdown: list[reports.Row]) -> dict[str, tuple]:
    return {row.name: key_numbers(row.numbers) for row in breakdown}


# -- the percentile ----------------------------------------------------------------------------------


@pytest.mark.parametrize("values, percent, expected", [
    ([], 50, None),
    ([7], 50, 7), ([7], 90, 7),
    ([1, 2], 50, 1), ([1, 2], 90, 2),  # an even count: the lower middle value
    ([3, 1, 2], 50, 2),
    (list(range(1, 11)), 90, 9),  # rank ceil(9.0) = 9
    (list(range(1, 12)), 90, 10),  # rank ceil(9.9) = 10
    (list(range(1, 21)), 50, 10),
])
def test_percentiles_are_nearest_rank(values, percent, expected):
    assert reports.nearest_rank(values, percent) == expected


# -- the numbers, exactly --------------------------------------------------------------------------------


def test_the_admin_sees_every_site_computed_by_hand(app, history):
    report = report_as(app, "admin")
    assert key_numbers(report.totals) == (8, 7, 900, 30900, 7200, 60000, 19 / 7, 5, 3.8)
    assert [(day.day, day.opened, day.resolved) for day in report.days] == [
        (date(2026, 11, 2), 3, 3), (date(2026, 11, 3), 2, 3), (date(2026, 11, 4), 3, 1),
    ]
    assert report.rating_distribution == {1: 0, 2: 1, 3: 1, 4: 1, 5: 2}
    assert [comment.comment for comment in report.comments] == [
        "Thanks", "Slow", "Quick and kind", '=HYPERLINK("http://evil.example")',
    ]
    assert [hour for hour, opened in enumerate(report.busiest_hours) if opened] == [0, 1, 8, 9, 11, 12, 16, 23]
    assert sum(report.busiest_hours) == 8
    assert rows(report.per_agent) == {
        "Ada": (3, 4, 2400, 30900, 35400, 60000, 2.5, 2, 4.0),
        "Admin": (1, 1, 60, 60, 1800, 1800, 1.0, 1, 5.0),
        "Bo": (3, 2, 600, 900, 3600, 7200, 4.0, 2, 3.0),
        "Nobody": (1, 0, None, None, None, None, None, 0, None),
    }
    assert [row.name for row in report.per_agent] == ["Ada", "Admin", "Bo", "Nobody"]
    assert rows(report.per_team) == {
        "Asia": (3, 2, 600, 900, 3600, 7200, 4.0, 2, 3.0),
        "Europe": (4, 4, 2400, 30900, 35400, 60000, 2.5, 2, 4.0),
        "No team": (1, 1, 60, 60, 1800, 1800, 1.0, 1, 5.0),
    }
    assert rows(report.per_site) == {
        "Berlin shop": (4, 4, 2400, 30900, 35400, 60000, 2.5, 2, 4.0),
        "Free site": (1, 1, 60, 60, 1800, 1800, 1.0, 1, 5.0),
        "Shanghai shop": (3, 2, 600, 900, 3600, 7200, 4.0, 2, 3.0),
    }
    labels = rows(report.per_label)
    assert labels["billing"] == (2, 2, 120, 2400, 3600, 5400, 2.0, 2, 4.5)
    assert labels["bug"] == (1, 1, 1800, 1800, 60000, 60000, 4.0, 1, 3.0)
    assert labels["No label"][:2] == (5, 4)  # E3 E5 S2 S3 F1 opened; E3 E4 S2 F1 resolved


def test_business_hours_count_only_the_time_the_desk_was_open(app, history):
    report = report_as(app, "admin", business_hours=True)
    assert key_numbers(report.totals)[:6] == (8, 7, 600, 900, 3600, 7200)
    # Shanghai has no schedule: its business hours are its clock time.
    assert rows(report.per_site)["Shanghai shop"] == (3, 2, 600, 900, 3600, 7200, 4.0, 2, 3.0)
    assert rows(report.per_site)["Berlin shop"][:6] == (4, 4, 600, 600, 2400, 7200)


def test_a_lead_sees_their_own_team_only(app, history):
    report = report_as(app, "lead_e")
    assert key_numbers(report.totals) == (4, 4, 2400, 30900, 35400, 60000, 2.5, 2, 4.0)
    assert [(day.opened, day.resolved) for day in report.days] == [(2, 2), (0, 1), (2, 1)]
    assert [row.name for row in report.per_site] == ["Berlin shop"]
    assert [row.name for row in report.per_team] == ["Europe"]
    assert {row.name for row in report.per_agent} == {"Ada", "Nobody"}
    assert [comment.comment for comment in report.comments] == ["Quick and kind"]
    business = report_as(app, "lead_e", business_hours=True)
    assert key_numbers(business.totals)[2:6] == (600, 600, 2400, 7200)


def test_filters_by_site_team_agent_and_label(app, history):
    assert report_as(app, "admin", site_id=history.sites["Free site"]).totals.opened == 1
    assert report_as(app, "admin", team_id=history.teams["Asia"]).totals.opened == 3
    by_ada = report_as(app, "admin", agent_id=history.users["ada"])
    assert key_numbers(by_ada.totals) == (3, 4, 2400, 30900, 35400, 60000, 2.5, 2, 4.0)
    billing = report_as(app, "admin", label_id=history.labels["billing"])
    assert key_numbers(billing.totals) == (2, 2, 120, 2400, 3600, 5400, 2.0, 2, 4.5)
    assert [comment.comment for comment in billing.comments] == ["Quick and kind", '=HYPERLINK("http://evil.example")']


def test_an_episode_not_resolved_yet_counts_for_whoever_has_it_now(app, history):
    before = report_as(app, "admin", agent_id=history.users["ada"]).totals.opened
    with app.app_context():
        waiting = db.session.scalar(db.select(Episode).where(Episode.resolved_at.is_(None)))  # E5, unanswered
        db.session.get(Conversation, waiting.conversation_id).assignee_id = history.users["ada"]
        db.session.commit()
    assert report_as(app, "admin", agent_id=history.users["ada"]).totals.opened == before + 1
    assert "Nobody" not in rows(report_as(app, "admin", site_id=history.sites["Berlin shop"]).per_agent)


def test_an_empty_range_has_every_day_at_zero_and_no_times(app, history):
    report = report_as(app, "admin", start=date(2026, 10, 1), end=date(2026, 10, 7))
    assert key_numbers(report.totals) == (0, 0, None, None, None, None, None, 0, None)
    assert [(day.opened, day.resolved) for day in report.days] == [(0, 0)] * 7
    assert report.busiest_hours == [0] * 24
    assert report.rating_distribution == {1: 0, 2: 0, 3: 0, 4: 0, 5: 0}
    assert report.comments == [] and report.per_agent == [] and report.per_label == []


def test_a_range_with_one_conversation(app, history):
    report = report_as(app, "admin", start=date(2026, 11, 3), end=date(2026, 11, 3),
                       site_id=history.sites["Free site"])
    assert key_numbers(report.totals) == (1, 1, 60, 60, 1800, 1800, 1.0, 1, 5.0)
    assert [comment.comment for comment in report.comments] == ["Thanks"]
    assert report.busiest_hours[12] == 1


def test_a_range_must_run_forwards_and_not_too_far(app, history):
    with pytest.raises(ServiceError) as backwards:
        report_as(app, "admin", start=END, end=START)
    assert backwards.value.code == "invalid"
    with pytest.raises(ServiceError) as long:
        report_as(app, "admin", start=date(2025, 1, 1), end=date(2026, 11, 4))
    assert long.value.code == "invalid"


# -- who may read which ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["member", "plainstaff", "ada"])
def test_only_admins_and_leads_may_read_reports(app, history, username):
    with pytest.raises(ServiceError) as refused:
        report_as(app, username)
    assert refused.value.code == "forbidden"
    with app.app_context():
        assert not reports.may_read_reports(db.session.scalar(db.select(User).filter_by(username=username)))


@pytest.mark.parametrize("username", ["admin", "lead_e", "lead_a"])
def test_admins_and_leads_may(app, history, username):
    with app.app_context():
        assert reports.may_read_reports(db.session.scalar(db.select(User).filter_by(username=username)))


@pytest.mark.parametrize("filters", [
    {"site": "Shanghai shop"}, {"site": "Free site"}, {"team": "Asia"},
])
def test_a_lead_asking_for_another_teams_numbers_is_refused(app, history, filters):
    kwargs = {"site_id": history.sites[filters["site"]]} if "site" in filters else \
        {"team_id": history.teams[filters["team"]]}
    with pytest.raises(ServiceError) as refused:
        report_as(app, "lead_e", **kwargs)
    assert refused.value.code == "forbidden"


def test_a_lead_filtering_by_another_teams_agent_sees_nothing_of_theirs(app, history):
    report = report_as(app, "lead_e", agent_id=history.users["boris"])
    assert key_numbers(report.totals) == (0, 0, None, None, None, None, None, 0, None)


# -- the page and the CSV ----------------------------------------------------------------------------------


RANGE = "start=2026-11-02&end=2026-11-04"


def summary(response) -> dict[str, str]:
    shown = page(response)
    return {dd.attrs["data-metric"]: dd.text for dd in shown.find_all("dd") if dd.attrs.get("data-metric")}


def table_rows(response, table_id: str) -> list[list[str]]:
    table = page(response).find("table", id=table_id)
    assert table is not None, table_id
    return [[cell.text for cell in row.find_all() if cell.tag in ("th", "td")] for row in table.find_all("tr")]


def test_the_page_shows_the_same_numbers(app, history):
    http = logged_in(app, "admin")
    response = http.get(f"/support/reports?{RANGE}")
    assert response.status_code == 200
    assert summary(response) == {
        "opened": "8", "resolved": "7", "first-response-median": "15 min", "first-response-p90": "8 h 35 min",
        "resolution-median": "2 h", "resolution-p90": "16 h 40 min", "replies": "2.71", "rating-average": "3.80",
        "ratings": "5",
    }
    assert table_rows(response, "table-days")[1:] == [["2026-11-02", "3", "3"], ["2026-11-03", "2", "3"],
                                                      ["2026-11-04", "3", "1"]]
    assert table_rows(response, "table-ratings")[1:] == [
        ["1 out of 5", "0"], ["2 out of 5", "1"], ["3 out of 5", "1"], ["4 out of 5", "1"], ["5 out of 5", "2"],
    ]
    assert table_rows(response, "table-hours")[1 + 16] == ["16:00", "1"]
    assert table_rows(response, "table-agents")[1] == [
        "Ada", "3", "4", "40 min", "8 h 35 min", "9 h 50 min", "16 h 40 min", "2.50", "4.00", "2",
    ]
    comments = page(response).find("ul", id="report-comments")
    assert [item.find_all("p")[1].text for item in comments.find_all("li")] == [
        "Thanks", "Slow", "Quick and kind", '=HYPERLINK("http://evil.example")',
    ]
    # The charts draw these tables; the tables say so to a screen reader with captions and scoped headers.
    days = page(response).find("table", id="table-days")
    assert days.attrs["data-chart"] == "chart-days" and days.find("caption").text
    assert [th.attrs.get("scope") for th in days.find_all("th")][:3] == ["col", "col", "col"]
    assert page(response).find("canvas", id="chart-days").attrs["role"] == "img"


def test_the_page_in_business_hours_and_in_chinese(app, history):
    http = logged_in(app, "lead_e")
    response = http.get(f"/support/reports?{RANGE}&time=business", headers={"Accept-Language": "zh-CN"})
    assert response.status_code == 200
    shown = summary(response)
    assert (shown["first-response-median"], shown["resolution-median"], shown["resolution-p90"]) == (
        "10 分钟", "40 分钟", "2 小时")
    assert shown["opened"] == "4"


def test_the_page_offers_only_the_leads_own_sites_and_teams(app, history):
    shown = page(logged_in(app, "lead_e").get("/support/reports"))
    assert [option.text for option in shown.find("select", id="filter-site").find_all("option")][1:] == ["Berlin shop"]
    assert [option.text for option in shown.find("select", id="filter-team").find_all("option")][1:] == ["Europe"]
    # The default range is the last seven days, today included.
    start, end = shown.field("start").attrs["value"], shown.field("end").attrs["value"]
    assert (date.fromisoformat(end) - date.fromisoformat(start)).days == 6


def test_the_csv_has_the_same_numbers(app, history):
    response = logged_in(app, "admin").get(f"/support/reports.csv?{RANGE}")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert 'filename="report-2026-11-02-2026-11-04.csv"' in response.headers["Content-Disposition"]
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[0] == ["Report", "2026-11-02", "2026-11-04", "Clock time"]
    assert lines[3] == ["All", "All", "8", "7", "900", "30900", "7200", "60000", "2.71", "5", "3.80"]
    assert ["Agent", "Ada", "3", "4", "2400", "30900", "35400", "60000", "2.50", "2", "4.00"] in lines
    assert ["Label", "billing", "2", "2", "120", "2400", "3600", "5400", "2.00", "2", "4.50"] in lines
    assert ["Agent", "Nobody", "1", "0", "", "", "", "", "", "0", ""] in lines
    assert ["2026-11-03", "2", "3"] in lines
    assert ["5", "2"] in lines
    comments = lines[lines.index(["Rated at (UTC)", "Site", "Rating", "Comment"]) + 1:]
    # A comment that starts like a formula is written as text, so a spreadsheet does not run it.
    assert comments == [
        ["2026-11-03 12:40:00", "Free site", "5", "Thanks"],
        ["2026-11-02 19:30:00", "Shanghai shop", "2", "Slow"],
        ["2026-11-02 09:30:00", "Berlin shop", "5", "Quick and kind"],
        ["2026-11-02 02:30:00", "Shanghai shop", "4", '\'=HYPERLINK("http://evil.example")'],
    ]


def test_the_csv_in_business_hours(app, history):
    response = logged_in(app, "lead_e").get(f"/support/reports.csv?{RANGE}&time=business")
    lines = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert lines[3] == ["All", "All", "4", "4", "600", "600", "2400", "7200", "2.50", "2", "4.00"]


def test_the_page_links_the_csv_of_the_same_report(app, history):
    shown = page(logged_in(app, "admin").get(f"/support/reports?{RANGE}&time=business&label="
                                             f"{history.labels['bug']}"))
    link = next(a for a in shown.find_all("a") if a.text == "Download CSV")
    assert link.attrs["href"] == (f"/support/reports.csv?start=2026-11-02&end=2026-11-04&time=business"
                                  f"&label={history.labels['bug']}")


@pytest.mark.parametrize("path", ["/support/reports", "/support/reports.csv"])
@pytest.mark.parametrize("username", ["member", "plainstaff", "ada"])
def test_who_leads_no_team_gets_403(app, history, path, username):
    assert logged_in(app, username).get(f"{path}?{RANGE}").status_code == 403


@pytest.mark.parametrize("path", ["/support/reports", "/support/reports.csv"])
def test_a_lead_asking_for_another_teams_site_gets_403(app, history, path):
    response = logged_in(app, "lead_e").get(f"{path}?{RANGE}&site={history.sites['Shanghai shop']}")
    assert response.status_code == 403


def test_logged_out_readers_are_sent_to_log_in(client, history):
    response = client.get("/support/reports")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("query, says", [
    ("start=2026-11-04&end=2026-11-02", "The end date is before the start date"),
    ("start=yesterday", "Write dates as year-month-day"),
    ("start=2026-11-02&end=2026-11-04&site=abc", "Choose the filters from their lists"),
    ("start=2026-11-02&end=2026-11-04&agent=%C2%B2", "Choose the filters from their lists"),  # a superscript two
    ("start=2026-11-02&end=2026-11-04&label=99999999999999999999", "Choose the filters from their lists"),
    ("start=2026-11-02&end=2026-11-04&time=lunar", "Choose clock time or business hours"),
])
def test_bad_input_says_what_to_fix(app, history, query, says):
    response = logged_in(app, "admin").get(f"/support/reports?{query}")
    assert response.status_code == 400
    assert says in " ".join(page(response).notices())


def test_the_console_links_reports_for_those_who_may_read_them(app, history):
    def linked(username: str) -> bool:
        return page(logged_in(app, username).get("/support")).find("a", href="/support/reports") is not None

    assert linked("lead_e") and linked("admin")
    assert not linked("ada")


def test_chart_js_is_served_from_node_modules(client):
    response = client.get("/vendor/chart.umd.min.js")
    assert response.status_code == 200
    assert b"Chart.js v4.6.1" in response.data[:200]


# -- end to end: the episodes support.py writes ------------------------------------------------------------


def test_a_conversation_worked_through_the_real_services_is_reported(app, history):
    """A visitor writes, Ada answers twice and resolves, the visitor rates: the lead's report counts what happened."""
    with app.app_context():
        berlin = db.session.get(Site, history.sites["Berlin shop"])
        berlin.schedule = None  # always open: business hours are clock time, whenever the test runs
        db.session.commit()
        ada = db.session.scalar(db.select(User).filter_by(username="ada"))
        started = visitors.start_session(site_key=berlin.site_key, origin="https://shop.example",
                                         own_origin="https://shop.example")
        visitor, room = started.visitor, started.conversation.room
        support.post_to_conversation(sender=visitor, room=room, body="My order is late", client_id="v1")
        support.post_to_conversation(sender=ada, room=room, body="Looking now", client_id="a1")
        support.post_to_conversation(sender=ada, room=room, body="It ships today", client_id="a2")
        conversation = support.get_conversation(room=room)
        support.set_status(agent=ada, conversation=conversation, status="resolved")
        support.rate(visitor=visitor, conversation=conversation, rating=4, comment="Fine in the end")
        asked, answered = db.session.scalars(
            db.select(Message.created_at).where(Message.room_id == room.id).order_by(Message.id).limit(2))
        resolved_at = support.get_conversation(room=room).resolved_at
        today = utcnow().date()

    # Berlin's local date may be tomorrow's UTC one: a range around today holds it either way.
    report = report_as(app, "lead_e", start=today - timedelta(days=1), end=today + timedelta(days=1),
                       site_id=history.sites["Berlin shop"])
    assert (report.totals.opened, report.totals.resolved) == (1, 1)
    assert report.totals.first_response.median == (answered - asked).total_seconds()
    assert report.totals.resolution.median == (resolved_at - asked).total_seconds()
    assert report.totals.replies_per_conversation == 2
    assert (report.totals.ratings, report.totals.rating_average) == (1, 4)
    assert [comment.comment for comment in report.comments] == ["Fine in the end"]
    assert [row.name for row in report.per_agent] == ["Ada"]
