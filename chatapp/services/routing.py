"""Automatic assignment: a waiting conversation goes to an online agent of its site's team, fairly, within caps.

The one rule, `route_waiting()`, is called by every door that can change who can be given
work (a visitor's message, a console opened or closed, a status chosen, a resolve, an
assignment given back, a cap or routing setting changed) and by every process's desk tick
(`tick()`, every DESK_TICK_SECONDS: business hours opening, agents gone idle, a process that
died). It takes the waiting conversations of sites with automatic routing that are within
business hours, oldest first, and offers each to the site's online agents, the one given a
conversation longest ago first (round robin), skipping those at their cap.

Each decision is one transaction that holds on SQLite and on PostgreSQL with several processes:
1. UPDATE the chosen agent's AgentState row (last_assigned_at): on PostgreSQL this locks the
   row until COMMIT, on SQLite it takes the database's write lock; so no other process counts
   that agent's conversations until this one has committed;
2. count the agent's open conversations (READ COMMITTED sees every committed assignment) and
   give up if they are at their cap;
3. UPDATE the conversation WHERE it is still unassigned and open: if another process took it
   first, nothing changes and the decision is rolled back.
So a conversation is assigned once, and no agent is handed more than their cap.

On a site with `requeue_on_offline`, an agent offline for AGENT_OFFLINE_GRACE_SECONDS (not a
reload, not a short drop) gives their open conversations back to the queue (`requeue_due`).
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from flask import current_app

from ..extensions import db
from ..models import AgentState, Conversation, Site, User, utcnow
from . import availability, hours, support, teams, webhooks
from .rows import rows_changed

log = logging.getLogger(__name__)

# Conversations looked at per call: the rest wait for the next call (each decision is quick).
BATCH = 200


def waiting() -> list[Conversation]:
    """The conversations waiting for automatic assignment, oldest first (business hours not yet asked)."""
    query = (
        db.select(Conversation)
        .join(Site, Site.id == Conversation.site_id)
        .where(
            Site.routing == "auto",
            Conversation.status == "open",
            Conversation.assignee_id.is_(None),
            Conversation.last_message_at.is_not(None),
        )
        .order_by(db.func.coalesce(Conversation.waiting_since, Conversation.last_message_at), Conversation.id)
        .limit(BATCH)
    )
    return list(db.session.scalars(query))


def _candidates(site: Site, present: set[int]) -> list[tuple[User, AgentState]]:
    """The site's agents who are online now, the one given a conversation longest ago first."""
    if not present:
        return []
    rows = db.session.execute(
        db.select(User, AgentState)
        .join(AgentState, AgentState.user_id == User.id)
        .where(
            User.id.in_(present), User.role.in_(("admin", "staff")), User.is_active_account.is_(True),
            teams.agents_for(site),
        )
        .order_by(AgentState.last_assigned_at.is_not(None), AgentState.last_assigned_at, User.id)
    ).all()
    now = utcnow()
    return [(user, state) for user, state in rows if availability.status(state, present=present, now=now) == "online"]


def open_count(agent_id: int) -> int:
    """The open conversations an agent holds now."""
    return db.session.scalar(
        db.select(db.func.count()).select_from(Conversation)
        .where(Conversation.assignee_id == agent_id, Conversation.status == "open")
    ) or 0


def cap_of(state: AgentState, site: Site) -> int | None:
    """How many open conversations routing may give this agent (their own cap, else the site's; None: no limit)."""
    return state.cap if state.cap is not None else site.agent_cap


def _try_assign(*, conversation_id: int, agent_id: int, cap: int | None) -> bool:
    """One decision, in one transaction (see the module's docstring); True if the conversation is now theirs."""
    db.session.commit()  # start from a fresh transaction: its first statement takes the lock
    now = utcnow()
    try:
        rows_changed(db.update(AgentState).where(AgentState.user_id == agent_id).values(last_assigned_at=now))
        if cap is not None and open_count(agent_id) >= cap:
            db.session.rollback()
            return False
        taken = rows_changed(
            db.update(Conversation)
            .where(Conversation.id == conversation_id, Conversation.assignee_id.is_(None),
                   Conversation.status == "open")
            .values(assignee_id=agent_id, assigned_at=now, waiting_since=None, updated_at=now)
        )
        if not taken:
            db.session.rollback()
            return False
        webhooks.assigned_by_id(conversation_id)
        db.session.commit()
        return True
    except Exception:
        db.session.rollback()
        raise


def route_waiting(*, hours_at: datetime | None = None) -> list[Conversation]:
    """Hand out every waiting conversation that can be handed out now; commits and announces each.

    Returns the conversations assigned, in the order they were. hours_at: the moment business
    hours are asked for (now; tests give the edges of a schedule).
    """
    db.session.commit()
    candidates_waiting = waiting()
    if not candidates_waiting:
        return []
    present = availability.online_agent_ids()
    now = hours_at or utcnow()
    assigned: list[Conversation] = []
    open_sites: dict[int, bool] = {}
    for conversation in candidates_waiting:
        site = conversation.site
        if site.id not in open_sites:
            open_sites[site.id] = hours.is_open(site, now)
        if not open_sites[site.id]:
            continue  # waits for the first agent of the next working day
        for agent, state in _candidates(site, present):
            if _try_assign(conversation_id=conversation.id, agent_id=agent.id, cap=cap_of(state, site)):
                db.session.expire_all()
                assigned.append(conversation)
                support.announce_conversation(conversation)
                break
        else:
            db.session.expire_all()
    return assigned


def requeue_agent(agent_id: int) -> list[Conversation]:
    """An agent went offline: their open conversations on sites that ask for it go back to the queue; commits."""
    db.session.commit()
    rows = list(db.session.scalars(
        db.select(Conversation).join(Site, Site.id == Conversation.site_id)
        .where(Conversation.assignee_id == agent_id, Conversation.status == "open", Site.requeue_on_offline.is_(True))
    ))
    now = utcnow()
    requeued = []
    for conversation in rows:
        if rows_changed(
            db.update(Conversation)
            .where(Conversation.id == conversation.id, Conversation.assignee_id == agent_id,
                   Conversation.status == "open")
            .values(assignee_id=None, waiting_since=now, updated_at=now)
        ):
            requeued.append(conversation)
    db.session.commit()
    db.session.expire_all()
    for conversation in requeued:
        support.announce_conversation(conversation)
    return requeued


def requeue_due() -> list[Conversation]:
    """Give back the open conversations of agents offline for AGENT_OFFLINE_GRACE_SECONDS, on sites that ask for it."""
    grace = timedelta(seconds=int(current_app.config["AGENT_OFFLINE_GRACE_SECONDS"]))
    db.session.commit()
    due = list(db.session.scalars(
        db.select(AgentState).where(
            AgentState.announced == "offline", AgentState.announced_at <= utcnow() - grace,
            AgentState.user_id.in_(
                db.select(Conversation.assignee_id).join(Site, Site.id == Conversation.site_id)
                .where(Conversation.status == "open", Site.requeue_on_offline.is_(True))
            ),
        )
    ))
    present = availability.online_agent_ids()
    requeued = []
    for state in due:
        if availability.status(state, present=present) == "offline":  # not back meanwhile
            requeued += requeue_agent(state.user_id)
    return requeued


def settle(changes: list[availability.Change]) -> list[Conversation]:
    """After availability changed: give back the work of agents offline long enough, then hand out what waits."""
    if any(change.after == "offline" for change in changes):
        requeue_due()
    return route_waiting()


def tick() -> list[Conversation]:
    """What every process does every DESK_TICK_SECONDS: announce status changes, requeue, route."""
    availability.refresh()
    requeue_due()
    return route_waiting()
