"""Rate limits (with the `limits` library, as Flask-Limiter uses) and failure back-off, on one shared storage.

`check_rate` counts every action (per user, or per address where no user is known yet).
`Backoff` counts only failures: after its free ones, every further failure makes the next
attempt wait, twice as long each time. Both live in RATELIMIT_STORAGE_URI (memory://, or
redis:// so that every process sees the same counts).
"""
from __future__ import annotations

import datetime
import functools
import math
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import format_timedelta
from flask_babel import gettext as _
from limits import parse
from limits.storage import Storage, storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import ServiceError

# "20 per 10 seconds" parsed once per string, not on every event (it showed in the write path's profile).
_parse_limit = functools.lru_cache(maxsize=64)(parse)


def _limiter() -> MovingWindowRateLimiter:
    # One limiter per app, on the same storage as Flask-Limiter's (memory:// or redis://).
    limiter = current_app.extensions.get("chatapp_socket_limiter")
    if limiter is None:
        limiter = MovingWindowRateLimiter(storage_from_string(current_app.config["RATELIMIT_STORAGE_URI"]))
        current_app.extensions["chatapp_socket_limiter"] = limiter
    return limiter


def _enabled() -> bool:
    return bool(current_app.config.get("RATELIMIT_ENABLED", True))


def wait_in_words(seconds: int) -> str:
    """How long to wait, as a person says it in the page's language ("in 4 minutes", "4分钟后")."""
    return format_timedelta(datetime.timedelta(seconds=seconds), add_direction=True, threshold=1.0)


def rate_limited(retry_after: int) -> ServiceError:
    """The error that says when to try again (in words, and as retry_after seconds)."""
    return ServiceError(
        "rate_limited",
        _("You are doing that too fast. Wait %(seconds)d s and try again.", seconds=retry_after),
        retry_after=retry_after,
    )


def _retry_after(limit, identity: tuple[str, str]) -> int:
    reset_at = _limiter().get_window_stats(limit, *identity).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def check_rate(*, action: str, key: object) -> None:
    """Count one `action` by `key`; raise rate_limited (with retry_after seconds) when over the limit."""
    if not _enabled():
        return
    limit = _parse_limit(current_app.config[f"{action.upper()}_RATE_LIMIT"])
    identity = (action, str(key))
    if _limiter().hit(limit, *identity):
        return
    raise rate_limited(_retry_after(limit, identity))


def check_under_rate(*, action: str, key: object) -> None:
    """Raise rate_limited if `key` is already at its `action` limit, without counting anything (see count_rate)."""
    if not _enabled():
        return
    limit = _parse_limit(current_app.config[f"{action.upper()}_RATE_LIMIT"])
    identity = (action, str(key))
    if not _limiter().test(limit, *identity):
        raise rate_limited(_retry_after(limit, identity))


def take_turn(*, action: str, key: object, seconds: int) -> float:
    """One turn every `seconds` for key (whatever RATELIMIT_ENABLED says: this spaces out work, it
    refuses nobody): 0.0 if this call took the turn, else the seconds until the next one is free."""
    limit = _parse_limit(f"1 per {seconds} seconds")
    if _limiter().hit(limit, action, str(key)):
        return 0.0
    return max(0.05, _limiter().get_window_stats(limit, action, str(key)).reset_time - time.time())


def count_rate(*, action: str, key: object) -> None:
    """Count one `action` by `key` that check_under_rate let through (only what should count is counted)."""
    if _enabled():
        _limiter().hit(_parse_limit(current_app.config[f"{action.upper()}_RATE_LIMIT"]), action, str(key))


@dataclass(frozen=True)
class Backoff:
    """Failures of one kind, counted per key: the first `free` - 1 cost nothing, then each makes the next attempt wait.

    So `free` attempts may fail in a row; the free-th failure locks the key for first_delay
    seconds, and each one after it for twice as long as the one before
    (at most max_delay); the count is forgotten `window` seconds after its first failure,
    or at once by clear() (a success). The lock is a key of its own whose expiry *is* the
    wait, so any process reads the same wait from the shared storage.
    """

    name: str
    free: int
    first_delay: int
    max_delay: int
    window: int

    def _storage(self) -> Storage:
        return _limiter().storage

    def _count_key(self, key: str) -> str:
        return f"chatapp-backoff:{self.name}:{key}"

    def _lock_key(self, key: str, failures: int) -> str:
        return f"chatapp-backoff:{self.name}:{key}:lock:{failures}"

    def delay_after(self, failures: int) -> int:
        """Seconds the next attempt waits after this many failures (0 while they are free)."""
        over = failures - self.free
        return 0 if over < 0 else min(self.max_delay, self.first_delay * 2 ** min(over, 32))

    def wait(self, key: str) -> int:
        """Seconds until key may be tried again (0: now)."""
        if not _enabled():
            return 0
        storage = self._storage()
        failures = storage.get(self._count_key(key))
        if failures < self.free:
            return 0
        lock = self._lock_key(key, failures)
        if not storage.get(lock):
            return 0
        return max(1, math.ceil(storage.get_expiry(lock) - time.time()))

    def fail(self, key: str) -> None:
        """Count one failure for key, locking it for the next attempt once past the free ones."""
        if not _enabled():
            return
        storage = self._storage()
        failures = storage.incr(self._count_key(key), self.window)
        delay = self.delay_after(failures)
        if delay:
            storage.incr(self._lock_key(key, failures), delay)

    def clear(self, key: str) -> None:
        """Forget key's failures (its last lock, if any, is no longer read)."""
        if _enabled():
            self._storage().clear(self._count_key(key))
