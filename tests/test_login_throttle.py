"""Guessing is slowed per account (and per account and address), never a class sharing one school address."""
from __future__ import annotations

import pytest

from chatapp.extensions import db
from chatapp.models import User
from chatapp.services import accounts
from chatapp.services.errors import ServiceError

from .conftest import PASSWORD, csrf_token_from
from .pages import page

SCHOOL = "203.0.113.7"  # the one address a whole school's NAT shows the server
HOME = "198.51.100.20"


def login(client, username: str, password: str, address: str = SCHOOL, headers: dict | None = None):
    """POST the login form from `address`, as a browser that loaded the form first."""
    environ = {"REMOTE_ADDR": address}
    form = client.get("/auth/login", environ_base=environ, headers=headers).get_data(as_text=True)
    return client.post(
        "/auth/login",
        data={"username": username, "password": password, "csrf_token": csrf_token_from(form)},
        environ_base=environ,
        headers=headers,
    )


def make_class(app, size: int, prefix: str = "student") -> list[str]:
    """`size` member accounts with PASSWORD (hashed once: argon2 is slow on purpose)."""
    with app.app_context():
        template = accounts.create_user(username=f"{prefix}00", password=PASSWORD)
        hashed = template.password_hash
        names = [template.username]
        for number in range(1, size):
            name = f"{prefix}{number:02d}"
            db.session.add(User(username=name, display_name=name, role="member", password_hash=hashed))
            names.append(name)
        db.session.commit()
    return names


def test_forty_students_log_in_from_one_address_with_default_settings(app):
    names = make_class(app, 40)
    for name in names:
        response = login(app.test_client(), name, PASSWORD)
        assert response.status_code == 302, (name, response.status_code)


def test_thirty_wrong_passwords_slow_that_account_and_no_classmate(app):
    names = make_class(app, 6)
    guesser, classmates = names[0], names[1:]
    statuses = [login(app.test_client(), guesser, "not-my-password").status_code for _ in range(30)]
    free = app.config["LOGIN_FREE_FAILURES"]
    assert statuses[:free + 1] == [401] * free + [429]
    # A wait that has run out lets one more guess through, then a longer wait starts.
    assert statuses.count(401) <= free + 3 and statuses[-1] == 429
    for name in classmates:
        assert login(app.test_client(), name, PASSWORD).status_code == 302, name


def test_a_throttled_login_keeps_the_username_and_says_when_in_words(app):
    make_class(app, 1)
    client = app.test_client()
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        login(client, "student00", "wrong-password")
    response = login(client, "student00", PASSWORD)  # even the right password waits: no oracle
    assert response.status_code == 429
    assert 1 <= int(response.headers["Retry-After"]) <= app.config["LOGIN_FAILURE_DELAY_SECONDS"]
    shown = page(response)
    assert shown.notices() == ["Too many failed sign-ins for this account. Try again in 2 seconds."]
    assert shown.field("username").attrs.get("value") == "student00"
    assert shown.field("password").attrs.get("value") in (None, "")
    assert client.get("/").status_code == 302  # not logged in


def test_the_wait_is_said_in_chinese(app):
    make_class(app, 1)
    client = app.test_client()
    chinese = {"Accept-Language": "zh-CN"}
    for _ in range(app.config["LOGIN_FREE_FAILURES"]):
        login(client, "student00", "wrong-password", headers=chinese)
    response = login(client, "student00", "wrong-password", headers=chinese)
    assert response.status_code == 429
    assert page(response).notices() == ["此账号登录失败次数过多，请2秒钟后再试。"]


def test_an_unknown_account_waits_exactly_like_a_real_one(app):
    make_class(app, 1)
    answers = {}
    for name in ("student00", "nobody-here"):
        client = app.test_client()
        for _ in range(app.config["LOGIN_FREE_FAILURES"]):
            assert login(client, name, "wrong-password").status_code == 401
        response = login(client, name, "wrong-password")
        answers[name] = (response.status_code, page(response).notices())
    assert answers["student00"] == answers["nobody-here"]


@pytest.mark.config(LOGIN_FREE_FAILURES=2, LOGIN_FAILURE_DELAY_SECONDS=3, LOGIN_MAX_DELAY_SECONDS=20)
def test_each_failure_past_the_free_ones_doubles_the_wait_up_to_the_most(app):
    waits = []
    with app.test_request_context():
        for _ in range(7):
            accounts.record_login(username="alice", address=SCHOOL, succeeded=False)
            try:
                accounts.check_login_allowed(username="alice", address=SCHOOL)
            except ServiceError as error:
                assert error.code == "rate_limited"
                waits.append(error.extra["retry_after"])
            else:
                waits.append(0)
    assert waits == [0, 3, 6, 12, 20, 20, 20]


def test_a_good_login_forgets_the_failures(app):
    make_class(app, 1)
    client = app.test_client()
    free = app.config["LOGIN_FREE_FAILURES"]
    for _ in range(free - 1):
        assert login(client, "student00", "wrong-password").status_code == 401
    assert login(client, "student00", PASSWORD).status_code == 302
    for _ in range(free):
        assert login(app.test_client(), "student00", "wrong-password").status_code == 401


def test_the_wait_per_account_and_address_leaves_the_owner_at_home_free(app):
    make_class(app, 1)
    for _ in range(app.config["LOGIN_FREE_FAILURES"] + 3):
        login(app.test_client(), "student00", "wrong-password", address=SCHOOL)
    assert login(app.test_client(), "student00", PASSWORD, address=SCHOOL).status_code == 429
    assert login(app.test_client(), "student00", PASSWORD, address=HOME).status_code == 302


@pytest.mark.config(LOGIN_FREE_FAILURES=100, LOGIN_ACCOUNT_FREE_FAILURES=6)
def test_guesses_from_many_addresses_slow_the_account(app):
    make_class(app, 1)
    statuses = [
        login(app.test_client(), "student00", "wrong-password", address=f"192.0.2.{number}").status_code
        for number in range(1, 9)
    ]
    assert statuses == [401] * 6 + [429] * 2


@pytest.mark.config(LOGIN_FAILURE_RATE_LIMIT="12 per 10 minutes")
def test_one_address_trying_many_accounts_is_slowed(app):
    names = make_class(app, 14)
    statuses = [login(app.test_client(), name, "Winter2026!").status_code for name in names[:12]]
    assert statuses == [401] * 12  # one guess each: no account's own limit is reached
    response = login(app.test_client(), names[12], PASSWORD)
    assert response.status_code == 429
    assert page(response).notices() == ["Too many failed sign-ins from your network. Try again in 10 minutes."]
    assert login(app.test_client(), names[13], PASSWORD, address=HOME).status_code == 302


@pytest.mark.config(LOGIN_FAILURE_RATE_LIMIT="3 per 10 minutes")
def test_good_logins_never_count_against_the_address(app):
    names = make_class(app, 10)
    assert [login(app.test_client(), name, PASSWORD).status_code for name in names] == [302] * 10


def test_limits_off_lets_every_attempt_through(app):
    app.config["RATELIMIT_ENABLED"] = False
    make_class(app, 1)
    client = app.test_client()
    assert {login(client, "student00", "wrong").status_code for _ in range(8)} == {401}
    assert login(client, "student00", PASSWORD).status_code == 302


# Registration: an address counts the accounts it made, not the people trying.


def register(client, username: str, password: str = "long-enough-1", confirm: str | None = None,
             address: str = SCHOOL):
    environ = {"REMOTE_ADDR": address}
    form = client.get("/auth/register", environ_base=environ).get_data(as_text=True)
    return client.post("/auth/register", environ_base=environ, data={
        "username": username, "display_name": username, "password": password,
        "confirm": password if confirm is None else confirm, "csrf_token": csrf_token_from(form),
    })


def test_forty_students_register_from_one_address_with_default_settings(app):
    statuses = [register(app.test_client(), f"pupil{number:02d}").status_code for number in range(40)]
    assert statuses == [302] * 40


@pytest.mark.config(REGISTER_RATE_LIMIT="2 per 10 minutes")
def test_registration_counts_accounts_made_per_address(app):
    client = app.test_client()
    assert register(client, "first-one").status_code == 302
    assert register(app.test_client(), "typo", confirm="different-1").status_code == 400  # not counted
    assert register(app.test_client(), "second-one").status_code == 302
    refused = register(app.test_client(), "third-one")
    assert refused.status_code == 429
    assert page(refused).notices() == ["You are doing that too fast. Wait 600 s and try again."]
    assert page(refused).field("username").attrs.get("value") == "third-one"
    assert register(app.test_client(), "from-home", address=HOME).status_code == 302
