"""Labels on conversations, and the console's filters and search: services, socket events, the admin page."""
from __future__ import annotations

import json

import pytest

from chatapp.extensions import db
from chatapp.models import Conversation, ConversationLabel, Label, Site, User
from chatapp.services import accounts, labels, teams

from . import helpers
from .conftest import PASSWORD, AuthActions, csrf_token_from, received
from .pages import page
from .support_fixtures import (  # noqa: F401 - fixtures
    make_site,
    site_key,
    start_visitor,
    visitor_socket,
)


def write(app, sock, visitor, body):
    """The visitor writes in their conversation (so it is in the queue)."""
    ack = helpers.send(sock, visitor.room, body, body)
    assert ack["ok"], ack


def make_label(app, name="Billing", colour="#2563eb") -> int:
    with app.app_context():
        return labels.save_label(actor=None, name=name, colour=colour).id


def label_names(app, visitor) -> list[str]:
    """The names of the labels stored on a visitor's conversation."""
    with app.app_context():
        return sorted(db.session.scalars(
            db.select(Label.name).join(ConversationLabel, ConversationLabel.label_id == Label.id)
            .join(Conversation, Conversation.id == ConversationLabel.conversation_id)
            .where(Conversation.visitor_id == visitor.id)
        ))


def console(socket_for, username="staff", **filters):
    sock = socket_for(username)
    ack = sock.emit("support_list", filters, callback=True)
    assert ack["ok"], ack
    return sock, ack


def rooms_of(ack) -> set[str]:
    return {conversation["room"] for conversation in ack["conversations"]}


@pytest.fixture
def desk(app, users, site_key, visitor_socket):
    """Two visitors who wrote on the shop: Ann (ann@example.com, about a refund) and Bo (about shipping)."""
    ann = start_visitor(app, site_key, name="Ann Lee", email="ann@example.com")
    bo = start_visitor(app, site_key, name="Bo Chen", email="bo@example.net")
    write(app, visitor_socket(ann), ann, "I want a refund for order 1234")
    write(app, visitor_socket(bo), bo, "Where is my parcel? Shipping is slow")
    return {"ann": ann, "bo": bo}


@pytest.fixture
def team_site(app, users, visitor_socket):
    """A site given to team Blue (staff2 is in it, staff is not), and a visitor who wrote there about a refund."""
    with app.app_context():
        other = accounts.create_user(username="staff2", password=PASSWORD, role="staff", display_name="Staff Two")
        team = teams.save_team(actor=None, name="Blue")
        teams.set_member(actor=None, team=team, user=other)
        key = make_site(app, name="Blue shop", origins=("https://blue.example",))
        site = db.session.scalar(db.select(Site).filter_by(site_key=key))
        teams.set_site_team(actor=None, site=site, team_id=team.id)
    visitor = start_visitor(app, key, name="Ann Other", email="ann@blue.example",
                            own_origin="https://blue.example")
    write(app, visitor_socket(visitor), visitor, "refund please, Blue team")
    return visitor


# -- keeping the list (admins) -----------------------------------------------------------------


def test_admin_creates_renames_recolours_and_deletes_a_label(app, users):
    with app.app_context():
        admin = db.session.get(User, users["admin"].id)
        label = labels.save_label(actor=admin, name="  Billing  question ", colour="#2563EB")
        assert label.to_dict() == {"id": label.id, "name": "Billing question", "colour": "#2563eb"}
        labels.save_label(actor=admin, name="Refunds", colour="#16a34a", label=label)
        assert db.session.get(Label, label.id).to_dict()["name"] == "Refunds"
        labels.delete_label(actor=admin, label=label)
        assert db.session.get(Label, label.id) is None


@pytest.mark.parametrize("name,colour,code", [
    ("", "#2563eb", "invalid"),
    ("   ", "#2563eb", "invalid"),
    ("x" * 41, "#2563eb", "invalid"),
    ("bad\u202ename", "#2563eb", "invalid"),
    (None, "#2563eb", "invalid"),
    ("Fine", "blue", "invalid"),
    ("Fine", "#25eb", "invalid"),
    ("Fine", "#2563eg", "invalid"),
    ("Fine", None, "invalid"),
    ("billing", "#2563eb", "conflict"),  # "Billing" exists: names are unique whatever their case
])
def test_bad_label_names_and_colours_are_refused_with_a_clear_message(app, users, name, colour, code):
    make_label(app, "Billing")
    with app.app_context(), pytest.raises(labels.ServiceError) as refused:
        labels.save_label(actor=None, name=name, colour=colour)
    assert refused.value.code == code
    assert refused.value.message
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(Label.id))) == 1


def test_a_forty_character_name_and_any_hex_colour_are_fine(app, users):
    with app.app_context():
        label = labels.save_label(actor=None, name="x" * 40, colour="#abcdef")
        assert (label.name, label.colour) == ("x" * 40, "#abcdef")


@pytest.mark.parametrize("username", ["staff", "alice"])
def test_only_admins_keep_the_list(app, users, username):
    label_id = make_label(app)
    with app.app_context():
        actor = db.session.get(User, users[username].id)
        label = db.session.get(Label, label_id)
        for attempt in (
            lambda: labels.save_label(actor=actor, name="New"),
            lambda: labels.save_label(actor=actor, name="Renamed", label=label),
            lambda: labels.delete_label(actor=actor, label=label),
        ):
            with pytest.raises(labels.ServiceError) as refused:
                attempt()
            assert refused.value.code == "forbidden"
        assert [row.name for row in db.session.scalars(db.select(Label))] == ["Billing"]


# -- on conversations (agents, over the socket) -------------------------------------------------


def test_agent_adds_and_removes_a_label_and_every_console_hears_of_it(app, desk, socket_for, visitor_socket):
    label_id = make_label(app)
    ann = desk["ann"]
    watcher, _ = console(socket_for, "admin")
    watcher.get_received()
    visitor = visitor_socket(ann)
    visitor.get_received()
    staff = socket_for("staff")
    ack = staff.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": True}, callback=True)
    assert ack["ok"], ack
    assert ack["conversation"]["labels"] == [{"id": label_id, "name": "Billing", "colour": "#2563eb"}]
    heard = [c for c in received(watcher, "conversation") if c["room"] == ann.room]
    assert heard and heard[-1]["labels"] == [{"id": label_id, "name": "Billing", "colour": "#2563eb"}]
    assert "Billing" not in json.dumps(visitor.get_received())  # visitors never see labels
    assert label_names(app, ann) == ["Billing"]

    again = staff.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": True}, callback=True)
    assert again["ok"] and len(again["conversation"]["labels"]) == 1  # adding twice is adding once

    off = staff.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": False}, callback=True)
    assert off["ok"] and off["conversation"]["labels"] == []
    assert received(watcher, "conversation")[-1]["labels"] == []
    assert staff.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": False},
                      callback=True)["ok"]  # taking off an absent label is fine
    assert label_names(app, ann) == []


def test_the_visitor_never_receives_labels_in_their_own_conversation(app, desk, socket_for, visitor_socket):
    label_id = make_label(app, "Angry customer")
    ann = desk["ann"]
    socket_for("staff").emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": True},
                             callback=True)
    visitor = visitor_socket(ann)
    ack = visitor.emit("support_get", {"room": ann.room}, callback=True)
    assert ack["ok"] and "labels" not in ack["conversation"]
    assert "Angry customer" not in json.dumps(ack)


def test_a_member_and_a_visitor_cannot_label_or_list(app, desk, socket_for, visitor_socket):
    label_id = make_label(app)
    ann = desk["ann"]
    for sock in (socket_for("alice"), visitor_socket(ann)):
        assert sock.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": True},
                         callback=True)["error"] == "forbidden"
        assert sock.emit("support_labels", {}, callback=True)["error"] == "forbidden"
        assert sock.emit("support_list", {"label_id": label_id}, callback=True)["error"] == "forbidden"
        assert sock.emit("support_list", {"query": "ann"}, callback=True)["error"] == "forbidden"
    assert label_names(app, ann) == []


def test_an_agent_outside_the_sites_team_cannot_label_its_conversation(app, team_site, socket_for):
    label_id = make_label(app)
    outsider = socket_for("staff")
    ack = outsider.emit("support_label", {"room": team_site.room, "label_id": label_id, "labelled": True},
                        callback=True)
    assert ack["error"] == "forbidden"
    assert label_names(app, team_site) == []
    member = socket_for("staff2")
    assert member.emit("support_label", {"room": team_site.room, "label_id": label_id, "labelled": True},
                       callback=True)["ok"]
    assert label_names(app, team_site) == ["Billing"]


@pytest.mark.parametrize("payload,code", [
    ({"label_id": 999, "labelled": True}, "not_found"),
    ({"label_id": 2**70, "labelled": True}, "not_found"),
    ({"label_id": "1", "labelled": True}, "invalid"),
    ({"label_id": 1, "labelled": "yes"}, "invalid"),
    ({"label_id": 1}, "invalid"),
])
def test_bad_label_payloads_get_protocol_errors(app, desk, socket_for, payload, code):
    make_label(app)
    staff = socket_for("staff")
    ack = staff.emit("support_label", {"room": desk["ann"].room, **payload}, callback=True)
    assert ack["ok"] is False and ack["error"] == code and ack["message"]
    assert staff.is_connected()


def test_the_console_lists_every_label_by_name(app, users, socket_for):
    make_label(app, "zebra", "#16a34a")
    make_label(app, "Apple", "#dc2626")
    ack = socket_for("staff").emit("support_labels", {}, callback=True)
    assert [label["name"] for label in ack["labels"]] == ["Apple", "zebra"]


def labelled_in_console(app, desk, socket_for):
    """Ann's conversation labelled Billing, and a console that has heard nothing since: (socket, visitor, label id)."""
    label_id = make_label(app)
    ann = desk["ann"]
    staff, _ = console(socket_for, "staff")
    assert staff.emit("support_label", {"room": ann.room, "label_id": label_id, "labelled": True}, callback=True)["ok"]
    staff.get_received()
    return staff, ann, label_id


def test_deleting_a_label_takes_it_off_conversations_and_tells_the_consoles(app, desk, socket_for):
    staff, ann, label_id = labelled_in_console(app, desk, socket_for)
    with app.app_context():
        labels.delete_label(actor=None, label=db.session.get(Label, label_id))
    assert [c["labels"] for c in received(staff, "conversation") if c["room"] == ann.room] == [[]]
    assert label_names(app, ann) == []


def test_renaming_a_label_redraws_its_conversations(app, desk, socket_for):
    staff, ann, label_id = labelled_in_console(app, desk, socket_for)
    with app.app_context():
        labels.save_label(actor=None, name="Invoices", colour="#db2777", label=db.session.get(Label, label_id))
    heard = [c["labels"] for c in received(staff, "conversation") if c["room"] == ann.room]
    assert heard == [[{"id": label_id, "name": "Invoices", "colour": "#db2777"}]]


# -- filters and search ---------------------------------------------------------------------------


@pytest.mark.parametrize("query,who", [
    ("Ann", "ann"),               # the pre-chat name
    ("ann@example.com", "ann"),   # the e-mail
    ("EXAMPLE.NET", "bo"),        # part of an e-mail, whatever the case
    ("refund", "ann"),            # message text, through the full-text index
    ("parc", "bo"),               # a word's beginning
    ("shipping slow", "bo"),      # every word
])
def test_search_finds_by_name_e_mail_and_text(app, desk, socket_for, query, who):
    _, ack = console(socket_for, view="all", query=query)
    assert rooms_of(ack) == {desk[who].room}
    assert ack["counts"]["all"] == 1 and ack["counts"]["unassigned"] == 1 and ack["counts"]["mine"] == 0


def test_search_by_the_visitors_display_name(app, desk, socket_for):
    with app.app_context():
        name = db.session.get(User, desk["bo"].id).display_name
    _, ack = console(socket_for, view="all", query=name)
    assert desk["bo"].room in rooms_of(ack)


def test_search_in_chinese_matches_inside_a_run_of_characters(app, users, site_key, visitor_socket, socket_for):
    visitor = start_visitor(app, site_key, name="王小明")
    write(app, visitor_socket(visitor), visitor, "我的订单还没有到")
    _, ack = console(socket_for, view="all", query="订单")
    assert rooms_of(ack) == {visitor.room}
    _, ack = console(socket_for, view="all", query="小明")
    assert rooms_of(ack) == {visitor.room}


def test_search_never_returns_other_teams_conversations(app, desk, team_site, socket_for):
    for query in ("refund", "Ann", "ann@", "blue.example"):
        _, ack = console(socket_for, "staff", view="all", query=query)
        assert team_site.room not in rooms_of(ack), query
        assert all(c["site"]["name"] != "Blue shop" for c in ack["conversations"])
    _, ack = console(socket_for, "staff", view="all", query="refund")
    assert rooms_of(ack) == {desk["ann"].room} and ack["counts"]["all"] == 1
    _, ack = console(socket_for, "staff2", view="all", query="refund")
    assert rooms_of(ack) == {desk["ann"].room, team_site.room}


def test_a_search_fts_cannot_parse_is_invalid_and_says_what_to_do(app, desk, socket_for):
    sock = socket_for("staff")
    ack = sock.emit("support_list", {"view": "all", "query": '"unclosed'}, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid" and "double quotes" in ack["message"]
    assert sock.emit("support_list", {"view": "all", "query": "refund"}, callback=True)["ok"]


def test_a_search_of_punctuation_alone_still_matches_names_and_e_mails(app, desk, socket_for):
    _, ack = console(socket_for, view="all", query="@")
    assert rooms_of(ack) == {desk["ann"].room, desk["bo"].room}
    _, ack = console(socket_for, view="all", query="@example.net")
    assert rooms_of(ack) == {desk["bo"].room}


def test_an_empty_search_is_no_search(app, desk, socket_for):
    _, ack = console(socket_for, view="all", query="  ")
    assert rooms_of(ack) == {desk["ann"].room, desk["bo"].room}


def test_filters_by_label_assignee_and_site_combine(app, desk, users, socket_for, visitor_socket):
    billing = make_label(app, "Billing")
    urgent = make_label(app, "Urgent", "#dc2626")
    ann, bo = desk["ann"], desk["bo"]
    other_key = make_site(app, name="Other shop", origins=("https://other.example",))
    cy = start_visitor(app, other_key, name="Cy", own_origin="https://other.example")
    write(app, visitor_socket(cy), cy, "refund on the other shop")
    staff = socket_for("staff")
    for room, label in ((ann.room, billing), (bo.room, billing), (bo.room, urgent), (cy.room, billing)):
        assert staff.emit("support_label", {"room": room, "label_id": label, "labelled": True}, callback=True)["ok"]
    assert staff.emit("support_claim", {"room": bo.room}, callback=True)["ok"]

    def listed(**filters):
        ack = staff.emit("support_list", {"view": "all", **filters}, callback=True)
        assert ack["ok"], ack
        return rooms_of(ack), ack["counts"]

    assert listed(label_id=billing)[0] == {ann.room, bo.room, cy.room}
    assert listed(label_id=urgent)[0] == {bo.room}
    assert listed(assignee_id=users["staff"].id)[0] == {bo.room}
    assert listed(site_id=cy.site_id)[0] == {cy.room}
    assert listed(label_id=billing, site_id=ann.site_id)[0] == {ann.room, bo.room}
    rooms, counts = listed(label_id=billing, site_id=ann.site_id, query="refund")
    assert rooms == {ann.room}
    assert counts == {"unassigned": 1, "mine": 0, "all": 1}  # the counts are of what the filters let through
    rooms, counts = listed(label_id=billing, assignee_id=users["staff"].id)
    assert rooms == {bo.room} and counts == {"unassigned": 0, "mine": 1, "all": 1}
    assert listed(label_id=urgent, query="refund")[0] == set()
    assert listed(status="resolved", label_id=billing)[0] == set()
    mine = staff.emit("support_list", {"view": "mine", "label_id": billing}, callback=True)
    assert rooms_of(mine) == {bo.room}
    unassigned = staff.emit("support_list", {"view": "unassigned", "label_id": billing}, callback=True)
    assert rooms_of(unassigned) == {ann.room, cy.room}


@pytest.mark.parametrize("payload", [
    {"label_id": "1"}, {"label_id": True}, {"label_id": 0}, {"assignee_id": -1}, {"site_id": 1.5},
    {"query": 5}, {"query": "x" * 201},
])
def test_bad_filters_get_protocol_errors(app, desk, socket_for, payload):
    sock = socket_for("staff")
    ack = sock.emit("support_list", payload, callback=True)
    assert ack["ok"] is False and ack["error"] in ("invalid", "too_large") and ack["message"]
    assert sock.is_connected()


# -- the admin page ---------------------------------------------------------------------------------


@pytest.fixture
def as_admin(client, auth, users):
    auth.login("admin")
    return client


def token_of(client) -> str:
    return csrf_token_from(client.get("/admin/labels").get_data(as_text=True))


def test_admin_keeps_labels_on_the_labels_page(as_admin, app):
    token = token_of(as_admin)
    response = as_admin.post("/admin/labels", data={"new-name": "Billing", "new-colour": "#2563eb",
                                                     "csrf_token": token}, follow_redirects=True)
    assert response.status_code == 200
    assert "Label Billing added." in page(response).notices()
    with app.app_context():
        label = db.session.scalar(db.select(Label))
        label_id = label.id
    shown = page(response)
    assert shown.field(f"l{label_id}-name").attrs["value"] == "Billing"
    assert shown.field(f"l{label_id}-colour").attrs["value"] == "#2563eb"
    assert shown.field(f"l{label_id}-colour").attrs["list"] == "label-palette"  # the palette, first
    assert shown.button("Delete Billing") is not None

    response = as_admin.post(f"/admin/labels/{label_id}", data={
        f"l{label_id}-name": "Invoices", f"l{label_id}-colour": "#db2777", "csrf_token": token,
    }, follow_redirects=True)
    assert "Label Invoices saved." in page(response).notices()
    with app.app_context():
        assert db.session.get(Label, label_id).to_dict() == {"id": label_id, "name": "Invoices", "colour": "#db2777"}

    response = as_admin.post(f"/admin/labels/{label_id}/delete", data={"csrf_token": token}, follow_redirects=True)
    assert "Label Invoices deleted; it is off every conversation." in page(response).notices()
    with app.app_context():
        assert db.session.get(Label, label_id) is None


def test_the_admin_page_says_what_is_wrong_with_a_name_or_colour(as_admin, app):
    make_label(app, "Billing")
    token = token_of(as_admin)
    taken = as_admin.post("/admin/labels", data={"new-name": "BILLING", "new-colour": "#2563eb", "csrf_token": token})
    assert taken.status_code == 400
    error = page(taken).find("p", id="new-name-error")
    assert error is not None and "There is a label called BILLING already" in error.text
    colour = as_admin.post("/admin/labels", data={"new-name": "Bug", "new-colour": "red", "csrf_token": token})
    assert colour.status_code == 400
    assert "six hexadecimal digits" in page(colour).find("p", id="new-colour-error").text
    with app.app_context():
        assert [row.name for row in db.session.scalars(db.select(Label))] == ["Billing"]


def test_the_admin_page_speaks_chinese(as_admin, app):
    text = page(as_admin.get("/admin/labels", headers={"Accept-Language": "zh-CN"})).text()
    assert "标签" in text


@pytest.mark.parametrize("username", ["staff", "alice"])
def test_non_admins_cannot_see_or_change_labels(app, users, username):
    label_id = make_label(app)
    client = app.test_client()
    AuthActions(client).login(username)
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    assert client.get("/admin/labels").status_code == 403
    assert client.post("/admin/labels", data={"new-name": "X", "new-colour": "#000000",
                                               "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/labels/{label_id}", data={f"l{label_id}-name": "X", f"l{label_id}-colour": "#000000",
                                                           "csrf_token": token}).status_code == 403
    assert client.post(f"/admin/labels/{label_id}/delete", data={"csrf_token": token}).status_code == 403
    assert page(client.get("/")).find("a", href="/admin/labels") is None
    with app.app_context():
        assert db.session.get(Label, label_id).to_dict()["name"] == "Billing"


def test_the_admin_navigation_links_to_labels(as_admin):
    assert page(as_admin.get("/")).find("a", href="/admin/labels") is not None


# -- the console page ---------------------------------------------------------------------------------


def site_choices(app, username: str) -> list[str]:
    """The names the console's site filter offers username."""
    client = app.test_client()
    AuthActions(client).login(username)
    select = page(client.get("/support")).labelled("Site")
    return [option.text for option in select.find_all("option")] if select is not None else []


def test_the_site_filter_offers_only_the_sites_the_agent_works_on(app, desk, team_site):
    assert site_choices(app, "staff") == ["Any site", "Shop"]
    assert site_choices(app, "staff2") == ["Any site", "Blue shop", "Shop"]
    assert site_choices(app, "admin") == ["Any site", "Blue shop", "Shop"]


def test_the_console_has_a_labelled_filter_bar(app, users, client, auth):
    auth.login("staff")
    shown = page(client.get("/support"))
    for name in ("Search", "Status", "Label", "Assignee", "Site", "Label to add"):
        assert shown.labelled(name) is not None, name
    assert shown.find("form", role="search") is not None


@pytest.mark.config(SEARCH_RATE_LIMIT="2 per minute")
def test_searching_the_queue_counts_against_the_search_limit_and_listing_does_not(app, desk, socket_for):
    sock = socket_for("staff")
    for _ in range(2):
        assert sock.emit("support_list", {"view": "all", "query": "refund"}, callback=True)["ok"]
    refused = sock.emit("support_list", {"view": "all", "query": "refund"}, callback=True)
    assert refused["ok"] is False and refused["error"] == "rate_limited" and refused["retry_after"] > 0
    for _ in range(3):  # the queue itself, unsearched, is never limited: agents reopen it all day
        assert sock.emit("support_list", {"view": "all"}, callback=True)["ok"]
