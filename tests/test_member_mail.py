"""E-mail to members (services/member_mail.py, mail_jobs.py): unread direct messages, @mentions, announcements."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import Message, OutboxJob, User, utcnow
from chatapp.services import direct, messages, moderation, outbox, rooms
from harness.forms import csrf_token_from


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def _address(app, **addresses) -> None:
    with app.app_context():
        for username, address in addresses.items():
            _user(username).email = address
        db.session.commit()


def _pending(kind: str) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(OutboxJob).filter_by(kind=kind, state="pending"))


def _as_if_later(app) -> None:
    """Time passes: every message and every waiting job is older than MEMBER_NOTICE_DELAY_SECONDS."""
    with app.app_context():
        earlier = utcnow().replace(year=utcnow().year - 1)
        db.session.execute(update(Message).values(created_at=earlier))
        db.session.execute(update(OutboxJob).where(OutboxJob.state == "pending").values(run_after=utcnow()))
        db.session.commit()


def _run(app) -> int:
    _as_if_later(app)
    with app.app_context():
        return outbox.run_due()


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


@pytest.fixture
def lobby(app, users):
    with app.app_context():
        room = rooms.create_room(slug="lobby", name="Lobby", creator=None)
        for name in ("alice", "bob", "carol"):
            rooms.join_room(user=_user(name), room=room)
        return room.slug


def _dm(app, sender: str, to: str, body: str, client_id: str) -> str:
    with app.app_context():
        room = direct.open_direct_room(user=_user(sender), other=_user(to))
        messages.post_message(sender=_user(sender), room=room, body=body, client_id=client_id)
        return room.slug


def test_an_unread_direct_message_is_e_mailed_once_after_the_delay(app, users, lobby, mailbox):
    _address(app, bob="bob@school.example", alice="alice@school.example")
    _dm(app, "alice", "bob", "Can I borrow your notes?", "d1")
    _dm(app, "alice", "bob", "For the test on Friday", "d2")
    with app.app_context():
        assert _pending("member_notice") == 1  # one per person, however many messages
        assert outbox.run_due() == 0  # not before MEMBER_NOTICE_DELAY_SECONDS
    assert _run(app) == 1
    [message] = mailbox.wait_for(1)
    assert str(message["To"]) == "Bob <bob@school.example>"
    text = _plain(message)
    assert text.index("Can I borrow your notes?") < text.index("For the test on Friday") and "Alice" in text
    assert message["List-Unsubscribe"] and "/rooms/" in text
    assert _run(app) == 0 and len(mailbox.wait_for(2, timeout=0.5)) == 1  # once


def test_what_was_read_in_time_is_not_e_mailed(app, users, lobby, mailbox):
    _address(app, bob="bob@school.example")
    slug = _dm(app, "alice", "bob", "Read me", "d1")
    with app.app_context():
        room = rooms.get_room(slug)
        newest = db.session.scalar(db.select(db.func.max(Message.id)))
        messages.mark_read(user=_user("bob"), room=room, last_id=newest)
    assert _run(app) == 1
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_a_member_who_turned_direct_messages_off_gets_none(app, users, lobby, mailbox):
    _address(app, bob="bob@school.example")
    with app.app_context():
        _user("bob").mail_direct = False
        db.session.commit()
    _dm(app, "alice", "bob", "Hello", "d1")
    with app.app_context():
        assert _pending("member_notice") == 0


def test_mentions_are_e_mailed_only_to_who_turned_them_on(app, users, lobby, mailbox):
    _address(app, bob="bob@school.example", carol="carol@school.example")
    with app.app_context():
        _user("carol").mail_mentions = True  # off by default; bob leaves it off
        db.session.commit()
        room = rooms.get_room(lobby)
        messages.post_message(sender=_user("alice"), room=room, body="@bob @carol the quiz is at 10", client_id="m1")
        messages.post_message(sender=_user("alice"), room=room, body="no mention here", client_id="m2")
    _run(app)
    [message] = mailbox.wait_for(1)
    assert "carol@school.example" in str(message["To"])
    assert "the quiz is at 10" in _plain(message) and "Lobby" in _plain(message)
    assert "no mention here" not in _plain(message)


def test_a_plain_message_costs_no_e_mail_job(app, users, lobby):
    with app.app_context():
        messages.post_message(sender=_user("alice"), room=rooms.get_room(lobby), body="hi all", client_id="m1")
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 0


def test_no_address_no_job(app, users, lobby):
    _dm(app, "alice", "bob", "Hello", "d1")
    with app.app_context():
        assert _pending("member_notice") == 0


def test_a_message_too_fresh_waits_for_its_own_turn(app, users, lobby, mailbox):
    _address(app, bob="bob@school.example")
    _dm(app, "alice", "bob", "old one", "d1")
    _as_if_later(app)
    _dm(app, "alice", "bob", "fresh one", "d2")  # sent just now
    with app.app_context():
        db.session.execute(update(OutboxJob).where(OutboxJob.state == "pending").values(run_after=utcnow()))
        db.session.commit()
        outbox.run_due()
    [first] = mailbox.wait_for(1)
    assert "old one" in _plain(first) and "fresh one" not in _plain(first)
    with app.app_context():
        assert _pending("member_notice") == 1  # the fresh one's turn is later
    _run(app)
    second = mailbox.wait_for(2)[1]
    assert "fresh one" in _plain(second) and "old one" not in _plain(second)


def test_the_account_page_sets_the_address_and_the_choices(app, users, client, auth):
    auth.login("alice")
    page = client.get("/auth/account").get_data(as_text=True)
    assert 'name="mail_direct"' in page and 'name="mail_desk"' not in page  # the desk's notices are for staff
    token = csrf_token_from(page)
    bad = client.post("/auth/account", data={"csrf_token": token, "display_name": "Alice", "language": "",
                                             "email": "not-an-address", "mail_direct": "y"})
    assert bad.status_code == 400 and "name@example.com" in bad.get_data(as_text=True)
    saved = client.post("/auth/account", data={"csrf_token": token, "display_name": "Alice", "language": "",
                                               "email": "alice@school.example", "mail_mentions": "y"})
    assert saved.status_code == 302
    with app.app_context():
        alice = _user("alice")
        assert alice.email == "alice@school.example"
        assert (alice.mail_direct, alice.mail_mentions, alice.mail_announcements) == (False, True, False)
    auth.logout()
    auth.login("staff")
    assert 'name="mail_desk"' in client.get("/auth/account").get_data(as_text=True)


@pytest.fixture
def klass(app, users):
    """A class of the teacher (staff); alice and bob joined with the code."""
    with app.app_context():
        room = rooms.create_class(name="Maths 7B", teacher=_user("staff"))
        for name in ("alice", "bob"):
            rooms.join_by_code(user=_user(name), code=room.join_code)
        return room.slug


def test_a_pinned_class_announcement_is_e_mailed_to_each_student_once(app, users, klass, mailbox):
    _address(app, alice="alice@school.example", bob="bob@school.example", staff="teacher@school.example")
    with app.app_context():
        _user("bob").mail_announcements = False
        db.session.commit()
        room = rooms.get_room(klass)
        sent = messages.post_message(sender=_user("staff"), room=room, body="Test moved to Monday", client_id="a1")
        message = db.session.get(Message, sent.message.id)
        moderation.pin_message(actor=_user("staff"), message=message)
        moderation.unpin_message(actor=_user("staff"), message=db.session.get(Message, sent.message.id))
        moderation.pin_message(actor=_user("staff"), message=db.session.get(Message, sent.message.id))
        assert _pending("announcement") == 1  # alice only (bob said no; the teacher wrote it); pinned again: no more
        assert outbox.run_due() == 1
    [mail] = mailbox.wait_for(1)
    assert "alice@school.example" in str(mail["To"]) and "Maths 7B" in str(mail["Subject"])
    assert "Test moved to Monday" in _plain(mail)


def test_pinning_outside_a_class_e_mails_nobody(app, users, lobby, mailbox):
    _address(app, alice="alice@school.example")
    with app.app_context():
        room = rooms.create_room(slug="club", name="Chess club", creator=_user("staff"))
        rooms.join_room(user=_user("alice"), room=room)
        sent = messages.post_message(sender=_user("staff"), room=room, body="Lobby rules", client_id="a1")
        moderation.pin_message(actor=_user("staff"), message=db.session.get(Message, sent.message.id))
        assert _pending("announcement") == 0


def test_the_teacher_is_told_that_pinning_in_a_class_e_mails_it(app, users, klass, client, auth):
    auth.login("staff")
    assert "also e-mailed, once" in client.get(f"/rooms/{klass}").get_data(as_text=True)
    auth.logout()
    auth.login("alice")
    assert "also e-mailed, once" not in client.get(f"/rooms/{klass}").get_data(as_text=True)
