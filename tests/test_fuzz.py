"""Generated input (hypothesis) at every socket event and HTTP route: no exception escapes."""
from __future__ import annotations

import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatapp.services.errors import ERROR_CODES

from .helpers import fuzz_socket

EVENTS = ["join", "leave", "send", "history", "typing"]
FIELDS = ["room", "body", "client_id", "after", "before", "limit", "typing"]
# Messaging (edits, search, direct messages, unread counts, pictures).
EVENTS += ["edit_message", "search", "open_direct", "unread", "read"]
FIELDS += ["id", "q", "user_id", "attachments", "around", "last_id"]
# Reactions.
EVENTS += ["react"]
FIELDS += ["emoji", "on"]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=300),
    st.sampled_from(["lobby", "secret", "", "LOBBY", "../etc", "lobby\x00", "a" * 65]),
)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
# Mostly the right field names with wrong or odd values, sometimes anything at all.
payloads = st.one_of(
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6),
    st.fixed_dictionaries(
        {
            "room": st.sampled_from(["lobby", "secret"]),
            "body": st.text(max_size=5000),
            "client_id": st.text(max_size=80),
        }
    ),
    json_values,
)

FUZZ = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow]
)


@pytest.mark.config(SEND_RATE_LIMIT="100000 per minute")
@FUZZ
@given(event=st.sampled_from(EVENTS), payload=payloads)
def test_generated_payloads_get_a_protocol_answer(socket_for, public_room, private_room, caplog, event, payload):
    caplog.set_level(logging.ERROR, logger="chatapp.sockets")
    sock = fuzz_socket(socket_for, "bob")
    ack = sock.emit(event, payload, callback=True)
    assert isinstance(ack, dict)
    assert ack["ok"] in (True, False)
    if not ack["ok"]:
        assert ack["error"] in ERROR_CODES
        assert isinstance(ack["message"], str) and ack["message"]
    assert sock.is_connected()
    assert not [r for r in caplog.records if r.name == "chatapp.sockets"], "an exception escaped a handler"
    # Still usable after whatever came before.
    assert sock.emit("history", {"room": "lobby", "limit": 1}, callback=True)["ok"] is True


paths = st.sampled_from(
    ["/", "/auth/login", "/auth/register", "/auth/logout", "/rooms/new", "/join", "/rooms/lobby", "/admin/users",
     "/admin/users/1/role", "/admin/users/1/active", "/api/v1/rooms/lobby/messages", "/healthz",
     "/rooms/lobby/uploads", "/uploads/1/full", "/uploads/1/thumb", "/direct/3"]
)
query_or_form = st.dictionaries(
    st.sampled_from(["username", "password", "confirm", "display_name", "name", "private", "code", "role", "before",
                     "after", "limit", "next", "create-name", "join-code", "x", "around", "file"]),
    st.text(max_size=200),
    max_size=5,
)


@pytest.mark.config(WTF_CSRF_ENABLED=False)
@FUZZ
@given(path=paths, method=st.sampled_from(["GET", "POST"]), data=query_or_form, logged_in=st.booleans())
def test_generated_http_requests_never_answer_500(app, users, public_room, path, method, data, logged_in):
    from .conftest import AuthActions

    client = app.test_client()
    if logged_in:
        AuthActions(client).login("bob")
    if method == "GET":
        response = client.get(path, query_string=data)
    else:
        response = client.post(path, data=data)
    assert response.status_code < 500, response.get_data(as_text=True)[:500]


@FUZZ
@given(slug=st.text(max_size=100), before=st.text(max_size=30), limit=st.text(max_size=30))
def test_generated_api_queries_answer_json(app, users, public_room, slug, before, limit):
    from .conftest import AuthActions

    client = app.test_client()
    AuthActions(client).login("alice")
    # "/" would change the route and "?" would start a query string, which the test client refuses to mix with
    # query_string.
    path_slug = slug.replace("/", "_").replace("?", "_").replace("#", "_")
    response = client.get("/api/v1/rooms/" + path_slug + "/messages", query_string={"before": before, "limit": limit})
    assert response.status_code < 500
    if response.status_code != 308:
        assert response.is_json
