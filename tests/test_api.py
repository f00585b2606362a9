"""GET /api/v1/rooms/<slug>/messages: the `history` event's rules and shape, over HTTP."""
from __future__ import annotations

import pytest

from .conftest import seed_messages

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
