"""Exactly once across processes and crashes: 200 messages' webhook calls, workers SIGKILLed while sending.

The cluster (PostgreSQL, Redis, two `python wsgi.py` behind nginx) with its sending done by two
`flask --app wsgi worker` processes; a receiver on 127.0.0.1 that verifies each call's
signature as docs/webhooks.md says, answers slowly (so that kills land mid-send) and fails the
first two tries of every fifth message. Each worker is killed once while sending and started
again. Every message must arrive, under one event id; a repeat of an event id (a try whose
worker died after the receiver had it) is dropped by the receiver, as the docs tell receivers to.
"""
from __future__ import annotations

import time

import pytest

from chatapp import create_app
from chatapp.extensions import db
from chatapp.models import OutboxJob
from chatapp.services import webhooks
from harness.live import logged_in_session
from harness.processes import Cluster, WorkerProcess, missing_binaries
from harness.receiver import WebhookReceiver

from .conftest import PASSWORD, TEST_ENV, USER_AGENT, Client, require

pytestmark = pytest.mark.cluster

MESSAGES = 200
LEASE_SECONDS = 3
RECEIVER_DELAY_SECONDS = 0.08  # per call: with 2 × 2 sending threads, the 200 take several seconds
FAILING_TRIES = 2  # every fifth message's call is refused this many times first


@pytest.fixture(scope="module")
def outbox_cluster(tmp_path_factory):
    require(missing_binaries())
    workdir = tmp_path_factory.mktemp("outbox-cluster")
    env = {
        **TEST_ENV, "OUTBOX_WORKER": "0", "OUTBOX_LEASE_SECONDS": str(LEASE_SECONDS), "OUTBOX_CONCURRENCY": "2",
        "OUTBOX_POLL_SECONDS": "0.2", "OUTBOX_BACKOFF_SECONDS": "0.3", "OUTBOX_BACKOFF_MAX_SECONDS": "1",
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1", "WEBHOOK_TIMEOUT_SECONDS": "5",
    }
    running = Cluster(workdir, processes=2, extra_env=env)
    running.start()
    workers = [WorkerProcess(workdir, f"worker{index + 1}", running.env) for index in range(2)]
    # Every fifth message's call is refused FAILING_TRIES times first.
    receiver = WebhookReceiver(delay=RECEIVER_DELAY_SECONDS, refuse_first=lambda event: (
        FAILING_TRIES if event["type"] == "message.created" and event["data"]["id"] % 5 == 0 else 0))
    app = create_app({
        "TESTING": True, "SQLALCHEMY_DATABASE_URI": running.postgres.url, "SECRET_KEY": running.env["SECRET_KEY"],
        "SOCKETIO_ASYNC_MODE": "threading", "OUTBOX_WORKER": False, "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": True,
    })
    try:
        yield running, workers, receiver, app
    finally:
        receiver.close()
        for worker in workers:
            worker.stop()
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
        running.stop()


def test_every_webhook_call_arrives_once_although_workers_are_killed_while_sending(outbox_cluster):
    running, workers, receiver, app = outbox_cluster
    from chatapp.services import accounts, rooms

    with app.app_context():
        admin = accounts.create_user(username="hookadmin", password=PASSWORD, role="admin", display_name="Admin")
        accounts.create_user(username="writer", password=PASSWORD, role="member", display_name="Writer")
        rooms.create_room(slug="busy", name="Busy", creator=None)
        hook = webhooks.create_webhook(actor=admin, url=receiver.url, events=["message.created"], site_id=None)
        receiver.secret = hook.secret.encode()
        db.session.remove()
    for worker in workers:
        worker.start()

    writer = Client(running.nginx.url, logged_in_session(running.nginx.url, "writer", user_agent=USER_AGENT),
                    transport="websocket", reconnection=False)
    try:
        writer.join("busy")
        sent = [writer.send("busy", f"message {index}", f"fault-{index}")["id"] for index in range(MESSAGES)]
    finally:
        writer.close()

    # Kill each worker once while it sends (it holds jobs then: the receiver is slow), then start it again.
    for worker, threshold in zip(workers, (MESSAGES // 4, MESSAGES // 2), strict=True):
        deadline = time.monotonic() + 60
        while receiver.accepted() < threshold and time.monotonic() < deadline:
            time.sleep(0.05)
        worker.kill()
        time.sleep(0.5)
        worker.start()

    deadline = time.monotonic() + 120
    while receiver.accepted() < MESSAGES and time.monotonic() < deadline:
        time.sleep(0.2)

    assert receiver.rejected == 0
    delivered = sorted(event["data"]["id"] for event in receiver.events)
    assert delivered == sorted(sent), "every message's call arrived, each under exactly one event id"
    failing = [event["id"] for event in receiver.events if event["data"]["id"] % 5 == 0]
    assert failing and all(receiver.tries[event_id] > FAILING_TRIES for event_id in failing)
    with app.app_context():
        states = dict(db.session.execute(
            db.select(OutboxJob.state, db.func.count()).where(OutboxJob.kind == "webhook").group_by(OutboxJob.state)
        ).all())
        assert states == {"sent": MESSAGES}
    print(f"\n{MESSAGES} messages: {receiver.accepted()} delivered, {receiver.repeats} repeats dropped by event id, "
          f"{len(receiver.calls)} calls")
