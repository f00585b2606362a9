"""Running as several processes: the shared presence backend, chosen from configuration.

With SOCKETIO_MESSAGE_QUEUE (or PRESENCE_URL) set to a redis:// URL, presence lives in
Redis so that every process sees every socket; otherwise in this process's memory.
Slow mode and send idempotency need nothing here: both are read from the database.
"""
from __future__ import annotations

import logging

from flask import Flask

from .extensions import db, socketio
from .realtime.announce import announce
from .realtime.channels import VISITORS_CHANNEL
from .realtime.presence import PresenceTracker, RedisPresenceTracker, presence
from .services import availability, routing
from .services import support as support_service
from .services.online import announce_presence


def presence_url(app: Flask) -> str | None:
    """The Redis that holds presence, or None for in-process presence."""
    url = app.config.get("PRESENCE_URL") or app.config.get("SOCKETIO_MESSAGE_QUEUE")
    return url if url and url.startswith(("redis://", "rediss://", "unix://")) else None


def init_presence(app: Flask) -> None:
    """Point `presence` at Redis when processes share a message queue; else keep it in memory."""
    url = presence_url(app)
    backend = presence.backend
    if url is None:
        if not isinstance(backend, PresenceTracker):
            presence.use(PresenceTracker())
        return
    prefix = app.config["PRESENCE_KEY_PREFIX"]
    if isinstance(backend, RedisPresenceTracker) and backend.url == url and backend.prefix == prefix:
        return
    presence.use(
        RedisPresenceTracker(
            url, ttl=app.config["PRESENCE_TTL_SECONDS"], prefix=prefix,
            start_background_task=socketio.start_background_task, sleep=socketio.sleep,
            on_swept=lambda rooms: announce_swept(app, rooms),
        )
    )


def announce_swept(app: Flask, rooms: list[str]) -> None:
    """After a dead process's sockets were swept: tell its rooms (and visitors, for agents) who is online now."""
    with app.app_context():
        try:
            for slug in rooms:
                if slug == availability.AGENTS_PRESENCE:
                    announce("agents_online", {"online": support_service.agents_online()}, to=VISITORS_CHANNEL)
                    routing.tick()  # the dead process's agents are offline: their work may go back
                else:
                    announce_presence(slug)
        finally:
            db.session.remove()


_desk_ticks: set[int] = set()


def start_desk_tick(app: Flask) -> None:
    """Start this process's desk tick (routing.tick every DESK_TICK_SECONDS) once, when a console first opens.

    Every process runs one: each decision it takes is safe beside the others' (services/routing.py).
    """
    interval = float(app.config["DESK_TICK_SECONDS"])
    if interval <= 0 or id(app) in _desk_ticks:
        return
    _desk_ticks.add(id(app))

    def loop() -> None:
        while True:
            socketio.sleep(interval)
            with app.app_context():
                try:
                    routing.tick()
                except Exception:  # noqa: BLE001 - the database or Redis may be away a moment; next tick
                    logging.getLogger(__name__).exception("desk tick failed")
                finally:
                    db.session.remove()

    socketio.start_background_task(loop)
