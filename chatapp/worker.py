"""The outbox's workers: they send the stored jobs (services/outbox.py) until the process ends.

`python wsgi.py` starts them in its own process, as green threads beside the server
(OUTBOX_WORKER, on by default: one machine needs nothing else). `flask --app wsgi worker` runs
them as a process of their own, with OS threads, for sites that run several server processes
and want sending apart from serving. Any number may run at once, in any processes: a job is
taken by one worker at a time (its lease).

This module imports every module that registers a kind of job, so that whichever process
runs a worker knows how to send every job.
"""
from __future__ import annotations

import logging
import signal
import threading
from typing import Callable

from flask import Flask

from .extensions import db, socketio
from .services import mail_jobs, outbox, room_export, webhooks  # noqa: F401 - each module registers the kinds of job it sends

log = logging.getLogger(__name__)

_started: set[int] = set()


def work(app: Flask, *, sleep: Callable[[float], None], stop: threading.Event | None = None) -> None:
    """One worker's loop: send what is due, and when nothing is, wait OUTBOX_POLL_SECONDS."""
    interval = float(app.config["OUTBOX_POLL_SECONDS"])
    while stop is None or not stop.is_set():
        with app.app_context():
            try:
                state = outbox.run_one()
            except Exception:  # noqa: BLE001 - the database may be away a moment: wait, then go on
                log.exception("outbox worker: a round failed")
                state = None
            finally:
                db.session.remove()
        if state is None:
            sleep(interval)


def start_in_server(app: Flask) -> None:
    """Start OUTBOX_CONCURRENCY workers as background tasks of the server's async mode, once per app."""
    if not app.config["OUTBOX_WORKER"] or id(app) in _started:
        return
    _started.add(id(app))
    for _ in range(max(1, int(app.config["OUTBOX_CONCURRENCY"]))):
        socketio.start_background_task(work, app, sleep=socketio.sleep)


def run_forever(app: Flask, *, stop: threading.Event | None = None) -> None:
    """`flask --app wsgi worker`: OUTBOX_CONCURRENCY OS threads, until SIGTERM or Ctrl-C (or `stop` is set).

    On SIGTERM each thread finishes the job it is sending, records its outcome, and ends.
    """
    stop = stop or threading.Event()
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, lambda signum, frame: stop.set())
    threads = [
        threading.Thread(target=work, args=(app,), kwargs={"sleep": stop.wait, "stop": stop}, daemon=True)
        for _ in range(max(1, int(app.config["OUTBOX_CONCURRENCY"])))
    ]
    for thread in threads:
        thread.start()
    try:
        while not stop.is_set():
            stop.wait(1)
    except KeyboardInterrupt:
        stop.set()
    for thread in threads:
        thread.join(timeout=float(app.config["OUTBOX_LEASE_SECONDS"]))
