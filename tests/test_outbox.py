"""The outbox (services/outbox.py): jobs stored with their change, leased, retried, failed, retried by admins."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import update

from chatapp.extensions import db
from chatapp.models import OutboxJob, User, utcnow
from chatapp.services import outbox
from chatapp.services.errors import ServiceError
from chatapp.worker import run_forever

SENT: list[tuple[str, int]] = []  # (event_id, attempts) per successful send, in the order they happened
FAIL_FIRST: dict[str, int] = {}  # payload["name"] -> tries that fail before one succeeds
FAILED: list[int] = []  # job ids handed to on_failed


@outbox.handler("test.echo", max_attempts=3, on_failed=lambda job: FAILED.append(job.id))
def _echo(job: OutboxJob) -> None:
    name = job.payload["name"]
    if FAIL_FIRST.get(name, 0) >= job.attempts:
        raise RuntimeError(f"receiver down for {name}")
    if job.payload.get("permanent"):
        raise outbox.Permanent("the address is gone")
    SENT.append((job.event_id, job.attempts))


@pytest.fixture(autouse=True)
def _reset():
    SENT.clear()
    FAIL_FIRST.clear()
    FAILED.clear()


def _jobs() -> list[OutboxJob]:
    return list(db.session.scalars(db.select(OutboxJob).order_by(OutboxJob.id)))


def _make_due(job_id: int) -> None:
    """Skip the backoff wait of a job (as the clock would)."""
    db.session.execute(update(OutboxJob).where(OutboxJob.id == job_id).values(run_after=utcnow()))
    db.session.commit()


def test_a_job_is_stored_only_with_the_commit_of_its_change(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "rolled back"})
        db.session.rollback()
        assert _jobs() == []
        outbox.enqueue("test.echo", {"name": "kept"})
        db.session.commit()
        assert [job.payload["name"] for job in _jobs()] == ["kept"]


def test_a_due_job_is_sent_once_and_marked_sent(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "a"})
        db.session.commit()
        assert outbox.run_due() == 1
        assert outbox.run_due() == 0  # nothing left: a sent job is never sent again
        [job] = _jobs()
        assert job.state == "sent" and job.attempts == 1 and job.finished_at is not None
        assert SENT == [(job.event_id, 1)]


def test_a_job_asked_for_later_waits_until_then(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "later"}, run_at=utcnow() + timedelta(minutes=5))
        db.session.commit()
        assert outbox.run_due() == 0 and SENT == []


def test_a_failed_try_comes_back_after_its_backoff_with_the_same_event_id(app):
    with app.app_context():
        FAIL_FIRST["flaky"] = 2
        outbox.enqueue("test.echo", {"name": "flaky"})
        db.session.commit()
        assert outbox.run_one() == "pending"
        [job] = _jobs()
        assert job.state == "pending" and job.run_after > utcnow() - timedelta(seconds=1)
        assert "receiver down" in job.last_error
        assert outbox.run_one() is None  # not due yet: the backoff holds it
        _make_due(job.id)
        assert outbox.run_one() == "pending"
        _make_due(job.id)
        assert outbox.run_one() == "sent"
        db.session.refresh(job)
        assert job.attempts == 3 and job.last_error is None
        assert SENT == [(job.event_id, 3)]


def test_the_backoff_doubles_with_jitter_up_to_its_ceiling(app):
    with app.app_context():
        app.config.update(OUTBOX_BACKOFF_SECONDS=10, OUTBOX_BACKOFF_MAX_SECONDS=60)
        for attempts, ceiling in [(1, 10), (2, 20), (3, 40), (4, 60), (9, 60)]:
            waits = [outbox.backoff_seconds(attempts) for _ in range(50)]
            assert all(ceiling / 2 <= wait <= ceiling for wait in waits)
            assert len(set(waits)) > 1  # jittered: jobs that failed together do not come back together


def test_past_its_tries_a_job_fails_and_its_kind_is_told(app):
    with app.app_context():
        FAIL_FIRST["dead"] = 99
        outbox.enqueue("test.echo", {"name": "dead"})
        db.session.commit()
        [job] = _jobs()
        states = []
        for _ in range(3):
            _make_due(job.id)
            states.append(outbox.run_one())
        assert states == ["pending", "pending", "failed"]
        db.session.refresh(job)
        assert job.state == "failed" and job.attempts == 3 and FAILED == [job.id]
        _make_due(job.id)
        assert outbox.run_one() is None  # a failed job waits for an admin


def test_a_permanent_failure_fails_at_once(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "gone", "permanent": True})
        db.session.commit()
        assert outbox.run_one() == "failed"
        [job] = _jobs()
        assert job.attempts == 1 and job.last_error == "the address is gone"


def test_a_job_of_a_kind_nobody_handles_fails_with_a_reason(app):
    with app.app_context():
        outbox.enqueue("test.nobody", {})
        db.session.commit()
        assert outbox.run_one() == "failed"
        assert "no handler" in _jobs()[0].last_error


def test_a_waiting_job_takes_the_work_of_later_ones_with_its_key_until_a_worker_takes_it(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "first"}, coalesce="conversation:1", run_at=utcnow())
        outbox.enqueue("test.echo", {"name": "second"}, coalesce="conversation:1")
        db.session.commit()
        outbox.enqueue("test.echo", {"name": "third"}, coalesce="conversation:1")
        outbox.enqueue("test.echo", {"name": "other"}, coalesce="conversation:2")
        db.session.commit()
        assert [job.payload["name"] for job in _jobs()] == ["first", "other"]
        assert outbox.run_due() == 2
        # Taken and sent: the key is free, and the next change makes a new job.
        outbox.enqueue("test.echo", {"name": "fourth"}, coalesce="conversation:1")
        db.session.commit()
        assert [job.payload["name"] for job in _jobs()] == ["first", "other", "fourth"]


def test_a_job_held_by_a_worker_is_not_taken_by_another_until_its_lease_runs_out(app):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "held"})
        db.session.commit()
        first = outbox.claim()
        assert first is not None
        job, token = first
        assert outbox.claim() is None  # the second worker finds nothing: the lease holds it
        # The first worker died while sending; its lease runs out.
        db.session.execute(update(OutboxJob).where(OutboxJob.id == job.id).values(lease_until=utcnow()))
        db.session.commit()
        second = outbox.claim()
        assert second is not None
        again, new_token = second
        assert again.id == job.id and again.event_id == job.event_id and again.attempts == 2
        assert new_token != token
        # The dead worker's late outcome does not count; the live one's does.
        assert outbox._finish(job, token, None, None) == "lost"
        assert outbox._finish(again, new_token, None, None) == "sent"


def test_two_workers_in_threads_send_every_job_once(app, tmp_path):
    with app.app_context():
        for index in range(40):
            outbox.enqueue("test.echo", {"name": f"job {index}"})
        db.session.commit()
        app.config.update(OUTBOX_CONCURRENCY=4, OUTBOX_POLL_SECONDS=0.05)
        stop = threading.Event()
        worker = threading.Thread(target=run_forever, args=(app,), kwargs={"stop": stop})
        worker.start()
        for _ in range(200):  # at most 10 s
            if len(SENT) >= 40:
                break
            stop.wait(0.05)
        stop.set()
        worker.join(timeout=10)
        assert len(SENT) == 40 and len({event_id for event_id, _ in SENT}) == 40
        assert {job.state for job in _jobs()} == {"sent"}


def test_only_admins_list_and_retry_deliveries(app, users):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "gone", "permanent": True})
        db.session.commit()
        outbox.run_due()
        [job] = _jobs()
        for username in ("staff", "alice"):
            someone = db.session.scalar(db.select(User).filter_by(username=username))
            with pytest.raises(ServiceError) as refused:
                outbox.list_jobs(actor=someone)
            assert refused.value.code == "forbidden"
            with pytest.raises(ServiceError):
                outbox.retry_now(actor=someone, job_id=job.id)
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        assert [listed.id for listed in outbox.list_jobs(actor=admin, state="failed")] == [job.id]
        assert outbox.counts(actor=admin)["failed"] == 1
        retried = outbox.retry_now(actor=admin, job_id=job.id)
        assert retried.state == "pending" and retried.attempts == 0
        with pytest.raises(ServiceError) as invalid:
            outbox.list_jobs(actor=admin, state="lost")
        assert invalid.value.code == "invalid"


def test_a_sent_job_cannot_be_retried(app, users):
    with app.app_context():
        outbox.enqueue("test.echo", {"name": "done"})
        db.session.commit()
        outbox.run_due()
        admin = db.session.scalar(db.select(User).filter_by(username="admin"))
        with pytest.raises(ServiceError) as refused:
            outbox.retry_now(actor=admin, job_id=_jobs()[0].id)
        assert refused.value.code == "conflict"
        with pytest.raises(ServiceError) as missing:
            outbox.retry_now(actor=admin, job_id=999)
        assert missing.value.code == "not_found"


def test_the_deliveries_page_lists_failed_jobs_and_retries_them_for_admins_only(app, client, auth, users):
    from harness.forms import csrf_token_from

    with app.app_context():
        outbox.enqueue("test.echo", {"name": "gone", "permanent": True}, subject="webhook:7")
        db.session.commit()
        outbox.run_due()
        job_id = _jobs()[0].id
    for username in ("staff", "alice"):
        auth.login(username)
        assert client.get("/admin/deliveries").status_code == 403
        assert client.post(f"/admin/deliveries/{job_id}/retry").status_code in (400, 403)
        auth.logout()
    assert client.get("/admin/deliveries").status_code == 302  # logged out: to the login page
    auth.login("admin")
    page = client.get("/admin/deliveries?state=failed").get_data(as_text=True)
    assert f'data-job="{job_id}"' in page and "the address is gone" in page and "webhook:7" in page
    assert client.get("/admin/deliveries?state=lost").status_code == 302  # a bad filter: told, and shown all
    token = csrf_token_from(page)
    answer = client.post(f"/admin/deliveries/{job_id}/retry", data={"csrf_token": token}, follow_redirects=True)
    assert answer.status_code == 200 and f"Delivery {job_id} will be sent again" in answer.get_data(as_text=True)
    with app.app_context():
        job = db.session.get(OutboxJob, job_id)
        assert job.state == "pending" and job.attempts == 0
    assert client.post(f"/admin/deliveries/{job_id}/retry", data={}).status_code == 400  # no CSRF token
