"""Webhooks (services/webhooks.py): signed calls to a real receiver on 127.0.0.1 (harness/receiver.py)."""
from __future__ import annotations

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import OutboxJob, User, Webhook, WebhookDelivery, utcnow
from chatapp.services import messages, outbox, rooms, support, webhooks
from chatapp.services.errors import ServiceError
from harness.forms import csrf_token_from
from harness.receiver import WebhookReceiver

from .support_fixtures import start_visitor


@pytest.fixture
def receiver(app):
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = True  # the receiver is on 127.0.0.1
    found = WebhookReceiver()
    yield found
    found.close()


def _user(username: str) -> User:
    return db.session.scalar(db.select(User).filter_by(username=username))


def _register(app, receiver, events, site_id=None) -> int:
    with app.app_context():
        hook = webhooks.create_webhook(actor=_user("admin"), url=receiver.url, events=events, site_id=site_id)
        receiver.secret = hook.secret.encode()
        return hook.id


def _due_now() -> None:
    db.session.execute(update(OutboxJob).where(OutboxJob.state == "pending").values(run_after=utcnow()))
    db.session.commit()


def test_a_message_is_called_once_signed_as_the_docs_say(app, users, receiver):
    _register(app, receiver, ["message.created"])
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        sent = messages.post_message(sender=_user("alice"), room=room, body="Hello **hooks**", client_id="c1")
        sent_id = sent.message.id
        assert outbox.run_due() == 1
    [event] = receiver.events
    assert event["type"] == "message.created" and event["data"]["id"] == sent_id
    assert event["data"]["body"] == "Hello **hooks**" and event["data"]["room"] == "maths"
    [call] = receiver.calls
    headers = call["headers"]
    assert headers["Webhook-Id"] == headers["Idempotency-Key"] == event["id"]
    assert headers["Content-Type"] == "application/json"


def test_a_replayed_or_altered_call_fails_the_receivers_check(app, users, receiver):
    _register(app, receiver, ["message.created"])
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="original", client_id="c1")
        outbox.run_due()
    [call] = receiver.calls
    assert receiver.verify(call["headers"], call["body"])  # the call as sent passes
    assert not receiver.verify(call["headers"], call["body"].replace(b"original", b"tampered"))
    replayed = {**call["headers"], "Webhook-Timestamp": str(int(call["headers"]["Webhook-Timestamp"]) - 3600)}
    assert not receiver.verify(replayed, call["body"])  # the same call an hour later
    receiver.secret = b"another secret"
    assert not receiver.verify(call["headers"], call["body"])


def test_a_failing_receiver_gets_the_same_event_id_on_each_try_and_the_log_shows_them(app, users, receiver):
    hook_id = _register(app, receiver, ["message.created"])
    receiver.answers = [500, 503]
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="third time lucky", client_id="c1")
        for _ in range(3):
            _due_now()
            outbox.run_one()
        assert len(receiver.events) == 1
        ids = {call["headers"]["Webhook-Id"] for call in receiver.calls}
        assert len(receiver.calls) == 3 and len(ids) == 1
        signatures = {call["headers"]["Webhook-Signature"] for call in receiver.calls}
        assert len(signatures) >= 1
        log = db.session.scalars(db.select(WebhookDelivery).filter_by(webhook_id=hook_id)
                                 .order_by(WebhookDelivery.id)).all()
        tries = [(row.attempt, row.ok, row.status_code) for row in log]
        assert tries == [(1, False, 500), (2, False, 503), (3, True, 200)]
        assert all(row.duration_ms >= 0 for row in log)


def test_410_gone_turns_the_webhook_off_at_once(app, users, receiver):
    hook_id = _register(app, receiver, ["message.created"])
    receiver.answers = [410]
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="anyone?", client_id="c1")
        assert outbox.run_one() == "failed"
        hook = db.session.get(Webhook, hook_id)
        assert hook.enabled is False and "410" in hook.disabled_reason
        messages.post_message(sender=_user("alice"), room=room, body="after", client_id="c2")
        assert outbox.run_due() == 0  # a webhook that is off is not called


@pytest.mark.config(WEBHOOK_DISABLE_AFTER=2, OUTBOX_MAX_ATTEMPTS=1)
def test_failing_again_and_again_turns_it_off_and_e_mails_its_admin(app, users, receiver, mailbox):
    with app.app_context():
        _user("admin").email = "admin@school.example"
        db.session.commit()
    hook_id = _register(app, receiver, ["message.created"])
    receiver.answers = [500, 500]
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        for index in range(2):
            messages.post_message(sender=_user("alice"), room=room, body=f"m{index}", client_id=f"c{index}")
            assert outbox.run_one() == "failed"
        hook = db.session.get(Webhook, hook_id)
        assert hook.enabled is False and hook.consecutive_failures == 2
        assert outbox.run_due() == 1  # the e-mail to its admin
    [mail] = mailbox.wait_for(1)
    assert "admin@school.example" in str(mail["To"]) and receiver.url in str(mail["Subject"])
    assert f"/admin/webhooks/{hook_id}" in mail.get_body(("plain",)).get_content()


def test_a_success_starts_the_failure_count_again(app, users, receiver):
    hook_id = _register(app, receiver, ["message.created"])
    with app.app_context():
        db.session.get(Webhook, hook_id).consecutive_failures = 3
        db.session.commit()
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="fine", client_id="c1")
        outbox.run_due()
        assert db.session.get(Webhook, hook_id).consecutive_failures == 0


def test_a_redirect_is_not_followed(app, users, receiver):
    _register(app, receiver, ["message.created"])
    receiver.answers = [302]
    receiver.redirect_to = "http://169.254.169.254/latest/meta-data/"
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="x", client_id="c1")
        assert outbox.run_one() == "pending"
        [row] = db.session.scalars(db.select(WebhookDelivery)).all()
        assert row.status_code == 302 and "not followed" in row.error
    assert len(receiver.calls) == 1  # nothing went to the redirect's target


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8080/hook", "http://localhost/hook", "http://10.1.2.3/", "http://192.168.0.10/",
    "http://169.254.169.254/latest/meta-data/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/",
    "http://100.64.0.1/",
])
def test_private_loopback_and_link_local_addresses_are_refused_by_default(app, users, url):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            webhooks.create_webhook(actor=_user("admin"), url=url, events=["message.created"])
        assert refused.value.code == "invalid" and "private" in refused.value.message


@pytest.mark.parametrize("url,words", [
    ("ftp://example.com/", "http"), ("file:///etc/passwd", "http"), ("https://user:pw@example.com/", "password"),
    ("", "URL"), ("not a url", "http"),
])
def test_bad_urls_are_refused_with_what_to_do(app, users, url, words):
    with app.app_context():
        with pytest.raises(ServiceError) as refused:
            webhooks.create_webhook(actor=_user("admin"), url=url, events=["message.created"])
        assert words in refused.value.message


def test_an_address_that_turned_private_is_refused_at_delivery(app, users, receiver):
    hook_id = _register(app, receiver, ["message.created"])
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False  # as if the name now resolved to 127.0.0.1
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="x", client_id="c1")
        assert outbox.run_one() == "failed"
        [row] = db.session.scalars(db.select(WebhookDelivery).filter_by(webhook_id=hook_id)).all()
        assert row.status_code is None and "private" in row.error
    assert receiver.calls == []


def test_no_job_when_no_webhook_wants_the_event_and_notes_are_never_sent(app, users, receiver, site_key):
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="nobody listens", client_id="c0")
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 0
    _register(app, receiver, ["conversation.resolved"])
    visitor = start_visitor(app, site_key)
    with app.app_context():
        support_room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=_user("staff"), room=support_room, body="note", client_id="n1",
                                     internal=True)
        messages.post_message(sender=_user("alice"), room=room, body="still nobody", client_id="c1")
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 0


def test_conversation_events_reach_a_site_webhook(app, users, receiver, site_key):
    from chatapp.models import Site

    with app.app_context():
        site_id = db.session.scalar(db.select(Site.id).filter_by(site_key=site_key))
    _register(app, receiver, ["conversation.created", "conversation.assigned", "conversation.resolved",
                              "conversation.rated", "message.created"], site_id=site_id)
    visitor = start_visitor(app, site_key)
    with app.app_context():
        visitor_user = db.session.get(User, visitor.id)
        room = rooms.get_room(visitor.room)
        support.post_to_conversation(sender=visitor_user, room=room, body="help", client_id="v1")
        conversation = support.get_conversation(room=room)
        support.claim(agent=_user("staff"), conversation=conversation)
        support.set_status(agent=_user("staff"), conversation=conversation, status="resolved")
        support.rate(visitor=db.session.get(User, visitor.id), conversation=conversation, rating=5)
        outbox.run_due()
    assert receiver.types() == ["conversation.created", "message.created", "conversation.assigned",
                                "conversation.resolved", "conversation.rated"]
    rated = receiver.events[-1]["data"]
    assert rated["rating"] == 5 and rated["site"]["id"] == site_id and rated["assignee"]["username"] == "staff"
    assert receiver.events[1]["data"]["conversation_id"] == rated["id"]


def test_a_site_webhook_hears_nothing_of_other_sites_or_rooms(app, users, receiver, site_key, other_site_key):
    from chatapp.models import Site

    with app.app_context():
        site_id = db.session.scalar(db.select(Site.id).filter_by(site_key=site_key))
    _register(app, receiver, ["conversation.created", "message.created"], site_id=site_id)
    start_visitor(app, other_site_key)
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="not the site's", client_id="c1")
        assert outbox.run_due() == 0
    assert receiver.calls == []


def test_a_member_joining_a_class_is_told(app, users, receiver):
    _register(app, receiver, ["class.member_joined"])
    with app.app_context():
        room = rooms.create_room(slug="class-7b", name="Class 7B", private=True, creator=_user("staff"))
        rooms.join_by_code(user=_user("alice"), code=room.join_code)
        rooms.join_by_code(user=_user("alice"), code=room.join_code)  # already in: no second event
        outbox.run_due()
    [event] = receiver.events
    assert event["type"] == "class.member_joined" and event["data"]["room"] == "class-7b"
    assert event["data"]["user"]["username"] == "alice"


def test_another_process_sees_a_new_webhook_within_the_cache_time(app, users, receiver):
    app.config["WEBHOOK_CACHE_SECONDS"] = 60
    with app.app_context():
        room = rooms.create_room(slug="maths", name="Maths", creator=None)
        messages.post_message(sender=_user("alice"), room=room, body="before", client_id="c0")  # caches "none"
        # Another process registers one: this process has not been told.
        db.session.add(Webhook(url=receiver.url, secret="s" * 64, events=["message.created"]))
        db.session.commit()
        messages.post_message(sender=_user("alice"), room=room, body="cached", client_id="c1")
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 0
        webhooks.forget_cached()  # the cache time ran out
        messages.post_message(sender=_user("alice"), room=room, body="seen", client_id="c2")
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 1


def test_only_admins_manage_webhooks(app, users, client, auth, receiver):
    hook_id = _register(app, receiver, ["message.created"])
    with app.app_context():
        for username in ("staff", "alice"):
            with pytest.raises(ServiceError) as refused:
                webhooks.create_webhook(actor=_user(username), url=receiver.url, events=["message.created"])
            assert refused.value.code == "forbidden"
    for username in ("staff", "alice"):
        auth.login(username)
        assert client.get("/admin/webhooks").status_code == 403
        assert client.get(f"/admin/webhooks/{hook_id}").status_code == 403
        assert client.post(f"/admin/webhooks/{hook_id}/delete").status_code in (400, 403)
        auth.logout()
    with app.app_context():
        assert db.session.get(Webhook, hook_id) is not None


def test_an_admin_registers_pings_and_reads_the_log_on_the_pages(app, users, client, auth, receiver):
    auth.login("admin")
    page = client.get("/admin/webhooks").get_data(as_text=True)
    token = csrf_token_from(page)
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = False  # the default; the receiver below needs it on
    refused = client.post("/admin/webhooks", data={
        "csrf_token": token, "new-url": "http://10.0.0.5/hook", "new-site_id": "0", "new-events": ["message.created"],
    })
    refused_page = refused.get_data(as_text=True)
    assert refused.status_code == 400 and "private" in refused_page and "http://10.0.0.5/hook" in refused_page
    app.config["WEBHOOK_ALLOW_PRIVATE_ADDRESSES"] = True
    no_events = client.post("/admin/webhooks", data={"csrf_token": token, "new-url": receiver.url, "new-site_id": "0"})
    assert no_events.status_code == 400 and "Choose at least one event" in no_events.get_data(as_text=True)
    made = client.post("/admin/webhooks", data={
        "csrf_token": token, "new-url": receiver.url, "new-site_id": "0", "new-events": ["message.created"],
    })
    assert made.status_code == 302
    with app.app_context():
        hook = db.session.scalar(db.select(Webhook))
        receiver.secret = hook.secret.encode()
        hook_id = hook.id
    hook_page = client.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    assert receiver.secret.decode() in hook_page
    client.post(f"/admin/webhooks/{hook_id}/ping", data={"csrf_token": token})
    with app.app_context():
        outbox.run_due()
    assert receiver.types() == ["ping"]
    log_page = client.get(f"/admin/webhooks/{hook_id}").get_data(as_text=True)
    assert "delivered" in log_page and 'data-ok="true"' in log_page
    client.post(f"/admin/webhooks/{hook_id}/rotate", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Webhook, hook_id).secret != receiver.secret.decode()
    client.post(f"/admin/webhooks/{hook_id}/disable", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Webhook, hook_id).enabled is False
    client.post(f"/admin/webhooks/{hook_id}/delete", data={"csrf_token": token})
    with app.app_context():
        assert db.session.get(Webhook, hook_id) is None
