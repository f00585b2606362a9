"""The support desk's HTTP doors: the loader, the widget frame and API, the console pages, sites, the CLI."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from chatapp import PROJECT_ROOT
from chatapp.extensions import db
from chatapp.models import Site, User
from chatapp.services import messages, rooms, support

from .conftest import csrf_token_from
from .helpers import logged_in
from .pages import page
from .support_fixtures import (  # noqa: F401 - fixtures
    IDENTITY_SECRET,
    OTHER_SHOP,
    SHOP,
    make_site,
    other_site_key,
    site_key,
    start_visitor,
)

LOADER = Path(PROJECT_ROOT) / "chatapp" / "static" / "widget" / "loader.js"
LOADER_BUDGET_BYTES = 6 * 1024


# -- the loader -------------------------------------------------------------------------------------


def test_loader_stays_within_its_size_budget():
    size = LOADER.stat().st_size
    assert size <= LOADER_BUDGET_BYTES, f"widget loader is {size} bytes; the budget is {LOADER_BUDGET_BYTES}"


def test_loader_has_no_dependencies_and_never_writes_html():
    source = LOADER.read_text()
    assert not re.search(r"\bimport\b|\brequire\(", source)
    assert "innerHTML" not in source and "document.write" not in source and "eval(" not in source


def test_loader_is_served_cacheable_to_any_origin(client):
    response = client.get("/widget.js", headers={"Origin": SHOP})
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert "max-age=3600" in response.headers["Cache-Control"]
    assert len(response.data) <= LOADER_BUDGET_BYTES


# -- the widget frame -----------------------------------------------------------------------------------


def test_frame_may_be_framed_only_by_the_site_and_chatapp(client, site_key):
    response = client.get(f"/widget/frame?site={site_key}")
    assert response.status_code == 200
    policy = response.headers["Content-Security-Policy"]
    assert f"frame-ancestors 'self' {SHOP}" in policy
    assert "*" not in policy and "'unsafe-inline'" not in policy
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert "X-Frame-Options" not in response.headers
    html = page(response)
    assert html.find("textarea", id="message-input")
    assert html.find("label", **{"for": "message-input"}).text == "Message"
    log = html.find(role="log")
    assert log is not None and log.find("ol", id="messages") is not None
    assert all(script.attrs.get("src") for script in html.find_all("script"))  # no inline script


def test_frame_of_an_unknown_site_is_not_found_and_not_frameable(client):
    response = client.get("/widget/frame?site=nope")
    assert response.status_code == 404
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_other_pages_still_refuse_framing(client):
    response = client.get("/auth/login")
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


# -- the widget API -------------------------------------------------------------------------------------


def test_session_starts_a_visitor_without_cookies_or_csrf(client, site_key):
    response = client.post("/widget/api/session", json={"site_key": site_key, "page_url": "https://shop.example/x"},
                           headers={"Origin": SHOP, "User-Agent": "TestBrowser/1"})
    assert response.status_code == 200, response.get_data(as_text=True)
    data = response.get_json()
    assert set(data) == {
        "ok",
        "visitor_token",
        "notify_token",
        "visitor",
        "contact",
        "site",
        "conversation",
        "agents_online",
        "hours",
    }
    assert data["visitor"]["role"] == "visitor" and data["agents_online"] is False
    assert data["site"] == {
        "name": "Shop",
        "prechat": {"enabled": False, "name_required": False, "email_required": False},
    }
    assert data["conversation"]["status"] == "open" and data["conversation"]["room"].startswith("support-")
    assert "identity_secret" not in response.get_data(as_text=True) and IDENTITY_SECRET not in response.get_data(
        as_text=True
    )
    assert "Set-Cookie" not in response.headers
    assert response.headers["Cache-Control"] == "no-store"
    again = client.post("/widget/api/session", json={"site_key": site_key, "visitor_token": data["visitor_token"]},
                        headers={"Origin": SHOP}).get_json()
    assert again["conversation"]["room"] == data["conversation"]["room"]


@pytest.mark.parametrize(
    "body,headers,status,code",
    [
        ({"site_key": "unknown"}, {}, 404, "not_found"),
        ({"site_key": "KEY"}, {"Origin": OTHER_SHOP}, 403, "forbidden"),
        ({"site_key": "KEY"}, {"Origin": "null"}, 403, "forbidden"),
        ({"site_key": "KEY", "visitor_token": "forged"}, {}, 401, "unauthorized"),
        ({"site_key": "KEY", "identity": {"user_id": "u1", "hmac": "00"}}, {}, 403, "forbidden"),
        ({"site_key": "KEY", "email": "nope"}, {}, 400, "invalid"),
        ({"site_key": "KEY", "surprise": 1}, {}, 400, "invalid"),
        ("not an object", {}, 400, "invalid"),
    ],
)
def test_session_refusals_are_json(client, site_key, body, headers, status, code):
    if isinstance(body, dict) and body.get("site_key") == "KEY":
        body = {**body, "site_key": site_key}
    response = client.post("/widget/api/session", json=body, headers=headers)
    assert response.status_code == status
    assert response.get_json()["error"] == code and response.get_json()["ok"] is False


def test_session_with_a_verified_identity(client, site_key):
    import hashlib
    import hmac

    signature = hmac.new(IDENTITY_SECRET.encode(), b"customer-1", hashlib.sha256).hexdigest()
    first = client.post(
        "/widget/api/session", json={"site_key": site_key, "identity": {"user_id": "customer-1", "hmac": signature}}
    )
    second = client.post(
        "/widget/api/session", json={"site_key": site_key, "identity": {"user_id": "customer-1", "hmac": signature}}
    )
    assert first.get_json()["visitor"]["id"] == second.get_json()["visitor"]["id"]


@pytest.mark.config(WIDGET_RATE_LIMIT="3 per minute")
def test_session_is_rate_limited_per_address(client, site_key):
    codes = [client.post("/widget/api/session", json={"site_key": site_key}).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]


def test_unread_poll_answers_the_sites_origins_only(app, client, site_key, users):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        staff = db.session.get(User, users["staff"].id)
        messages.post_message(sender=staff, room=rooms.get_room(visitor.room), body="reply", client_id="r")
    response = client.get(f"/widget/api/unread?t={visitor.notify_token}", headers={"Origin": SHOP})
    assert response.status_code == 200 and response.get_json() == {"ok": True, "unread": 1}
    assert response.headers["Access-Control-Allow-Origin"] == SHOP
    refused = client.get(f"/widget/api/unread?t={visitor.notify_token}", headers={"Origin": OTHER_SHOP})
    assert refused.status_code == 403 and "Access-Control-Allow-Origin" not in refused.headers
    assert client.get(f"/widget/api/unread?t={visitor.token}", headers={"Origin": SHOP}).status_code == 401
    assert client.get("/widget/api/unread").status_code == 401


# -- the console and its pages ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    ["/support", "/support/canned", "/support/ratings", "/support/conversations/ROOM/transcript"],
)
def test_console_pages_are_for_staff_only(app, users, site_key, path):
    visitor = start_visitor(app, site_key)
    path = path.replace("ROOM", visitor.room)
    anonymous = app.test_client().get(path)
    assert anonymous.status_code == 302 and "/auth/login" in anonymous.headers["Location"]
    assert logged_in(app, "alice").get(path).status_code == 403
    assert logged_in(app, "staff").get(path).status_code == 200
    assert logged_in(app, "admin").get(path).status_code == 200


def test_a_visitor_token_opens_no_console_page(app, site_key):
    visitor = start_visitor(app, site_key)
    http = app.test_client()
    for path in ["/support", f"/rooms/{visitor.room}", f"/api/v1/rooms/{visitor.room}/messages"]:
        response = http.get(
            path, headers={"Authorization": f"Bearer {visitor.token}"}, query_string={"visitor_token": visitor.token}
        )
        assert response.status_code in (302, 401), path


def test_console_page_has_the_queue_composer_and_tools(app, users):
    with app.app_context():
        support.save_canned(agent=db.session.get(User, users["staff"].id), shortcut="hello", body="Hi <there>!")
    html = page(logged_in(app, "staff").get("/support"))
    assert html.find("h1").text == "Conversations"
    assert html.find("label", **{"for": "message-input"}).text == "Message"
    assert [b.text for b in html.find_all("button", class_="view")][0].startswith("Unassigned")
    option = html.find("option", **{"data-shortcut": "hello"})
    assert option.attrs["data-body"] == "Hi <there>!"  # an attribute, escaped by the template
    assigns = [o.text for o in html.find("select", id="assign-select").find_all("option")]
    assert assigns == ["Unassigned", "Admin", "Staff"]  # staff only, never members or visitors


def test_support_room_page_sends_staff_to_the_console_and_members_away(app, users, site_key):
    visitor = start_visitor(app, site_key)
    response = logged_in(app, "staff").get(f"/rooms/{visitor.room}")
    assert response.status_code == 302 and response.headers["Location"] == f"/support?c={visitor.room}"
    assert logged_in(app, "alice").get(f"/rooms/{visitor.room}").status_code == 403


def test_transcript_is_a_text_attachment(app, users, site_key):
    visitor = start_visitor(app, site_key, name="Jane")
    with app.app_context():
        staff = db.session.get(User, users["staff"].id)
        support.post_to_conversation(sender=db.session.get(User, visitor.id), room=rooms.get_room(visitor.room),
                                     body="<b>hello</b>", client_id="c")
        support.post_to_conversation(sender=staff, room=rooms.get_room(visitor.room), body="a note", client_id="n",
                                     internal=True)
    response = logged_in(app, "staff").get(f"/support/conversations/{visitor.room}/transcript")
    assert response.mimetype == "text/plain"
    assert response.headers["Content-Disposition"] == f'attachment; filename="transcript-{visitor.room}.txt"'
    text = response.get_data(as_text=True)
    assert "<b>hello</b>" in text and "Staff (internal note):" in text
    assert logged_in(app, "staff").get("/support/conversations/lobby/transcript").status_code == 404


def test_canned_responses_pages(app, users):
    http = logged_in(app, "staff")
    token = csrf_token_from(http.get("/support/canned").get_data(as_text=True))
    response = http.post(
        "/support/canned", data={"new-shortcut": "thanks", "new-body": "Thank you!", "csrf_token": token}
    )
    assert response.status_code == 302
    html = page(http.get("/support/canned"))
    item = html.find("li", class_="canned-item")
    assert item.attrs["data-shortcut"] == "thanks"
    with app.app_context():
        canned_id = support.list_canned(agent=db.session.get(User, users["staff"].id))[0].id
    conflict = http.post("/support/canned", data={"new-shortcut": "thanks", "new-body": "x", "csrf_token": token})
    assert conflict.status_code == 400 and "taken" in conflict.get_data(as_text=True)
    http.post(
        f"/support/canned/{canned_id}",
        data={f"c{canned_id}-shortcut": "ty", f"c{canned_id}-body": "Ta!", "csrf_token": token},
    )
    with app.app_context():
        assert [(c.shortcut, c.body) for c in support.list_canned(agent=db.session.get(User, users["staff"].id))] == [
            ("ty", "Ta!")
        ]
    http.post(f"/support/canned/{canned_id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert support.list_canned(agent=db.session.get(User, users["staff"].id)) == []
    assert logged_in(app, "alice").post("/support/canned", data={"csrf_token": token}).status_code in (400, 403)


def test_ratings_page_lists_ratings(app, users, site_key):
    visitor = start_visitor(app, site_key, name="Jane")
    with app.app_context():
        conversation = support.get_conversation(room=rooms.get_room(visitor.room))
        support.set_status(agent=db.session.get(User, users["staff"].id), conversation=conversation, status="resolved")
        support.rate(
            visitor=db.session.get(User, visitor.id), conversation=conversation, rating=4, comment="<i>nice</i>"
        )
    html = page(logged_in(app, "staff").get("/support/ratings"))
    row = html.find("tr", **{"data-room": visitor.room})
    assert "Jane" in row.text and "4 out of 5" in row.text and "<i>nice</i>" in row.text
    assert "Average 4.0 out of 5" in html.find(class_="rating-summary").text


# -- sites: admin pages and the CLI ---------------------------------------------------------------------------


def test_admin_registers_and_edits_a_site(app, users):
    http = logged_in(app, "admin")
    token = csrf_token_from(http.get("/admin/sites").get_data(as_text=True))
    response = http.post("/admin/sites", data={
        "new-name": "Bike shop", "new-origins": "https://bikes.example\nhttps://www.bikes.example",
        "new-identity_secret": "", "new-prechat_enabled": "y", "new-prechat_email_required": "y", "csrf_token": token,
    })
    assert response.status_code == 302
    with app.app_context():
        site = db.session.scalar(db.select(Site))
        site_id, key = site.id, site.site_key
        assert site.origins == ["https://bikes.example", "https://www.bikes.example"]
        assert site.prechat_enabled and site.prechat_email_required and not site.prechat_name_required
    edit = page(http.get(f"/admin/sites/{site_id}"))
    assert f'data-site="{key}"' in edit.find("code", id="snippet").text
    assert "/widget.js" in edit.find("code", id="snippet").text
    bad = http.post(
        f"/admin/sites/{site_id}", data={"site-name": "Bike shop", "site-origins": "*", "csrf_token": token}
    )
    assert bad.status_code == 400
    http.post(f"/admin/sites/{site_id}", data={"site-name": "Bikes", "site-origins": "https://bikes.example",
                                               "site-identity_secret": IDENTITY_SECRET, "csrf_token": token})
    with app.app_context():
        site = db.session.get(Site, site_id)
        assert (site.name, site.origins, site.identity_secret) == ("Bikes", ["https://bikes.example"], IDENTITY_SECRET)
    listed = page(http.get("/admin/sites")).find("tr", **{"data-site-key": key})
    assert "Bikes" in listed.text and "verified" in listed.text


@pytest.mark.parametrize("username,status", [("staff", 403), ("alice", 403)])
def test_site_pages_are_for_admins_only(app, users, site_key, username, status):
    http = logged_in(app, username)
    assert http.get("/admin/sites").status_code == status
    assert http.get("/admin/sites/1").status_code == status


def test_visitors_are_not_on_the_accounts_page(app, users, site_key):
    visitor = start_visitor(app, site_key)
    html = logged_in(app, "admin").get("/admin/users").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, visitor.id).username not in html


def test_cli_site_create_prints_key_and_snippet(app, runner):
    result = runner.invoke(args=["site", "create", "Bike shop", "--origin", "https://bikes.example", "--origin",
                                 "https://www.bikes.example", "--identity-secret", IDENTITY_SECRET, "--prechat",
                                 "--app-url", "https://chat.example"])
    assert result.exit_code == 0, result.output
    key = re.search(r"Site key: (\S+)", result.output).group(1)
    assert f'<script src="https://chat.example/widget.js" data-site="{key}" async></script>' in result.output
    with app.app_context():
        site = db.session.scalar(db.select(Site).filter_by(site_key=key))
        assert site.origins == ["https://bikes.example", "https://www.bikes.example"]
        assert site.identity_secret == IDENTITY_SECRET and site.prechat_enabled
    assert IDENTITY_SECRET not in result.output
    listed = runner.invoke(args=["site", "list"])
    assert key in listed.output


def test_cli_site_create_refuses_bad_input(runner):
    assert runner.invoke(args=["site", "create", "Shop"]).exit_code != 0  # an origin is required
    result = runner.invoke(args=["site", "create", "Shop", "--origin", "*"])
    assert result.exit_code != 0 and "origin" in result.output


def test_seed_demo_adds_a_demo_site_and_the_demo_page_shows_the_widget(app, runner, monkeypatch):
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "5077")
    monkeypatch.delenv("CHATAPP_URL", raising=False)
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0 and "/support/demo" in result.output
    with app.app_context():
        site = db.session.scalar(db.select(Site))
        assert site.origins == ["http://127.0.0.1:5077"]
    html = page(app.test_client().get("/support/demo"))  # open to anyone
    loader = html.find("script", src="/widget.js")
    assert loader.attrs["data-site"] == site.site_key and "async" in loader.attrs


def test_demo_page_without_any_site_says_what_to_do(client):
    html = page(client.get("/support/demo"))
    assert "No widget site yet" in html.text()
    assert not html.find_all("script", src="/widget.js")
