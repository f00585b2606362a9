"""/api/v1: GET /rooms/<slug>/messages (the `history` event's rules and shape, over HTTP), the other routes, OpenAPI."""
from __future__ import annotations

import re

import pytest

from .conftest import received, seed_messages
from .helpers import api

URL = "/api/v1/rooms/{slug}/messages"


def history(client, slug="lobby", **params):
    """GET a page of messages; returns (status, JSON body)."""
    response = client.get(URL.format(slug=slug), query_string=params)
    assert response.mimetype == "application/json"
    return response.status_code, response.get_json()


def assert_error(status, body, expected_status, code):
    assert status == expected_status
    assert body["ok"] is False
    assert body["error"] == code
    assert isinstance(body["message"], str) and body["message"]


@pytest.fixture
def alice(client, auth, users):
    auth.login("alice")
    return client


def test_latest_page_has_the_history_shape(app, alice, users, public_room):
    seed_messages(app, users["bob"], public_room, 3)
    status, body = history(alice)
    assert status == 200
    assert set(body) == {"ok", "messages", "more"}
    assert body["ok"] is True and body["more"] is False
    assert [m["body"] for m in body["messages"]] == ["m0", "m1", "m2"]
    first = body["messages"][0]
    # The first version's six fields, plus "html" (messaging: the body's safe Markdown rendering).
    assert set(first) == {"id", "room", "sender", "body", "client_id", "created_at", "html"}
    assert first["room"] == "lobby"
    assert first["sender"] == {"id": users["bob"].id, "username": "bob", "display_name": "Bob", "role": "member"}
    assert first["client_id"] == f"m-{users['bob'].id}-0"
    assert first["created_at"].endswith("Z") and len(first["created_at"]) == len("2026-11-29T08:15:30.123Z")


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"limit": 3},
        {"before": "LAST", "limit": 2},
        {"after": "FIRST", "limit": 2},
        {"after": "FIRST", "before": "LAST"},
    ],
)
def test_same_answer_as_the_history_event(app, alice, users, public_room, socket_for, params):
    ids = seed_messages(app, users["bob"], public_room, 6)
    resolved = {name: {"FIRST": ids[0], "LAST": ids[-1]}.get(value, value) for name, value in params.items()}
    _, over_http = history(alice, **resolved)
    over_socket = socket_for("alice").emit("history", {"room": "lobby", **resolved}, callback=True)
    assert over_http == over_socket


def test_pages_backwards_to_the_first_message(app, alice, users, public_room):
    ids = seed_messages(app, users["bob"], public_room, 7)
    _, page = history(alice, limit=3)
    assert [m["id"] for m in page["messages"]] == ids[4:] and page["more"] is True
    _, page = history(alice, before=ids[4], limit=3)
    assert [m["id"] for m in page["messages"]] == ids[1:4] and page["more"] is True
    _, page = history(alice, before=ids[1], limit=3)
    assert [m["id"] for m in page["messages"]] == ids[:1] and page["more"] is False
    _, page = history(alice, before=ids[0])
    assert page == {"ok": True, "messages": [], "more": False}


def test_pages_forwards_to_the_newest_message(app, alice, users, public_room):
    ids = seed_messages(app, users["bob"], public_room, 5)
    _, page = history(alice, after=ids[0], limit=2)
    assert [m["id"] for m in page["messages"]] == ids[1:3] and page["more"] is True
    _, page = history(alice, after=ids[2], limit=2)
    assert [m["id"] for m in page["messages"]] == ids[3:5] and page["more"] is False
    _, page = history(alice, after=ids[4])
    assert page == {"ok": True, "messages": [], "more": False}


def test_page_exactly_full_says_no_more(app, alice, users, public_room):
    ids = seed_messages(app, users["bob"], public_room, 4)
    _, page = history(alice, limit=4)
    assert [m["id"] for m in page["messages"]] == ids and page["more"] is False
    _, page = history(alice, after=0, limit=4)
    assert [m["id"] for m in page["messages"]] == ids and page["more"] is False


def test_limit_bounds(app, alice, users, public_room):
    seed_messages(app, users["bob"], public_room, 101)
    _, page = history(alice)
    assert len(page["messages"]) == 50 and page["more"] is True  # the default
    _, page = history(alice, limit=1)
    assert [m["body"] for m in page["messages"]] == ["m100"] and page["more"] is True
    _, page = history(alice, limit=100)
    assert len(page["messages"]) == 100 and page["messages"][0]["body"] == "m1" and page["more"] is True
    _, page = history(alice, limit="")  # an empty field counts as absent
    assert len(page["messages"]) == 50


def test_empty_room(alice, public_room):
    assert history(alice) == (200, {"ok": True, "messages": [], "more": False})


def test_messages_of_other_rooms_never_appear(app, alice, users, public_room):
    from chatapp.services import rooms

    with app.app_context():
        other = rooms.create_room(slug="other", name="Other", creator=users["staff"])
        rooms.enter_room(user=users["staff"], room=other)
    seed_messages(app, users["staff"], other, 2, prefix="elsewhere")
    seed_messages(app, users["bob"], public_room, 2)
    _, page = history(alice)
    assert [m["body"] for m in page["messages"]] == ["m0", "m1"]


def test_body_is_returned_as_text(app, alice, users, public_room):
    from chatapp.extensions import db
    from chatapp.services import messages

    with app.app_context():
        messages.post_message(
            sender=users["bob"],
            room=db.session.merge(public_room),
            body="<b>x</b>",
            client_id="h",
            enforce_rate_limit=False,
        )
    _, page = history(alice)
    assert page["messages"][0]["body"] == "<b>x</b>"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": 0},
        {"limit": 101},
        {"limit": -1},
        {"limit": "abc"},
        {"limit": "1.5"},
        {"before": -1},
        {"after": -1},
        {"before": "abc"},
        {"after": "1e3"},
        {"before": "9" * 30},
        {"after": str(2**63)},
    ],
)
def test_bad_parameters_are_invalid(alice, public_room, params):
    status, body = history(alice, **params)
    assert_error(status, body, 400, "invalid")


def test_anonymous_gets_401_json(client, public_room):
    status, body = history(client)
    assert_error(status, body, 401, "unauthorized")
    assert body["message"] == "Log in first."


def test_anonymous_learns_nothing_about_which_rooms_exist(client, public_room):
    assert history(client, slug="lobby")[0] == history(client, slug="nowhere")[0] == 401


def test_private_room_non_member_gets_403_json(app, client, auth, users, private_room):
    seed_messages(app, users["alice"], private_room, 2, prefix="secret-plan")
    auth.login("bob")
    response = client.get(URL.format(slug="secret"))
    assert_error(response.status_code, response.get_json(), 403, "forbidden")
    assert "secret-plan" not in response.get_data(as_text=True)


def test_private_room_member_reads_it(app, alice, users, private_room):
    seed_messages(app, users["staff"], private_room, 2)
    status, body = history(alice, slug="secret")
    assert status == 200 and [m["body"] for m in body["messages"]] == ["m0", "m1"]


@pytest.mark.parametrize("slug", ["nowhere", "NOT-A-SLUG"])
def test_unknown_room_gets_404_json(alice, users, slug):
    status, body = history(alice, slug=slug)
    assert_error(status, body, 404, "not_found")


def test_wrong_method_gets_json_error(alice, public_room):
    response = alice.delete(URL.format(slug="lobby"))
    assert response.status_code == 405
    assert response.get_json() == {"ok": False, "error": "invalid", "message": "That method is not allowed here."}


@pytest.mark.config(API_RATE_LIMIT="3 per minute")
def test_api_is_rate_limited_with_json(alice, public_room):
    for _ in range(3):
        assert history(alice)[0] == 200
    status, body = history(alice)
    assert_error(status, body, 429, "rate_limited")


@pytest.mark.config(API_RATE_LIMIT="3 per minute")
def test_api_limit_is_per_account_not_per_school_address(app, alice, public_room):
    from .conftest import AuthActions

    for _ in range(3):
        assert history(alice)[0] == 200
    assert history(alice)[0] == 429
    bob = app.test_client()  # the same address (127.0.0.1), another account
    AuthActions(bob).login("bob")
    assert [history(bob)[0] for _ in range(3)] == [200, 200, 200]


# -- the integrations routes (tokens: tests/test_api_tokens.py) -----------------------------------

def test_the_openapi_document_covers_every_route(app, client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.get_json()
    assert document["openapi"].startswith("3.")
    assert document["components"]["securitySchemes"]["bearer"] == {
        "type": "http", "scheme": "bearer", "bearerFormat": "cat_…",
    }
    documented = {(path, method.upper()) for path, operations in document["paths"].items() for method in operations}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/") or rule.endpoint == "api.openapi":
            continue
        path = re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (path, method)
    for operations in document["paths"].values():
        for operation in operations.values():
            assert operation["security"] == [{"bearer": []}]
            assert operation["x-scope"] in ("read", "write", "support")
            assert "429" in operation["responses"] and "401" in operation["responses"]
    body = document["paths"]["/api/v1/rooms/{slug}/messages"]["post"]["requestBody"]
    assert body["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/PostMessageBody"}
    assert set(document["components"]["schemas"]["PostMessageBody"]["required"]) == {"body", "client_id"}


def test_rooms_lists_what_the_caller_may_enter(app, client, token_for, public_room, private_room):
    status, body = api(client, "GET", "/rooms", token_for("alice"))
    assert status == 200 and [room["slug"] for room in body["rooms"]] == ["lobby", "secret"]
    status, body = api(client, "GET", "/rooms", token_for("bob"))
    assert [room["slug"] for room in body["rooms"]] == ["lobby"]


def test_posting_checks_the_body_as_send_does(client, token_for, public_room):
    secret = token_for("alice", "write")
    status, body = api(client, "POST", "/rooms/lobby/messages", secret, json={"body": "hi"})
    assert status == 400 and body["message"] == "'client_id' is required."
    status, body = api(client, "POST", "/rooms/lobby/messages", secret,
                       json={"body": "hi", "client_id": "c", "room": "x"})
    assert status == 400 and body["message"] == "Unknown field(s): room."
    status, body = api(client, "POST", "/rooms/lobby/messages", secret, json={"body": "x" * 4001, "client_id": "c"})
    assert status == 413 and body["error"] == "too_large"
    status, body = api(client, "POST", "/rooms/lobby/messages", secret, data="not json",
                       content_type="application/json")
    assert status == 400 and body["error"] == "invalid"
    status, body = api(client, "POST", "/rooms/nowhere/messages", secret, json={"body": "hi", "client_id": "c"})
    assert status == 404


def test_a_post_is_announced_to_the_room(client, token_for, public_room, socket_for):
    bob = socket_for("bob")
    bob.emit("join", {"room": "lobby"}, callback=True)
    bob.get_received()
    status, body = api(client, "POST", "/rooms/lobby/messages", token_for("alice", "write"),
                       json={"body": "over HTTP", "client_id": "h1"})
    assert status == 201
    assert received(bob, "message") == [body["message"]]


@pytest.fixture
def conversation(written_conversation) -> int:
    """A conversation its visitor wrote in: its id."""
    return written_conversation


def test_the_desk_over_the_api(app, client, token_for, conversation):
    secret = token_for("staff", "read", "support")
    status, body = api(client, "GET", "/conversations", secret)
    assert status == 200 and [c["id"] for c in body["conversations"]] == [conversation]
    assert body["conversations"][0]["waiting"] is True and body["counts"]["unassigned"] == 1

    status, body = api(client, "POST", f"/conversations/{conversation}/messages", secret,
                       json={"body": "Checking", "client_id": "n1", "internal": True})
    assert status == 201 and body["message"]["internal"] is True
    status, body = api(client, "POST", f"/conversations/{conversation}/messages", secret,
                       json={"body": "It ships today", "client_id": "r1"})
    assert status == 201
    status, page = api(client, "GET", f"/conversations/{conversation}/messages", secret)
    assert [m["body"] for m in page["messages"]] == ["Help, please", "Checking", "It ships today"]

    status, body = api(client, "POST", f"/conversations/{conversation}/assign", secret, json={"agent": "admin"})
    assert status == 200 and body["conversation"]["assignee"]["username"] == "admin"
    status, body = api(client, "POST", f"/conversations/{conversation}/assign", secret,
                       json={"agent": str(body["conversation"]["assignee"]["id"])})
    assert status == 200
    status, body = api(client, "POST", f"/conversations/{conversation}/assign", secret, json={"agent": "nobody-here"})
    assert status == 404
    status, body = api(client, "POST", f"/conversations/{conversation}/assign", secret, json={"agent": "alice"})
    assert status == 400 and body["message"] == "A conversation can only be assigned to an active staff account."
    status, body = api(client, "POST", f"/conversations/{conversation}/assign", secret, json={})
    assert status == 200 and body["conversation"]["assignee"] is None

    status, body = api(client, "POST", f"/conversations/{conversation}/resolve", secret)
    assert status == 200 and body["conversation"]["status"] == "resolved"
    assert api(client, "GET", "/conversations", secret)[1]["conversations"] == []
    status, body = api(client, "GET", "/conversations?status=resolved", secret)
    assert [c["id"] for c in body["conversations"]] == [conversation]
    assert api(client, "GET", "/conversations?status=closed", secret)[0] == 400
    assert api(client, "GET", "/conversations/999999/messages", secret)[0] == 404


def test_a_members_session_gets_403_on_the_desk(client, auth, conversation):
    auth.login("alice")
    status, body = api(client, "GET", "/conversations")
    assert status == 403 and body["message"] == "Only support staff can do that."
    status, body = api(client, "GET", f"/conversations/{conversation}/messages")
    assert status == 403 and body["message"] == "This conversation is not open to you."
