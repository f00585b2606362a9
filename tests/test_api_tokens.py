"""Personal access tokens and bots: the service, Bearer auth on /api/v1 (every route × every scope), the pages."""
from __future__ import annotations

import hashlib
import re
from datetime import timedelta

import pytest

from chatapp.extensions import db
from chatapp.models import ApiToken, Conversation, User, utcnow
from chatapp.services import accounts, api_tokens, rooms
from chatapp.services.errors import ServiceError
from harness.forms import csrf_token_from

from .conftest import AuthActions, detached, received
from .helpers import api

SECRET_RE = re.compile(r"cat_[A-Za-z0-9_-]{43}")


def user_named(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def token_row(app, secret: str) -> dict:
    with app.app_context():
        token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=hashlib.sha256(secret.encode()).hexdigest()))
        return {"id": token.id, "last_used_at": token.last_used_at, "revoked_at": token.revoked_at}


@pytest.fixture
def conversation_id(written_conversation) -> int:
    """A support conversation in the queue (support_fixtures.written_conversation)."""
    return written_conversation


# -- the service ---------------------------------------------------------------------------------


def test_a_new_token_is_shown_once_and_stored_only_as_its_hash(app, users):
    with app.app_context():
        issued = api_tokens.create_token(user=user_named("alice"), name=" CI  bot ", scopes=["write", "read"],
                                         expires_in_days=90)
        assert SECRET_RE.fullmatch(issued.secret)
        token, secret = issued  # a pair, as well
        assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
        assert token.prefix == secret[:12] and token.name == "CI bot"
        assert token.scopes == ["read", "write"]
        assert timedelta(days=89, hours=23) < token.expires_at - token.created_at <= timedelta(days=90)
        stored = db.session.execute(db.text("SELECT * FROM api_token")).mappings().one()
        assert secret not in {str(value) for value in stored.values()}
        assert [t.id for t in api_tokens.list_tokens(user=user_named("alice"))] == [token.id]
        assert api_tokens.list_tokens(user=user_named("bob")) == []
        assert "secret" not in token.to_dict() and "token_hash" not in token.to_dict()


@pytest.mark.parametrize(("scopes", "days", "code"), [
    ([], 30, "invalid"),
    (["admin"], 30, "invalid"),
    ("read,nope", 30, "invalid"),
    (["support"], 30, "forbidden"),  # a member: the desk is staff's
    (["read"], 0, "invalid"),
    (["read"], 100000, "invalid"),
    (["read"], "30", "invalid"),
])
def test_bad_token_requests_are_refused(app, users, scopes, days, code):
    with app.app_context(), pytest.raises(ServiceError) as refused:
        api_tokens.create_token(user=user_named("alice"), name="x", scopes=scopes, expires_in_days=days)
    assert refused.value.code == code


def test_staff_may_have_the_support_scope_and_a_token_that_never_expires(app, users):
    with app.app_context():
        token = api_tokens.create_token(user=user_named("staff"), name="desk", scopes="support, read",
                                        expires_in_days=None).token
        assert token.scopes == ["read", "support"] and token.expires_at is None


def test_a_user_cannot_revoke_anothers_token(app, users, token_for):
    secret = token_for("alice", "read")
    token_id = token_row(app, secret)["id"]
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            api_tokens.revoke_token(actor=user_named("bob"), token_id=token_id)
        assert refused.value.code == "forbidden"
        with pytest.raises(ServiceError) as missing:
            api_tokens.revoke_token(actor=user_named("alice"), token_id=token_id + 100)
        assert missing.value.code == "not_found"
    assert token_row(app, secret)["revoked_at"] is None
    with app.app_context():
        api_tokens.revoke_token(actor=user_named("admin"), token_id=token_id)  # admins may
    assert token_row(app, secret)["revoked_at"] is not None


def test_scopes_are_checked(app, users, token_for):
    secret = token_for("alice", "read")
    with app.app_context():
        user, token = api_tokens.authenticate(secret)
        assert user.username == "alice"
        api_tokens.require_scope(token, "read")
        with pytest.raises(ServiceError) as refused:
            api_tokens.require_scope(token, "write")
        assert refused.value.code == "forbidden" and "write" in refused.value.message


def test_only_admins_create_bots_and_give_them_tokens(app, users):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            api_tokens.create_bot(actor=user_named("staff"), username="helper", display_name="Helper")
        assert refused.value.code == "forbidden"
        bot = api_tokens.create_bot(actor=user_named("admin"), username="helper", display_name="Helper")
        assert bot.is_bot and bot.to_dict()["bot"] is True
        with pytest.raises(ServiceError) as refused:
            api_tokens.issue_bot_token(actor=user_named("alice"), bot=bot, name="x", scopes=["read"],
                                       expires_in_days=30)
        assert refused.value.code == "forbidden"
        with pytest.raises(ServiceError) as not_a_bot:
            api_tokens.issue_bot_token(actor=user_named("admin"), bot=user_named("bob"), name="x", scopes=["read"],
                                       expires_in_days=30)
        assert not_a_bot.value.code == "invalid"
        issued = api_tokens.issue_bot_token(actor=user_named("admin"), bot=bot, name="x", scopes=["write"],
                                            expires_in_days=None)
        assert issued.token.user_id == bot.id and issued.token.created_by_id == user_named("admin").id
        assert api_tokens.list_bots(actor=user_named("admin")) == [bot]


def test_people_have_no_bot_badge(app, users):
    with app.app_context():
        assert "bot" not in user_named("alice").to_dict()  # the first protocol version's USER, exactly


def test_a_bot_cannot_log_in_with_a_password(app, client, users):
    with app.app_context():
        bot = api_tokens.create_bot(actor=user_named("admin"), username="helper", display_name="Helper")
        assert not bot.check_password("")
        with pytest.raises(ServiceError) as refused:
            accounts.log_in(username="helper", password="anything", address="127.0.0.1")
        assert "bot account" in refused.value.message
        with pytest.raises(ServiceError) as no_code:
            from chatapp.services import class_lists

            class_lists.issue_sign_in_code(actor=user_named("admin"), user=bot)
        assert no_code.value.code == "forbidden"
    response = AuthActions(client).login("helper")
    assert response.status_code == 401
    assert "This is a bot account: it cannot log in with a password." in response.get_data(as_text=True)


# -- Bearer auth: every route × every scope ---------------------------------------------------


# (method, path, JSON body, the scope it needs); CID is the conversation's id.
ROUTES = [
    ("GET", "/me", None, "read"),
    ("GET", "/rooms", None, "read"),
    ("GET", "/rooms/lobby/messages", None, "read"),
    ("POST", "/rooms/lobby/messages", {"body": "from a script", "client_id": "s1"}, "write"),
    ("POST", "/rooms/lobby/join", {}, "write"),
    ("GET", "/conversations", None, "support"),
    ("GET", "/conversations/CID/messages", None, "support"),
    ("POST", "/conversations/CID/messages", {"body": "On it", "client_id": "a1"}, "support"),
    ("POST", "/conversations/CID/resolve", None, "support"),
    ("POST", "/conversations/CID/assign", {"agent": "staff"}, "support"),
]
ROUTE_IDS = [f"{method} {path}" for method, path, _body, _scope in ROUTES]


def call(client, route, conversation_id: int, secret: str | None, **kwargs) -> tuple[int, dict]:
    method, path, body, _scope = route
    return api(client, method, path.replace("CID", str(conversation_id)), secret, json=body, **kwargs)


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("scope", ["read", "write", "support"])
def test_each_route_needs_its_scope(client, token_for, public_room, conversation_id, route, scope):
    secret = token_for("staff", scope)
    status, body = call(client, route, conversation_id, secret)
    if scope == route[3]:
        assert status in (200, 201), body
        assert body["ok"] is True
    else:
        assert status == 403, body
        assert body["error"] == "forbidden"
        assert body["message"] == f"This access token lacks the {route[3]} scope; make one that has it."


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
def test_a_token_with_every_scope_may_use_every_route(client, token_for, public_room, conversation_id, route):
    status, body = call(client, route, conversation_id, token_for("staff", "read", "write", "support"))
    assert status in (200, 201) and body["ok"] is True, body


def _expired(app, secret):
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()


def _revoked(app, secret):
    with app.app_context():
        api_tokens.revoke_token(actor=user_named("staff"), token_id=token_row(app, secret)["id"])


BAD_CREDENTIALS = {
    "none": (None, "Log in first."),
    "unknown": ("cat_" + "A" * 43, "This access token is not known: check that it was copied whole."),
    "malformed": ("not-a-token", "That is not a chatapp access token"),
    "empty": ("", "That is not a chatapp access token"),
    "revoked": (_revoked, "This access token was revoked; make a new one on your account page."),
    "expired": (_expired, "This access token expired on"),
}


@pytest.mark.parametrize("route", ROUTES, ids=ROUTE_IDS)
@pytest.mark.parametrize("kind", list(BAD_CREDENTIALS))
def test_bad_credentials_get_401_saying_why(app, client, token_for, public_room, conversation_id, route, kind):
    spoil, words = BAD_CREDENTIALS[kind]
    secret = spoil
    if callable(spoil):
        secret = token_for("staff", "read", "write", "support")
        spoil(app, secret)
    status, body = call(client, route, conversation_id, secret)
    assert status == 401, body
    assert body["ok"] is False and body["error"] == "unauthorized"
    assert body["message"].startswith(words)


def test_a_header_that_is_not_bearer_is_refused(client, token_for, users):
    secret = token_for("alice")
    status, body = api(client, "GET", "/me", headers={"Authorization": f"Basic {secret}"})
    assert status == 401 and body["message"].startswith("That is not a chatapp access token")


def test_refusals_are_in_the_callers_language(app, client, token_for, users):
    secret = token_for("alice")
    _expired(app, secret)
    status, body = api(client, "GET", "/me", secret, headers={"Accept-Language": "zh-CN"})
    assert status == 401 and "令牌" in body["message"]


def test_me_says_who_and_which_token(client, token_for, users):
    secret = token_for("alice", "read", "write")
    status, body = api(client, "GET", "/me", secret)
    assert status == 200
    assert body["user"] == {"id": users["alice"].id, "username": "alice", "display_name": "Alice", "role": "member"}
    assert body["token"]["scopes"] == ["read", "write"] and body["token"]["prefix"] == secret[:12]
    assert "secret" not in body["token"]


def test_the_token_decides_even_beside_a_session_cookie(client, auth, token_for, users):
    auth.login("alice")
    status, body = api(client, "GET", "/me", token_for("bob"))
    assert status == 200 and body["user"]["username"] == "bob"
    status, body = api(client, "GET", "/me")  # without it, the session counts
    assert status == 200 and body["user"]["username"] == "alice" and body["token"] is None


def test_last_used_is_written_at_most_once_a_minute(app, client, token_for, users):
    secret = token_for("alice")
    assert token_row(app, secret)["last_used_at"] is None
    api(client, "GET", "/me", secret)
    first = token_row(app, secret)["last_used_at"]
    assert first is not None
    api(client, "GET", "/me", secret)
    assert token_row(app, secret)["last_used_at"] == first  # a second later: not written again
    with app.app_context():
        db.session.execute(db.update(ApiToken).values(last_used_at=utcnow() - timedelta(minutes=2)))
        db.session.commit()
    api(client, "GET", "/me", secret)
    assert token_row(app, secret)["last_used_at"] > first


def test_a_deactivated_accounts_token_stops_working(app, client, token_for, users):
    secret = token_for("alice")
    with app.app_context():
        accounts.set_active(actor=user_named("admin"), user=user_named("alice"), active=False)
    status, body = api(client, "GET", "/me", secret)
    assert status == 401 and body["message"] == "The account of this access token is deactivated."


# -- support routes: staff only ---------------------------------------------------------------


SUPPORT_ROUTES = [route for route in ROUTES if route[3] == "support"]


@pytest.mark.parametrize("route", SUPPORT_ROUTES, ids=[f"{m} {p}" for m, p, _b, _s in SUPPORT_ROUTES])
def test_a_member_with_a_support_token_gets_403(app, client, token_for, conversation_id, route):
    secret = token_for("staff", "support")  # made while staff ...
    with app.app_context():
        accounts.set_role(actor=user_named("admin"), user=user_named("staff"), role="member")  # ... then demoted
    status, body = call(client, route, conversation_id, secret)
    assert status == 403 and body["error"] == "forbidden", body


def test_a_support_room_needs_the_support_scope_on_the_rooms_routes_too(client, token_for, conversation_id, app):
    with app.app_context():
        slug = db.session.get(Conversation, conversation_id).room.slug
    status, body = api(client, "GET", f"/rooms/{slug}/messages", token_for("staff", "read"))
    assert status == 403 and "support" in body["message"]
    status, body = api(client, "GET", f"/rooms/{slug}/messages", token_for("staff", "read", "support"))
    assert status == 200 and [m["body"] for m in body["messages"]] == ["Help, please"]


# -- a bot in a class ---------------------------------------------------------------------------


def test_a_bot_posts_into_its_class_and_the_class_hears_it_once(app, client, users, socket_for):
    with app.app_context():
        admin = user_named("admin")
        class_room = rooms.create_class(name="Physics 7B", teacher=user_named("staff"))
        rooms.join_by_code(user=user_named("alice"), code=class_room.join_code)
        slug, code = class_room.slug, class_room.join_code
        bot = api_tokens.create_bot(actor=admin, username="homework-bot", display_name="Homework bot")
        secret = api_tokens.issue_bot_token(actor=admin, bot=bot, name="reminders", scopes=["read", "write"],
                                            expires_in_days=365).secret
    alice = socket_for("alice")
    assert alice.emit("join", {"room": slug}, callback=True)["ok"] is True
    alice.get_received()

    post = {"body": "Due Friday", "client_id": "r1"}
    status, body = api(client, "POST", f"/rooms/{slug}/messages", secret, json=post)
    assert status == 403  # not in the class yet
    assert api(client, "POST", f"/rooms/{slug}/join", secret, json={"code": code})[0] == 200
    status, body = api(client, "POST", f"/rooms/{slug}/messages", secret, json=post)
    assert status == 201
    stored = body["message"]
    assert stored["sender"] == {"id": stored["sender"]["id"], "username": "homework-bot",
                                "display_name": "Homework bot", "role": "member", "bot": True}
    assert received(alice, "message") == [stored]

    # The same client_id again (a retry after a lost answer): the same message, stored and announced once.
    status, again = api(client, "POST", f"/rooms/{slug}/messages", secret, json=post)
    assert status == 200 and again["message"] == stored
    assert received(alice, "message") == []
    status, page = api(client, "GET", f"/rooms/{slug}/messages", secret)
    assert [m["id"] for m in page["messages"]] == [stored["id"]]


def test_a_bots_join_code_must_be_the_rooms_own(app, client, users, private_room):
    with app.app_context():
        other = rooms.create_room(slug="other", name="Other", creator=user_named("staff"), private=True)
        bot = api_tokens.create_bot(actor=user_named("admin"), username="helper", display_name="Helper")
        secret = api_tokens.issue_bot_token(actor=user_named("admin"), bot=bot, name="x", scopes=["write"],
                                            expires_in_days=30).secret
        code = other.join_code
    status, body = api(client, "POST", "/rooms/secret/join", secret, json={"code": code})
    assert status == 400 and body["message"] == "That join code is for another room."
    assert api(client, "POST", "/rooms/secret/join", secret, json={})[0] == 403  # private: a code is needed


# -- the send rate limit, CSRF --------------------------------------------------------------------


@pytest.mark.config(SEND_RATE_LIMIT="2 per minute")
def test_posting_over_the_send_limit_gets_429_saying_when(client, token_for, public_room):
    secret = token_for("alice", "write")
    for n in range(2):
        assert api(client, "POST", "/rooms/lobby/messages", secret, json={"body": "hi", "client_id": f"c{n}"})[0] == 201
    response = client.post("/api/v1/rooms/lobby/messages", json={"body": "hi", "client_id": "c2"},
                           headers={"Authorization": f"Bearer {secret}"})
    body = response.get_json()
    assert response.status_code == 429 and body["error"] == "rate_limited"
    assert 1 <= body["retry_after"] <= 60
    assert body["message"] == f"You are doing that too fast. Wait {body['retry_after']} s and try again."
    assert response.headers["Retry-After"] == str(body["retry_after"])
    # A retry of a stored client_id is still answered: the limit counts new messages only.
    assert api(client, "POST", "/rooms/lobby/messages", secret, json={"body": "hi", "client_id": "c1"})[0] == 200


def test_a_session_post_needs_its_csrf_token_and_a_token_post_does_not(client, auth, token_for, public_room):
    auth.login("alice")
    status, body = api(client, "POST", "/rooms/lobby/messages", json={"body": "hi", "client_id": "x1"})
    assert status == 400 and body["error"] == "invalid" and "CSRF" in body["message"]
    csrf = csrf_token_from(client.get("/auth/account").get_data(as_text=True))
    status, body = api(client, "POST", "/rooms/lobby/messages", json={"body": "hi", "client_id": "x1"},
                       headers={"X-CSRFToken": csrf})
    assert status == 201
    other = client.application.test_client()  # no cookie, no CSRF token: the Bearer token is enough
    assert api(other, "POST", "/rooms/lobby/messages", token_for("bob", "write"),
               json={"body": "hi", "client_id": "x1"})[0] == 201


# -- the account page's tokens ------------------------------------------------------------------------


def account_form(client) -> str:
    return csrf_token_from(client.get("/auth/account").get_data(as_text=True))


def test_the_account_page_makes_a_token_and_shows_its_secret_once(app, client, auth, users):
    auth.login("alice")
    page = client.get("/auth/account").get_data(as_text=True)
    assert "Access tokens" in page and 'value="support"' not in page  # the desk's scope is staff's
    response = client.post("/auth/account/tokens", data={
        "csrf_token": account_form(client), "name": "My script", "scopes": ["read", "write"], "expires_in_days": "90",
    })
    assert response.status_code == 201
    assert response.headers["Cache-Control"] == "no-store"
    shown = response.get_data(as_text=True)
    secrets_shown = SECRET_RE.findall(shown)
    assert len(set(secrets_shown)) == 1
    secret = secrets_shown[0]
    assert "Copy it now" in shown
    assert api(app.test_client(), "GET", "/me", secret)[1]["user"]["username"] == "alice"

    again = client.get("/auth/account").get_data(as_text=True)
    assert secret not in again and secret[:12] in again and "My script" in again
    assert "cat_" + secret[12:] not in again


def test_the_account_page_refuses_a_token_without_scopes(client, auth, users):
    auth.login("alice")
    response = client.post("/auth/account/tokens", data={
        "csrf_token": account_form(client), "name": "x", "expires_in_days": "30",
    })
    assert response.status_code == 400 and not SECRET_RE.search(response.get_data(as_text=True))


def test_staff_see_the_support_scope(client, auth, users):
    auth.login("staff")
    assert 'value="support"' in client.get("/auth/account").get_data(as_text=True)


def test_revoking_from_the_account_page(app, client, auth, users, token_for):
    secret = token_for("alice")
    token_id = token_row(app, secret)["id"]
    auth.login("alice")
    response = client.post(f"/auth/account/tokens/{token_id}/revoke", data={"csrf_token": account_form(client)})
    assert response.status_code == 302
    assert token_row(app, secret)["revoked_at"] is not None
    assert api(app.test_client(), "GET", "/me", secret)[0] == 401


def test_nobody_revokes_anothers_token_from_their_page(app, client, auth, users, token_for):
    secret = token_for("alice")
    auth.login("bob")
    response = client.post(f"/auth/account/tokens/{token_row(app, secret)['id']}/revoke",
                           data={"csrf_token": account_form(client)})
    assert response.status_code == 403
    assert token_row(app, secret)["revoked_at"] is None


# -- the admin's bots ------------------------------------------------------------------------------


def test_an_admin_makes_a_bot_and_gives_it_a_token(app, client, auth, users):
    auth.login("admin")
    csrf = csrf_token_from(client.get("/admin/users").get_data(as_text=True))
    response = client.post("/admin/bots", data={
        "bot-csrf_token": csrf, "bot-username": "helper", "bot-display_name": "Helper", "bot-role": "member",
    })
    assert response.status_code == 302
    page = client.get("/admin/users").get_data(as_text=True)
    assert "Create bot" in page and "helper" in page
    with app.app_context():
        bot = detached(user_named("helper"))
    assert bot.is_bot
    prefix = f"bot{bot.id}-"
    response = client.post(f"/admin/bots/{bot.id}/tokens", data={
        f"{prefix}csrf_token": csrf, f"{prefix}name": "reminders", f"{prefix}scopes": ["read", "write"],
        f"{prefix}expires_in_days": "never",
    })
    assert response.status_code == 201
    secret = SECRET_RE.search(response.get_data(as_text=True)).group(0)
    assert api(app.test_client(), "GET", "/me", secret)[1]["user"]["bot"] is True
    assert secret not in client.get("/admin/users").get_data(as_text=True)


def test_non_admins_cannot_make_bots(app, client, auth, users):
    auth.login("staff")
    csrf = account_form(client)
    response = client.post("/admin/bots", data={"bot-csrf_token": csrf, "bot-username": "helper"})
    assert response.status_code == 403
    with app.app_context():
        assert user_named("helper") is None
