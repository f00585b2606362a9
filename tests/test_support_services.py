"""The support desk's rules, called as every door calls them; and every isolation rule, negative first."""
from __future__ import annotations

import hashlib
import hmac as hmac_module
import sqlite3

import pytest

from chatapp import create_app
from chatapp.extensions import db
from chatapp.models import CannedResponse, Conversation, Membership, Message, Room, User, VisitorProfile
from chatapp.services import accounts, messages, rooms, sites, support, visitors
from chatapp.services.errors import ServiceError

from .conftest import base_config, migrated_database
from .support_fixtures import (  # noqa: F401 - fixtures
    IDENTITY_SECRET,
    OTHER_SHOP,
    OWN_ORIGIN,
    SHOP,
    make_site,
    other_site_key,
    site_key,
    start_visitor,
)


def get(model, ident):
    return db.session.get(model, ident)


def by_username(name: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=name))


def conv(visitor) -> Conversation:
    return db.session.scalar(db.select(Conversation).filter_by(visitor_id=visitor.id))


def room_of(visitor) -> Room:
    return rooms.get_room(visitor.room)


def say(sender: User, visitor, body: str, *, internal: bool = False, client_id: str | None = None):
    """Post into a visitor's conversation through the support service."""
    return support.post_to_conversation(
        sender=sender, room=room_of(visitor), body=body, client_id=client_id or f"{sender.id}-{body}", internal=internal
    )


def signature(user_id: str, secret: str = IDENTITY_SECRET) -> str:
    return hmac_module.new(secret.encode(), user_id.encode(), hashlib.sha256).hexdigest()


# -- sites --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "given,expected",
    [
        ("https://Shop.Example", "https://shop.example"),
        ("https://shop.example/", "https://shop.example"),
        ("https://shop.example:443", "https://shop.example"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
        (" http://localhost:5000 ", "http://localhost:5000"),
    ],
)
def test_origins_are_normalized_as_browsers_send_them(given, expected):
    assert sites.check_origin(given) == expected


@pytest.mark.parametrize(
    "bad", ["*", "https://*.shop.example", "shop.example", "javascript:alert(1)", "https://shop.example/path",
            "https://user@shop.example", "ftp://shop.example", "https://shop.example?x=1", "", None, 5, "https://:80"],
)
def test_bad_origins_are_refused(bad):
    with pytest.raises(ServiceError) as error:
        sites.check_origin(bad)
    assert error.value.code == "invalid"


def test_create_site_needs_an_origin_and_a_good_secret(app):
    with app.app_context():
        with pytest.raises(ServiceError, match="at least one origin"):
            sites.create_site(actor=None, name="Shop", origins=[])
        with pytest.raises(ServiceError, match="identity secret"):
            sites.create_site(actor=None, name="Shop", origins=[SHOP], identity_secret="short")
        with pytest.raises(ServiceError, match="identity secret"):
            sites.create_site(actor=None, name="Shop", origins=[SHOP], identity_secret="has spaces in it 0123456789")
        site = sites.create_site(actor=None, name="  Shop  ", origins=[SHOP, "https://SHOP.example", "https://www.shop.example"],
                                 identity_secret="", prechat_enabled=False, prechat_email_required=True)
        assert site.name == "Shop"
        assert site.origins == [SHOP, "https://www.shop.example"]
        assert site.identity_secret is None
        assert site.prechat_email_required is False  # only meaningful with the form on
        assert len(site.site_key) >= 16


def test_refused_site_edit_changes_nothing(app, site_key):
    with app.app_context():
        site = sites.get_site_by_key(site_key)
        with pytest.raises(ServiceError):
            sites.update_site(actor=None, site=site, name="Renamed", origins=["*"])
        db.session.rollback()
        assert sites.get_site_by_key(site_key).name == "Shop"


def test_embed_snippet_and_frame_ancestors(app, site_key):
    with app.app_context():
        site = sites.get_site_by_key(site_key)
        assert sites.embed_snippet(site=site, app_url="https://chat.example/") == (
            f'<script src="https://chat.example/widget.js" data-site="{site_key}" async></script>'
        )
        assert sites.frame_ancestors(site) == f"'self' {SHOP}"


def test_unknown_site_key(app):
    with app.app_context():
        for key in ["nope", "", None, "x" * 100, 7]:
            with pytest.raises(ServiceError) as error:
                sites.get_site_by_key(key)
            assert error.value.code == "not_found"


# -- visitors and their tokens ----------------------------------------------------------------


def test_a_new_visitor_is_a_visitor_user_with_a_profile_and_a_conversation(app, site_key):
    visitor = start_visitor(app, site_key, page_url="https://shop.example/cart", user_agent="Firefox/130")
    with app.app_context():
        row = get(User, visitor.id)
        assert row.role == "visitor" and row.is_visitor and not row.is_staff
        profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=visitor.id))
        assert profile.page_url == "https://shop.example/cart" and profile.user_agent == "Firefox/130"
        conversation = conv(row)
        assert conversation.room.kind == "support" and conversation.room.slug == visitor.room
        assert conversation.status == "open" and conversation.last_message_at is None


def test_visitors_can_never_log_in(app, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        row = get(User, visitor.id)
        assert not row.check_password("")
        assert accounts.authenticate(username=row.username, password="") is None
        assert accounts.authenticate(username=row.username, password=row.password_hash) is None
        assert accounts.load_user_by_session_id(f"{row.id}:{row.session_epoch}") is None


def test_visitors_are_not_listed_as_accounts_and_have_no_role_to_change(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        assert visitor.id not in [u.id for u in accounts.list_users(actor=None)]
        with pytest.raises(ServiceError) as error:
            accounts.set_role(actor=get(User, users["admin"].id), user=get(User, visitor.id), role="staff")
        assert error.value.code == "forbidden"


def test_returning_visitor_keeps_their_conversation(app, site_key):
    first = start_visitor(app, site_key)
    again = start_visitor(app, site_key, visitor_token=first.token)
    assert (again.id, again.room) == (first.id, first.room)
    assert again.token  # renewed on every visit


def test_tampered_token_is_refused(app, site_key):
    visitor = start_visitor(app, site_key)
    body, signature_part = visitor.token.rsplit(".", 1)
    forged = body + "." + ("A" if signature_part[0] != "A" else "B") + signature_part[1:]
    with app.app_context():
        for token in [forged, visitor.token + "x", "", "garbage", 5, None, {"visitor": visitor.id}, "a" * 600]:
            with pytest.raises(ServiceError) as error:
                visitors.visitor_from_token(token=token)
            assert error.value.code == "unauthorized"
        assert visitors.visitor_from_token(token=visitor.token).id == visitor.id


def test_token_signed_with_another_salt_or_key_is_refused(app, site_key):
    from itsdangerous import URLSafeTimedSerializer

    visitor = start_visitor(app, site_key)
    claims = {"visitor": visitor.id, "site": visitor.site_id}
    with app.app_context():
        other_salt = URLSafeTimedSerializer(app.config["SECRET_KEY"], salt="something-else").dumps(claims)
        other_key = URLSafeTimedSerializer("another-secret", salt="visitor-token").dumps(claims)
        notify = visitor.notify_token  # a notify token is no visitor token
        for token in [other_salt, other_key, notify]:
            with pytest.raises(ServiceError):
                visitors.visitor_from_token(token=token)


def test_token_for_site_a_is_refused_on_site_b(app, site_key, other_site_key):
    visitor = start_visitor(app, site_key)
    with pytest.raises(ServiceError) as error:
        start_visitor(app, other_site_key, visitor_token=visitor.token)
    assert error.value.code == "unauthorized"
    with app.app_context():
        with pytest.raises(ServiceError):
            visitors.visitor_from_token(token=visitor.token, site=sites.get_site_by_key(other_site_key))


def test_expired_token_is_refused(app, site_key, monkeypatch):
    visitor = start_visitor(app, site_key)
    monkeypatch.setattr(visitors, "TOKEN_MAX_AGE_S", -1)
    with app.app_context(), pytest.raises(ServiceError) as error:
        visitors.visitor_from_token(token=visitor.token)
    assert error.value.code == "unauthorized"


def test_deactivated_visitor_token_is_refused(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        accounts.set_active(actor=get(User, users["admin"].id), user=get(User, visitor.id), active=False)
        with pytest.raises(ServiceError):
            visitors.visitor_from_token(token=visitor.token)


def test_contact_details_from_the_prechat_form(app, site_key):
    visitor = start_visitor(app, site_key)
    start_visitor(app, site_key, visitor_token=visitor.token, name="  Jane   Doe ", email="jane@example.com")
    with app.app_context():
        profile = db.session.scalar(db.select(VisitorProfile).filter_by(user_id=visitor.id))
        assert (profile.name, profile.email) == ("Jane Doe", "jane@example.com")
        assert get(User, visitor.id).display_name == "Jane Doe"
    for bad in [{"email": "not-an-address"}, {"email": "a@b"}, {"name": "x" * 65}, {"name": "bad\u202ename"}]:
        with pytest.raises(ServiceError) as error:
            start_visitor(app, site_key, visitor_token=visitor.token, **bad)
        assert error.value.code == "invalid"


def test_page_url_must_be_http(app, site_key):
    visitor = start_visitor(app, site_key, page_url="javascript:alert(1)")
    with app.app_context():
        assert db.session.scalar(db.select(VisitorProfile.page_url).filter_by(user_id=visitor.id)) is None


# -- origins ------------------------------------------------------------------------------------


def test_session_origin_must_be_the_sites_or_our_own(app, site_key):
    for origin in [SHOP, OWN_ORIGIN, None]:
        start_visitor(app, site_key, origin=origin)
    for origin in [OTHER_SHOP, "null", "https://shop.example.evil.example", "http://shop.example"]:
        with pytest.raises(ServiceError) as error:
            start_visitor(app, site_key, origin=origin)
        assert error.value.code == "forbidden"


# -- verified identities ----------------------------------------------------------------------


def test_identity_with_a_good_hmac_attaches_and_follows_the_user(app, site_key):
    phone = start_visitor(app, site_key, identity={"user_id": "customer-42", "hmac": signature("customer-42")})
    laptop = start_visitor(app, site_key, identity={"user_id": "customer-42", "hmac": signature("customer-42").upper()})
    assert (laptop.id, laptop.room) == (phone.id, phone.room)  # the same conversation on every device
    with app.app_context():
        assert db.session.scalar(db.select(VisitorProfile.external_id).filter_by(user_id=phone.id)) == "customer-42"


def test_anonymous_visitor_who_signs_in_keeps_their_conversation(app, site_key):
    anonymous = start_visitor(app, site_key)
    signed_in = start_visitor(app, site_key, visitor_token=anonymous.token,
                              identity={"user_id": "u7", "hmac": signature("u7")})
    assert (signed_in.id, signed_in.room) == (anonymous.id, anonymous.room)


def test_identified_visitor_is_not_resumed_without_the_identity(app, site_key):
    """A shared computer after the host site's logout: the next person never sees the chat."""
    signed_in = start_visitor(app, site_key, identity={"user_id": "u7", "hmac": signature("u7")})
    after_logout = start_visitor(app, site_key, visitor_token=signed_in.token)
    assert after_logout.id != signed_in.id and after_logout.room != signed_in.room
    other_user = start_visitor(app, site_key, visitor_token=signed_in.token,
                               identity={"user_id": "u8", "hmac": signature("u8")})
    assert other_user.id not in (signed_in.id, after_logout.id)


@pytest.mark.parametrize(
    "identity",
    [
        {"user_id": "customer-42", "hmac": "0" * 64},
        {"user_id": "customer-42", "hmac": signature("customer-43")},
        {"user_id": "customer-42", "hmac": signature("customer-42", "another-secret-0123456789")},
        {"user_id": "customer-42", "hmac": signature("customer-42")[:-1]},
        {"user_id": "customer-42", "hmac": "é" * 64},
        {"user_id": "customer-42", "hmac": ""},
    ],
)
def test_bad_hmac_is_refused(app, site_key, identity):
    with pytest.raises(ServiceError) as error:
        start_visitor(app, site_key, identity=identity)
    assert error.value.code == "forbidden"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(VisitorProfile.id))) == 0


@pytest.mark.parametrize("identity", [{"user_id": "", "hmac": "x"}, {"user_id": 5, "hmac": "x"}, {"hmac": "x"},
                                      {"user_id": "a", "hmac": 5}, {"user_id": "a", "hmac": "x", "extra": 1}, "u1"])
def test_malformed_identity_is_invalid(app, site_key, identity):
    with pytest.raises(ServiceError) as error:
        start_visitor(app, site_key, identity=identity)
    assert error.value.code == "invalid"


def test_identity_is_refused_where_the_site_has_no_secret(app, other_site_key):
    with pytest.raises(ServiceError) as error:
        start_visitor(app, other_site_key, identity={"user_id": "u1", "hmac": signature("u1")})
    assert error.value.code == "forbidden"


def test_hmac_is_compared_in_constant_time(app, site_key, monkeypatch):
    calls = []
    real = hmac_module.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(sites.hmac, "compare_digest", spy)
    start_visitor(app, site_key, identity={"user_id": "u1", "hmac": signature("u1")})
    assert calls and calls[0][0] == signature("u1").encode()


# -- who may enter a support conversation -------------------------------------------------------


def test_support_rooms_are_for_staff_and_their_own_visitor_only(app, users, public_room, private_room, site_key):
    mine = start_visitor(app, site_key)
    theirs = start_visitor(app, site_key)
    with app.app_context():
        me = get(User, mine.id)
        own_room, their_room = room_of(mine), room_of(theirs)
        assert rooms.can_enter(user=me, room=own_room)
        assert not rooms.can_enter(user=me, room=their_room)
        assert not rooms.can_enter(user=me, room=get(Room, public_room.id))
        assert not rooms.can_enter(user=me, room=get(Room, private_room.id))
        for name in ("alice", "bob"):
            assert not rooms.can_enter(user=by_username(name), room=own_room)
        for name in ("staff", "admin"):
            assert rooms.can_enter(user=by_username(name), room=own_room)
        with pytest.raises(ServiceError) as error:
            rooms.ensure_can_enter(user=by_username("alice"), room=own_room)
        assert error.value.code == "forbidden"


def test_support_rooms_are_never_in_the_room_list(app, users, public_room, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        for name in ("admin", "staff", "alice"):
            assert visitor.room not in [r.slug for r in rooms.rooms_for_user(user=by_username(name))]
        assert rooms.rooms_for_user(user=get(User, visitor.id)) == []


def test_visitor_cannot_post_or_read_outside_their_conversation(app, users, public_room, site_key):
    mine, theirs = start_visitor(app, site_key), start_visitor(app, site_key)
    with app.app_context():
        me = get(User, mine.id)
        for target in (get(Room, public_room.id), room_of(theirs)):
            with pytest.raises(ServiceError) as error:
                messages.post_message(sender=me, room=target, body="hi", client_id="x")
            assert error.value.code == "forbidden"
            with pytest.raises(ServiceError):
                messages.list_messages(user=me, room=target)
            with pytest.raises(ServiceError):
                messages.mark_read(user=me, room=target, last_id=1)


# -- messages, notes and the queue --------------------------------------------------------------


def test_notes_only_by_staff_and_only_in_support_rooms(app, users, public_room, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        with pytest.raises(ServiceError) as error:
            say(get(User, visitor.id), visitor, "let me see notes", internal=True)
        assert error.value.code == "forbidden"
        with pytest.raises(ServiceError):
            messages.post_message(sender=by_username("staff"), room=get(Room, public_room.id), body="n",
                                  client_id="n", internal=True)
        note = say(by_username("staff"), visitor, "VIP customer", internal=True).result.message
        assert note.internal and note.to_dict()["internal"] is True


def test_notes_never_reach_a_visitor_through_history_or_unread(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        me, staff = get(User, visitor.id), by_username("staff")
        say(me, visitor, "hello")
        say(staff, visitor, "secret note", internal=True)
        say(staff, visitor, "Hi, how can I help?")
        room = room_of(visitor)
        seen = [m.body for m in messages.list_messages(user=me, room=room).messages]
        assert seen == ["hello", "Hi, how can I help?"]
        assert [m.body for m in messages.catch_up(user=me, room=room, after=0).messages] == seen
        assert messages.count_unread(user=me, room=room) == 1
        assert [m.body for m in messages.list_messages(user=staff, room=room).messages] == [
            "hello", "secret note", "Hi, how can I help?"]
        plain = messages.list_messages(user=staff, room=room).messages[0].to_dict()
        assert "internal" not in plain  # ordinary messages keep the first version's exact shape


def test_conversation_enters_the_queue_with_its_first_message(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        staff = by_username("staff")
        assert support.list_queue(agent=staff).conversations == []
        say(get(User, visitor.id), visitor, "Is anyone there?")
        queue = support.list_queue(agent=staff, view="unassigned", status="open")
        assert [c.room.slug for c in queue.conversations] == [visitor.room]
        assert queue.counts == {"unassigned": 1, "mine": 0, "all": 1}
        assert queue.attention == {visitor.room: 1}
        assert conv(get(User, visitor.id)).last_message.body == "Is anyone there?"


def test_agent_reply_assigns_an_unassigned_conversation_but_a_note_does_not(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        say(get(User, visitor.id), visitor, "help")
        say(by_username("staff"), visitor, "looking", internal=True)
        assert conv(get(User, visitor.id)).assignee_id is None
        say(by_username("staff"), visitor, "On it!")
        assert conv(get(User, visitor.id)).assignee_id == users["staff"].id
        say(by_username("admin"), visitor, "me too")
        assert conv(get(User, visitor.id)).assignee_id == users["staff"].id  # not taken away


def test_visitor_message_reopens_a_resolved_conversation(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        staff = by_username("staff")
        say(get(User, visitor.id), visitor, "help")
        support.set_status(agent=staff, conversation=conv(get(User, visitor.id)), status="resolved")
        assert conv(get(User, visitor.id)).resolved_at is not None
        say(get(User, visitor.id), visitor, "one more thing")
        conversation = conv(get(User, visitor.id))
        assert conversation.status == "open" and conversation.resolved_at is None


def test_retried_client_id_is_stored_once_and_counted_once(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        me = get(User, visitor.id)
        first = say(me, visitor, "hello", client_id="c1")
        second = say(me, visitor, "hello", client_id="c1")
        assert first.result.created and not second.result.created
        assert first.result.message.id == second.result.message.id
        assert db.session.scalar(db.select(db.func.count(Message.id))) == 1


def spread_over_the_queue(a, b, c, *, c_status: str) -> tuple[User, User]:
    """Each visitor says hi; staff claims a's, b's goes to admin, c's stays unassigned with c_status."""
    staff, admin = by_username("staff"), by_username("admin")
    for visitor in (a, b, c):
        say(get(User, visitor.id), visitor, "hi")
    support.claim(agent=staff, conversation=conv(get(User, a.id)))
    support.assign(agent=staff, conversation=conv(get(User, b.id)), assignee_id=admin.id)
    support.set_status(agent=staff, conversation=conv(get(User, c.id)), status=c_status)
    return staff, admin


def test_queue_views_and_statuses(app, users, site_key):
    a, b, c = (start_visitor(app, site_key) for _ in range(3))
    with app.app_context():
        staff, admin = spread_over_the_queue(a, b, c, c_status="pending")

        def slugs(agent, view, status):
            return {x.room.slug for x in support.list_queue(agent=agent, view=view, status=status).conversations}

        assert slugs(staff, "mine", "open") == {a.room}
        assert slugs(admin, "mine", "open") == {b.room}
        assert slugs(staff, "unassigned", "open") == set()
        assert slugs(staff, "all", "open") == {a.room, b.room}
        assert slugs(staff, "unassigned", "pending") == {c.room}
        assert slugs(staff, "all", "resolved") == set()
        assert support.list_queue(agent=staff, view="all", status="open").counts == {
            "unassigned": 0,
            "mine": 1,
            "all": 2,
        }
        # What needs the staff member: their own and unassigned ones, not the admin's.
        assert set(support.attention(agent=staff)) == {a.room, c.room}
        for bad in [{"view": "everything"}, {"status": "closed"}, {"view": None}]:
            with pytest.raises(ServiceError) as error:
                support.list_queue(agent=staff, **bad)
            assert error.value.code == "invalid"


def test_each_summary_says_the_views_it_is_in_as_list_queue_does(app, users, site_key):
    """CONVERSATION's views and needs_attention are list_queue's and attention's answers, per agent."""
    a, b, c, d = (start_visitor(app, site_key) for _ in range(4))
    with app.app_context():
        staff, admin = spread_over_the_queue(a, b, c, c_status="resolved")
        for agent in (staff, admin):
            needing = set(support.attention(agent=agent))
            for visitor in (a, b, c, d):
                conversation = conv(get(User, visitor.id))
                summary = support.summarize(conversation=conversation, viewer=agent)
                listed = {
                    view for view in support.QUEUE_VIEWS
                    if conversation in support.list_queue(
                        agent=agent, view=view, status=conversation.status
                    ).conversations
                }
                assert set(summary["views"]) == listed, (agent.username, summary["views"], listed)
                # Unread counts only where it needs the agent: visitors wrote in a, b and c.
                if summary["unread"]:
                    assert summary["needs_attention"] is (visitor.room in needing), agent.username
        assert support.summarize(conversation=conv(get(User, a.id)), viewer=staff)["views"] == ["mine", "all"]
        assert support.summarize(conversation=conv(get(User, a.id)), viewer=admin)["views"] == ["all"]
        assert support.summarize(conversation=conv(get(User, a.id)), viewer=admin)["needs_attention"] is False
        assert support.summarize(conversation=conv(get(User, c.id)), viewer=staff)["views"] == ["unassigned", "all"]
        assert support.summarize(conversation=conv(get(User, c.id)), viewer=staff)["needs_attention"] is False
        assert support.summarize(conversation=conv(get(User, d.id)), viewer=staff)["views"] == []  # nobody wrote yet


def staff_only_calls(who: User, conversation: Conversation) -> tuple:
    """Every queue call, made by who (bound here, not to a loop's variables)."""
    return (
        lambda: support.list_queue(agent=who),
        lambda: support.claim(agent=who, conversation=conversation),
        lambda: support.assign(agent=who, conversation=conversation, assignee_id=None),
        lambda: support.set_status(agent=who, conversation=conversation, status="resolved"),
        lambda: support.transcript(agent=who, conversation=conversation),
        lambda: support.list_ratings(agent=who),
        lambda: support.save_canned(agent=who, shortcut="x", body="y"),
    )


def test_only_staff_work_the_queue(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        for name in ("alice",):
            who = by_username(name)
            conversation = conv(get(User, visitor.id))
            for call in staff_only_calls(who, conversation):
                with pytest.raises(ServiceError) as error:
                    call()
                assert error.value.code == "forbidden"
        me = get(User, visitor.id)
        with pytest.raises(ServiceError):
            support.list_queue(agent=me)
        with pytest.raises(ServiceError):
            support.claim(agent=me, conversation=conv(me))


def test_claim_is_refused_when_another_agent_has_it(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        staff, admin = by_username("staff"), by_username("admin")
        support.claim(agent=staff, conversation=conv(get(User, visitor.id)))
        support.claim(agent=staff, conversation=conv(get(User, visitor.id)))  # again: fine
        with pytest.raises(ServiceError) as error:
            support.claim(agent=admin, conversation=conv(get(User, visitor.id)))
        assert error.value.code == "conflict" and "Staff" in error.value.message
        support.assign(agent=admin, conversation=conv(get(User, visitor.id)), assignee_id=admin.id)  # a transfer
        assert conv(get(User, visitor.id)).assignee_id == admin.id


def test_assign_only_to_active_staff(app, users, site_key):
    visitor = start_visitor(app, site_key)
    other = start_visitor(app, site_key)
    with app.app_context():
        staff = by_username("staff")
        for target in [users["alice"].id, other.id, 99999, "1", True]:
            with pytest.raises(ServiceError) as error:
                support.assign(agent=staff, conversation=conv(get(User, visitor.id)), assignee_id=target)
            assert error.value.code == "invalid"
        support.assign(agent=staff, conversation=conv(get(User, visitor.id)), assignee_id=users["admin"].id)
        support.assign(agent=staff, conversation=conv(get(User, visitor.id)), assignee_id=None)
        assert conv(get(User, visitor.id)).assignee_id is None


def test_rating(app, users, site_key):
    visitor, other = start_visitor(app, site_key), start_visitor(app, site_key)
    with app.app_context():
        me = get(User, visitor.id)
        with pytest.raises(ServiceError) as error:
            support.rate(visitor=me, conversation=conv(me), rating=5)
        assert error.value.code == "conflict"  # not resolved yet
        support.set_status(agent=by_username("staff"), conversation=conv(me), status="resolved")
        with pytest.raises(ServiceError) as error:
            support.rate(visitor=get(User, other.id), conversation=conv(me), rating=1)
        assert error.value.code == "forbidden"
        with pytest.raises(ServiceError) as error:
            support.rate(visitor=by_username("staff"), conversation=conv(me), rating=5)
        assert error.value.code == "forbidden"
        for bad in [0, 6, True, "5", 4.5, None]:
            with pytest.raises(ServiceError) as error:
                support.rate(visitor=me, conversation=conv(me), rating=bad)
            assert error.value.code == "invalid"
        with pytest.raises(ServiceError) as error:
            support.rate(visitor=me, conversation=conv(me), rating=4, comment="x" * 2001)
        assert error.value.code == "too_large"
        support.rate(visitor=me, conversation=conv(me), rating=4, comment="  Quick and kind.  ")
        assert (conv(me).rating, conv(me).rating_comment) == (4, "Quick and kind.")
        rated, average = support.list_ratings(agent=by_username("staff"))
        assert [c.visitor_id for c in rated] == [visitor.id] and average == 4.0


def test_required_prechat_fields_come_before_the_first_message(app, users):
    key = make_site(app, prechat_enabled=True, prechat_email_required=True)
    visitor = start_visitor(app, key)
    with app.app_context():
        with pytest.raises(ServiceError, match="e-mail"):
            say(get(User, visitor.id), visitor, "hello")
    start_visitor(app, key, visitor_token=visitor.token, email="v@example.com")
    with app.app_context():
        assert say(get(User, visitor.id), visitor, "hello").result.created


def test_read_positions_move_forward_only(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        me, staff = get(User, visitor.id), by_username("staff")
        say(me, visitor, "one")
        ids = [say(staff, visitor, f"reply {n}").result.message.id for n in range(3)]
        room = room_of(visitor)
        assert messages.count_unread(user=me, room=room) == 3
        assert messages.mark_read(user=me, room=room, last_id=ids[1]) == 1
        assert messages.mark_read(user=me, room=room, last_id=ids[0]) == 1  # never back
        assert messages.mark_read(user=me, room=room, last_id=10**9) == 0  # capped at the newest
        assert db.session.scalar(db.select(Membership.last_read_id).filter_by(user_id=me.id)) == ids[2]
        with pytest.raises(ServiceError):
            messages.mark_read(user=me, room=room, last_id=-1)


def test_summaries_staff_and_visitor(app, users, site_key):
    visitor = start_visitor(app, site_key, name="Jane", email="jane@example.com", page_url="https://shop.example/p")
    with app.app_context():
        me, staff = get(User, visitor.id), by_username("staff")
        say(me, visitor, "hello")
        say(staff, visitor, "private", internal=True)
        full = support.summarize(conversation=conv(me), viewer=staff)
        assert full["contact"]["email"] == "jane@example.com" and full["contact"]["page_url"] == "https://shop.example/p"
        assert full["last_message"]["internal"] is True and full["unread"] == 1
        mine = support.summarize_for_visitor(conversation=conv(me))
        assert set(mine) < set(full)  # a part of the staff shape, never more
        assert set(mine) == {
            "room", "status", "assignee", "created_at", "unread", "rating", "rating_comment", "waiting"
        }
        assert "private" not in repr(mine) and "jane@example.com" not in repr(mine)


def test_transcript_has_everything_with_notes_marked(app, users, site_key):
    visitor = start_visitor(app, site_key, name="Jane", email="jane@example.com")
    with app.app_context():
        me, staff = get(User, visitor.id), by_username("staff")
        say(me, visitor, "My order\nis late")
        say(staff, visitor, "check the courier", internal=True)
        say(staff, visitor, "Sorry! It ships today.")
        text = support.transcript(agent=staff, conversation=conv(me))
        assert "Jane <jane@example.com>" in text and "on Shop" in text
        assert "Jane:\n    My order\n    is late" in text
        assert "Staff (internal note):\n    check the courier" in text
        assert text.index("My order") < text.index("check the courier") < text.index("It ships today")


def test_canned_responses(app, users):
    with app.app_context():
        staff = by_username("staff")
        item = support.save_canned(agent=staff, shortcut="/Refund", body="  We refund within 5 days.  ")
        assert (item.shortcut, item.body) == ("refund", "We refund within 5 days.")
        with pytest.raises(ServiceError) as error:
            support.save_canned(agent=staff, shortcut="refund", body="again")
        assert error.value.code == "conflict"
        for bad_shortcut, bad_body in [("has space", "x"), ("", "x"), ("x" * 33, "x"), ("ok", "   ")]:
            with pytest.raises(ServiceError) as error:
                support.save_canned(agent=staff, shortcut=bad_shortcut, body=bad_body)
            assert error.value.code == "invalid"
        support.save_canned(agent=staff, shortcut="refund2", body="Changed", canned=item)
        assert [c.shortcut for c in support.list_canned(agent=staff)] == ["refund2"]
        support.delete_canned(agent=staff, canned=item)
        assert db.session.scalar(db.select(db.func.count(CannedResponse.id))) == 0


def test_notify_token_reveals_only_the_unread_count_to_the_sites_origins(app, users, site_key):
    visitor = start_visitor(app, site_key)
    with app.app_context():
        say(get(User, visitor.id), visitor, "hi")
        say(by_username("staff"), visitor, "reply")
        say(by_username("staff"), visitor, "note", internal=True)
        count, site = visitors.pending_replies(token=visitor.notify_token, origin=SHOP, own_origin=OWN_ORIGIN)
        assert count == 1 and site.site_key == site_key
        with pytest.raises(ServiceError) as error:
            visitors.pending_replies(token=visitor.notify_token, origin=OTHER_SHOP, own_origin=OWN_ORIGIN)
        assert error.value.code == "forbidden"
        for token in [visitor.token, visitor.notify_token + "x", None, ""]:
            with pytest.raises(ServiceError) as error:
                visitors.pending_replies(token=token, origin=SHOP, own_origin=OWN_ORIGIN)
            assert error.value.code == "unauthorized"


def test_agents_online_follows_console_presence(app):
    from chatapp.realtime.presence import presence

    presence.connect(sid="s1", user_id=1)
    assert not support.agents_online()
    presence.enter(sid="s1", room=support.AGENTS_PRESENCE)
    assert support.agents_online()
    presence.disconnect(sid="s1")
    assert not support.agents_online()


# -- the migration --------------------------------------------------------------------------------


def test_migration_keeps_existing_data_and_message_ids(tmp_path):
    """Upgrading a database of the first version rebuilds user and room (new CHECKs) without losing a row."""
    from flask_migrate import downgrade, upgrade

    path = migrated_database(tmp_path / "old.sqlite3", revision="e9b3696ba0d2")
    app = create_app(base_config(path))
    connection = sqlite3.connect(path)
    connection.executescript(
        """
        INSERT INTO user (id, username, display_name, password_hash, role, is_active_account, session_epoch, created_at)
            VALUES (1, 'teacher', 'Teacher', 'x', 'staff', 1, 0, '2026-01-01');
        INSERT INTO room (id, slug, name, kind, created_by_id, created_at)
            VALUES (1, 'class', 'Class', 'public', 1, '2026-01-01');
        INSERT INTO membership (user_id, room_id, role, joined_at) VALUES (1, 1, 'owner', '2026-01-01');
        INSERT INTO message (id, room_id, sender_id, body, created_at) VALUES (41, 1, 1, 'kept', '2026-01-01');
        DELETE FROM message WHERE id = 41;
        INSERT INTO message (room_id, sender_id, body, created_at) VALUES (1, 1, 'still here', '2026-01-01');
        """
    )
    connection.commit()
    connection.close()
    with app.app_context():
        upgrade()
        assert [m.body for m in db.session.scalars(db.select(Message))] == ["still here"]
        assert db.session.scalar(db.select(db.func.count(Membership.id))) == 1
        assert db.session.scalar(db.select(Membership.last_read_id)) == 0
        assert db.session.scalar(db.select(Message.internal)) is False
        # AUTOINCREMENT survived: a deleted id is never handed out again.
        row = Message(room_id=1, sender_id=1, body="new")
        db.session.add(row)
        db.session.commit()
        assert row.id == 43
        site = sites.create_site(actor=None, name="Shop", origins=[SHOP])
        visitors.start_session(site_key=site.site_key, own_origin=OWN_ORIGIN)  # the new CHECKs accept visitors
        downgrade(revision="e9b3696ba0d2")
        assert db.session.execute(db.text("SELECT count(*) FROM message")).scalar() == 2
        assert db.session.execute(db.text("SELECT count(*) FROM user")).scalar() == 1  # the visitor went
        db.session.remove()
        db.engine.dispose()
    assert "AUTOINCREMENT" in sqlite3.connect(path).execute(
        "SELECT sql FROM sqlite_master WHERE name = 'message'").fetchone()[0]
