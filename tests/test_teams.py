"""Teams (services/teams.py, /admin/teams, a site's "Team" select): only admins keep them, and what each change does."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import Site, Team, TeamMember, User
from chatapp.services import accounts, sites, teams
from chatapp.services.errors import ServiceError

from .conftest import PASSWORD, csrf_token_from
from .helpers import logged_in
from .pages import page


@pytest.fixture
def crew(app, users) -> dict:
    """Team Alpha with lead lina and agent ann, a site Shop it answers, and a spare agent sam; their ids."""
    with app.app_context():
        ids = {name: users[name].id for name in users}
        for username in ("lina", "ann", "sam"):
            ids[username] = accounts.create_user(username=username, password=PASSWORD, role="staff",
                                                 display_name=username.capitalize()).id
        alpha = teams.save_team(actor=None, name="Alpha")
        teams.set_member(actor=None, team=alpha, user=db.session.get(User, ids["lina"]), lead=True)
        teams.set_member(actor=None, team=alpha, user=db.session.get(User, ids["ann"]))
        shop = sites.create_site(actor=None, name="Shop", origins=["https://shop.example"])
        teams.set_site_team(actor=None, site=shop, team_id=alpha.id)
        ids.update(alpha=alpha.id, shop=shop.id)
        return ids


def _members(app, team_id: int) -> dict[str, bool]:
    with app.app_context():
        return {member.user.username: member.is_lead for member in teams.members_of(team_id)}


def _team_of(app, site_id: int) -> int | None:
    with app.app_context():
        return db.session.get(Site, site_id).team_id


def _token(http, path: str = "/") -> str:
    return csrf_token_from(http.get(path).get_data(as_text=True))


# -- who may ---------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["alice", "staff", "lina"])
def test_the_teams_page_and_its_forms_are_forbidden_to_everyone_but_admins(app, crew, username):
    """A member, staff, and even a team's lead: keeping teams is an admin's."""
    http = logged_in(app, username)
    assert http.get("/admin/teams").status_code == 403
    assert page(http.get("/")).find("a", href="/admin/teams") is None
    token = _token(http)
    alpha, sam = crew["alpha"], crew["sam"]
    attempts = [
        ("/admin/teams", {"new-name": "Mine"}),
        (f"/admin/teams/{alpha}", {f"n{alpha}-name": "Renamed"}),
        (f"/admin/teams/{alpha}/delete", {}),
        (f"/admin/teams/{alpha}/members", {f"t{alpha}-user_id": str(sam), f"t{alpha}-lead": "y"}),
        (f"/admin/teams/{alpha}/members/{crew['ann']}/lead", {}),
        (f"/admin/teams/{alpha}/members/{crew['ann']}/remove", {}),
        (f"/admin/sites/{crew['shop']}/team", {"team-team_id": ""}),
    ]
    for url, data in attempts:
        assert http.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert _members(app, alpha) == {"ann": False, "lina": True}
    assert _team_of(app, crew["shop"]) == alpha
    with app.app_context():
        assert [team.name for team in teams.list_teams()] == ["Alpha"]


@pytest.mark.parametrize("call", [
    lambda actor, team, user: teams.save_team(actor=actor, name="Mine"),
    lambda actor, team, user: teams.save_team(actor=actor, name="Renamed", team=team),
    lambda actor, team, user: teams.delete_team(actor=actor, team=team),
    lambda actor, team, user: teams.set_member(actor=actor, team=team, user=user, lead=True),
    lambda actor, team, user: teams.remove_member(actor=actor, team=team, user=user),
    lambda actor, team, user: teams.set_site_team(actor=actor, site=db.session.get(Site, 1), team_id=None),
])
def test_the_team_services_refuse_a_lead(app, crew, call):
    with app.app_context():
        lina = db.session.get(User, crew["lina"])
        with pytest.raises(ServiceError) as caught:
            call(lina, db.session.get(Team, crew["alpha"]), db.session.get(User, crew["ann"]))
        assert caught.value.code == "forbidden"


# -- the admin's page ------------------------------------------------------------------------


def test_the_page_lists_each_team_with_its_members_leads_and_sites(app, crew):
    http = logged_in(app, "admin")
    assert page(http.get("/")).find("a", href="/admin/teams").text == "Teams"
    shown = page(http.get("/admin/teams"))
    team = shown.find("section", **{"data-team": "Alpha"})
    assert [row.attrs["data-username"] for row in team.find_all("tr") if "data-username" in row.attrs] == [
        "ann", "lina"]
    assert team.find("a", href=f"/admin/sites/{crew['shop']}").text == "Shop"
    assert "lead" in team.find("tr", **{"data-username": "lina"}).text
    offered = [option.attrs["value"] for option in shown.find("select", id=f"t{crew['alpha']}-user_id").find_all(
        "option")]
    assert str(crew["sam"]) in offered and str(crew["admin"]) in offered and str(crew["staff"]) in offered
    assert str(crew["ann"]) not in offered and str(crew["alice"]) not in offered  # members are in; alice no staff


def test_an_admin_creates_renames_and_deletes_a_team(app, crew):
    http = logged_in(app, "admin")
    response = http.post("/admin/teams", data={"new-name": "  Night   shift ", "csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Team Night shift created." in page(response).notices()
    with app.app_context():
        night = db.session.scalar(db.select(Team).filter_by(name="Night shift")).id
    response = http.post(f"/admin/teams/{night}", data={f"n{night}-name": "Late shift", "csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Team Late shift saved." in page(response).notices()
    response = http.post(f"/admin/teams/{crew['alpha']}/delete", data={"csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Team Alpha deleted. Its sites are answered by every agent now." in page(response).notices()
    assert _team_of(app, crew["shop"]) is None
    with app.app_context():
        assert [team.name for team in teams.list_teams()] == ["Late shift"]
        assert db.session.scalars(db.select(TeamMember)).all() == []


def test_a_taken_or_empty_name_is_refused_beside_the_field_and_kept(app, crew):
    http = logged_in(app, "admin")
    response = http.post("/admin/teams", data={"new-name": "Alpha", "csrf_token": _token(http)})
    assert response.status_code == 400
    shown = page(response)
    assert shown.field("new-name").attrs["value"] == "Alpha"
    assert shown.find(id="new-name-error").text == "There is a team called Alpha already."
    response = http.post("/admin/teams", data={"new-name": "", "csrf_token": _token(http)})
    assert response.status_code == 400 and page(response).find(id="new-name-error") is not None
    with app.app_context():
        assert len(teams.list_teams()) == 1


def test_an_admin_adds_an_agent_makes_them_lead_and_removes_them(app, crew):
    http = logged_in(app, "admin")
    alpha, sam = crew["alpha"], crew["sam"]
    response = http.post(f"/admin/teams/{alpha}/members",
                         data={f"t{alpha}-user_id": str(sam), "csrf_token": _token(http)}, follow_redirects=True)
    assert "Sam is in Alpha now." in page(response).notices()
    assert _members(app, alpha) == {"ann": False, "lina": True, "sam": False}
    response = http.post(f"/admin/teams/{alpha}/members/{sam}/lead", data={"csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Sam leads Alpha now." in page(response).notices()
    assert _members(app, alpha)["sam"] is True
    response = http.post(f"/admin/teams/{alpha}/members/{crew['lina']}/lead", data={"csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Lina no longer leads Alpha." in page(response).notices()
    response = http.post(f"/admin/teams/{alpha}/members/{sam}/remove", data={"csrf_token": _token(http)},
                         follow_redirects=True)
    assert "Sam is no longer in Alpha." in page(response).notices()
    assert _members(app, alpha) == {"ann": False, "lina": False}


def test_adding_a_lead_straight_away(app, crew):
    http = logged_in(app, "admin")
    alpha = crew["alpha"]
    http.post(f"/admin/teams/{alpha}/members",
              data={f"t{alpha}-user_id": str(crew["sam"]), f"t{alpha}-lead": "y", "csrf_token": _token(http)})
    assert _members(app, alpha)["sam"] is True


def test_only_active_staff_accounts_can_join_a_team(app, crew):
    http = logged_in(app, "admin")
    alpha = crew["alpha"]
    with app.app_context():
        accounts.set_active(actor=db.session.get(User, crew["admin"]), user=db.session.get(User, crew["sam"]),
                            active=False)
    for username in ("alice", "sam"):  # a member; a deactivated agent
        response = http.post(f"/admin/teams/{alpha}/members",
                             data={f"t{alpha}-user_id": str(crew[username]), "csrf_token": _token(http)},
                             follow_redirects=True)
        assert "Only active staff accounts can be in a team." in page(response).notices(), username
    assert set(_members(app, alpha)) == {"ann", "lina"}


def test_changing_a_lead_of_someone_not_in_the_team_is_not_found(app, crew):
    http = logged_in(app, "admin")
    response = http.post(f"/admin/teams/{crew['alpha']}/members/{crew['sam']}/lead",
                         data={"csrf_token": _token(http)})
    assert response.status_code == 404
    assert "Sam is not in this team." in page(response).text()


def test_team_forms_need_the_csrf_token(app, crew):
    http = logged_in(app, "admin")
    assert http.post(f"/admin/teams/{crew['alpha']}/delete").status_code == 400
    assert http.post(f"/admin/teams/{crew['alpha']}/members/{crew['ann']}/remove").status_code == 400
    assert "ann" in _members(app, crew["alpha"])


# -- a site's team ---------------------------------------------------------------------------


def test_an_admin_gives_a_site_to_a_team_and_back_to_everyone(app, crew):
    http = logged_in(app, "admin")
    with app.app_context():
        beta = teams.save_team(actor=None, name="Beta").id
    path = f"/admin/sites/{crew['shop']}"
    select = page(http.get(path)).labelled("Team")
    assert select.selected_option() == str(crew["alpha"])
    assert [option.text for option in select.find_all("option")] == ["No team: every agent answers it", "Alpha",
                                                                     "Beta"]
    response = http.post(f"{path}/team", data={"team-team_id": str(beta), "csrf_token": _token(http, path)},
                         follow_redirects=True)
    assert "Shop is answered by Beta now." in page(response).notices()
    assert page(response).labelled("Team").selected_option() == str(beta)
    assert _team_of(app, crew["shop"]) == beta
    response = http.post(f"{path}/team", data={"team-team_id": "", "csrf_token": _token(http, path)},
                         follow_redirects=True)
    assert "Shop is answered by every agent now." in page(response).notices()
    assert _team_of(app, crew["shop"]) is None


@pytest.mark.parametrize("value", ["999", "x"])
def test_an_unknown_team_is_not_found(app, crew, value):
    http = logged_in(app, "admin")
    path = f"/admin/sites/{crew['shop']}"
    response = http.post(f"{path}/team", data={"team-team_id": value, "csrf_token": _token(http, path)})
    assert response.status_code == 404
    assert "There is no such team." in page(response).text()
    assert _team_of(app, crew["shop"]) == crew["alpha"]


def test_a_new_lead_may_open_the_desk_page_and_a_removed_one_no_longer(app, crew):
    """Membership changes who may run the desk at once: the page asks teams.is_lead on every request."""
    http = logged_in(app, "sam")
    assert http.get("/support/desk").status_code == 403
    admin = logged_in(app, "admin")
    alpha = crew["alpha"]
    admin.post(f"/admin/teams/{alpha}/members",
               data={f"t{alpha}-user_id": str(crew["sam"]), f"t{alpha}-lead": "y", "csrf_token": _token(admin)})
    assert http.get("/support/desk").status_code == 200
    admin.post(f"/admin/teams/{alpha}/members/{crew['sam']}/remove", data={"csrf_token": _token(admin)})
    assert http.get("/support/desk").status_code == 403
