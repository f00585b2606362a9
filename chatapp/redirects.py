"""Where a form may send someone back to: only paths on this site."""
from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import redirect, request, url_for
from werkzeug.wrappers import Response

# How long a reader's choice (language, theme) is remembered in their browser.
PREFERENCE_COOKIE_MAX_AGE = 365 * 24 * 3600


def safe_next(target: str | None) -> str:
    """target if it is a same-site path, else the room list (never an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        # Browsers read "/\\host" like "//host"; a scheme or host means another site.
        if not parts.scheme and not parts.netloc and "\\" not in target.split("?", 1)[0]:
            return target
    return url_for("rooms.index")


def back_remembering(*, cookie: str, value: str | None) -> Response:
    """Redirect to the form's `next` (same site only), keeping a reader's choice in cookie (None: forget it)."""
    response = redirect(safe_next(request.form.get("next")))
    options: dict[str, Any] = {"samesite": "Lax", "httponly": True, "secure": request.is_secure}
    if value is None:
        response.delete_cookie(cookie, **options)
    else:
        response.set_cookie(cookie, value, max_age=PREFERENCE_COOKIE_MAX_AGE, **options)
    return response
