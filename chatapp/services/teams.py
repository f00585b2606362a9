"""Teams of agents: who is in which, who leads it, which sites it answers, and what that lets each agent see and run.

An admin keeps the teams. A site given to a team is answered by that team: its conversations
are in the queues of that team's agents only, routing hands them only to them, and the team's
leads run its routing settings, its agents' caps and its reports. A site without a team is
everyone's (as before teams existed). Admins see and run everything.
"""
from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import ColumnElement
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Conversation, Site, Team, TeamMember, User
from .accounts import ensure_admin
from .errors import ServiceError

MAX_TEAM_NAME_LENGTH = 80


# -- who is where -----------------------------------------------------------------------


def team_ids_of(user: User) -> list[int]:
    """The teams user is in."""
    return list(db.session.scalars(db.select(TeamMember.team_id).filter_by(user_id=user.id)))


def led_team_ids(user: User) -> list[int]:
    """The teams user leads (every team, for an admin)."""
    if user.is_admin:
        return list(db.session.scalars(db.select(Team.id)))
    return list(db.session.scalars(db.select(TeamMember.team_id).filter_by(user_id=user.id, is_lead=True)))


def is_lead(user: User) -> bool:
    """Whether user leads any team (or is an admin)."""
    return user.is_admin or bool(led_team_ids(user))


def members_of(team_id: int) -> list[TeamMember]:
    """The members of a team, by name."""
    return list(db.session.scalars(
        db.select(TeamMember).join(User, User.id == TeamMember.user_id).where(TeamMember.team_id == team_id)
        .order_by(User.display_name, User.username)
    ))


def _sites_visible_to(agent: User) -> ColumnElement[bool]:
    """Sites whose conversations agent sees: those of no team, and those of agent's teams."""
    own_teams = db.select(TeamMember.team_id).where(TeamMember.user_id == agent.id)
    return Site.team_id.is_(None) | Site.team_id.in_(own_teams)


def conversation_visible_to(agent: User) -> ColumnElement[bool]:
    """SQL: the conversations in agent's queues (every one, for an admin): the one rule of who sees which."""
    if agent.is_admin:
        return db.true()
    return Conversation.site_id.in_(db.select(Site.id).where(_sites_visible_to(agent)))


def may_see(*, agent: User, site: Site) -> bool:
    """Whether agent works on site's conversations (the same rule as conversation_visible_to)."""
    if agent.is_admin or site.team_id is None:
        return True
    return site.team_id in team_ids_of(agent)


def ensure_may_see(*, agent: User, site: Site) -> None:
    """Raise forbidden unless agent works on site's conversations."""
    if not may_see(agent=agent, site=site):
        raise ServiceError("forbidden", _("This conversation belongs to another team's site."))


def agents_for(site: Site) -> ColumnElement[bool]:
    """SQL on User: the agents who answer site (its team's members; every agent when it has no team)."""
    if site.team_id is None:
        return db.true()
    return User.id.in_(db.select(TeamMember.user_id).where(TeamMember.team_id == site.team_id))


def ensure_runs_site(*, actor: User, site: Site) -> None:
    """Raise forbidden unless actor is an admin or leads the team of site (routing, hours, caps)."""
    if actor.is_admin or (site.team_id is not None and site.team_id in led_team_ids(actor)):
        return
    raise ServiceError("forbidden", _("Only an admin or a lead of this site's team can change its desk settings."))


def ensure_leads_agent(*, actor: User, agent: User) -> None:
    """Raise forbidden unless actor is an admin or leads a team agent is in."""
    if actor.is_admin or set(led_team_ids(actor)) & set(team_ids_of(agent)):
        return
    raise ServiceError("forbidden", _("Only an admin or a lead of this agent's team can change their cap."))


def sites_run_by(actor: User) -> list[Site]:
    """The sites whose desk settings actor may change, by name."""
    query = db.select(Site).order_by(Site.name)
    if not actor.is_admin:
        query = query.where(Site.team_id.in_(led_team_ids(actor) or [-1]))
    return list(db.session.scalars(query))


# -- keeping the teams (admins) ---------------------------------------------------------------


def list_teams() -> list[Team]:
    """Every team, by name."""
    return list(db.session.scalars(db.select(Team).order_by(Team.name)))


def sites_of(team_id: int) -> list[Site]:
    """The sites a team answers, by name."""
    return list(db.session.scalars(db.select(Site).filter_by(team_id=team_id).order_by(Site.name)))


def get_team(team_id: object) -> Team:
    """The team with this id, or not_found."""
    team = db.session.get(Team, team_id) if isinstance(team_id, int) and not isinstance(team_id, bool) else None
    if team is None:
        raise ServiceError("not_found", _("There is no such team."))
    return team


def _check_name(name: object) -> str:
    clean = " ".join(name.split()) if isinstance(name, str) else ""
    if not clean or len(clean) > MAX_TEAM_NAME_LENGTH:
        raise ServiceError("invalid", _("A team's name is 1 to %(max)d characters.", max=MAX_TEAM_NAME_LENGTH))
    return clean


def save_team(*, actor: User | None, name: object, team: Team | None = None) -> Team:
    """Create a team, or rename `team`; conflict if the name is taken. actor None: the operator (CLI)."""
    ensure_admin(actor)
    clean = _check_name(name)
    if team is None:
        team = Team(name=clean)
        db.session.add(team)
    team.name = clean
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        raise ServiceError("conflict", _("There is a team called %(name)s already.", name=clean)) from None
    return team


def delete_team(*, actor: User | None, team: Team) -> None:
    """Delete a team; its sites become everyone's again."""
    ensure_admin(actor)
    db.session.execute(db.update(Site).where(Site.team_id == team.id).values(team_id=None))
    db.session.delete(team)
    db.session.commit()


def set_member(*, actor: User | None, team: Team, user: User, lead: bool = False) -> TeamMember:
    """Put an agent in a team (or change whether they lead it)."""
    ensure_admin(actor)
    if not user.is_staff or not user.is_active:
        raise ServiceError("invalid", _("Only active staff accounts can be in a team."))
    member = db.session.get(TeamMember, (team.id, user.id))
    if member is None:
        member = TeamMember(team_id=team.id, user_id=user.id)
        db.session.add(member)
    member.is_lead = bool(lead)
    db.session.commit()
    return member


def member_of(*, team: Team, user: User) -> TeamMember:
    """user's membership of team, or not_found."""
    member = db.session.get(TeamMember, (team.id, user.id))
    if member is None:
        raise ServiceError("not_found", _("%(name)s is not in this team.", name=user.display_name))
    return member


def remove_member(*, actor: User | None, team: Team, user: User) -> None:
    """Take an agent out of a team."""
    ensure_admin(actor)
    db.session.execute(db.delete(TeamMember).filter_by(team_id=team.id, user_id=user.id))
    db.session.commit()


def set_site_team(*, actor: User | None, site: Site, team_id: object) -> Site:
    """Give a site to a team (None: everyone's)."""
    ensure_admin(actor)
    site.team_id = None if team_id is None else get_team(team_id).id
    db.session.commit()
    return site
