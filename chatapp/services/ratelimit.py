"""Per-user rate limits for socket events, with the `limits` library (as Flask-Limiter uses)."""
from __future__ import annotations

import functools
import math
import time

from flask import current_app
from flask_babel import gettext as _
from limits import parse
from limits.storage import storage_from_string
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


def check_rate(*, action: str, key: object) -> None:
    """Count one `action` by `key`; raise rate_limited (with retry_after seconds) when over the limit."""
    if not current_app.config.get("RATELIMIT_ENABLED", True):
        return
    limit = _parse_limit(current_app.config[f"{action.upper()}_RATE_LIMIT"])
    limiter = _limiter()
    identity = (action, str(key))
    if limiter.hit(limit, *identity):
        return
    reset_at = limiter.get_window_stats(limit, *identity).reset_time
    retry_after = max(1, math.ceil(reset_at - time.time()))
    raise ServiceError(
        "rate_limited",
        _("You are doing that too fast. Wait %(seconds)d s and try again.", seconds=retry_after),
        retry_after=retry_after,
    )
