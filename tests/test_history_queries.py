"""History pages cost a fixed number of SQL statements, whatever their messages carry (no N+1)."""
from __future__ import annotations

from chatapp.extensions import db
from chatapp.models import Room, User
from chatapp.services import editing, messages, moderation, questions, reactions, rooms

from .conftest import seed_messages
from .test_uploads import Uploader, picture, uploaded


def page_statements(app, *, username: str, slug: str, **cursor) -> tuple[int, list[dict]]:
    """The SQL statements one history page costs (list_messages and to_dict, in a fresh session), and the page.

    Counted by SQLite itself, on the session's connection: services/rows.py reads below
    SQLAlchemy's events, and those count too.
    """
    with app.app_context():
        reader = db.session.scalar(db.select(User).filter_by(username=username))
        room = db.session.scalar(db.select(Room).filter_by(slug=slug))
        statements: list[str] = []
        driver = db.session.connection().connection.driver_connection
        # Statements that triggers run come prefixed with "--": not the page's own.
        driver.set_trace_callback(lambda sql: None if sql.startswith("--") else statements.append(sql))
        try:
            page = messages.list_messages(user=reader, room=room, **cursor)
            shown = [message.to_dict() for message in page.messages]
        finally:
            driver.set_trace_callback(None)
        return len(statements), shown


def test_a_page_costs_the_same_statements_however_rich_its_messages(app, users, public_room):
    with app.app_context():
        quiet = rooms.create_room(slug="plain", name="Plain", creator=users["staff"])
        db.session.refresh(quiet)
        db.session.expunge(quiet)
    seed_messages(app, users["alice"], quiet, 12, prefix="p")

    # The rich room: several senders, mentions, a picture, a pinned message, an answered
    # question, an edited and a deleted one, reactions; the pinner, answerer and one reactor
    # (staff, admin) send nothing.
    picture_id = uploaded(Uploader(app, "carol").upload(picture()))["id"]
    with app.app_context():
        lobby = db.session.get(Room, public_room.id)
        staff, admin = db.session.get(User, users["staff"].id), db.session.get(User, users["admin"].id)
        rooms.enter_room(user=admin, room=lobby)
        sent = []
        for n, (who, body, extra) in enumerate([
            ("alice", "hello @bob and @carol", {}),
            ("bob", "**bold** https://example.org", {}),
            ("carol", "", {"attachments": [picture_id]}),
            ("alice", "pin me", {}),
            ("bob", "a question?", {"question": True}),
            ("carol", "typo", {}),
            ("alice", "regret", {}),
        ] + [("bob", f"filler {k}", {}) for k in range(5)]):
            sender = db.session.get(User, users[who].id)
            sent.append(messages.post_message(sender=sender, room=lobby, body=body, client_id=f"r{n}",
                                              enforce_rate_limit=False, **extra).message.id)
        message = lambda i: db.session.get(messages.Message, sent[i])  # noqa: E731
        moderation.pin_message(actor=staff, message=message(3))
        questions.answer_question(actor=admin, message=message(4))
        editing.edit_message(
            editor=db.session.get(User, users["carol"].id), room=lobby, message_id=sent[5], body="fixed"
        )
        moderation.delete_message(actor=db.session.get(User, users["alice"].id), message=message(6))
        for who, n, emoji in [("bob", 1, "👍"), ("staff", 1, "🎉"), ("admin", 7, "👍"), ("carol", 8, "😂")]:
            reactions.react(user=db.session.get(User, users[who].id), room=lobby, message_id=sent[n], emoji=emoji,
                            on=True)

    plain_count, plain_page = page_statements(app, username="alice", slug="plain")
    rich_count, rich_page = page_statements(app, username="alice", slug="lobby")
    assert len(plain_page) == len(rich_page) == 12
    shown = {m["id"]: m for m in rich_page}
    assert (
        shown[sent[0]]["mentions"]
        and shown[sent[2]]["attachments"]
        and shown[sent[3]]["pinned_by"]["username"] == "staff"
    )
    assert shown[sent[4]]["question"]["answered_by"]["username"] == "admin" and shown[sent[6]]["deleted"]
    assert [group["users"][-1]["username"] for group in shown[sent[1]]["reactions"]] == ["bob", "staff"]
    assert shown[sent[7]]["reactions"][0]["users"][0]["username"] == "admin"
    # The room rule's one lookup, then the page, its pictures, its mentions and its reactions (with
    # their people).
    assert rich_count == plain_count == 5
    for cursor in ({"before": sent[-1], "limit": 5}, {"after": sent[0]}):
        count, page = page_statements(app, username="alice", slug="lobby", **cursor)
        assert page and count == 5, cursor
    # Around a message: the older half and the newer half are two such queries.
    count, page = page_statements(app, username="alice", slug="lobby", around=sent[4], limit=6)
    assert len(page) == 6 and count == 1 + 2 * 4


def test_pages_walk_one_room_through_interleaved_ids(app, users, public_room):
    with app.app_context():
        other = rooms.create_room(slug="other", name="Other", creator=users["staff"])
        lobby = db.session.get(Room, public_room.id)
        alice = db.session.get(User, users["alice"].id)
        mine = []
        for n in range(23):
            mine.append(messages.post_message(sender=alice, room=lobby, body=f"l{n}", client_id=f"l{n}",
                                              enforce_rate_limit=False).message.id)
            messages.post_message(sender=alice, room=other, body=f"o{n}", client_id=f"o{n}", enforce_rate_limit=False)
        walked, before = [], None
        for _ in range(10):
            page = messages.list_messages(user=alice, room=lobby, before=before, limit=5)
            walked = [m.id for m in page.messages] + walked
            if not page.more:
                break
            before = page.messages[0].id
    assert walked == mine
