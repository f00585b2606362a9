"""The admin's account pages: who may see them, creating accounts, roles and deactivation."""
from __future__ import annotations

import pytest

from .conftest import PASSWORD, AuthActions, csrf_token_from
from .helpers import stored_user as account
from .pages import page, redirect_target


def admin_token(client) -> str:
    return csrf_token_from(client.get("/admin/users").get_data(as_text=True))


def account_row(response, username: str):
    """The row of the accounts table for username."""
    return page(response).find("tr", **{"data-username": username})


def status_of(response, username: str) -> str:
    """What the Status column says of username: active or deactivated."""
    return account_row(response, username).find_all("td")[3].text.split()[0]


@pytest.fixture
def as_admin(client, auth, users):
    auth.login("admin")
    return client


def browser_of(app, username: str):
    """Another browser, logged in as username."""
    other = app.test_client()
    assert AuthActions(other).login(username).status_code == 302
    return other


# Who may see the page


def test_accounts_page_sends_anonymous_to_login(client):
    response = client.get("/admin/users")
    assert response.status_code == 302
    assert redirect_target(response)[1:] == ("/auth/login", {"next": ["/admin/users"]})


@pytest.mark.parametrize("username", ["alice", "staff"])
def test_accounts_page_is_forbidden_to_non_admins(client, auth, users, username):
    auth.login(username)
    response = client.get("/admin/users")
    assert response.status_code == 403
    assert "You do not have access to this page." in page(response).text()
    assert page(client.get("/")).find("a", href="/admin/users") is None  # no link to it either


def test_accounts_page_lists_every_account_for_admin(as_admin):
    response = as_admin.get("/admin/users")
    assert response.status_code == 200
    for username in ("admin", "staff", "alice", "bob", "carol"):
        assert account_row(response, username) is not None, username
    assert "member" in account_row(response, "alice").text
    assert status_of(response, "alice") == "active"
    assert page(as_admin.get("/")).find("a", href="/admin/users").text == "Accounts"


@pytest.mark.parametrize("username", ["alice", "staff"])
def test_non_admins_cannot_post_admin_forms(app, client, auth, users, username):
    auth.login(username)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    bob = users["bob"]
    attempts = [
        ("/admin/users", {"username": "mallory", "password": "long-enough-1", "role": "admin"}),
        (f"/admin/users/{bob.id}/role", {"role": "admin"}),
        (f"/admin/users/{bob.id}/active", {}),
    ]
    for url, data in attempts:
        assert client.post(url, data={**data, "csrf_token": token}).status_code == 403, url
    assert account(app, "mallory") is None
    assert account(app, "bob").role == "member" and account(app, "bob").is_active_account


# Creating accounts


def test_admin_creates_a_staff_account(app, as_admin):
    form = page(as_admin.get("/admin/users"))
    assert form.labelled("Username") is not None and form.labelled("Role") is not None
    assert form.labelled("Role").selected_option() == "staff"  # staff by default
    response = as_admin.post(
        "/admin/users",
        data={"username": "teacher", "display_name": "Ms Teacher", "password": "long-enough-1", "role": "staff",
              "csrf_token": admin_token(as_admin)},
    )
    assert response.status_code == 302 and redirect_target(response)[1] == "/admin/users"
    listing = as_admin.get("/admin/users")
    assert "Account teacher created as staff." in page(listing).notices()
    assert "staff" in account_row(listing, "teacher").text
    teacher = app.test_client()
    assert AuthActions(teacher).login("teacher", "long-enough-1").status_code == 302
    assert page(teacher.get("/")).find(class_="whoami").text == "Ms Teacher"


@pytest.mark.parametrize(
    "data,message",
    [
        (
            {"username": "alice", "password": "long-enough-1", "role": "staff"},
            "That username is taken; choose another.",
        ),
        ({"username": "bad name", "password": "long-enough-1", "role": "staff"}, "A username is 3 to 32 characters"),
        ({"username": "teacher", "password": "short", "role": "staff"}, "8 and 256 characters"),
        ({"username": "teacher", "password": "long-enough-1", "role": "overlord"}, "Not a valid choice"),
    ],
)
def test_admin_create_account_errors_say_why(app, as_admin, data, message):
    response = as_admin.post("/admin/users", data={**data, "csrf_token": admin_token(as_admin)})
    assert response.status_code == 400
    assert any(message in notice for notice in page(response).notices()), page(response).notices()
    assert account(app, "teacher") is None


# Roles


def test_admin_changes_a_role(app, as_admin, users):
    alice = users["alice"]
    form = page(as_admin.get("/admin/users"))
    assert form.labelled("Role of alice") is not None
    response = as_admin.post(
        f"/admin/users/{alice.id}/role", data={"role": "staff", "csrf_token": admin_token(as_admin)}
    )
    assert response.status_code == 302
    listing = as_admin.get("/admin/users")
    assert "alice is now staff." in page(listing).notices()
    assert account(app, "alice").role == "staff"
    assert page(listing).labelled("Role of alice").selected_option() == "staff"


def test_promoted_account_gets_admin_pages(app, as_admin, users):
    as_admin.post(f"/admin/users/{users['bob'].id}/role", data={"role": "admin", "csrf_token": admin_token(as_admin)})
    bob = browser_of(app, "bob")
    assert bob.get("/admin/users").status_code == 200


def test_demoted_admin_loses_admin_pages_at_once(app, as_admin, users):
    url = f"/admin/users/{users['bob'].id}/role"
    as_admin.post(url, data={"role": "admin", "csrf_token": admin_token(as_admin)})
    bob = browser_of(app, "bob")
    assert bob.get("/admin/users").status_code == 200
    as_admin.post(url, data={"role": "member", "csrf_token": admin_token(as_admin)})
    assert bob.get("/admin/users").status_code == 403  # same session, new role


def test_admin_cannot_change_own_role(app, as_admin, users):
    response = as_admin.post(
        f"/admin/users/{users['admin'].id}/role", data={"role": "member", "csrf_token": admin_token(as_admin)}
    )
    assert response.status_code == 302
    listing = as_admin.get("/admin/users")
    assert listing.status_code == 200  # still an admin
    assert "You cannot change your own role; ask another admin." in page(listing).notices()
    assert account(app, "admin").role == "admin"
    assert account_row(listing, "admin").find("select") is None  # no control offered for oneself


def test_admin_role_change_to_unknown_role_is_refused(app, as_admin, users):
    response = as_admin.post(
        f"/admin/users/{users['alice'].id}/role", data={"role": "overlord", "csrf_token": admin_token(as_admin)}
    )
    assert response.status_code == 400
    assert account(app, "alice").role == "member"


def test_admin_role_change_of_unknown_account(as_admin):
    as_admin.post("/admin/users/9999/role", data={"role": "staff", "csrf_token": admin_token(as_admin)})
    assert "No such account." in page(as_admin.get("/admin/users")).notices()


# Deactivation


def test_admin_deactivates_an_account_and_its_session_ends(app, as_admin, users):
    alice = browser_of(app, "alice")
    assert alice.get("/").status_code == 200
    response = as_admin.post(f"/admin/users/{users['alice'].id}/active", data={"csrf_token": admin_token(as_admin)})
    assert response.status_code == 302
    listing = as_admin.get("/admin/users")
    assert "alice is deactivated." in page(listing).notices()
    assert status_of(listing, "alice") == "deactivated"
    assert page(listing).button("Reactivate alice") is not None
    # Her open session stops working, and she cannot log in again.
    response = alice.get("/")
    assert response.status_code == 302 and redirect_target(response)[1] == "/auth/login"
    assert AuthActions(app.test_client()).login("alice").status_code == 401


def test_deactivation_closes_the_accounts_sockets(app, as_admin, users, socket_for, public_room):
    sock = socket_for("alice")
    assert sock.is_connected()
    as_admin.post(f"/admin/users/{users['alice'].id}/active", data={"csrf_token": admin_token(as_admin)})
    assert not sock.is_connected()


def test_admin_reactivates_an_account(app, as_admin, users):
    url = f"/admin/users/{users['alice'].id}/active"
    as_admin.post(url, data={"csrf_token": admin_token(as_admin)})
    as_admin.post(url, data={"csrf_token": admin_token(as_admin)})
    assert "alice is active." in page(as_admin.get("/admin/users")).notices()
    assert AuthActions(app.test_client()).login("alice", PASSWORD).status_code == 302


def test_admin_cannot_deactivate_themselves(app, as_admin, users):
    response = as_admin.post(f"/admin/users/{users['admin'].id}/active", data={"csrf_token": admin_token(as_admin)})
    assert response.status_code == 302
    listing = as_admin.get("/admin/users")
    assert listing.status_code == 200  # still logged in
    assert "You cannot deactivate your own account." in page(listing).notices()
    assert account(app, "admin").is_active_account
    assert page(listing).button("Deactivate admin") is None


def test_deactivating_unknown_account_is_not_found(as_admin):
    response = as_admin.post("/admin/users/9999/active", data={"csrf_token": admin_token(as_admin)})
    assert response.status_code == 404
    assert "No such account." in page(response).text()


# CSRF


@pytest.mark.parametrize(
    "path,data",
    [
        ("/admin/users", {"username": "teacher", "password": "long-enough-1", "role": "staff"}),
        ("/admin/users/{alice}/role", {"role": "admin"}),
        ("/admin/users/{alice}/active", {}),
    ],
)
def test_every_admin_post_needs_csrf(app, as_admin, users, path, data):
    url = path.format(alice=users["alice"].id)
    for token in (None, "forged-token"):
        sent = dict(data) if token is None else {**data, "csrf_token": token}
        response = as_admin.post(url, data=sent)
        assert response.status_code == 400
        assert "Your form expired. Reload the page and try again." in page(response).text()
    assert account(app, "teacher") is None
    alice = account(app, "alice")
    assert alice.role == "member" and alice.is_active_account
