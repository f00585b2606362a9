"""Support conversations that go on by e-mail (services/visitor_mail.py, mail_jobs.py), to a real SMTP server."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import Conversation, OutboxJob, Site, User, utcnow
from chatapp.services import outbox, rooms, support, visitors
from chatapp.services.errors import ServiceError

from .support_fixtures import OWN_ORIGIN, SHOP, start_visitor

LINK = re.compile(r"(http://\S+/widget/continue/[\w.\-]+)")
UNSUBSCRIBE = re.compile(r"(http://\S+/mail/unsubscribe/[\w.\-]+)")


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def _pending(kind: str) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(OutboxJob).filter_by(kind=kind, state="pending"))


def _due_now() -> None:
    db.session.execute(update(OutboxJob).where(OutboxJob.state == "pending").values(run_after=utcnow()))
    db.session.commit()


def _run(app) -> int:
    with app.app_context():
        _due_now()
        return outbox.run_due()


def _reply(app, visitor, body, client_id, *, internal=False):
    with app.app_context():
        room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=_user("staff"), room=room, body=body, client_id=client_id,
                                     internal=internal)


def _visitor_writes(app, visitor, body="Is my order on its way?", client_id="v1"):
    with app.app_context():
        room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=db.session.get(User, visitor.id), room=room, body=body,
                                     client_id=client_id)


def _plain(message) -> str:
    return message.get_body(("plain",)).get_content()


def _html(message) -> str:
    return message.get_body(("html",)).get_content()


@pytest.fixture
def visitor(app, site_key):
    """A visitor on the shop who gave an address and wrote a question, then closed the tab."""
    started = start_visitor(app, site_key, email="mei@example.com", name="Mei")
    _visitor_writes(app, started)
    assert _run(app) == 1  # the notice to agents (no agent here has an address: it mails nobody)
    return started


def test_an_offline_visitor_gets_the_reply_once_with_a_working_link(app, users, visitor, mailbox, client):
    _reply(app, visitor, "Yes, it left the warehouse today.", "a1")
    assert _run(app) == 1
    [message] = mailbox.wait_for(1)
    assert "mei@example.com" in str(message["To"]) and "Shop" in str(message["Subject"])
    assert message["Message-ID"].endswith("@chat.example>")
    text = _plain(message)
    assert "Yes, it left the warehouse today." in text and "Staff" in text
    assert _run(app) == 0  # nothing more to send: the job was done once
    assert len(mailbox.wait_for(2, timeout=0.5)) == 1
    # The link opens the conversation, signed in as the visitor.
    link = LINK.search(text).group(1)
    assert link in _html(message)
    page = client.get(link.replace("http://127.0.0.1:5000", ""))
    assert page.status_code == 200
    token = re.search(r'data-resume-token="([^"]+)"', page.get_data(as_text=True)).group(1)
    with app.app_context():
        assert visitors.visitor_from_token(token=token).id == visitor.id
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_several_replies_in_the_delay_make_one_e_mail(app, users, visitor, mailbox):
    for index, body in enumerate(["Let me check.", "Found it.", "It arrives on Friday."]):
        _reply(app, visitor, body, f"a{index}")
    with app.app_context():
        assert _pending("visitor_replies") == 1
    assert _run(app) == 1
    [message] = mailbox.wait_for(1)
    text = _plain(message)
    assert text.index("Let me check.") < text.index("Found it.") < text.index("It arrives on Friday.")
    # A reply after that e-mail went makes a new one, with only the new reply in it.
    _reply(app, visitor, "Tracking number: 42", "a9")
    _run(app)
    second = mailbox.wait_for(2)[1]
    assert "Tracking number: 42" in _plain(second) and "Found it." not in _plain(second)
    assert second["Message-ID"] != message["Message-ID"]


def test_the_reply_is_not_mailed_before_the_delay(app, users, visitor, mailbox):
    app.config["VISITOR_REPLY_DELAY_SECONDS"] = 3600
    _reply(app, visitor, "Soon", "a1")
    with app.app_context():
        assert outbox.run_due() == 0  # not due for an hour
        job = db.session.scalar(db.select(OutboxJob).filter_by(kind="visitor_replies"))
        assert (job.run_after - utcnow()).total_seconds() > 3500


def test_what_the_visitor_read_meanwhile_and_staff_notes_are_not_sent(app, users, visitor, mailbox):
    _reply(app, visitor, "Read this one in the widget", "a1")
    with app.app_context():
        room = rooms.get_room(visitor.room)
        newest = db.session.get(Conversation, support.get_conversation(room=room).id).last_message_id
        support.mark_read(user=db.session.get(User, visitor.id), room=room, last_id=newest)
    _reply(app, visitor, "Internal: refund approved", "n1", internal=True)
    assert _run(app) == 1  # the job ran, and found nothing unread to send
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_an_online_visitor_is_not_e_mailed(app, users, site_key, visitor_socket, mailbox):
    visitor = start_visitor(app, site_key, email="mei@example.com")
    _visitor_writes(app, visitor)
    visitor_socket(visitor)  # the widget is open
    _reply(app, visitor, "Hi, here now", "a1")
    with app.app_context():
        assert _pending("visitor_replies") == 0


def test_a_visitor_without_an_address_is_not_e_mailed(app, users, site_key, mailbox):
    visitor = start_visitor(app, site_key)
    _visitor_writes(app, visitor)
    _reply(app, visitor, "Hello?", "a1")
    with app.app_context():
        assert _pending("visitor_replies") == 0


def test_the_reply_comes_in_the_visitors_language(app, users, site_key, mailbox, client):
    # The widget frame asks in its own language: the server keeps it for the visitor's e-mails.
    started = client.post("/widget/api/session", json={"site_key": site_key, "email": "li@example.com"},
                          headers={"Origin": SHOP, "Accept-Language": "zh-CN"}).get_json()
    visitor = start_visitor(app, site_key, visitor_token=started["visitor_token"])
    _visitor_writes(app, visitor, "我的订单在哪里？")
    _reply(app, visitor, "已经发货了。", "a1")
    _run(app)
    [message] = mailbox.wait_for(1)
    assert message["Content-Language"] == "zh-CN"
    assert "已经发货了。" in _plain(message) and "回复" in str(message["Subject"])


def test_one_click_unsubscribe_stops_them(app, users, visitor, mailbox, client):
    _reply(app, visitor, "First answer", "a1")
    _run(app)
    [message] = mailbox.wait_for(1)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    header_url = message["List-Unsubscribe"].strip("<>")
    assert header_url == UNSUBSCRIBE.search(_plain(message)).group(1)
    path = header_url.replace("http://127.0.0.1:5000", "")
    page = client.get(path)  # the link in the e-mail shows a button: a link scanner unsubscribes nobody
    assert page.status_code == 200 and "Unsubscribe" in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(User, visitor.id).mail_support is True
    # A mail program's one-click POST: no cookie, no CSRF token (RFC 8058).
    answer = client.post(path, data={"List-Unsubscribe": "One-Click"})
    assert answer.status_code == 204
    _reply(app, visitor, "Second answer", "a2")
    with app.app_context():
        assert db.session.get(User, visitor.id).mail_support is False
        assert outbox.run_due() == 0
    assert len(mailbox.wait_for(2, timeout=0.5)) == 1
    # And undo, from the page.
    undone = client.post(path.replace("/unsubscribe/", "/resubscribe/"))
    assert undone.status_code == 200
    with app.app_context():
        assert db.session.get(User, visitor.id).mail_support is True


def test_a_forged_unsubscribe_or_continue_link_is_refused(app, users, visitor, client):
    assert client.get("/mail/unsubscribe/not-a-token").status_code == 404
    assert client.post("/mail/unsubscribe/not-a-token").status_code == 404
    assert client.get("/widget/continue/not-a-token").status_code == 401
    with app.app_context():
        visitor_user = db.session.get(User, visitor.id)
        site = db.session.get(Site, visitor.site_id)
        # A visitor token (the widget's own) is not a link token, and the other way round.
        widget_token = visitors.issue_visitor_token(visitor=visitor_user, site=site)
        link_token = visitors.issue_link_token(visitor=visitor_user, site=site)
    assert client.get(f"/widget/continue/{widget_token}").status_code == 401
    with app.app_context(), pytest.raises(ServiceError):
        visitors.visitor_from_token(token=link_token)


def test_an_expired_link_says_what_to_do(app, users, visitor, client):
    with app.app_context():
        token = visitors.issue_link_token(visitor=db.session.get(User, visitor.id),
                                          site=db.session.get(Site, visitor.site_id))
    app.config["VISITOR_LINK_MAX_AGE_SECONDS"] = -1
    page = client.get(f"/widget/continue/{token}")
    assert page.status_code == 401 and "Open the chat on the website" in page.get_data(as_text=True)


def test_a_resolved_conversation_mails_its_transcript_where_the_site_says_so(app, users, visitor, mailbox):
    _reply(app, visitor, "Done, refund sent.", "a1")
    with app.app_context():
        db.session.get(Site, visitor.site_id).transcript_on_resolve = True
        db.session.commit()
        conversation = support.get_conversation(room=rooms.get_room(visitor.room))
        support.set_status(agent=_user("staff"), conversation=conversation, status="resolved")
        _due_now()
        assert outbox.run_due() == 2  # the replies, and the transcript
    messages = mailbox.wait_for(2)
    [transcript] = [m for m in messages if "conversation with" in str(m["Subject"])]
    text = _plain(transcript)
    assert text.index("Is my order on its way?") < text.index("Done, refund sent.")


def test_no_transcript_on_resolve_unless_the_site_asks(app, users, visitor, mailbox):
    with app.app_context():
        conversation = support.get_conversation(room=rooms.get_room(visitor.room))
        support.set_status(agent=_user("staff"), conversation=conversation, status="resolved")
        assert _pending("visitor_transcript") == 0


def test_the_visitor_asks_for_the_transcript_in_the_widget(app, users, visitor, mailbox, client):
    _reply(app, visitor, "Here is the answer", "a1")
    _reply(app, visitor, "Note: VIP", "n1", internal=True)
    answer = client.post("/widget/api/transcript", json={"visitor_token": visitor.token},
                         headers={"Origin": OWN_ORIGIN})
    assert answer.status_code == 200 and answer.get_json() == {"ok": True, "email": "mei@example.com"}
    with app.app_context():
        assert outbox.run_due() == 1  # the transcript (the replies' e-mail waits for its delay)
    [message] = mailbox.wait_for(1)
    text = _plain(message)
    assert "Here is the answer" in text and "VIP" not in text  # a staff note never leaves


def test_asking_for_a_transcript_without_an_address_or_token_is_refused(app, users, site_key, client):
    anonymous = start_visitor(app, site_key)
    _visitor_writes(app, anonymous)
    answer = client.post("/widget/api/transcript", json={"visitor_token": anonymous.token})
    assert answer.status_code == 400 and "e-mail address first" in answer.get_json()["message"]
    assert client.post("/widget/api/transcript", json={"visitor_token": "forged"}).status_code == 401
    assert client.post("/widget/api/transcript", data="x").status_code == 400


@pytest.mark.config(TRANSCRIPT_RATE_LIMIT="2 per hour")
def test_transcripts_on_request_are_limited(app, users, visitor, client):
    for _ in range(2):
        assert client.post("/widget/api/transcript", json={"visitor_token": visitor.token}).status_code == 200
    refused = client.post("/widget/api/transcript", json={"visitor_token": visitor.token})
    assert refused.status_code == 429 and "Wait" in refused.get_json()["message"]


def test_a_message_while_no_agent_is_online_e_mails_the_sites_agents(app, users, site_key, mailbox):
    with app.app_context():
        _user("staff").email = "desk@shop.example"
        _user("admin").email = "boss@shop.example"
        _user("alice").email = "alice@school.example"  # a member, not an agent
        db.session.commit()
    visitor = start_visitor(app, site_key, name="Mei")
    _visitor_writes(app, visitor, "Anyone there?", "v1")
    _visitor_writes(app, visitor, "Hello??", "v2")
    with app.app_context():
        assert _pending("agent_notice") == 1  # a burst: one job
    _run(app)
    messages = mailbox.wait_for(2)
    assert sorted(str(m["To"]) for m in messages) == ["Admin <boss@shop.example>", "Staff <desk@shop.example>"]
    text = _plain(messages[0])
    assert "Anyone there?" in text and "Hello??" in text and "/support?c=" in text
    assert len({m["Message-ID"] for m in messages}) == 2


def test_no_notice_when_an_agent_answered_before_it_was_due(app, users, site_key, mailbox):
    with app.app_context():
        _user("staff").email = "desk@shop.example"
        db.session.commit()
    visitor = start_visitor(app, site_key)
    _visitor_writes(app, visitor, "Anyone there?", "v1")
    _reply(app, visitor, "Yes! Sorry for the wait.", "a1")
    with app.app_context():
        _due_now()
        db.session.execute(update(OutboxJob).where(OutboxJob.kind == "visitor_replies").values(state="sent"))
        db.session.commit()
        assert outbox.run_due() == 1
    assert mailbox.wait_for(1, timeout=0.5) == []


def test_a_retried_job_sends_the_same_replies_under_the_same_message_id(app, users, visitor, mailbox):
    """A worker killed after sending but before recording it: the next try repeats exactly that e-mail."""
    _reply(app, visitor, "Answer one", "a1")
    with app.app_context():
        _due_now()
        job, token = outbox.claim()
        from chatapp.services.mail_jobs import send_visitor_replies

        send_visitor_replies(job)  # sent; then the worker "dies" before recording it
    _reply(app, visitor, "Answer two, after the first try", "a2")
    with app.app_context():
        db.session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(
            lease_until=utcnow(), run_after=utcnow()))
        db.session.commit()
        _due_now()
        outbox.run_due()
    messages = mailbox.wait_for(3)
    ids = [m["Message-ID"] for m in messages]
    assert len(messages) == 3 and ids[0] == ids[1] != ids[2]  # the repeat carries the first's id
    assert _plain(messages[0]) == _plain(messages[1])
    assert "Answer two" in _plain(messages[2]) and "Answer one" not in _plain(messages[2])
