"""The desk settings a lead (or an admin) changes: a site's routing and business hours, an agent's cap.

Each setting is checked here once, whichever door it comes through (the desk page, a test). An
error names the form field it belongs to (`extra["field"]`), so a page can show it beside that
field. Who may change what is teams.py's rule: a site's settings are its team's leads', an agent's
cap is the leads' of a team the agent is in, and admins may change everything. Every change
can let routing give out work it held back (a site turned automatic, a cap raised, the desk
opened), so each ends by asking routing.route_waiting() to hand out what can go now.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from flask_babel import gettext as _

from ..extensions import db
from ..models import ROUTING_MODES, AgentState, Site, TeamMember, User, utcnow
from . import hours, teams
from .errors import ServiceError
from .routing import route_waiting

T = TypeVar("T")
# A cap above this is a typing mistake, not a policy (nobody answers a thousand chats at once).
MAX_CAP = 1000


def check_cap(value: object, *, field: str = "agent_cap") -> int | None:
    """A cap as typed in a form or given by code: a whole number 1..MAX_CAP, or empty/None for no cap."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_CAP:
        return value
    raise ServiceError(
        "invalid",
        _("A cap is a whole number from 1 to %(max)d; leave it empty for no limit.", max=MAX_CAP),
        field=field,
    )


def _check_routing(routing: object) -> str:
    if routing not in ROUTING_MODES:
        raise ServiceError("invalid", _("Choose manual or automatic routing."), field="routing")
    return str(routing)


def update_routing(*, actor: User, site: Site, routing: object, agent_cap: object, requeue_on_offline: bool) -> Site:
    """Set how site's new conversations reach agents: manual or automatic, the site's cap, requeue on offline."""
    teams.ensure_runs_site(actor=actor, site=site)
    site.routing = _check_routing(routing)
    site.agent_cap = check_cap(agent_cap)
    site.requeue_on_offline = bool(requeue_on_offline)
    db.session.commit()
    route_waiting()
    return site


def _with_field(field: str, check: Callable[[object], T], value: object) -> T:
    """Run one of hours.py's checks; its error names `field`."""
    try:
        return check(value)
    except ServiceError as error:
        raise ServiceError(error.code, error.message, field=field) from None


def update_hours(*, actor: User, site: Site, timezone: object, schedule: object, holidays: object) -> Site:
    """Set site's business hours: a time zone, a weekly schedule (None: always open) and holidays."""
    teams.ensure_runs_site(actor=actor, site=site)
    clean_zone = _with_field("timezone", hours.check_timezone, timezone)
    if isinstance(schedule, dict):
        # Each day on its own first, so that an error names the day it is in.
        for day in hours.WEEKDAYS:
            _with_field(f"day_{day}", hours.check_schedule, {day: schedule.get(day) or []})
    clean_schedule = _with_field("schedule", hours.check_schedule, schedule)
    if clean_schedule == {}:
        # Never open at all is a forgotten week, not a policy: closed days are holidays.
        raise ServiceError("invalid", _("Give the opening times of at least one day, or choose Always open."),
                           field="day_0")
    clean_holidays = _with_field("holidays", hours.check_holidays, holidays)
    site.timezone = clean_zone
    site.schedule = clean_schedule
    site.holidays = clean_holidays
    db.session.commit()
    route_waiting()
    return site


def agent_cap_of(agent: User) -> int | None:
    """The agent's own cap (None: their site's)."""
    state = db.session.get(AgentState, agent.id)
    return state.cap if state is not None else None


def set_agent_cap(*, actor: User, agent: User, cap: object) -> AgentState:
    """Set how many open conversations routing gives agent at most; None: the site's cap."""
    teams.ensure_leads_agent(actor=actor, agent=agent)
    clean = check_cap(cap, field="cap")
    state = db.session.get(AgentState, agent.id)
    if state is None:
        state = AgentState(user_id=agent.id)
        db.session.add(state)
    state.cap = clean
    db.session.commit()
    route_waiting()
    return state


@dataclass(frozen=True)
class LedAgent:
    """An agent in a team the viewer leads, and their own cap."""

    user: User
    cap: int | None


def agents_led_by(actor: User) -> list[LedAgent]:
    """The agents whose caps actor may change (every team member, for an admin), by name."""
    members = db.select(TeamMember.user_id).where(TeamMember.team_id.in_(teams.led_team_ids(actor) or [-1]))
    query = (
        db.select(User, AgentState.cap)
        .outerjoin(AgentState, AgentState.user_id == User.id)
        .where(User.id.in_(members))
        .order_by(User.display_name, User.username)
    )
    return [LedAgent(user=user, cap=cap) for user, cap in db.session.execute(query)]


def schedule_text(schedule: dict | None) -> dict[str, str]:
    """A schedule as the desk form shows it: per weekday, "09:00-12:00, 13:00-17:00" (empty: closed)."""
    return {day: ", ".join(f"{start}-{end}" for start, end in (schedule or {}).get(day, [])) for day in hours.WEEKDAYS}


@dataclass(frozen=True)
class HoursNow:
    """Whether a site's desk is open at a moment, and when it opens next, in the site's time zone."""

    is_open: bool
    local_time: datetime
    next_opening: datetime | None  # local; None when open now, or when the week never opens


def hours_now(site: Site, at: datetime | None = None) -> HoursNow:
    """What a lead checks after saving business hours: open now? If not, when next (hours.py's answers)."""
    moment = at or utcnow()
    if hours.is_open(site, moment):
        return HoursNow(is_open=True, local_time=hours.local_time(site, moment), next_opening=None)
    opening = hours.next_opening(site, moment)
    return HoursNow(is_open=False, local_time=hours.local_time(site, moment),
                    next_opening=hours.local_time(site, opening) if opening else None)
