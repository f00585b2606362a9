"""The outbox: whatever leaves the server (e-mail, webhooks) is a job stored with the change that causes it.

`enqueue` adds the job to the caller's session, so the caller's own COMMIT stores the change
and the job together or neither: nobody outside hears of anything that is not stored, and
nothing stored is forgotten if the process dies right after the COMMIT. Workers (chatapp/worker.py)
send the jobs afterwards:

- A worker takes one due job with one conditional UPDATE (pending and due, or sending with its
  lease run out) that sets its lease; on PostgreSQL the second of two racing UPDATEs re-reads
  the row and finds it taken, on SQLite writes are serialized: two workers, in one process or
  several, never hold the same job.
- A worker killed while sending leaves the job "sending"; once its lease has run out another
  takes it up again. That try may repeat a send the receiver already got: every try of a job
  carries the same event_id (the e-mail's Message-ID, the webhook's event id), by which the
  receiver drops the repeat.
- A failed try comes back after an exponential backoff with jitter; past the kind's most tries
  (or at once, for `Permanent`) the job is marked failed, and admins see it with "retry now"
  (/admin/deliveries).

Each kind of job has one handler, registered with `@handler(kind)` by the module that knows how
to send it (services/mail_jobs.py, services/webhooks.py); chatapp/worker.py imports them.
"""
from __future__ import annotations

import logging
import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import and_, or_, update
from sqlalchemy.dialects import postgresql, sqlite

from ..extensions import db
from ..models import OutboxJob, utcnow
from .errors import ServiceError
from .rows import rows_changed

log = logging.getLogger(__name__)

# How long an error kept on a job may be (a receiver's whole error page is not wanted).
MAX_ERROR_LENGTH = 500
# The most jobs the deliveries page lists at once.
LIST_LIMIT = 200


class Permanent(Exception):
    """A failure that no retry can mend (a refused address, a receiver that is gone): the job fails now."""


@dataclass(frozen=True)
class Kind:
    """How one kind of job is sent, how often it is tried, and what happens when it fails for good."""

    send: Callable[[OutboxJob], None]
    max_attempts: int | None
    on_failed: Callable[[OutboxJob], None] | None
    title: Any  # what admins read on the deliveries page (a lazy translation), or None: the kind's name


_KINDS: dict[str, Kind] = {}


def handler(
    kind: str, *, max_attempts: int | None = None, on_failed: Callable[[OutboxJob], None] | None = None,
    title: Any = None,
) -> Callable[[Callable[[OutboxJob], None]], Callable[[OutboxJob], None]]:
    """Register the function that sends jobs of `kind`: it returns when sent, raises to be tried again.

    It gets the job detached from any session (id, kind, payload, event_id, attempts, subject)
    and runs in an app context with no transaction of the outbox's open: it may read and commit
    what it needs. `on_failed(job)` runs once the job is marked failed (it commits itself).
    """
    def register(send: Callable[[OutboxJob], None]) -> Callable[[OutboxJob], None]:
        _KINDS[kind] = Kind(send=send, max_attempts=max_attempts, on_failed=on_failed, title=title)
        return send

    return register


def enqueue(
    kind: str, payload: dict[str, Any], *, run_at: datetime | None = None, coalesce: str | None = None,
    subject: str | None = None,
) -> None:
    """Add a job to the session, uncommitted: the caller's COMMIT stores it with the change that caused it.

    `run_at`: not before then (naive UTC). `coalesce`: while a job with this key still waits
    (no worker has taken it yet), another with the same key is not added; the waiting one does
    the work of both (its handler reads what is there when it runs). `subject`: what the job is
    for ("webhook:12"), to list one target's jobs.
    """
    now = utcnow()
    values = {
        "kind": kind, "payload": payload, "event_id": uuid.uuid4().hex, "state": "pending", "attempts": 0,
        "run_after": run_at or now, "coalesce_key": coalesce, "subject": subject, "created_at": now,
    }
    if coalesce is None:
        db.session.add(OutboxJob(**values))
        return
    # INSERT ... ON CONFLICT DO NOTHING on the unique key: no read-then-insert race across processes.
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(insert(OutboxJob).values(**values).on_conflict_do_nothing(index_elements=["coalesce_key"]))


def _due(now: datetime):
    return or_(
        and_(OutboxJob.state == "pending", OutboxJob.run_after <= now),
        and_(OutboxJob.state == "sending", OutboxJob.lease_until <= now),
    )


def claim() -> tuple[OutboxJob, str] | None:
    """Take the oldest due job with a lease, committed; return it (detached) and the lease's token, or None."""
    config = current_app.config
    for _try in range(5):  # another worker may take the one we saw first: look again
        now = utcnow()
        job_id = db.session.scalar(
            db.select(OutboxJob.id).where(_due(now)).order_by(OutboxJob.run_after, OutboxJob.id).limit(1)
        )
        if job_id is None:
            db.session.rollback()
            return None
        token = uuid.uuid4().hex
        taken = rows_changed(
            update(OutboxJob).where(OutboxJob.id == job_id, _due(now)).values(
                state="sending", lease_token=token, attempts=OutboxJob.attempts + 1,
                lease_until=now + timedelta(seconds=config["OUTBOX_LEASE_SECONDS"]),
                # Taken: a new change makes a new job (the next e-mail of a conversation).
                coalesce_key=None,
            )
        )
        db.session.commit()
        if taken == 1:
            # A copy in no session: the handler's commits and rollbacks never expire or detach it.
            row = db.session.execute(db.select(*OutboxJob.__table__.c).where(OutboxJob.id == job_id)).mappings().one()
            db.session.rollback()
            return OutboxJob(**row), token
    return None


def backoff_seconds(attempts: int) -> float:
    """How long to wait after the `attempts`-th failed try: doubling from OUTBOX_BACKOFF_SECONDS, with jitter.

    "Equal jitter": half the doubled delay is kept, the other half is random, so retries of many
    jobs that failed together (a receiver down) spread out instead of coming back at once.
    """
    config = current_app.config
    ceiling = min(config["OUTBOX_BACKOFF_MAX_SECONDS"], config["OUTBOX_BACKOFF_SECONDS"] * 2 ** (attempts - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


def _max_attempts(kind: Kind | None) -> int:
    if kind is not None and kind.max_attempts is not None:
        return kind.max_attempts
    return int(current_app.config["OUTBOX_MAX_ATTEMPTS"])


def _finish(job: OutboxJob, token: str, error: BaseException | None, kind: Kind | None) -> str:
    """Record a try's outcome, if this worker still holds the lease; return the job's new state."""
    now = utcnow()
    mine = and_(OutboxJob.id == job.id, OutboxJob.lease_token == token, OutboxJob.state == "sending")
    if error is None:
        values: dict[str, Any] = {"state": "sent", "finished_at": now, "lease_until": None, "last_error": None}
    else:
        text = (str(error) or type(error).__name__)[:MAX_ERROR_LENGTH]
        if isinstance(error, Permanent) or job.attempts >= _max_attempts(kind):
            values = {"state": "failed", "finished_at": now, "lease_until": None, "last_error": text}
        else:
            values = {
                "state": "pending", "lease_until": None, "last_error": text,
                "run_after": now + timedelta(seconds=backoff_seconds(job.attempts)),
            }
    changed = rows_changed(update(OutboxJob).where(mine).values(**values))
    db.session.commit()
    if changed != 1:
        # Our lease ran out while sending and another worker has the job: its outcome counts.
        log.warning("outbox job %s (%s): lease lost before its outcome was recorded", job.id, job.kind)
        return "lost"
    if values["state"] == "failed":
        log.error("outbox job %s (%s) failed for good after %s tries: %s", job.id, job.kind, job.attempts,
                  values["last_error"])
        if kind is not None and kind.on_failed is not None:
            job.state, job.last_error = "failed", values["last_error"]
            try:
                kind.on_failed(job)
            except Exception:  # noqa: BLE001 - telling someone failed; the job's state stands
                db.session.rollback()
                log.exception("outbox job %s: on_failed raised", job.id)
    return str(values["state"])


def run_one() -> str | None:
    """Send one due job; return its new state ("sent", "pending", "failed", "lost"), or None if none is due."""
    claimed = claim()
    if claimed is None:
        return None
    job, token = claimed
    kind = _KINDS.get(job.kind)
    error: BaseException | None = None
    try:
        if kind is None:
            raise Permanent(f"no handler for jobs of kind {job.kind!r}")
        kind.send(job)
    except Exception as caught:  # noqa: BLE001 - any failure of a send is recorded on its job and retried
        error = caught
        log.warning("outbox job %s (%s) try %s failed: %s", job.id, job.kind, job.attempts, caught)
    finally:
        db.session.rollback()  # whatever the handler left uncommitted is not part of the outcome
    return _finish(job, token, error, kind)


def run_due(limit: int = 100) -> int:
    """Send the jobs due now in this thread, at most `limit` tries; return how many were tried.

    The worker's loop, once; tests call it instead of waiting for a worker.
    """
    tried = 0
    while tried < limit and run_one() is not None:
        tried += 1
    return tried


# The deliveries page (admins): what waits, what failed, and "retry now".

def ensure_admin(actor: Any) -> None:
    """Only admins see and retry deliveries: they carry visitors' addresses and webhooks' targets."""
    if not getattr(actor, "is_admin", False):
        raise ServiceError("forbidden", _("Only admins can see deliveries."))


def check_state_filter(state: object) -> str | None:
    """The deliveries page's filter: one state, or None for every waiting and failed job."""
    if state in (None, ""):
        return None
    if state not in ("pending", "sending", "sent", "failed"):
        raise ServiceError("invalid", _("Choose a state from the list."))
    return str(state)


def list_jobs(*, actor: Any, state: object = None, subject: str | None = None) -> list[OutboxJob]:
    """Jobs for the deliveries page, newest first: by default those waiting, being sent, or failed."""
    ensure_admin(actor)
    wanted = check_state_filter(state)
    query = db.select(OutboxJob)
    if wanted is None:
        query = query.where(OutboxJob.state.in_(("pending", "sending", "failed")))
    else:
        query = query.where(OutboxJob.state == wanted)
    if subject is not None:
        query = query.where(OutboxJob.subject == subject)
    return list(db.session.scalars(query.order_by(OutboxJob.id.desc()).limit(LIST_LIMIT)))


def kind_title(kind: str) -> str:
    """What a kind of job is called on the deliveries page, in the reader's language."""
    known = _KINDS.get(kind)
    return str(known.title) if known is not None and known.title is not None else kind


def counts(*, actor: Any) -> dict[str, int]:
    """How many jobs are in each state."""
    ensure_admin(actor)
    rows = db.session.execute(db.select(OutboxJob.state, db.func.count()).group_by(OutboxJob.state)).all()
    found = {state: 0 for state in ("pending", "sending", "sent", "failed")}
    found.update({state: int(count) for state, count in rows})
    return found


def retry_now(*, actor: Any, job_id: object) -> OutboxJob:
    """Make a waiting or failed job due now; a failed one gets its full number of tries again."""
    ensure_admin(actor)
    job = db.session.get(OutboxJob, job_id) if isinstance(job_id, int) else None
    if job is None:
        raise ServiceError("not_found", _("That delivery does not exist (any more)."))
    if job.state not in ("pending", "failed"):
        raise ServiceError("conflict", _("That delivery is being sent or was sent already; nothing to retry."))
    changed = rows_changed(
        update(OutboxJob).where(OutboxJob.id == job.id, OutboxJob.state.in_(("pending", "failed"))).values(
            state="pending", run_after=utcnow(), finished_at=None,
            attempts=db.case((OutboxJob.state == "failed", 0), else_=OutboxJob.attempts),
        )
    )
    db.session.commit()
    if changed != 1:
        raise ServiceError("conflict", _("That delivery is being sent or was sent already; nothing to retry."))
    db.session.refresh(job)
    return job
