"""Emoji reactions: adding and removing one, once, live and on catch-up, within their limits and rules.

Through the real doors (the Socket.IO test client, the room page), each permission rule with
its negative test: outside a private room, muted, banned, a deleted message, somebody else's
support conversation, a staff note.
"""
from __future__ import annotations

import unicodedata
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatapp.extensions import db
from chatapp.models import Membership, Message, Reaction, User, utcnow
from chatapp.services import moderation, rooms
from chatapp.services.errors import ServiceError
from chatapp.services.reactions import check_emoji

from . import helpers
from .conftest import detached, received
from .helpers import act_on_bob, joined
from .pages import page
from .support_fixtures import start_visitor

THUMBS = "\N{THUMBS UP SIGN}"
HEART = "\N{HEAVY BLACK HEART}\ufe0f"
LAUGH = "\N{FACE WITH TEARS OF JOY}"


def react(sock, message_id: int, emoji: str = THUMBS, on: bool = True, room: str = "lobby") -> dict:
    """Emit `react` and return its ack."""
    return sock.emit("react", {"room": room, "id": message_id, "emoji": emoji, "on": on}, callback=True)


def posted(sock, body: str = "hello", room: str = "lobby", **extra) -> dict:
    """Send a message and return its MESSAGE."""
    ack = helpers.send(sock, room, body, body, **extra)
    assert ack["ok"], ack
    sock.get_received()
    return ack["message"]


@pytest.fixture
def lobby(public_room, socket_for):
    """alice and bob in the lobby, and a message of alice's there."""
    alice, bob = joined(socket_for, "alice"), joined(socket_for, "bob")
    message = posted(alice, "Lunch at noon?")
    bob.get_received()
    return alice, bob, message


def stored_reactions(app) -> list[tuple[int, int, str]]:
    with app.app_context():
        query = db.select(Reaction.message_id, Reaction.user_id, Reaction.emoji)
        return [tuple(row) for row in db.session.execute(query)]


# -- adding and removing -------------------------------------------------------------------------


def test_a_reaction_is_stored_acked_and_heard_by_the_room(app, users, lobby):
    alice, bob, message = lobby
    ack = react(bob, message["id"])
    assert ack["ok"], ack
    expected = [{"emoji": THUMBS, "count": 1, "user_ids": [users["bob"].id], "users": [users["bob"].to_dict()]}]
    assert ack["reactions"] == expected
    for sock in (alice, bob):
        [updated] = received(sock, "message_updated")
        assert updated["id"] == message["id"] and updated["reactions"] == expected
        assert updated["body"] == "Lunch at noon?"
    assert stored_reactions(app) == [(message["id"], users["bob"].id, THUMBS)]


def test_counts_add_up_per_emoji_in_the_order_first_given(users, lobby, socket_for):
    alice, bob, message = lobby
    carol = joined(socket_for, "carol")
    react(bob, message["id"], HEART)
    react(alice, message["id"], THUMBS)
    ack = react(carol, message["id"], HEART)
    assert [(group["emoji"], group["count"], group["user_ids"]) for group in ack["reactions"]] == [
        (HEART, 2, [users["bob"].id, users["carol"].id]),
        (THUMBS, 1, [users["alice"].id]),
    ]


def test_adding_twice_is_one_reaction_and_a_retry_is_answered_alike(app, users, lobby):
    alice, bob, message = lobby
    first = react(bob, message["id"])
    alice.get_received()
    again = react(bob, message["id"])  # the same request, retried after a lost ack
    assert again == first
    assert received(alice, "message_updated") == []  # nothing changed: nothing to hear
    assert len(stored_reactions(app)) == 1


def test_removing_takes_it_away_and_removing_one_not_there_is_ok(app, users, lobby):
    alice, bob, message = lobby
    react(bob, message["id"])
    react(alice, message["id"])
    alice.get_received()
    ack = react(bob, message["id"], on=False)
    assert ack["ok"] and ack["reactions"] == [
        {"emoji": THUMBS, "count": 1, "user_ids": [users["alice"].id], "users": [users["alice"].to_dict()]}
    ]
    assert len(received(alice, "message_updated")) == 1
    assert react(bob, message["id"], on=False) == ack  # not there any more: ok, nothing heard
    assert react(bob, message["id"], LAUGH, on=False)["ok"]
    assert received(alice, "message_updated") == []
    last = react(alice, message["id"], on=False)
    assert last["reactions"] == []
    [updated] = received(alice, "message_updated")
    assert "reactions" not in updated  # a message without reactions keeps its first shape
    assert stored_reactions(app) == []


def test_the_message_shape_gains_reactions_only_when_it_has_some(lobby):
    alice, bob, message = lobby
    assert "reactions" not in message
    react(bob, message["id"])
    history = alice.emit("history", {"room": "lobby"}, callback=True)
    assert history["messages"][-1]["reactions"][0]["count"] == 1


def test_a_reaction_made_while_away_comes_with_the_catch_up(app, users, lobby, socket_for):
    alice, bob, message = lobby
    first = bob.emit("join", {"room": "lobby"}, callback=True)
    revision = first["revision"]
    bob.disconnect()
    react(alice, message["id"], LAUGH)
    back = socket_for("bob")
    ack = back.emit("join", {"room": "lobby", "after": message["id"], "revision": revision}, callback=True)
    assert ack["ok"] and ack["revision"] > revision
    [changed] = ack["changed"]
    assert changed["id"] == message["id"] and changed["reactions"][0]["emoji"] == LAUGH
    # And nothing more the next time, from the revision now.
    again = back.emit("join", {"room": "lobby", "after": message["id"], "revision": ack["revision"]}, callback=True)
    assert again["changed"] == []


def test_the_room_page_shows_reactions_with_who_and_ones_own_pressed(app, users, lobby):
    alice, bob, message = lobby
    react(bob, message["id"])
    react(alice, message["id"])
    react(bob, message["id"], LAUGH)
    html = helpers.logged_in(app, "alice").get("/rooms/lobby")
    item = page(html).find("li", **{"data-id": str(message["id"])})
    buttons = item.find_all("button", class_="reaction")
    assert [(b.attrs["aria-pressed"], b.attrs["aria-label"]) for b in buttons] == [
        ("true", f"{THUMBS} 2: Bob and Alice"),
        ("false", f"{LAUGH} 1: Bob"),
    ]
    assert buttons[0].attrs["data-emoji"] == THUMBS
    assert item.find("button", class_="add-reaction").attrs["aria-label"] == "Add reaction"


def test_the_room_page_names_at_most_two_and_counts_the_rest(app, users, lobby, socket_for):
    alice, bob, message = lobby
    for sock in (bob, joined(socket_for, "carol"), alice):
        react(sock, message["id"])
    html = helpers.logged_in(app, "bob").get("/rooms/lobby")
    [button] = page(html).find("li", **{"data-id": str(message["id"])}).find_all("button", class_="reaction")
    assert button.attrs["aria-label"] == f"{THUMBS} 3: Bob, Carol and 1 other"
    assert button.attrs["title"] == "Bob, Carol and Alice"


# -- what counts as one emoji ------------------------------------------------------------------


@pytest.mark.parametrize("emoji", [
    THUMBS, HEART, LAUGH, "\N{PARTY POPPER}", "\N{FACE WITH OPEN MOUTH}", "\N{PERSON WITH FOLDED HANDS}",
    "\N{THUMBS UP SIGN}\N{EMOJI MODIFIER FITZPATRICK TYPE-4}",  # a skin tone
    "\N{WOMAN}\u200d\N{PERSONAL COMPUTER}",  # a ZWJ sequence
    "\N{REGIONAL INDICATOR SYMBOL LETTER F}\N{REGIONAL INDICATOR SYMBOL LETTER R}",  # a flag
    "\N{WAVING BLACK FLAG}\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f",  # Scotland
    "\N{WHITE MEDIUM STAR}",
])
def test_single_emoji_are_accepted(app, emoji):
    with app.test_request_context():
        assert check_emoji(emoji) == emoji


@pytest.mark.parametrize("emoji", [
    "", " ", "a", "ok", "1", "^", "<script>alert(1)</script>", "<b>", THUMBS * 2, f"{THUMBS} ", f"a{THUMBS}",
    "\u200d", f"{THUMBS}\u200d", "\N{REGIONAL INDICATOR SYMBOL LETTER F}", "\x00", "\N{RIGHT-TO-LEFT OVERRIDE}",
    "\N{COMBINING ACUTE ACCENT}", THUMBS + "\N{EMOJI MODIFIER FITZPATRICK TYPE-4}" * 16,
])
def test_anything_but_one_emoji_is_refused(app, emoji):
    with app.test_request_context():
        with pytest.raises(ServiceError) as refused:
            check_emoji(emoji)
    assert refused.value.code == "invalid"
    assert "one emoji" in refused.value.message


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=20))
def test_whatever_is_accepted_as_an_emoji_holds_no_letter_digit_space_or_control(app, text):
    with app.test_request_context():
        try:
            accepted = check_emoji(text)
        except ServiceError as refused:
            assert refused.code == "invalid"
            return
    assert 1 <= len(accepted) <= 16
    assert not any(unicodedata.category(char)[0] in "LNZ" or unicodedata.category(char) == "Cc" for char in accepted)


def test_markup_in_the_emoji_field_is_refused_and_nothing_is_stored(app, lobby):
    alice, bob, message = lobby
    ack = react(bob, message["id"], "<script>alert(1)</script>")
    assert ack["ok"] is False and ack["error"] == "invalid"
    assert "<script>" not in ack["message"]
    assert stored_reactions(app) == []
    assert received(alice, "message_updated") == []


def test_the_refusal_is_in_the_users_language(app, lobby, socket_for):
    alice, bob, message = lobby
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username="bob"))
        user.language = "zh_CN"
        db.session.commit()
    chinese = socket_for("bob")
    ack = react(chinese, message["id"], "x")
    assert ack["error"] == "invalid" and "表情" in ack["message"]


@pytest.mark.parametrize("payload", [
    {"room": "lobby", "id": 1, "emoji": THUMBS},  # no `on`
    {"room": "lobby", "id": 1, "emoji": THUMBS, "on": "yes"},
    {"room": "lobby", "id": "1", "emoji": THUMBS, "on": True},
    {"room": "lobby", "id": 1, "emoji": 5, "on": True},
    {"room": "lobby", "id": 1, "emoji": THUMBS, "on": True, "users": [1]},
    "👍",
])
def test_bad_payloads_are_invalid_and_the_connection_stays(lobby, payload):
    alice, bob, message = lobby
    ack = bob.emit("react", payload, callback=True)
    assert ack["ok"] is False and ack["error"] == "invalid"
    assert bob.is_connected()


def test_an_unknown_message_is_not_found(lobby):
    alice, bob, message = lobby
    assert react(bob, message["id"] + 100)["error"] == "not_found"
    assert react(bob, message["id"], room="nowhere")["error"] == "not_found"


# -- limits ---------------------------------------------------------------------------------------------


@pytest.mark.config(REACTION_KINDS_MAX=2)
def test_at_most_so_many_different_emoji_on_one_message(lobby, socket_for):
    alice, bob, message = lobby
    assert react(bob, message["id"], THUMBS)["ok"]
    assert react(bob, message["id"], HEART)["ok"]
    refused = react(alice, message["id"], LAUGH)
    assert refused["error"] == "too_large" and refused["limit"] == 2
    assert "2 different emoji" in refused["message"] and "one of those" in refused["message"]
    # Joining one already there is still fine.
    assert react(alice, message["id"], HEART)["reactions"][1]["count"] == 2


@pytest.mark.config(REACT_RATE_LIMIT="3 per minute")
def test_reacting_is_rate_limited_per_user(lobby):
    alice, bob, message = lobby
    for on in (True, False, True):
        assert react(bob, message["id"], on=on)["ok"]
    refused = react(bob, message["id"], on=False)
    assert refused["error"] == "rate_limited" and refused["retry_after"] >= 1
    assert react(alice, message["id"])["ok"]  # per user: alice is not slowed by bob


# -- who may react ------------------------------------------------------------------------------------


def test_outside_a_private_room_one_cannot_react(app, users, private_room, socket_for):
    alice = joined(socket_for, "alice", room="secret")
    message = posted(alice, "members only", room="secret")
    bob = socket_for("bob")
    refused = react(bob, message["id"], room="secret")
    assert refused["error"] == "forbidden"
    assert stored_reactions(app) == []
    assert react(alice, message["id"], room="secret")["ok"]


@pytest.fixture
def klass(app, users, socket_for):
    """A class of the teacher (staff) with alice and bob; the teacher posted an announcement in it."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=users["staff"])
        for name in ("alice", "bob"):
            rooms.join_by_code(user=users[name], code=room.join_code)
        room = detached(room)
    teacher = joined(socket_for, "staff", room=room.slug)
    return room, teacher, posted(teacher, "Test on Friday", room=room.slug)


def test_a_muted_member_cannot_react(app, klass, socket_for):
    room, teacher, message = klass
    act_on_bob(app, moderation.mute_member, minutes=10)
    bob = socket_for("bob")
    refused = react(bob, message["id"], room=room.slug)
    assert refused["error"] == "forbidden" and "muted" in refused["message"]
    assert stored_reactions(app) == []


def test_a_muted_members_join_ack_and_page_say_they_may_not_react(app, klass, socket_for):
    room, teacher, message = klass
    react(teacher, message["id"], room=room.slug)
    bob = socket_for("bob")
    assert bob.emit("join", {"room": room.slug}, callback=True)["capabilities"]["may_react"] is True
    act_on_bob(app, moderation.mute_member, minutes=10)
    assert bob.emit("join", {"room": room.slug}, callback=True)["capabilities"]["may_react"] is False
    shown = page(helpers.logged_in(app, "bob").get(f"/rooms/{room.slug}"))
    assert "data-may-react" not in shown.find(id="room").attrs
    item = shown.find("li", **{"data-id": str(message["id"])})
    assert item.find("button", class_="add-reaction") is None
    assert "disabled" in item.find("button", class_="reaction").attrs


def test_a_member_whose_mute_ran_out_may_react_again(app, klass, socket_for):
    room, teacher, message = klass
    act_on_bob(app, moderation.mute_member, minutes=10)
    with app.app_context():
        for membership in db.session.scalars(db.select(Membership).where(Membership.muted_until.is_not(None))):
            membership.muted_until = utcnow() - timedelta(minutes=1)
        db.session.commit()
    assert react(socket_for("bob"), message["id"], room=room.slug)["ok"]


def test_a_banned_member_cannot_react(app, klass, socket_for):
    room, teacher, message = klass
    act_on_bob(app, moderation.ban_member)
    refused = react(socket_for("bob"), message["id"], room=room.slug)
    assert refused["error"] == "forbidden"
    assert stored_reactions(app) == []


def test_students_react_in_an_announcement_only_room(app, klass, socket_for):
    room, teacher, message = klass
    assert teacher.emit("room_settings", {"room": room.slug, "announcement_only": True}, callback=True)["ok"]
    alice = socket_for("alice")
    assert helpers.send(alice, room.slug, "can I?", "c-no")["error"] == "forbidden"
    ack = react(alice, message["id"], room=room.slug)
    assert ack["ok"] and ack["reactions"][0]["count"] == 1


def test_slow_mode_does_not_hold_back_reactions(app, klass, socket_for):
    room, teacher, message = klass
    assert teacher.emit("room_settings", {"room": room.slug, "slow_mode_seconds": 600}, callback=True)["ok"]
    alice = socket_for("alice")
    assert react(alice, message["id"], room=room.slug)["ok"]
    assert react(alice, message["id"], HEART, room=room.slug)["ok"]


def test_a_deleted_message_gets_no_reactions(app, lobby):
    alice, bob, message = lobby
    assert alice.emit("delete_message", {"room": "lobby", "id": message["id"]}, callback=True)["ok"]
    refused = react(bob, message["id"])
    assert refused["error"] == "conflict" and "deleted" in refused["message"]
    assert stored_reactions(app) == []


def test_a_deleted_message_shows_no_reactions(app, lobby):
    alice, bob, message = lobby
    react(bob, message["id"])
    assert alice.emit("delete_message", {"room": "lobby", "id": message["id"]}, callback=True)["ok"]
    history = bob.emit("history", {"room": "lobby"}, callback=True)
    assert "reactions" not in history["messages"][-1]


def test_a_site_admin_reading_direct_messages_cannot_react_there(app, users, socket_for, lobby):
    alice = socket_for("alice")
    opened = alice.emit("open_direct", {"user_id": users["bob"].id}, callback=True)
    slug = opened["room"]["slug"]
    assert alice.emit("join", {"room": slug}, callback=True)["ok"]
    message = posted(alice, "just us", room=slug)
    admin = socket_for("admin")
    assert react(admin, message["id"], room=slug)["error"] == "forbidden"
    assert react(socket_for("bob"), message["id"], room=slug)["ok"]


def test_visitors_react_in_their_own_conversation_only(app, users, site_key, socket_for, visitor_socket):
    mine, theirs = start_visitor(app, site_key), start_visitor(app, site_key)
    staff = socket_for("staff")
    for visitor in (mine, theirs):
        assert staff.emit("join", {"room": visitor.room}, callback=True)["ok"]
    reply = posted(staff, "Hello! How can I help?", room=mine.room)
    other_reply = helpers.send(staff, theirs.room, "Hi there", "c-theirs")["message"]
    vsock = visitor_socket(mine)
    assert react(vsock, reply["id"], room=mine.room)["ok"]
    assert react(vsock, other_reply["id"], room=theirs.room)["error"] == "forbidden"
    # Nor by naming another conversation's message through one's own room.
    assert react(vsock, other_reply["id"], room=mine.room)["error"] == "not_found"


def test_a_conversations_join_ack_says_each_side_may_react(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    joined_visitor = visitor_socket(visitor).emit("join", {"room": visitor.room}, callback=True)
    assert joined_visitor["capabilities"] == {"may_react": True}
    staff = socket_for("staff").emit("join", {"room": visitor.room}, callback=True)
    assert staff["capabilities"] == {"may_react": True}


def test_staff_notes_take_reactions_only_from_those_who_see_notes(app, users, site_key, socket_for, visitor_socket):
    visitor = start_visitor(app, site_key)
    staff = joined(socket_for, "staff", room=visitor.room)
    vsock = visitor_socket(visitor)
    assert vsock.emit("join", {"room": visitor.room}, callback=True)["ok"]
    vsock.get_received()
    note = posted(staff, "VIP customer", room=visitor.room, internal=True)
    refused = react(vsock, note["id"], room=visitor.room)
    assert refused["error"] == "not_found"
    admin = joined(socket_for, "admin", room=visitor.room)
    ack = react(admin, note["id"], room=visitor.room)
    assert ack["ok"]
    [updated] = received(staff, "message_updated")
    assert updated["internal"] is True and updated["reactions"][0]["count"] == 1
    assert received(vsock, "message_updated") == []  # the note's news stays with the staff


def test_reactions_go_when_their_message_or_account_does(app, users, lobby):
    alice, bob, message = lobby
    react(bob, message["id"])
    with app.app_context():
        db.session.delete(db.session.get(Message, message["id"]))
        db.session.commit()
    assert stored_reactions(app) == []
