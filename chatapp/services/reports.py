"""The support desk's reports: what the stored episodes and ratings say about a date range.

One function, desk_report, computes every number; the reports page, its CSV and the tests
all call it. The facts are the Episode rows support.py writes (opened, first answered,
resolved, how many replies) and the conversations' ratings; nothing is counted live.

How each number is counted (docs/reports.md says the same for leads):

- Days are local dates in each episode's site's time zone. An episode counts as opened on
  the local date of its opened_at, as resolved on that of its resolved_at; a rating on that
  of its rated_at. A range is inclusive at both ends.
- First response time: opened_at to first_response_at, over the episodes opened in range and
  answered. Resolution time: opened_at to resolved_at, over the episodes resolved in range.
  In clock time these are plain seconds; in business hours, hours.business_seconds of the
  episode's site (a site without a schedule is always open, so both agree there).
- Percentiles are nearest-rank: of n sorted values, the p-th percentile is the value at rank
  ceil(p/100 * n) (1-based). The median is the 50th percentile by the same rule (of an even
  count, the lower middle value), so every figure is a time that really happened.
- Replies per conversation: the mean agent_replies of the episodes resolved in range.
- An episode belongs to the agent who had it at resolution (Episode.assignee_id); one not
  resolved yet, to the agent who has the conversation now; failing both, to its first responder. A rating belongs to the
  conversation's last episode resolved at or before it was given (the help being rated).
- Team and site are the site's; labels are the conversation's labels (an episode counts
  under each of them).
"""
from __future__ import annotations

import csv
import io
import math
import re
from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from flask_babel import gettext as _

from ..extensions import db
from ..models import Conversation, ConversationLabel, Episode, Label, Site, Team, User
from . import hours, teams
from .errors import ServiceError

DEFAULT_DAYS = 7
MAX_REPORT_DAYS = 366
RATINGS = (1, 2, 3, 4, 5)
# Time zones reach 14 hours either side of UTC: a day's episodes lie within a day of its UTC date.
_ZONE_SLACK = timedelta(days=1)
_ID = re.compile(r"[0-9]{1,9}")  # a row id from the form's lists (ASCII digits; never overflowing the database)


@dataclass(frozen=True)
class Durations:
    """How many times were measured, and their median and 90th percentile in seconds (None when none)."""

    count: int
    median: float | None
    p90: float | None


@dataclass(frozen=True)
class Numbers:
    """The key numbers of one slice of the desk (everything, one agent, one team, one site, one label)."""

    opened: int
    resolved: int
    first_response: Durations
    resolution: Durations
    replies_per_conversation: float | None
    ratings: int
    rating_average: float | None


@dataclass(frozen=True)
class Day:
    """Episodes opened and resolved on one local date."""

    day: date
    opened: int
    resolved: int


@dataclass(frozen=True)
class Comment:
    """A visitor's rating with a comment."""

    rated_at: datetime  # naive UTC
    rating: int
    comment: str
    site: str


@dataclass(frozen=True)
class Row:
    """One line of a breakdown: what it is about (id None: none, such as no team) and its numbers."""

    key: int | None
    name: str
    numbers: Numbers


@dataclass(frozen=True)
class Report:
    """The desk's numbers for a date range, as the page, the CSV and the tests read them."""

    start: date
    end: date
    business_hours: bool
    totals: Numbers
    days: list[Day]
    busiest_hours: list[int]  # episodes opened per local hour 0-23
    rating_distribution: dict[int, int]  # 1..5 -> ratings
    comments: list[Comment]  # newest first
    per_agent: list[Row]
    per_team: list[Row]
    per_site: list[Row]
    per_label: list[Row]


@dataclass(frozen=True)
class Choices:
    """What the filter form offers this reader: the sites, teams, agents and labels in their scope."""

    sites: list[Site]
    teams: list[Team]
    agents: list[User]
    labels: list[Label]


@dataclass
class _Sliced:
    """What a fact or rating is counted under: its site (and so its team), its agent, its labels."""

    site: Site
    agent_id: int | None
    label_ids: list[int]


@dataclass
class _Fact(_Sliced):
    """One episode as the report sees it: its slices, and what it adds to the range's numbers."""

    opened_at: datetime | None = None  # local, when opened in range
    resolved_on: date | None = None  # local date, when resolved in range
    first_response: float | None = None  # seconds, when opened in range and answered
    resolution: float | None = None  # seconds, when resolved in range
    replies: int = 0


@dataclass
class _Rating(_Sliced):
    """A rating given in range, counted under the slices of the episode it rates."""

    rating: int = 0
    comment: str | None = None
    rated_at: datetime = datetime.min


# -- who may read which --------------------------------------------------------------------


def may_read_reports(user: User) -> bool:
    """Whether user may open the reports at all: admins, and staff who lead a team."""
    return bool(user.is_authenticated and user.is_staff and teams.is_lead(user))


def _sites_in_scope(actor: User) -> list[Site]:
    """The sites whose numbers actor may read: all for an admin, those of their teams for a lead."""
    if not may_read_reports(actor):
        raise ServiceError("forbidden", _("Only an admin or a team's lead can read the desk's reports."))
    query = db.select(Site).order_by(Site.name)
    if not actor.is_admin:
        query = query.where(Site.team_id.in_(teams.led_team_ids(actor)))
    return list(db.session.scalars(query))


def report_choices(*, actor: User) -> Choices:
    """The sites, teams, agents and labels actor may filter the reports by."""
    sites = _sites_in_scope(actor)
    led = teams.led_team_ids(actor)
    team_rows = [team for team in teams.list_teams() if team.id in led]
    if actor.is_admin:
        agents = [user for user in db.session.scalars(db.select(User).order_by(User.display_name, User.username))
                  if user.is_staff]
    else:
        agents = sorted({member.user.id: member.user for team_id in led for member in teams.members_of(team_id)}
                        .values(), key=lambda user: (user.display_name, user.username))
    labels = list(db.session.scalars(db.select(Label).order_by(Label.name)))
    return Choices(sites=sites, teams=team_rows, agents=agents, labels=labels)


def default_range(today: date) -> tuple[date, date]:
    """The range the page opens on: the last DEFAULT_DAYS days, today included."""
    return today - timedelta(days=DEFAULT_DAYS - 1), today


@dataclass(frozen=True)
class Query:
    """A report's parameters as the page's form and the CSV link send them, read and checked."""

    start: date
    end: date
    site_id: int | None = None
    team_id: int | None = None
    agent_id: int | None = None
    label_id: int | None = None
    business_hours: bool = False

    def as_args(self) -> dict[str, str]:
        """The query string that asks for this report again (the CSV link)."""
        args = {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "time": "business" if self.business_hours else "clock"}
        for name, value in (("site", self.site_id), ("team", self.team_id), ("agent", self.agent_id),
                            ("label", self.label_id)):
            if value is not None:
                args[name] = str(value)
        return args


def read_query(args: Mapping[str, str], *, today: date) -> Query:
    """Read the form's start, end, site, team, agent, label and time (clock|business); invalid says what to fix."""
    default_start, default_end = default_range(today)
    try:
        start = date.fromisoformat(args["start"]) if args.get("start") else default_start
        end = date.fromisoformat(args["end"]) if args.get("end") else default_end
    except ValueError:
        raise ServiceError("invalid", _("Write dates as year-month-day, such as 2026-11-30.")) from None
    ids: dict[str, int | None] = {}
    for name in ("site", "team", "agent", "label"):
        text = (args.get(name) or "").strip()
        if text and not _ID.fullmatch(text):
            raise ServiceError("invalid", _("Choose the filters from their lists."))
        ids[name] = int(text) if text else None
    if args.get("time", "clock") not in ("clock", "business"):
        raise ServiceError("invalid", _("Choose clock time or business hours."))
    return Query(start=start, end=end, site_id=ids["site"], team_id=ids["team"], agent_id=ids["agent"],
                 label_id=ids["label"], business_hours=args.get("time") == "business")


# -- counting ------------------------------------------------------------------------------


def nearest_rank(values: Iterable[float], percent: float) -> float | None:
    """The nearest-rank percentile: the value at rank ceil(percent/100 * n) of the sorted values (None if none)."""
    ordered = sorted(values)
    if not ordered:
        return None
    rank = max(1, math.ceil(percent / 100 * len(ordered)))
    return ordered[rank - 1]


def _durations(values: list[float]) -> Durations:
    return Durations(count=len(values), median=nearest_rank(values, 50), p90=nearest_rank(values, 90))


def _mean(values: list[int]) -> float | None:
    return sum(values) / len(values) if values else None


def _numbers(facts: list[_Fact], ratings: list[_Rating]) -> Numbers:
    resolved = [fact for fact in facts if fact.resolved_on is not None]
    return Numbers(
        opened=sum(1 for fact in facts if fact.opened_at is not None),
        resolved=len(resolved),
        first_response=_durations([fact.first_response for fact in facts if fact.first_response is not None]),
        resolution=_durations([fact.resolution for fact in resolved if fact.resolution is not None]),
        replies_per_conversation=_mean([fact.replies for fact in resolved]),
        ratings=len(ratings),
        rating_average=_mean([rating.rating for rating in ratings]),
    )


def _breakdown(facts: list[_Fact], ratings: list[_Rating], keys: Callable[[_Fact | _Rating], Iterable[Hashable]],
               names: dict, none_name: str) -> list[Row]:
    """One row per key that any fact or rating has, by name (the row of no key last)."""
    grouped_facts: dict = defaultdict(list)
    grouped_ratings: dict = defaultdict(list)
    for fact in facts:
        for key in keys(fact):
            grouped_facts[key].append(fact)
    for rating in ratings:
        for key in keys(rating):
            grouped_ratings[key].append(rating)
    rows = [
        Row(key=key, name=names.get(key, none_name) if key is not None else none_name,
            numbers=_numbers(grouped_facts.get(key, []), grouped_ratings.get(key, [])))
        for key in set(grouped_facts) | set(grouped_ratings)
    ]
    return sorted(rows, key=lambda row: (row.key is None, row.name.casefold(), row.key or 0))


def _seconds(site: Site, start: datetime, end: datetime, business_hours: bool) -> float:
    if business_hours:
        return hours.business_seconds(site, start, end)
    return (end - start).total_seconds()


def _check_range(start: object, end: object) -> tuple[date, date]:
    if not isinstance(start, date) or not isinstance(end, date):
        raise ServiceError("invalid", _("Choose a start and an end date."))
    if end < start:
        raise ServiceError("invalid", _("The end date is before the start date: choose an end on or after it."))
    if (end - start).days + 1 > MAX_REPORT_DAYS:
        raise ServiceError("invalid", _("A report covers at most %(max)d days: choose a shorter range.",
                                        max=MAX_REPORT_DAYS))
    return start, end


def _filtered_sites(actor: User, site_id: int | None, team_id: int | None) -> list[Site]:
    scope = _sites_in_scope(actor)
    sites = scope
    if team_id is not None:
        if not actor.is_admin and team_id not in teams.led_team_ids(actor):
            raise ServiceError("forbidden", _("You can read the reports of the teams you lead only."))
        teams.get_team(team_id)
        sites = [site for site in sites if site.team_id == team_id]
    if site_id is not None:
        chosen = db.session.get(Site, site_id)
        if chosen is None:
            raise ServiceError("not_found", _("There is no such site."))
        if chosen not in scope:
            raise ServiceError("forbidden", _("You can read the reports of your own teams' sites only."))
        sites = [site for site in sites if site.id == site_id]
    return sites


def _labels_of(conversation_ids: set[int]) -> dict[int, list[int]]:
    labels: dict[int, list[int]] = defaultdict(list)
    if conversation_ids:
        rows = db.session.execute(
            db.select(ConversationLabel.conversation_id, ConversationLabel.label_id)
            .where(ConversationLabel.conversation_id.in_(conversation_ids))
            .order_by(ConversationLabel.label_id)
        )
        for conversation_id, label_id in rows:
            labels[conversation_id].append(label_id)
    return labels


def _episode_agent(episode: Episode, holders: Mapping[int, int | None]) -> int | None:
    """Whose an episode is: who had it at resolution; while unresolved, who has it now; else its first responder."""
    if episode.resolved_at is not None and episode.assignee_id is not None:
        return episode.assignee_id
    if episode.resolved_at is None and holders.get(episode.conversation_id) is not None:
        return holders[episode.conversation_id]
    return episode.first_responder_id


def _holders(episodes: list[Episode]) -> dict[int, int | None]:
    """The current assignee of each conversation with an unresolved episode among these."""
    ids = {episode.conversation_id for episode in episodes if episode.resolved_at is None}
    if not ids:
        return {}
    rows = db.session.execute(db.select(Conversation.id, Conversation.assignee_id).where(Conversation.id.in_(ids)))
    return {conversation_id: assignee_id for conversation_id, assignee_id in rows}


def report_for(*, actor: User, query: Query) -> Report:
    """desk_report for a Query read from the page's form."""
    return desk_report(actor=actor, start=query.start, end=query.end, site_id=query.site_id, team_id=query.team_id,
                       agent_id=query.agent_id, label_id=query.label_id, business_hours=query.business_hours)


def desk_report(*, actor: User, start: date, end: date, site_id: int | None = None, team_id: int | None = None,
                agent_id: int | None = None, label_id: int | None = None, business_hours: bool = False) -> Report:
    """The desk's numbers from start to end (local dates, inclusive) for what actor may read, filtered."""
    start, end = _check_range(start, end)
    sites = {site.id: site for site in _filtered_sites(actor, site_id, team_id)}
    low = datetime.combine(start, time()) - _ZONE_SLACK
    high = datetime.combine(end + timedelta(days=1), time()) + _ZONE_SLACK

    def in_range(site: Site, moment: datetime | None) -> datetime | None:
        """The moment in the site's local time if its local date is in the range, else None."""
        if moment is None:
            return None
        local = hours.local_time(site, moment)
        return local if start <= local.date() <= end else None

    episodes = list(db.session.scalars(
        db.select(Episode).where(
            Episode.site_id.in_(list(sites)),
            Episode.opened_at.between(low, high) | Episode.resolved_at.between(low, high),
        ).order_by(Episode.id)
    )) if sites else []
    rated = list(db.session.scalars(
        db.select(Conversation).where(
            Conversation.site_id.in_(list(sites)), Conversation.rating.is_not(None),
            Conversation.rated_at.between(low, high),
        ).order_by(Conversation.id)
    )) if sites else []
    labels = _labels_of({episode.conversation_id for episode in episodes} | {conv.id for conv in rated})

    facts: list[_Fact] = []
    holders = _holders(episodes)
    for episode in episodes:
        site = sites[episode.site_id]
        fact = _Fact(site=site, agent_id=_episode_agent(episode, holders),
                     label_ids=labels.get(episode.conversation_id, []))
        fact.opened_at = in_range(site, episode.opened_at)
        if fact.opened_at is not None and episode.first_response_at is not None:
            fact.first_response = _seconds(site, episode.opened_at, episode.first_response_at, business_hours)
        resolved = in_range(site, episode.resolved_at)
        if resolved is not None and episode.resolved_at is not None:
            fact.resolved_on = resolved.date()
            fact.resolution = _seconds(site, episode.opened_at, episode.resolved_at, business_hours)
            fact.replies = episode.agent_replies
        if fact.opened_at is not None or fact.resolved_on is not None:
            facts.append(fact)

    ratings = _ratings(rated, sites, labels, in_range)
    if agent_id is not None:
        facts = [fact for fact in facts if fact.agent_id == agent_id]
        ratings = [rating for rating in ratings if rating.agent_id == agent_id]
    if label_id is not None:
        facts = [fact for fact in facts if label_id in fact.label_ids]
        ratings = [rating for rating in ratings if label_id in rating.label_ids]
    return _report(start, end, business_hours, facts, ratings)


def _ratings(rated: list[Conversation], sites: dict[int, Site], labels: dict[int, list[int]],
             in_range: Callable[[Site, datetime | None], datetime | None]) -> list[_Rating]:
    """The ratings given in range, each with the agent of the episode it rates."""
    rated = [conversation for conversation in rated if in_range(sites[conversation.site_id], conversation.rated_at)]
    episodes_of: dict[int, list[Episode]] = defaultdict(list)
    if rated:
        for episode in db.session.scalars(
            db.select(Episode).where(Episode.conversation_id.in_([conv.id for conv in rated]),
                                     Episode.resolved_at.is_not(None)).order_by(Episode.resolved_at, Episode.id)
        ):
            episodes_of[episode.conversation_id].append(episode)
    ratings = []
    for conversation in rated:
        assert conversation.rated_at is not None and conversation.rating is not None
        before = [episode for episode in episodes_of[conversation.id]
                  if episode.resolved_at is not None and episode.resolved_at <= conversation.rated_at]
        agent_id = _episode_agent(before[-1], {}) if before else conversation.assignee_id
        ratings.append(_Rating(site=sites[conversation.site_id], agent_id=agent_id,
                               label_ids=labels.get(conversation.id, []), rating=conversation.rating,
                               comment=conversation.rating_comment, rated_at=conversation.rated_at))
    return ratings


def _report(start: date, end: date, business_hours: bool, facts: list[_Fact], ratings: list[_Rating]) -> Report:
    opened_per_day: dict[date, int] = defaultdict(int)
    resolved_per_day: dict[date, int] = defaultdict(int)
    busiest = [0] * 24
    for fact in facts:
        if fact.opened_at is not None:
            opened_per_day[fact.opened_at.date()] += 1
            busiest[fact.opened_at.hour] += 1
        if fact.resolved_on is not None:
            resolved_per_day[fact.resolved_on] += 1
    days = [start + timedelta(days=n) for n in range((end - start).days + 1)]
    distribution = {stars: sum(1 for rating in ratings if rating.rating == stars) for stars in RATINGS}
    comments = sorted(
        (Comment(rated_at=rating.rated_at, rating=rating.rating, comment=rating.comment, site=rating.site.name)
         for rating in ratings if rating.comment),
        key=lambda comment: comment.rated_at, reverse=True,
    )
    counted: list[_Sliced] = [*facts, *ratings]
    agent_ids = {item.agent_id for item in counted if item.agent_id is not None}
    agents = {user.id: user.display_name or user.username
              for user in db.session.scalars(db.select(User).where(User.id.in_(agent_ids or [-1])))}
    site_names = {item.site.id: item.site.name for item in counted}
    team_names = {item.site.team.id: item.site.team.name for item in counted if item.site.team}
    label_ids = {label for item in counted for label in item.label_ids}
    label_names = {label.id: label.name
                   for label in db.session.scalars(db.select(Label).where(Label.id.in_(label_ids or [-1])))}
    return Report(
        start=start, end=end, business_hours=business_hours,
        totals=_numbers(facts, ratings),
        days=[Day(day=day, opened=opened_per_day[day], resolved=resolved_per_day[day]) for day in days],
        busiest_hours=busiest,
        rating_distribution=distribution,
        comments=comments,
        per_agent=_breakdown(facts, ratings, lambda item: [item.agent_id], agents, _("Nobody")),
        per_team=_breakdown(facts, ratings, lambda item: [item.site.team_id], team_names, _("No team")),
        per_site=_breakdown(facts, ratings, lambda item: [item.site.id], site_names, _("No site")),
        per_label=_breakdown(facts, ratings, lambda item: item.label_ids or [None], label_names, _("No label")),
    )


# -- showing -------------------------------------------------------------------------------


def human_duration(seconds: float | None) -> str:
    """A duration as a person reads it, in the current language: "45 s", "12 min", "2 h 5 min", "3 d 4 h"."""
    if seconds is None:
        return "—"
    whole = int(round(seconds))
    days, rest = divmod(whole, 86400)
    hours_, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours_) if hours_ else _("%(days)d d", days=days)
    if hours_:
        return _("%(hours)d h %(minutes)d min", hours=hours_, minutes=minutes) if minutes else \
            _("%(hours)d h", hours=hours_)
    if minutes:
        return _("%(minutes)d min %(seconds)d s", minutes=minutes, seconds=secs) if secs else \
            _("%(minutes)d min", minutes=minutes)
    return _("%(seconds)d s", seconds=secs)


# -- the CSV -------------------------------------------------------------------------------


def _figure(value: float | None, places: int = 0) -> str:
    """A number for the CSV: whole seconds stay whole, averages keep `places` decimals, none is empty."""
    if value is None:
        return ""
    if places == 0 and float(value).is_integer():
        return str(int(value))
    return f"{value:.{places or 1}f}"


def _cell(text: str) -> str:
    """Text a spreadsheet shows as text: a leading = + - @ would start a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _numbers_cells(numbers: Numbers) -> list[str]:
    return [
        str(numbers.opened), str(numbers.resolved),
        _figure(numbers.first_response.median), _figure(numbers.first_response.p90),
        _figure(numbers.resolution.median), _figure(numbers.resolution.p90),
        _figure(numbers.replies_per_conversation, 2), str(numbers.ratings), _figure(numbers.rating_average, 2),
    ]


def report_csv(report: Report) -> str:
    """The report as CSV: one block per table of the page, blank lines between, durations in seconds."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_("Report"), report.start.isoformat(), report.end.isoformat(),
                     _("Business hours") if report.business_hours else _("Clock time")])
    writer.writerow([])
    writer.writerow([_("Slice"), _("Name"), _("Opened"), _("Resolved"), _("First response median (s)"),
                     _("First response 90th percentile (s)"), _("Resolution median (s)"),
                     _("Resolution 90th percentile (s)"), _("Replies per conversation"), _("Ratings"),
                     _("Rating average")])
    writer.writerow([_("All"), _("All"), *_numbers_cells(report.totals)])
    for slice_name, rows in ((_("Agent"), report.per_agent), (_("Team"), report.per_team),
                             (_("Site"), report.per_site), (_("Label"), report.per_label)):
        for row in rows:
            writer.writerow([slice_name, _cell(row.name), *_numbers_cells(row.numbers)])
    writer.writerow([])
    writer.writerow([_("Day"), _("Opened"), _("Resolved")])
    for day in report.days:
        writer.writerow([day.day.isoformat(), day.opened, day.resolved])
    writer.writerow([])
    writer.writerow([_("Hour"), _("Opened")])
    for hour, opened in enumerate(report.busiest_hours):
        writer.writerow([f"{hour:02d}:00", opened])
    writer.writerow([])
    writer.writerow([_("Stars"), _("Ratings")])
    for stars, count in report.rating_distribution.items():
        writer.writerow([stars, count])
    writer.writerow([])
    writer.writerow([_("Rated at (UTC)"), _("Site"), _("Rating"), _("Comment")])
    for comment in report.comments:
        writer.writerow([comment.rated_at.strftime("%Y-%m-%d %H:%M:%S"), _cell(comment.site), comment.rating,
                         _cell(comment.comment)])
    return out.getvalue()
