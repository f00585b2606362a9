"""Read positions in rooms and classes, written at most once every READ_WRITE_SECONDS per person and room.

A page sends `read` whenever the newest message is on screen; in a class of 500 following a
busy lesson that is hundreds of writes a second for one number per person. So, outside direct
rooms and conversations (whose receipts are live, services/receipts.py):
- the first read after a quiet spell is written at once;
- a read inside the spell is held here (one position per person and room, the furthest) and
  written when the spell ends by a background task, or at once when that person's socket
  disconnects or their room list asks for its counts (services/unread.py);
- the spell lives in the rate limiter's storage (memory://, or Redis: every process sees the
  same one), the held position in this process, where the socket that read it is.
Every write is one conditional UPDATE, so a position never moves back whoever writes it.
"""
from __future__ import annotations

import threading

from flask import Flask, current_app

from ..extensions import db, socketio
from ..models import Membership
from .ratelimit import take_turn

_held: dict[tuple[int, int], int] = {}  # (user_id, room_id) -> the furthest position read and not yet written
_lock = threading.Lock()


def _write(user_id: int, room_id: int, position: int) -> None:
    db.session.execute(
        db.update(Membership).where(Membership.user_id == user_id, Membership.room_id == room_id,
                                    Membership.last_read_id < position)
        .values(last_read_id=position)
    )
    db.session.commit()


def _turn(user_id: int, room_id: int, seconds: int) -> float:
    return take_turn(action="read_write", key=f"{user_id}:{room_id}", seconds=seconds) if seconds > 0 else 0.0


def move(*, user_id: int, room_id: int, position: int) -> None:
    """user read room up to position: write it now if their spell allows, else hold it until the spell ends."""
    wait = _turn(user_id, room_id, current_app.config["READ_WRITE_SECONDS"])
    if not wait:
        _write(user_id, room_id, position)
        return
    key = (user_id, room_id)
    with _lock:
        first = key not in _held
        _held[key] = max(_held.get(key, 0), position)
    if first:  # one writer per held position; later reads only move what it will write
        socketio.start_background_task(_write_later, current_app._get_current_object(), key, wait)  # type: ignore[attr-defined]


def held(*, user_id: int, room_id: int) -> int:
    """The position held for user in room, not yet written (0: none)."""
    return _held.get((user_id, room_id), 0)


def _take(keys: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    with _lock:
        return [(user_id, room_id, position) for (user_id, room_id) in keys
                if (position := _held.pop((user_id, room_id), None)) is not None]


def _write_later(app: Flask, key: tuple[int, int], wait: float) -> None:
    socketio.sleep(wait)
    with app.app_context():
        try:
            for user_id, room_id, position in _take([key]):
                _turn(user_id, room_id, app.config["READ_WRITE_SECONDS"])  # this write starts the next spell
                _write(user_id, room_id, position)
        finally:
            db.session.remove()


def flush(*, user_id: int) -> None:
    """Write every position held for user now (their socket went, or their room list wants true counts)."""
    with _lock:
        keys = [key for key in _held if key[0] == user_id]
    for _, room_id, position in _take(keys):
        _write(user_id, room_id, position)
