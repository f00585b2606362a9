"""Business hours: when a site's desk is open, when it opens next, and how much open time lies between two moments.

A site keeps an IANA time zone, a weekly schedule and holidays (models.Site). The schedule
maps a weekday ("0" is Monday ... "6" Sunday) to periods [["09:00", "12:30"], ["13:30", "18:00"]]
in local time; a day that is missing or empty is closed; "24:00" ends a period at midnight.
No schedule at all (None) means always open. Holidays are local dates ("2026-12-25"), closed
all day. Every moment in and out is a naive UTC datetime, as the database stores them.
Local times are turned into UTC with zoneinfo, so a daylight-saving change moves the UTC hour
of the opening, never its local hour: 09:00 in Berlin is 08:00 UTC in winter and 07:00 in summer.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from flask_babel import gettext as _

from ..models import Site, isoformat_utc
from .errors import ServiceError

WEEKDAYS = ("0", "1", "2", "3", "4", "5", "6")
MAX_PERIODS_PER_DAY = 4
MAX_HOLIDAYS = 100
# How far ahead next_opening looks (holidays over a whole year would be odd, not wrong).
LOOKAHEAD_DAYS = 400
_CLOCK = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)$|^24:00$")


# -- checking what an admin or lead typed ------------------------------------------------


def check_timezone(name: object) -> str:
    """Return name if it is an IANA time zone ("Europe/Berlin", "Asia/Shanghai", "UTC"), else raise invalid."""
    if isinstance(name, str) and name.strip():
        clean = name.strip()
        try:
            ZoneInfo(clean)
        except (ZoneInfoNotFoundError, ValueError):
            pass
        else:
            return clean
    raise ServiceError("invalid", _("Choose a time zone from the list, such as Europe/Berlin or Asia/Shanghai."))


def timezone_names() -> list[str]:
    """Every time zone a site may choose, sorted."""
    return sorted(available_timezones() | {"UTC"})


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def check_schedule(value: object) -> dict[str, list[list[str]]] | None:
    """Return a clean weekly schedule (None: always open), or raise invalid saying what is wrong."""
    if value is None:
        return None
    if not isinstance(value, dict) or not set(value) <= set(WEEKDAYS):
        raise ServiceError(
            "invalid", _("Business hours give, for each weekday 0 (Monday) to 6 (Sunday), a list of periods.")
        )
    clean: dict[str, list[list[str]]] = {}
    for day in WEEKDAYS:
        periods = value.get(day) or []
        if not isinstance(periods, list) or len(periods) > MAX_PERIODS_PER_DAY:
            raise ServiceError("invalid", _("A day has at most %(max)d periods.", max=MAX_PERIODS_PER_DAY))
        previous_end = -1
        day_periods = []
        for period in sorted(periods, key=lambda p: p[0] if isinstance(p, list | tuple) and p else ""):
            if (
                not isinstance(period, list | tuple) or len(period) != 2
                or not all(isinstance(clock, str) and _CLOCK.match(clock) for clock in period)
            ):
                raise ServiceError(
                    "invalid", _("A period is written from-to in hours and minutes, such as 09:00-17:30.")
                )
            start, end = _minutes(period[0]), _minutes(period[1])
            if end <= start:
                raise ServiceError("invalid", _("A period must end after it starts (%(start)s-%(end)s).",
                                                start=period[0], end=period[1]))
            if start < previous_end:
                raise ServiceError("invalid", _("The periods of one day must not overlap."))
            previous_end = end
            day_periods.append([period[0], period[1]])
        if day_periods:
            clean[day] = day_periods
    return clean


def check_holidays(value: object) -> list[str]:
    """Return the holidays as sorted, distinct ISO dates, or raise invalid."""
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > MAX_HOLIDAYS:
        raise ServiceError("invalid", _("Holidays are at most %(max)d dates.", max=MAX_HOLIDAYS))
    days = set()
    for item in value:
        try:
            days.add(date.fromisoformat(item).isoformat() if isinstance(item, str) else None)
        except ValueError:
            days.add(None)
        if None in days:
            raise ServiceError("invalid", _("A holiday is a date written 2026-12-25."))
    return sorted(day for day in days if day)


# Chinese keyboards type full-width punctuation, and word processors turn "-" into a dash.
_TYPED_PUNCTUATION = str.maketrans({"，": ",", "、": ",", "：": ":", "–": "-", "—": "-", "～": "-", "~": "-"})


def parse_periods_text(text: str) -> list[list[str]]:
    """One day's periods as the settings form writes them: "09:00-12:00, 13:00-17:00" (empty: closed)."""
    periods = [part.strip() for part in text.translate(_TYPED_PUNCTUATION).split(",") if part.strip()]
    return [[clock.strip() for clock in period.split("-", 1)] for period in periods]


def parse_schedule_text(text: str) -> dict[str, list[list[str]]]:
    """The schedule from a 7-line text: one line per weekday, as parse_periods_text reads it."""
    lines = text.splitlines()
    return {day: parse_periods_text(line) for day, line in zip(WEEKDAYS, lines + [""] * (7 - len(lines)), strict=False)}


def parse_holidays_text(text: str) -> list[str]:
    """Holidays as the settings form writes them: dates separated by new lines, commas or spaces."""
    return text.translate(_TYPED_PUNCTUATION).replace(",", " ").split()


# -- asking the schedule ------------------------------------------------------------------


def _zone(site: Site) -> ZoneInfo:
    try:
        return ZoneInfo(site.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _to_utc(local_day: date, clock: str, zone: ZoneInfo) -> datetime:
    minutes = _minutes(clock)
    # Wall-clock arithmetic: 09:00 stays 09:00 local on the day the clocks change.
    moment = datetime.combine(local_day + timedelta(days=minutes // 1440), time(minutes % 1440 // 60, minutes % 60),
                              tzinfo=zone)
    return moment.astimezone(timezone.utc).replace(tzinfo=None)


def _local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.replace(tzinfo=timezone.utc).astimezone(zone).date()


def open_periods(site: Site, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
    """The site's open periods that overlap [start, end), clipped to it, in order (naive UTC)."""
    if end <= start:
        return
    if site.schedule is None:
        yield start, end
        return
    zone = _zone(site)
    holidays = set(site.holidays or ())
    day = _local_day(start, zone) - timedelta(days=1)
    last = _local_day(end, zone) + timedelta(days=1)
    while day <= last:
        if day.isoformat() not in holidays:
            for opens, closes in site.schedule.get(str(day.weekday()), ()):
                period_start, period_end = _to_utc(day, opens, zone), _to_utc(day, closes, zone)
                if period_end > start and period_start < end:
                    yield max(period_start, start), min(period_end, end)
        day += timedelta(days=1)


def is_open(site: Site, at: datetime) -> bool:
    """Whether the site's desk is within its business hours at `at`."""
    return any(True for _ in open_periods(site, at, at + timedelta(microseconds=1)))


def next_opening(site: Site, at: datetime) -> datetime | None:
    """When the desk opens next after `at` (at itself if open now); None if the schedule never opens."""
    if site.schedule is None:
        return at
    for opens, _closes in open_periods(site, at, at + timedelta(days=LOOKAHEAD_DAYS)):
        return opens
    return None


def next_closing(site: Site, at: datetime) -> datetime | None:
    """When the desk closes next, if it is open at `at`; None if it is closed, has no schedule or never closes.

    Periods that touch (Monday until 24:00, Tuesday from 00:00) are one stretch of open time.
    """
    if site.schedule is None:
        return None
    closes_at = None
    for opens, closes in open_periods(site, at, at + timedelta(days=LOOKAHEAD_DAYS)):
        if opens > (closes_at or at):
            break  # a gap: the desk closes at the end of the stretch before it
        closes_at = closes
    if closes_at is None or closes_at >= at + timedelta(days=LOOKAHEAD_DAYS):
        return None
    return closes_at


def desk_status(site: Site, at: datetime) -> dict:
    """Whether the site's desk is open at `at`, when it opens next, and when that answer changes (HOURS).

    Times are ISO UTC (None: never); the time zone is the site's, for showing them in local time.
    """
    open_now = is_open(site, at)
    opens_at = None if open_now else next_opening(site, at)
    changes_at = next_closing(site, at) if open_now else opens_at
    return {
        "open": open_now,
        "opens_at": isoformat_utc(opens_at) if opens_at is not None else None,
        "changes_at": isoformat_utc(changes_at) if changes_at is not None else None,
        "timezone": _zone(site).key,
    }


def business_seconds(site: Site, start: datetime, end: datetime) -> float:
    """The open time of the site between start and end, in seconds (clock time if it has no schedule)."""
    return sum((closes - opens).total_seconds() for opens, closes in open_periods(site, start, end))


def local_time(site: Site, moment: datetime) -> datetime:
    """A naive UTC moment as an aware datetime in the site's time zone (for showing it)."""
    return moment.replace(tzinfo=timezone.utc).astimezone(_zone(site))
