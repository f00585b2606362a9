"""The outbox on PostgreSQL: coalescing by ON CONFLICT, and workers racing for jobs never holding the same one."""
from __future__ import annotations

import threading

import pytest

from chatapp import create_app
from chatapp.extensions import db
from chatapp.models import OutboxJob
from chatapp.services import outbox
from harness.processes import Postgres, find_binary, flask_cli

from .conftest import require

pytestmark = pytest.mark.cluster

CLAIMED: list[tuple[int, str]] = []  # (job id, worker thread name) per send
CLAIMED_LOCK = threading.Lock()


@outbox.handler("test.pg")
def _record(job: OutboxJob) -> None:
    with CLAIMED_LOCK:
        CLAIMED.append((job.id, threading.current_thread().name))


@pytest.fixture(scope="module")
def pg_app(tmp_path_factory):
    require([name for name in ("initdb", "postgres") if find_binary(name) is None])
    server = Postgres(tmp_path_factory.mktemp("outbox-pg"))
    server.start()
    try:
        flask_cli(["db", "upgrade"], {"DATABASE_URL": server.url})
        app = create_app({
            "TESTING": True, "SQLALCHEMY_DATABASE_URI": server.url, "SECRET_KEY": "outbox-pg-tests",
            "SOCKETIO_ASYNC_MODE": "threading", "OUTBOX_WORKER": False,
        })
        yield app
        with app.app_context():
            db.session.remove()
            db.engine.dispose()
    finally:
        server.stop()


def _clear(app) -> None:
    with app.app_context():
        db.session.execute(db.delete(OutboxJob))
        db.session.commit()
    CLAIMED.clear()


def test_a_waiting_job_takes_later_ones_with_its_key_on_postgresql(pg_app):
    _clear(pg_app)
    with pg_app.app_context():
        outbox.enqueue("test.pg", {"n": 1}, coalesce="conversation:9")
        db.session.commit()
        outbox.enqueue("test.pg", {"n": 2}, coalesce="conversation:9")
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 1
        assert outbox.run_due() == 1
        outbox.enqueue("test.pg", {"n": 3}, coalesce="conversation:9")
        db.session.commit()
        assert db.session.scalar(db.select(db.func.count()).select_from(OutboxJob)) == 2


def test_eight_workers_racing_on_postgresql_send_every_job_once(pg_app):
    _clear(pg_app)
    with pg_app.app_context():
        for index in range(120):
            outbox.enqueue("test.pg", {"n": index})
        db.session.commit()
    start = threading.Barrier(8)

    def worker() -> None:
        start.wait(timeout=10)
        with pg_app.app_context():
            outbox.run_due(limit=200)
            db.session.remove()

    threads = [threading.Thread(target=worker, name=f"w{index}") for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    ids = [job_id for job_id, _ in CLAIMED]
    assert len(ids) == 120 and len(set(ids)) == 120  # every job sent, none twice
    assert len({name for _, name in CLAIMED}) > 1  # they did race: more than one worker sent
    with pg_app.app_context():
        states = db.session.scalars(db.select(OutboxJob.state).distinct()).all()
        assert states == ["sent"]
