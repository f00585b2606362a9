"""Whether each agent can be given work now: online, away or offline, and telling every console when that changes.

An agent's status is worked out, never stored as the truth:
- offline: no console open (presence of AGENTS_PRESENCE, shared by every process through
  Redis, so a killed process's agents go offline when its heartbeat runs out);
- away: they chose "away" in the console, or the console saw no sign of them at the keyboard
  for AGENT_IDLE_SECONDS (the console reports activity, at most every ACTIVITY_SECONDS);
- online: otherwise.
What was last announced is kept in AgentState.announced, and changed by a conditional UPDATE:
whichever process (or request) sees a change first announces it, exactly once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import AGENT_CHOICES, AgentState, User, utcnow
from ..realtime.announce import announce
from ..realtime.channels import AGENTS_CHANNEL
from ..realtime.presence import presence
from .errors import ServiceError
from .rows import rows_changed

# The presence key of agents with the console open: their count is "agents online".
AGENTS_PRESENCE = "support:staff"


def agents_online() -> bool:
    """Whether any agent has the console open now (in any process sharing presence)."""
    return bool(presence.online(room=AGENTS_PRESENCE))


@dataclass(frozen=True)
class Change:
    """An agent whose announced status changed."""

    user_id: int
    before: str
    after: str


def ensure_agent(user: User) -> None:
    """Raise forbidden unless user is staff or admin (the only people who work the desk)."""
    if not user.is_staff:
        raise ServiceError("forbidden", _("Only support staff can do that."))


def idle_seconds() -> int:
    """After how long without a sign at the keyboard an online agent counts as away."""
    return int(current_app.config["AGENT_IDLE_SECONDS"])


def activity_seconds() -> int:
    """How often, at most, the console reports that its agent is at the keyboard (and the server writes it)."""
    return max(5, min(60, idle_seconds() // 4))


def state_of(user_id: int) -> AgentState:
    """The agent's row, made on first use (an agent who never chose is online when present)."""
    state = db.session.get(AgentState, user_id)
    if state is None:
        state = AgentState(user_id=user_id, choice="online", announced="offline")
        db.session.add(state)
        try:
            db.session.commit()
        except IntegrityError:  # made at the same moment by another request or process
            db.session.rollback()
            state = db.session.get(AgentState, user_id)
            assert state is not None
    return state


def online_agent_ids() -> set[int]:
    """Agents with a console open now, in any process."""
    return set(presence.online(room=AGENTS_PRESENCE))


def status(state: AgentState, *, present: set[int], now=None) -> str:
    """online, away or offline: the one rule of availability (see the module's docstring)."""
    if state.user_id not in present:
        return "offline"
    if state.choice == "away":
        return "away"
    now = now or utcnow()
    if state.last_active_at is None or now - state.last_active_at > timedelta(seconds=idle_seconds()):
        return "away"
    return "online"


def status_of(user_id: int) -> str:
    """One agent's status now."""
    state = db.session.get(AgentState, user_id)
    if state is None:
        return "offline" if user_id not in online_agent_ids() else "online"
    return status(state, present=online_agent_ids())


def _agent_dict(state: AgentState, present: set[int]) -> dict:
    return {"user": state.user.to_dict(), "status": status(state, present=present), "choice": state.choice}


def roster() -> list[dict]:
    """Every active agent's AGENT_STATUS, by name: what the console's team list shows."""
    present = online_agent_ids()
    agents = db.session.scalars(
        db.select(User).where(User.role.in_(("admin", "staff")), User.is_active_account.is_(True))
        .order_by(User.display_name, User.username)
    )
    rows = []
    for agent in agents:
        state = db.session.get(AgentState, agent.id) or AgentState(user_id=agent.id, user=agent, choice="online")
        rows.append(_agent_dict(state, present))
    return rows


def refresh(user_ids: list[int] | None = None) -> list[Change]:
    """Announce every agent whose status differs from what was last announced (all agents, or these); commits.

    Each change is claimed by a conditional UPDATE, so two processes never announce it twice.
    """
    db.session.commit()
    present = online_agent_ids()
    query = db.select(AgentState)
    if user_ids is not None:
        query = query.where(AgentState.user_id.in_(user_ids))
    now = utcnow()
    changes = []
    for state in list(db.session.scalars(query)):
        after = status(state, present=present, now=now)
        before = state.announced
        if after == before:
            continue
        claimed = rows_changed(
            db.update(AgentState).where(AgentState.user_id == state.user_id, AgentState.announced == before)
            .values(announced=after, announced_at=now)
        )
        db.session.commit()
        if claimed:
            db.session.refresh(state)
            changes.append(Change(user_id=state.user_id, before=before, after=after))
            announce("agent_status", _agent_dict(state, present), to=AGENTS_CHANNEL)
    return changes


def agent_arrived(*, agent: User) -> list[Change]:
    """The agent opened a console: they are at the keyboard now."""
    ensure_agent(agent)
    state = state_of(agent.id)
    state.last_active_at = utcnow()
    db.session.commit()
    return refresh([agent.id])


def set_choice(*, agent: User, choice: object) -> list[Change]:
    """The agent chooses online or away in the console (kept across reloads and devices)."""
    ensure_agent(agent)
    if choice not in AGENT_CHOICES:
        raise ServiceError("invalid", _("status is one of: %(statuses)s.", statuses=", ".join(AGENT_CHOICES)))
    state = state_of(agent.id)
    state.choice = choice
    state.last_active_at = utcnow()
    db.session.commit()
    return refresh([agent.id])


def mark_active(*, agent: User) -> list[Change]:
    """The console saw its agent at the keyboard; written at most every activity_seconds()."""
    ensure_agent(agent)
    state = state_of(agent.id)
    now = utcnow()
    if state.last_active_at is None or now - state.last_active_at >= timedelta(seconds=activity_seconds() / 2):
        state.last_active_at = now
    db.session.commit()
    return refresh([agent.id])
