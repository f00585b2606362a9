"""Where a form may send someone back to: only paths on this site."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def safe_next(target: str | None) -> str:
    """target if it is a same-site path, else the room list (never an open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        parts = urlsplit(target)
        # Browsers read "/\\host" like "//host"; a scheme or host means another site.
        if not parts.scheme and not parts.netloc and "\\" not in target.split("?", 1)[0]:
            return target
    return url_for("rooms.index")
