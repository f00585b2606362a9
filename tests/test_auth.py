"""Registration, login, logout and sessions, through the real forms (CSRF included)."""
from __future__ import annotations

import re

import pytest

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import accounts

from .conftest import PASSWORD, AuthActions, csrf_token_from
from .helpers import stored_user
from .pages import page, redirect_target

WRONG_CREDENTIALS = "Wrong username or password."


def token(client, path: str = "/auth/login") -> str:
    """A CSRF token from a form page, as a browser would have it."""
    return csrf_token_from(client.get(path).get_data(as_text=True))


def register(client, username="dave", password="long-enough-1", confirm=None, display_name="Dave"):
    """Submit the registration form."""
    return client.post(
        "/auth/register",
        data={
            "username": username,
            "display_name": display_name,
            "password": password,
            "confirm": password if confirm is None else confirm,
            "csrf_token": token(client, "/auth/register"),
        },
    )


def assert_logged_out(client) -> None:
    """The home page sends this client to the login form."""
    response = client.get("/")
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/auth/login"


# Registration


def test_register_form_has_its_fields(client):
    form = page(client.get("/auth/register"))
    for name in ("username", "display_name", "password", "confirm", "csrf_token"):
        assert form.field(name) is not None, name
    assert form.field("password").attrs["type"] == "password"
    assert form.button("Create account") is not None


def test_register_logs_in_and_goes_home(app, client):
    response = register(client)
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/"
    home = page(client.get("/"))
    assert "Welcome, Dave!" in home.notices()
    assert home.find(class_="whoami").text == "Dave"
    assert stored_user(app, "dave").role == "member"


def test_registered_account_can_log_in_later(client, auth):
    register(client)
    auth.logout()
    assert auth.login("dave", "long-enough-1").status_code == 302


@pytest.mark.config(ALLOW_REGISTRATION=False)
def test_register_is_not_found_when_closed(app, client):
    assert client.get("/auth/register").status_code == 404
    response = client.post(
        "/auth/register",
        data={"username": "dave", "password": "x" * 10, "confirm": "x" * 10, "csrf_token": token(client)},
    )
    assert response.status_code == 404
    assert "There is nothing here." in page(response).text()
    assert stored_user(app, "dave") is None
    login_page = page(client.get("/auth/login"))
    assert login_page.find("a", href="/auth/register") is None


@pytest.mark.parametrize("taken", ["alice", "ALICE", "  alice "])
def test_register_duplicate_username(client, users, taken):
    response = register(client, username=taken)
    assert response.status_code == 400
    assert "That username is taken; choose another." in page(response).notices()
    assert_logged_out(client)


@pytest.mark.parametrize("username", ["no spaces", "bad!name", "-dash-first", "ab"])
def test_register_bad_username(app, client, username):
    response = register(client, username=username)
    assert response.status_code == 400
    shown = " ".join(page(response).notices())
    assert "3 to 32 characters" in shown or "between 3 and 32 characters" in shown
    assert_logged_out(client)


def test_register_short_password(app, client):
    response = register(client, password="short")
    assert response.status_code == 400
    form = page(response)
    error = form.find(id=form.field("password").attrs["aria-describedby"])
    assert re.search(r"\b8\b.*characters", error.text), error.text
    assert stored_user(app, "dave") is None


def test_register_mismatched_confirmation(app, client):
    response = register(client, password="long-enough-1", confirm="long-enough-2")
    assert response.status_code == 400
    assert "The passwords differ." in page(response).notices()
    assert stored_user(app, "dave") is None


def test_register_without_csrf_token_is_refused(app, client):
    response = client.post(
        "/auth/register", data={"username": "dave", "password": "long-enough-1", "confirm": "long-enough-1"}
    )
    assert response.status_code == 400
    assert "Your form expired. Reload the page and try again." in page(response).text()
    assert stored_user(app, "dave") is None


# Login


def test_login_form_fields(client):
    form = page(client.get("/auth/login"))
    assert form.field("username") is not None
    assert form.field("password").attrs["type"] == "password"
    csrf = form.field("csrf_token")
    assert csrf is not None and csrf.attrs["type"] == "hidden" and csrf.attrs["value"]
    assert form.labelled("Username") is form.field("username")
    assert form.labelled("Password") is form.field("password")
    assert form.button("Log in") is not None


def test_login_redirects_home(client, auth, users):
    response = auth.login()
    assert response.status_code == 302
    assert redirect_target(response)[:2] == ("localhost", "/")
    assert page(client.get("/")).find(class_="whoami").text == "Alice"


def test_login_username_ignores_case_and_spaces(client, auth, users):
    assert auth.login("  ALICE ").status_code == 302


def test_login_follows_next(client, users, public_room):
    response = client.post(
        "/auth/login?next=/rooms/lobby", data={"username": "alice", "password": PASSWORD, "csrf_token": token(client)}
    )
    assert response.status_code == 302
    assert redirect_target(response)[:2] == ("localhost", "/rooms/lobby")


def test_login_required_page_sends_back_after_login(client, users, public_room):
    response = client.get("/rooms/lobby")
    host, path, query = redirect_target(response)
    assert path == "/auth/login" and query["next"] == ["/rooms/lobby"]
    login_url = response.headers["Location"]
    login = client.post(login_url, data={"username": "alice", "password": PASSWORD, "csrf_token": token(client)})
    assert redirect_target(login)[1] == "/rooms/lobby"


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "///evil.example/phish",
        "/\\evil.example/phish",
        "\\\\evil.example/phish",
        "http:evil.example",
        "javascript:alert(1)",
        " //evil.example",
    ],
)
def test_login_never_redirects_to_another_host(client, users, next_url):
    response = client.post(
        "/auth/login", query_string={"next": next_url},
        data={"username": "alice", "password": PASSWORD, "csrf_token": token(client)},
    )
    assert response.status_code == 302
    host, path, _ = redirect_target(response)
    assert host == "localhost"
    assert "evil.example" not in host
    assert not response.headers["Location"].lower().startswith("javascript")


def test_wrong_password_and_unknown_user_look_the_same(client, users):
    wrong_password = client.post(
        "/auth/login", data={"username": "alice", "password": "not-her-password", "csrf_token": token(client)}
    )
    unknown_user = client.post(
        "/auth/login", data={"username": "nobody", "password": PASSWORD, "csrf_token": token(client)}
    )
    assert wrong_password.status_code == unknown_user.status_code == 401
    assert page(wrong_password).notices() == page(unknown_user).notices() == [WRONG_CREDENTIALS]
    for response in (wrong_password, unknown_user):
        text = page(response).text().lower()
        assert "no such" not in text and "not found" not in text and "unknown" not in text
        assert "wrong password" not in text
    assert_logged_out(client)


def test_login_form_keeps_username_but_not_password(client, users):
    response = client.post(
        "/auth/login", data={"username": "alice", "password": "not-her-password", "csrf_token": token(client)}
    )
    form = page(response)
    assert form.field("username").attrs.get("value") == "alice"
    assert not form.field("password").attrs.get("value")


def test_deactivated_user_cannot_log_in(app, client, auth, users):
    with app.app_context():
        accounts.set_active(actor=users["admin"], user=db.session.get(User, users["alice"].id), active=False)
    response = auth.login("alice")
    assert response.status_code == 401
    assert page(response).notices() == [WRONG_CREDENTIALS]
    assert_logged_out(client)


def test_login_without_csrf_token_is_refused(client, users):
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD})
    assert response.status_code == 400
    assert "Your form expired. Reload the page and try again." in page(response).text()
    assert_logged_out(client)


def test_login_with_forged_csrf_token_is_refused(client, users):
    client.get("/auth/login")
    response = client.post("/auth/login", data={"username": "alice", "password": PASSWORD, "csrf_token": "forged"})
    assert response.status_code == 400
    assert_logged_out(client)


# Logout


def test_logout_by_get_is_not_allowed(client, auth, users):
    auth.login()
    response = client.get("/auth/logout")
    assert response.status_code == 405
    assert "That method is not allowed here." in page(response).text()
    assert client.get("/").status_code == 200  # still logged in


def test_logout_ends_the_session(client, auth, users):
    auth.login()
    response = auth.logout()
    assert response.status_code == 302
    assert redirect_target(response)[1] == "/auth/login"
    assert "You are logged out." in page(client.get("/auth/login")).notices()
    assert_logged_out(client)


def test_logout_without_csrf_token_is_refused(client, auth, users):
    auth.login()
    response = client.post("/auth/logout")
    assert response.status_code == 400
    assert client.get("/").status_code == 200  # still logged in


def test_replayed_session_cookie_after_logout_is_refused(app, client, auth, users):
    auth.login()
    stolen = client.get_cookie("session").value
    auth.logout()
    replay = app.test_client()
    replay.set_cookie("session", stolen)
    assert_logged_out(replay)
    client.set_cookie("session", stolen)
    assert_logged_out(client)


def test_logout_ends_the_accounts_other_sessions(app, client, auth, users):
    other_browser = app.test_client()
    AuthActions(other_browser).login("alice")
    auth.login("alice")
    auth.logout()
    assert_logged_out(other_browser)


@pytest.mark.config(PASSWORD_HASHER=None)  # production's hasher, not the suite's cheap one
def test_passwords_are_stored_as_strong_argon2id_hashes(app, client, users):
    register(client, username="dave", password="long-enough-1")
    for username, password in [("alice", PASSWORD), ("dave", "long-enough-1")]:
        stored = stored_user(app, username).password_hash
        match = re.match(r"^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+$", stored)
        assert match, stored
        memory_kib, time_cost, _ = (int(part) for part in match.groups())
        assert memory_kib >= 19456
        assert time_cost >= 2
        assert password not in stored


def test_session_protection_is_strong(app, client, auth, users):
    """A session cookie copied to another browser or address is not accepted there."""
    auth.login()
    cookie = client.get_cookie("session").value
    same_browser = app.test_client()
    same_browser.set_cookie("session", cookie)
    assert same_browser.get("/").status_code == 200
    other_agent = app.test_client()
    other_agent.set_cookie("session", cookie)
    response = other_agent.get("/", headers={"User-Agent": "SomeOtherBrowser/1.0"})
    assert response.status_code == 302 and redirect_target(response)[1] == "/auth/login"
    other_address = app.test_client()
    other_address.set_cookie("session", cookie)
    response = other_address.get("/", environ_base={"REMOTE_ADDR": "203.0.113.9"})
    assert response.status_code == 302 and redirect_target(response)[1] == "/auth/login"
