"""The admin's page for teams: create, rename, delete; members and leads; and a site's team."""
from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from wtforms.fields.choices import SelectChoice

from ..services import accounts, teams
from ..services import sites as site_service
from ..services import support as support_service
from ..services.errors import ServiceError
from .blueprint import bp
from .forms import ActiveForm, MemberForm, SiteTeamForm, TeamForm
from .routes import admin_required, flash_form_errors


def _member_form(team, members, formdata=None) -> MemberForm:
    form = MemberForm(prefix=f"t{team.id}", formdata=formdata)
    taken = {member.user_id for member in members}
    form.user_id.choices = [SelectChoice(agent.id, f"{agent.display_name} ({agent.username})")
                            for agent in support_service.list_agents() if agent.id not in taken]
    return form


def _teams_page(*, new_form: TeamForm | None = None, status: int = 200):
    overview = []
    for team in teams.list_teams():
        members = teams.members_of(team.id)
        overview.append({
            "team": team, "members": members, "sites": teams.sites_of(team.id),
            "rename_form": TeamForm(prefix=f"n{team.id}", formdata=None, data={"name": team.name}),
            "member_form": _member_form(team, members),
        })
    return render_template("admin/teams.html", overview=overview, new_form=new_form or TeamForm(prefix="new"),
                           button_form=ActiveForm()), status


def _back_to(team):
    """Back to the team's place on the teams page."""
    return redirect(url_for("admin.teams_page", _anchor=f"team-{team.id}"))


def _check_token() -> None:
    if not ActiveForm().validate_on_submit():
        abort(400)


@bp.get("/teams")
@admin_required
def teams_page():
    """Every team with its members, leads and sites, and forms to change them."""
    return _teams_page()


@bp.post("/teams")
@admin_required
def create_team():
    """Create a team."""
    form = TeamForm(prefix="new")
    if form.validate_on_submit():
        try:
            team = teams.save_team(actor=current_user, name=form.name.data)
        except ServiceError as error:
            form.name.errors = [*form.name.errors, error.message]
        else:
            flash(_("Team %(name)s created.", name=team.name), "success")
            return _back_to(team)
    return _teams_page(new_form=form, status=400)


@bp.post("/teams/<int:team_id>")
@admin_required
def rename_team(team_id: int):
    """Rename a team."""
    team = teams.get_team(team_id)
    form = TeamForm(prefix=f"n{team.id}")
    if form.validate_on_submit():
        try:
            teams.save_team(actor=current_user, name=form.name.data, team=team)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("Team %(name)s saved.", name=team.name), "success")
    else:
        flash_form_errors(form)
    return _back_to(team)


@bp.post("/teams/<int:team_id>/delete")
@admin_required
def delete_team(team_id: int):
    """Delete a team; its sites become every agent's."""
    team = teams.get_team(team_id)
    _check_token()
    name = team.name
    teams.delete_team(actor=current_user, team=team)
    flash(_("Team %(name)s deleted. Its sites are answered by every agent now.", name=name), "success")
    return redirect(url_for("admin.teams_page"))


@bp.post("/teams/<int:team_id>/members")
@admin_required
def add_member(team_id: int):
    """Put an agent in a team, as a lead or not."""
    team = teams.get_team(team_id)
    form = MemberForm(prefix=f"t{team.id}")
    if form.validate_on_submit():
        try:
            member = teams.set_member(actor=current_user, team=team, user=accounts.get_user(form.user_id.data),
                                      lead=form.lead.data)
        except ServiceError as error:
            flash(error.message, "error")
        else:
            flash(_("%(name)s is in %(team)s now.", name=member.user.display_name, team=team.name), "success")
    else:
        flash_form_errors(form)
    return _back_to(team)


@bp.post("/teams/<int:team_id>/members/<int:user_id>/lead")
@admin_required
def toggle_lead(team_id: int, user_id: int):
    """Make a member a lead of their team, or no longer one."""
    team = teams.get_team(team_id)
    _check_token()
    member = teams.member_of(team=team, user=accounts.get_user(user_id))
    member = teams.set_member(actor=current_user, team=team, user=member.user, lead=not member.is_lead)
    flash(_("%(name)s leads %(team)s now.", name=member.user.display_name, team=team.name) if member.is_lead
          else _("%(name)s no longer leads %(team)s.", name=member.user.display_name, team=team.name), "success")
    return _back_to(team)


@bp.post("/teams/<int:team_id>/members/<int:user_id>/remove")
@admin_required
def remove_member(team_id: int, user_id: int):
    """Take an agent out of a team."""
    team = teams.get_team(team_id)
    _check_token()
    user = accounts.get_user(user_id)
    teams.remove_member(actor=current_user, team=team, user=user)
    flash(_("%(name)s is no longer in %(team)s.", name=user.display_name, team=team.name), "success")
    return _back_to(team)


def site_team_form(site, formdata=None) -> SiteTeamForm:
    """The "Team" select of a site's settings page."""
    form = SiteTeamForm(prefix="team", formdata=formdata, data={"team_id": str(site.team_id or "")})
    form.team_id.choices = [SelectChoice("", _("No team: every agent answers it"))] + [
        SelectChoice(str(team.id), team.name) for team in teams.list_teams()
    ]
    return form


@bp.post("/sites/<int:site_id>/team")
@admin_required
def set_site_team(site_id: int):
    """Give a site to a team, or to every agent."""
    site = site_service.get_site(site_id)
    form = SiteTeamForm(prefix="team")
    if not form.validate_on_submit():
        abort(400)
    raw = form.team_id.data or ""
    team_id = int(raw) if raw.isdigit() else (None if raw == "" else raw)
    teams.set_site_team(actor=current_user, site=site, team_id=team_id)
    flash(_("%(site)s is answered by %(team)s now.", site=site.name, team=site.team.name) if site.team
          else _("%(site)s is answered by every agent now.", site=site.name), "success")
    return redirect(url_for("admin.edit_site", site_id=site.id))
