"""Messaging: edits, the safe Markdown subset, direct messages, unread counts, @mentions and search."""
from __future__ import annotations

from datetime import timedelta
from html.parser import HTMLParser

import pytest
from sqlalchemy import event, text

from chatapp.extensions import db
from chatapp.markup import render_markdown
from chatapp.models import Membership, Message, Room, utcnow
from chatapp.services import direct, messages, rooms
from chatapp.services.errors import ServiceError

from .conftest import csrf_token_from, detached, received, seed_messages
from .helpers import logged_in, send
from .pages import page


def edit(sock, message_id, body, room="lobby"):
    return sock.emit("edit_message", {"room": room, "id": message_id, "body": body}, callback=True)


# -- the safe Markdown subset -------------------------------------------------------------


@pytest.mark.parametrize(
    "source, expected",
    [
        ("**bold** and *italics* and _also_", "<p><strong>bold</strong> and <em>italics</em> and <em>also</em></p>"),
        ("use `pip install`", "<p>use <code>pip install</code></p>"),
        ("```\nprint(1 < 2)\n```", "<pre><code>print(1 &lt; 2)\n</code></pre>"),
        ("line one\nline two", "<p>line one<br>\nline two</p>"),
        (
            "[docs](https://example.com/a?b=1)",
            '<p><a href="https://example.com/a?b=1" target="_blank" rel="noopener noreferrer nofollow">docs</a></p>',
        ),
        (
            "see https://example.com",
            '<p>see <a href="https://example.com" target="_blank" rel="noopener noreferrer nofollow">https://example.com</a></p>',
        ),
        ("# not a heading\n- not a list", "<p># not a heading<br>\n- not a list</p>"),
    ],
)
def test_markdown_subset_renders(source, expected):
    assert render_markdown(source) == expected


class _Tags(HTMLParser):
    """Every element and attribute in a fragment of HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict]]:
    parser = _Tags()
    parser.feed(html)
    return parser.found


@pytest.mark.parametrize(
    "source",
    [
        '<b>x</b><script>alert("x")</script>',
        "<img src=x onerror=alert(1)>",
        "[click](javascript:alert(1))",
        "[click](JaVaScRiPt:alert(1))",
        "[click](data:text/html;base64,PHNjcmlwdD4=)",
        "[click](vbscript:msgbox)",
        "[relative](/auth/logout)",
        "![pic](https://example.com/x.png)",
        '<a href="https://example.com" onclick="x()">a</a>',
        "<iframe src=https://example.com></iframe>",
        '<span class="mention" style="color:red">@x</span>',
        "<svg><script>alert(1)</script></svg>",
        "[x](https://example.com \"title\")",
    ],
)
def test_markdown_neutralises_raw_html_scripts_links_and_images(source):
    html = render_markdown(source)
    for tag, attrs in elements(html):
        assert tag in {"p", "br", "strong", "em", "code", "pre", "a", "span"}, html
        if tag == "a":
            assert set(attrs) <= {"href", "target", "rel"}, html
            assert attrs["rel"] == "noopener noreferrer nofollow" and attrs["target"] == "_blank"
            assert attrs.get("href", "https:").split(":")[0] in {"http", "https", "mailto"}, html
        elif tag == "span":
            assert attrs == {"class": "mention"}, html
        else:
            assert attrs == {}, html


def test_message_carries_sanitized_html_and_pages_render_it(app, socket_for, public_room, users):
    alice = socket_for("alice")
    ack = send(alice, body="**hi** <i>there</i>")
    assert ack["message"]["body"] == "**hi** <i>there</i>"  # the source stays the text
    assert ack["message"]["html"] == "<p><strong>hi</strong> &lt;i&gt;there&lt;/i&gt;</p>"
    html = logged_in(app, "bob").get("/rooms/lobby").get_data(as_text=True)
    assert "<strong>hi</strong> &lt;i&gt;there&lt;/i&gt;" in html
    assert "<i>there</i>" not in html


# -- editing -------------------------------------------------------------------------------


def test_author_edits_and_everyone_in_the_room_hears_message_updated(app, socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    for sock in (alice, bob):
        sock.emit("join", {"room": "lobby"}, callback=True)
    sent = send(alice, body="helo wrld")["message"]
    for sock in (alice, bob):
        sock.get_received()
    ack = edit(alice, sent["id"], "hello **world**")
    assert ack["ok"] is True
    updated = ack["message"]
    assert updated["id"] == sent["id"] and updated["body"] == "hello **world**"
    assert updated["html"] == "<p>hello <strong>world</strong></p>"
    assert updated["edited_at"].endswith("Z")
    assert "edited_at" not in sent
    assert received(bob, "message_updated") == [updated]
    assert received(alice, "message_updated") == [updated]
    with app.app_context():
        assert db.session.get(Message, sent["id"]).body == "hello **world**"
    # The page shows the new text and the mark.
    room = page(logged_in(app, "bob").get("/rooms/lobby"))
    item = room.find("li", class_="msg")
    assert item.find(class_="body").text == "hello world"
    assert item.find(class_="edited").text == "edited"


@pytest.mark.parametrize("who", ["bob", "staff", "admin"])
def test_only_the_author_edits(app, socket_for, public_room, who):
    alice = socket_for("alice")
    sent = send(alice, body="mine")["message"]
    other = socket_for(who)
    other.emit("join", {"room": "lobby"}, callback=True)
    ack = edit(other, sent["id"], "theirs")
    assert ack == {"ok": False, "error": "forbidden", "message": "Only its author can edit a message."}
    with app.app_context():
        assert db.session.get(Message, sent["id"]).body == "mine"
        assert db.session.get(Message, sent["id"]).edited_at is None


def test_a_non_member_cannot_edit_in_a_private_room(app, socket_for, private_room, users):
    ids = seed_messages(app, users["alice"], private_room, 1)
    with app.app_context():  # alice leaves the private room; her old message stays
        db.session.execute(db.delete(Membership).filter_by(user_id=users["alice"].id, room_id=private_room.id))
        db.session.commit()
    ack = edit(socket_for("alice"), ids[0], "changed", room="secret")
    assert ack["ok"] is False and ack["error"] == "forbidden"


@pytest.mark.config(MESSAGE_EDIT_WINDOW_SECONDS=60)
def test_edits_only_within_the_window(app, socket_for, public_room):
    alice = socket_for("alice")
    fresh = send(alice, body="fresh", client_id="a")["message"]
    old = send(alice, body="old", client_id="b")["message"]
    with app.app_context():
        db.session.get(Message, old["id"]).created_at = utcnow() - timedelta(seconds=61)
        db.session.commit()
    assert edit(alice, fresh["id"], "fresh, edited")["ok"] is True
    ack = edit(alice, old["id"], "old, edited")
    assert ack == {
        "ok": False, "error": "forbidden",
        "message": "A message can be edited for 1 minute after it was sent; this one is older.",
    }


@pytest.mark.config(MESSAGE_EDIT_WINDOW_SECONDS=0)
def test_a_window_of_zero_means_no_limit(app, socket_for, public_room):
    alice = socket_for("alice")
    old = send(alice, body="old")["message"]
    with app.app_context():
        db.session.get(Message, old["id"]).created_at = utcnow() - timedelta(days=400)
        db.session.commit()
    assert edit(alice, old["id"], "still mine")["ok"] is True


def test_edit_refusals_say_why(app, socket_for, public_room, users):
    alice = socket_for("alice")
    sent = send(alice, body="text")["message"]
    assert edit(alice, sent["id"], "   ")["error"] == "invalid"
    assert edit(alice, sent["id"], "x" * 4001)["error"] == "too_large"
    assert edit(alice, 999999, "x")["error"] == "not_found"
    with app.app_context():
        rooms.create_room(slug="other", name="Other", creator=users["staff"])
    assert edit(alice, sent["id"], "x", room="other")["error"] == "not_found"  # ids belong to their room
    assert alice.emit("edit_message", {"room": "lobby", "id": "1", "body": "x"}, callback=True)["error"] == "invalid"
    assert alice.emit("edit_message", {"room": "lobby", "body": "x"}, callback=True)["error"] == "invalid"
    assert alice.is_connected()


def test_an_unchanged_edit_broadcasts_nothing(socket_for, public_room):
    alice, bob = socket_for("alice"), socket_for("bob")
    bob.emit("join", {"room": "lobby"}, callback=True)
    sent = send(alice, body="same")["message"]
    bob.get_received()
    ack = edit(alice, sent["id"], "  same ")
    assert ack["ok"] is True and "edited_at" not in ack["message"]
    assert received(bob, "message_updated") == []


# -- direct messages -----------------------------------------------------------------------


def open_direct_http(client, user_id):
    token = csrf_token_from(client.get("/").get_data(as_text=True))
    return client.post(f"/direct/{user_id}", data={"csrf_token": token})


def test_a_direct_room_is_made_once_per_pair(app, users, public_room):
    seed_messages(app, users["alice"], public_room, 1)  # alice and bob meet in the lobby
    seed_messages(app, users["bob"], public_room, 1, prefix="b")
    with app.app_context():
        rooms.enter_room(user=users["alice"], room=db.session.merge(public_room))
        rooms.enter_room(user=users["bob"], room=db.session.merge(public_room))
    alice, bob = logged_in(app, "alice"), logged_in(app, "bob")
    first = open_direct_http(alice, users["bob"].id)
    assert first.status_code == 302 and first.headers["Location"].startswith("/rooms/dm-")
    again = open_direct_http(alice, users["bob"].id)
    other_way = open_direct_http(bob, users["alice"].id)
    assert first.headers["Location"] == again.headers["Location"] == other_way.headers["Location"]
    with app.app_context():
        direct_rooms = db.session.scalars(db.select(Room).filter_by(kind="direct")).all()
        assert len(direct_rooms) == 1
        members = db.session.scalars(db.select(Membership.user_id).filter_by(room_id=direct_rooms[0].id)).all()
        assert sorted(members) == sorted([users["alice"].id, users["bob"].id])
    # The page names the other person; the socket event answers the same room.
    room_page = page(alice.get(first.headers["Location"]))
    assert room_page.find("h1").text == "Direct messages with Bob"


@pytest.fixture
def dm(app, users, public_room):
    """The direct room of alice and bob (who met in the lobby)."""
    with app.app_context():
        for name in ("alice", "bob"):
            rooms.enter_room(user=users[name], room=db.session.merge(public_room))
        return detached(direct.open_direct_room(user=users["alice"], other=users["bob"]))


ADMIN_READS_ONLY = "Site admins can read direct messages, but only their two people write there."


@pytest.mark.parametrize(
    "who, access", [("alice", "write"), ("bob", "write"), ("carol", None), ("staff", None), ("admin", "read")]
)
def test_only_the_two_write_in_a_direct_room_and_only_admins_also_read_it(app, socket_for, dm, who, access):
    sock = socket_for(who)
    joined = sock.emit("join", {"room": dm.slug}, callback=True)
    history = sock.emit("history", {"room": dm.slug}, callback=True)
    typing = sock.emit("typing", {"room": dm.slug, "typing": True}, callback=True)
    sent = send(sock, room=dm.slug, client_id=f"dm-{who}")
    searched = sock.emit("search", {"room": dm.slug, "q": "hello"}, callback=True)
    response = logged_in(app, who).get(f"/rooms/{dm.slug}")
    if access == "write":
        assert joined["ok"] and history["ok"] and typing["ok"] and sent["ok"] and searched["ok"]
        assert response.status_code == 200
    elif access == "read":  # docs/product.md: admins see everything; writing stays the two people's
        assert joined["ok"] and history["ok"] and searched["ok"]
        assert response.status_code == 200
        for ack in (typing, sent):
            assert ack == {"ok": False, "error": "forbidden", "message": ADMIN_READS_ONLY}
    else:
        for ack in (joined, history, typing, sent, searched):
            assert ack == {
                "ok": False,
                "error": "forbidden",
                "message": "These direct messages are between two other people.",
            }
        assert response.status_code == 403
    with app.app_context():  # nobody became a third member by looking
        assert db.session.scalar(db.select(db.func.count(Membership.id)).filter_by(room_id=dm.id)) == 2
        stored = db.session.scalars(db.select(Message.client_id).filter_by(room_id=dm.id)).all()
    assert stored == ([f"dm-{who}"] if access == "write" else [])


def test_an_admin_reads_a_direct_room_without_a_composer_and_its_people_are_told(app, socket_for, dm, users):
    send(socket_for("alice"), room=dm.slug, body="just between us", client_id="secret")
    admin_view = page(logged_in(app, "admin").get(f"/rooms/{dm.slug}"))
    assert " ".join(admin_view.find("h1").text.split()) == "Direct messages between Alice and Bob"
    assert "hidden" in admin_view.find(id="composer").attrs
    assert admin_view.find(id="composer-closed").text == ADMIN_READS_ONLY
    assert "just between us" in admin_view.find(id="messages").text
    # The page tells the script why it is read-only, so a reconnect redraws the same note.
    assert admin_view.find(id="room").attrs["data-read-only"] == ADMIN_READS_ONLY
    assert admin_view.find("ul", id="members").find_all("form") == []  # no "Message Alice" from inside a DM
    in_chinese = page(logged_in(app, "admin").get(f"/rooms/{dm.slug}", headers={"Accept-Language": "zh-CN"}))
    assert " ".join(in_chinese.find("h1").text.split()) == "私信双方 Alice和Bob"
    own_view = page(logged_in(app, "alice").get(f"/rooms/{dm.slug}"))
    assert own_view.find(id="direct-oversight").text == "Site admins can read direct messages."
    assert "hidden" not in own_view.find(id="composer").attrs and "data-read-only" not in own_view.find(id="room").attrs


def test_admins_list_every_direct_room_newest_activity_first(app, socket_for, dm, users, public_room, monkeypatch):
    with app.app_context():
        for name in ("carol",):
            rooms.enter_room(user=users[name], room=db.session.merge(public_room))
        quiet = detached(direct.open_direct_room(user=users["carol"], other=users["alice"]))
    send(socket_for("bob"), room=dm.slug, body="hi", client_id="d1")
    send(socket_for("alice"), room=dm.slug, body="hello", client_id="d2")
    admin = logged_in(app, "admin")
    listing = page(admin.get("/admin/direct"))
    rows = listing.find("tbody").find_all("tr")
    assert [row.attrs["data-room"] for row in rows] == [dm.slug, quiet.slug]
    assert [" ".join(cell.text.split()) for cell in rows[0].find_all("td")][:2] == ["Alice and Bob", "2"]
    assert rows[0].find("a").attrs["href"] == f"/rooms/{dm.slug}"
    assert [" ".join(cell.text.split()) for cell in rows[1].find_all("td")] == ["Alice and Carol", "0", "none yet"]
    # A page at a time.
    monkeypatch.setattr(direct, "ADMIN_PAGE_SIZE", 1)
    first = page(admin.get("/admin/direct"))
    assert [row.attrs["data-room"] for row in first.find("tbody").find_all("tr")] == [dm.slug]
    pager_links = {link.text: link.attrs["href"] for link in first.find("nav", class_="pager").find_all("a")}
    assert list(pager_links) == ["Older"]
    second = page(admin.get(pager_links["Older"]))
    assert [row.attrs["data-room"] for row in second.find("tbody").find_all("tr")] == [quiet.slug]
    assert [link.text for link in second.find("nav", class_="pager").find_all("a")] == ["Newer"]
    for who in ("alice", "staff"):
        assert logged_in(app, who).get("/admin/direct").status_code == 403
    with app.app_context(), pytest.raises(ServiceError) as refused:
        direct.list_direct_rooms(viewer=db.session.merge(users["staff"]))
    assert refused.value.code == "forbidden"


def test_direct_messages_need_a_shared_room_unless_staff(app, socket_for, users):
    alice = socket_for("alice")
    ack = alice.emit("open_direct", {"user_id": users["carol"].id}, callback=True)
    assert ack == {
        "ok": False,
        "error": "forbidden",
        "message": "You can write directly only to people you share a room with.",
    }
    to_staff = alice.emit("open_direct", {"user_id": users["staff"].id}, callback=True)
    assert to_staff["ok"] is True and to_staff["room"]["kind"] == "direct"
    assert to_staff["partner"]["username"] == "staff"
    assert alice.emit("open_direct", {"user_id": users["alice"].id}, callback=True)["error"] == "invalid"
    assert alice.emit("open_direct", {"user_id": 424242}, callback=True)["error"] == "not_found"
    assert alice.emit("open_direct", {"user_id": "2"}, callback=True)["error"] == "invalid"


def test_direct_rooms_are_listed_apart_on_home(app, dm, users):
    home = page(logged_in(app, "alice").get("/"))
    lists = home.find_all("ul", class_="room-list")
    assert [item.text for item in home.find("ul", id="direct-list").find_all("li")] == ["Bob"]
    assert dm.slug not in str([link.attrs.get("href") for link in lists[0].find_all("a")])
    # Not even an admin sees other people's direct rooms listed.
    admin_home = logged_in(app, "admin").get("/").get_data(as_text=True)
    assert dm.slug not in admin_home


def test_the_member_list_offers_a_direct_message(app, users, public_room, dm):
    room_page = page(logged_in(app, "alice").get("/rooms/lobby"))
    buttons = [b.attrs.get("aria-label") for b in room_page.find("ul", id="members").find_all("button")]
    assert "Message Bob" in buttons and "Message Alice" not in buttons
    actions = {form.attrs["action"] for form in room_page.find("ul", id="members").find_all("form")}
    assert f"/direct/{users['bob'].id}" in actions and f"/direct/{users['alice'].id}" not in actions
    # Inside the direct room itself there is nobody else to write to.
    assert page(logged_in(app, "alice").get(f"/rooms/{dm.slug}")).find("ul", id="members").find_all("button") == []


def test_opening_a_direct_room_needs_csrf(app, users, public_room):
    client = logged_in(app, "alice")
    assert client.post(f"/direct/{users['staff'].id}").status_code == 400


# -- unread counts and read positions -----------------------------------------------------


def test_the_read_position_only_moves_forward(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 5)
    alice = socket_for("alice")
    alice.emit("join", {"room": "lobby"}, callback=True)
    assert alice.emit("read", {"room": "lobby", "last_id": ids[3]}, callback=True) == {"ok": True, "unread": 1}
    assert alice.emit("read", {"room": "lobby", "last_id": ids[1]}, callback=True) == {"ok": True, "unread": 1}
    assert alice.emit("read", {"room": "lobby", "last_id": 10**12}, callback=True) == {"ok": True, "unread": 0}
    with app.app_context():
        membership = db.session.scalar(
            db.select(Membership).filter_by(user_id=users["alice"].id, room_id=public_room.id)
        )
        assert membership.last_read_id == ids[-1]  # never past the newest message


def test_home_shows_unread_counts_per_room(app, socket_for, public_room, private_room, users):
    alice = socket_for("alice")
    alice.emit("join", {"room": "lobby"}, callback=True)
    ids = seed_messages(app, users["bob"], public_room, 4)
    seed_messages(app, users["staff"], private_room, 2, prefix="s")
    seed_messages(app, users["alice"], public_room, 2, prefix="own")  # one's own messages are not unread
    alice.emit("read", {"room": "lobby", "last_id": ids[0]}, callback=True)
    home = page(logged_in(app, "alice").get("/"))
    counts = {
        item.attrs["data-room"]: item.find(class_="unread") for item in home.find_all("li") if "data-room" in item.attrs
    }
    assert counts["lobby"].text == "3 unread"
    assert counts["secret"].text == "2 unread"
    # Carol is a member of neither: no counts at all.
    carol_home = page(logged_in(app, "carol").get("/"))
    assert carol_home.find_all(class_="unread") == []


def test_unread_counts_take_one_query_however_many_rooms(app, users):
    from chatapp.services.unread import unread_counts

    def queries_for(room_count):
        with app.app_context():
            for n in range(room_count):
                room = rooms.create_room(name=f"R{room_count}-{n}", creator=users["alice"])
                messages.post_message(sender=users["bob"], room=room, body="x", client_id=f"q{room_count}-{n}",
                                      enforce_rate_limit=False)
            alice = db.session.merge(users["alice"])
            statements = []
            listener = lambda *args: statements.append(args[2])  # noqa: E731
            event.listen(db.engine, "before_cursor_execute", listener)
            try:
                counts = unread_counts(user=alice)
            finally:
                event.remove(db.engine, "before_cursor_execute", listener)
            return len(statements), counts

    few, few_counts = queries_for(2)
    many, many_counts = queries_for(8)
    assert few == many == 1
    assert len(many_counts) == 10 and set(many_counts.values()) == {1}


def test_the_room_list_socket_gets_counts_and_hears_new_messages(app, socket_for, public_room, private_room, users):
    seed_messages(app, users["staff"], private_room, 2)
    index = socket_for("alice")
    ack = index.emit("unread", {}, callback=True)
    assert ack == {"ok": True, "rooms": {"secret": 2}}  # lobby: not a member yet
    index.get_received()
    staff = socket_for("staff")
    send(staff, room="secret", body="new")
    send(staff, room="lobby", body="elsewhere", client_id="c2")
    assert [m["body"] for m in received(index, "message")] == ["new"]
    # Carol hears nothing of a private room she is not in.
    carol = socket_for("carol")
    assert carol.emit("unread", {}, callback=True) == {"ok": True, "rooms": {}}
    carol.get_received()
    send(staff, room="secret", body="still private", client_id="c3")
    assert received(carol, "message") == []


# -- @mentions ---------------------------------------------------------------------------


def test_mentions_resolve_to_people_who_may_read_the_message(app, socket_for, private_room, users):
    alice = socket_for("alice")
    ack = send(alice, room="secret", body="@staff and @bob and @nobody, also @Alice. mail a@carol.com")
    # bob cannot enter the private room; "nobody" does not exist; a@carol.com is an address.
    assert ack["message"]["mentions"] == sorted([users["staff"].id, users["alice"].id])
    plain = send(alice, room="secret", body="no one here", client_id="c2")
    assert "mentions" not in plain["message"]


def test_the_mentioned_person_gets_a_notice_on_every_socket(app, socket_for, public_room, users):
    bob_elsewhere, bob_too = socket_for("bob"), socket_for("bob")  # neither joined the room
    carol = socket_for("carol")
    alice = socket_for("alice")
    for sock in (bob_elsewhere, bob_too, carol, alice):
        sock.get_received()
    ack = send(alice, body="hey @bob, look at `@carol`")  # in code: not a mention
    assert ack["message"]["mentions"] == [users["bob"].id]
    for sock in (bob_elsewhere, bob_too):
        notices = received(sock, "mention")
        assert notices == [{"room": ack["message"] and {"slug": "lobby", "name": "Lobby", "kind": "public",
                                                        "is_class": False, "announcement_only": False,
                                                        "slow_mode_seconds": 0},
                            "message": ack["message"]}]
    assert received(carol, "mention") == []
    assert received(alice, "mention") == []
    assert '<span class="mention">@bob</span>' in ack["message"]["html"]


def test_a_mentioned_person_sees_the_message_highlighted(app, socket_for, public_room):
    send(socket_for("alice"), body="@bob please read this")
    bob_page = page(logged_in(app, "bob").get("/rooms/lobby"))
    assert "mentioned" in bob_page.find("li", class_="msg").classes
    carol_page = page(logged_in(app, "carol").get("/rooms/lobby"))
    assert "mentioned" not in carol_page.find("li", class_="msg").classes


def test_an_edit_notifies_only_the_newly_mentioned(app, socket_for, public_room, users):
    bob, carol, alice = socket_for("bob"), socket_for("carol"), socket_for("alice")
    sent = send(alice, body="hi @bob")["message"]
    bob.get_received()
    carol.get_received()
    ack = edit(alice, sent["id"], "hi @bob and @carol")
    assert ack["message"]["mentions"] == sorted([users["bob"].id, users["carol"].id])
    assert received(bob, "mention") == []
    assert [n["message"]["id"] for n in received(carol, "mention")] == [sent["id"]]
    removed = edit(alice, sent["id"], "hi all")
    assert "mentions" not in removed["message"]


# -- search and the page around a message ------------------------------------------------


def search(sock, q, room="lobby", **extra):
    return sock.emit("search", {"room": room, "q": q, **extra}, callback=True)


def test_search_finds_words_newest_first_in_this_room_only(app, socket_for, public_room, users):
    with app.app_context():
        rooms.create_room(slug="other", name="Other", creator=users["staff"])
    alice = socket_for("alice")
    for n, body in enumerate(["Homework is due Friday", "no match here", "Did you finish the homework?",
                              "HOMEWORKS galore", "Élève naïve café"]):
        send(alice, body=body, client_id=f"s{n}")
    send(alice, room="other", body="homework elsewhere", client_id="o1")
    ack = search(alice, "homework")
    assert ack["ok"] is True and ack["more"] is False
    assert [m["body"] for m in ack["messages"]] == [
        "HOMEWORKS galore",
        "Did you finish the homework?",
        "Homework is due Friday",
    ]
    assert [m["body"] for m in search(alice, "homework friday")["messages"]] == ["Homework is due Friday"]
    assert [m["body"] for m in search(alice, "eleve cafe")["messages"]] == ["Élève naïve café"]  # diacritics folded
    limited = search(alice, "homework", limit=2)
    assert len(limited["messages"]) == 2 and limited["more"] is True
    assert search(alice, '"due friday"')["messages"][0]["body"] == "Homework is due Friday"  # FTS5 phrase
    # FTS5 syntax as written: whole words, no prefixes.
    assert [m["body"] for m in search(alice, "homework NOT friday")["messages"]] == ["Did you finish the homework?"]
    assert search(alice, "it's")["ok"] is True  # punctuation in plain words is no syntax error


@pytest.mark.parametrize("query", ['"unclosed', "AND", "homework NOT", "(((", "body:", "NEAR(", "a OR"])
def test_fts5_syntax_errors_answer_invalid(socket_for, public_room, query):
    alice = socket_for("alice")
    send(alice, body="homework")
    ack = search(alice, query)
    assert ack["ok"] is False and ack["error"] == "invalid", ack
    assert "could not be understood" in ack["message"]
    assert alice.is_connected() and search(alice, "homework")["ok"] is True


@pytest.mark.parametrize(
    "query, code", [("", "invalid"), ("   ", "invalid"), ("x" * 201, "too_large"), ("!!", "invalid")]
)
def test_search_refuses_empty_and_long_queries(socket_for, public_room, query, code):
    assert search(socket_for("alice"), query)["error"] == code


def test_search_follows_edits_and_deletes(app, socket_for, public_room):
    alice = socket_for("alice")
    sent = send(alice, body="the quick fox")["message"]
    assert len(search(alice, "quick")["messages"]) == 1
    edit(alice, sent["id"], "the slow turtle")
    assert search(alice, "quick")["messages"] == []
    assert [m["id"] for m in search(alice, "turtle")["messages"]] == [sent["id"]]
    with app.app_context():
        db.session.delete(db.session.get(Message, sent["id"]))
        db.session.commit()
    assert search(alice, "turtle")["messages"] == []


def test_search_finds_chinese_by_substring(socket_for, public_room):
    alice = socket_for("alice")
    send(alice, body="你好世界，明天见")
    assert [m["body"] for m in search(alice, "世界")["messages"]] == ["你好世界，明天见"]


def test_search_is_for_those_who_may_enter(socket_for, private_room):
    ack = search(socket_for("bob"), "anything", room="secret")
    assert ack["ok"] is False and ack["error"] == "forbidden"


def test_the_search_index_triggers_exist_at_head(app):
    with app.app_context():
        names = set(db.session.scalars(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")))
    assert {"message_fts_ai", "message_fts_ad", "message_fts_au"} <= names


def test_the_room_page_around_a_message(app, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 120)
    client = logged_in(app, "alice")
    room_page = page(client.get(f"/rooms/lobby?around={ids[60]}"))
    shown = [int(item.attrs["data-id"]) for item in room_page.find_all("li", class_="msg")]
    assert shown == ids[35:85]
    target = [item for item in room_page.find_all("li", class_="msg") if "target" in item.classes]
    assert [int(item.attrs["data-id"]) for item in target] == [ids[60]]
    assert room_page.find(id="room").attrs["data-around"] == str(ids[60])
    assert "hidden" not in room_page.find("button", id="load-older").attrs
    # Junk in ?around= is ignored rather than an error page.
    assert client.get("/rooms/lobby?around=banana").status_code == 200


def test_history_around_an_id(app, socket_for, public_room, users):
    ids = seed_messages(app, users["bob"], public_room, 30)
    alice = socket_for("alice")
    ack = alice.emit("history", {"room": "lobby", "around": ids[3], "limit": 10}, callback=True)
    assert [m["id"] for m in ack["messages"]] == ids[0:10]
    assert ack["more"] is False
    ack = alice.emit("history", {"room": "lobby", "around": ids[20], "limit": 10}, callback=True)
    assert [m["id"] for m in ack["messages"]] == ids[15:25] and ack["more"] is True
    both = alice.emit("history", {"room": "lobby", "around": ids[20], "before": ids[25]}, callback=True)
    assert both["error"] == "invalid"


def test_services_refuse_with_one_error_type(app, users, public_room):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            direct.open_direct_room(user=users["alice"], other=None)
        assert refused.value.code == "not_found"
