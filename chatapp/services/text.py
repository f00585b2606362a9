"""Rules for the short names people give things (display names, room names)."""
from __future__ import annotations

import unicodedata

from flask_babel import gettext as _

from .errors import ServiceError


def clean_name(value: object, *, what: str, max_length: int) -> str:
    """Collapse white space; refuse control and invisible formatting characters; check the length."""
    clean = " ".join(value.split()) if isinstance(value, str) else ""
    # Cc: control characters; Cf: invisible formatting (bidi overrides, zero-width joiners).
    if any(unicodedata.category(ch) in ("Cc", "Cf") for ch in clean):
        raise ServiceError(
            "invalid", _("A %(what)s cannot contain control or invisible formatting characters.", what=what)
        )
    if not 1 <= len(clean) <= max_length:
        raise ServiceError("invalid", _("A %(what)s is 1 to %(max)d characters.", what=what, max=max_length))
    return clean
