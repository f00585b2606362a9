"""Group commit: the sends that arrive while one transaction is written share the next one.

One committer per app and process (a background task of the Socket.IO async mode in use).
A send hands it its store step and waits; the committer runs the waiting steps in order,
then COMMITs once, and only then wakes each sender with its result. When a step fails, the
batch is rolled back and run again with each step in its own SAVEPOINT, so that the failing
one fails alone and gets its own error. If that COMMIT fails,
every send of the batch gets the error and nobody hears of any of them
(docs/performance.md, "Group commit").
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import Any, Callable, TypeVar

from flask import Flask, current_app
from sqlalchemy.orm import Session

from ..extensions import db, socketio
from ..models import Room

log = logging.getLogger(__name__)

T = TypeVar("T")

# The most sends one transaction carries; more wait for the next one.
MAX_BATCH = 64
# A committer with nothing to do for this long ends; the next send starts a new one.
IDLE_SECONDS = 5.0
# How long a send waits for its batch's COMMIT before it gives up (and its client retries).
WAIT_SECONDS = 30.0


class CommitFailed(Exception):
    """The COMMIT of a batch failed: none of its sends was stored."""


class _Job:
    """One send waiting for its batch: what to run, in which room, and its outcome."""

    __slots__ = ("work", "room_id", "done", "result", "error")

    def __init__(self, work: Callable[[], Any], room_id: int) -> None:
        self.work = work
        self.room_id = room_id
        self.done = socketio.server.eio.create_event()
        self.result: Any = None
        self.error: BaseException | None = None


class Committer:
    """A queue of store steps and the one background task that commits them in batches."""

    def __init__(self, app: Flask) -> None:
        self.app = app
        self.pending: deque[_Job] = deque()
        self.lock = threading.Lock()  # green under the server's monkey-patching (eventlet or gevent)
        self.wake = socketio.server.eio.create_event()
        self.running = False

    def run(self, work: Callable[[], T], *, room_id: int) -> T:
        """Run work (a store step, on the committer's session) in the next batch; return once it is committed."""
        job = _Job(work, room_id)
        with self.lock:
            self.pending.append(job)
            if not self.running:
                self.running = True
                socketio.start_background_task(self._loop)
        self.wake.set()
        if not job.done.wait(WAIT_SECONDS):
            with self.lock:
                waiting = job in self.pending
                if waiting:
                    self.pending.remove(job)
            if waiting:  # withdrawn before any batch took it: surely not stored, and never will be
                raise CommitFailed("the committer did not answer in time; nothing was stored")
            # A batch is writing it: its COMMIT decides, so wait for that (not forever). Giving
            # up here could leave a stored message that nobody was told of.
            if not job.done.wait(WAIT_SECONDS):
                raise CommitFailed("the committer did not answer in time")
        if job.error is not None:
            raise job.error
        return job.result

    def _loop(self) -> None:
        try:
            while True:
                if not self.pending and not self.wake.wait(IDLE_SECONDS):
                    with self.lock:
                        if not self.pending:
                            self.running = False
                            return
                self.wake.clear()
                with self.lock:
                    batch = [self.pending.popleft() for _ in range(min(MAX_BATCH, len(self.pending)))]
                if batch:
                    self._commit(batch)
        except BaseException:
            log.exception("the group committer stopped")
            with self.lock:
                self.running = False  # the next send starts another
            raise

    def _commit(self, batch: list[_Job]) -> None:
        try:
            # Nearly every batch stores every send: try it without a savepoint per send (those
            # were a tenth of a send's CPU). Only a batch with a failing send is run again, each
            # send in its own SAVEPOINT, so that the failing one fails alone.
            if not self._attempt(batch, savepoints=False):
                self._attempt(batch, savepoints=True)
        finally:
            for job in batch:
                job.done.set()

    def _attempt(self, batch: list[_Job], *, savepoints: bool) -> bool:
        """Run the batch in one transaction and COMMIT it, deciding each send's outcome.

        False, with everything rolled back and nothing decided, when a send of a batch of
        several failed without a savepoint around it.
        """
        with self.app.app_context():
            session = db.session()
            # The results go back to other sessions: keep what the steps loaded after the COMMIT.
            session.expire_on_commit = False
            try:
                _begin(session, room_ids=sorted({job.room_id for job in batch}))
                for job in batch:
                    job.result, job.error = None, None
                    try:
                        if savepoints:
                            with session.begin_nested():
                                job.result = job.work()
                        else:
                            job.result = job.work()
                    except Exception as error:  # noqa: BLE001 - this send fails alone
                        if not savepoints:
                            session.rollback()
                            if len(batch) > 1:
                                return False
                        job.error = error
                session.commit()
            except Exception as error:  # noqa: BLE001 - the whole batch fails, and says so
                session.rollback()
                log.exception("group commit of %d sends failed", len(batch))
                for job in batch:
                    job.result, job.error = None, CommitFailed(str(error))
            finally:
                db.session.remove()
            return True


def _begin(session: Session, *, room_ids: list[int]) -> None:
    """Open the batch's transaction and take its write locks, in one order for every process."""
    connection = session.connection()
    if connection.dialect.name == "sqlite":
        # pysqlite opens a transaction only before an INSERT/UPDATE/DELETE, and a SAVEPOINT
        # outside one would commit on its release: begin explicitly, taking the write lock now.
        connection.exec_driver_sql("BEGIN IMMEDIATE")
        return
    # PostgreSQL hands out ids before the commit: lock the rooms' rows, in id order (no
    # deadlock between two processes' batches), so a room's ids commit in order.
    session.execute(db.select(Room.id).where(Room.id.in_(room_ids)).order_by(Room.id).with_for_update())


def committer() -> Committer:
    """This app's committer (one per process), made on first use."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    found = app.extensions.get("chatapp.committer")
    if found is None:
        found = app.extensions.setdefault("chatapp.committer", Committer(app))
    return found


def hand_over() -> bool:
    """End this request's read-only transaction, keeping its objects loaded, so that it waits holding no connection.

    False (and nothing done) when the session holds a write of its own: a batch would then wait
    for its lock (SQLite), so the send commits on its own.
    """
    session = db.session()
    if session.new or session.dirty or session.deleted:
        return False
    connection = session.connection()
    driver = connection.connection.driver_connection  # None only once the connection is closed
    if connection.dialect.name == "sqlite" and driver is not None and driver.in_transaction:
        return False
    # Waiting handlers must not hold pooled connections: enough of them would leave none for
    # the committer they wait for.
    keep, session.expire_on_commit = session.expire_on_commit, False
    try:
        session.commit()
    finally:
        session.expire_on_commit = keep
    return True
