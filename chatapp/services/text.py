"""Rules for the short names people give things (display names, room names) and e-mail addresses."""
from __future__ import annotations

import re
import unicodedata

from flask_babel import gettext as _

from .errors import ServiceError

MAX_EMAIL_LENGTH = 254
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]+$")


def is_email(text: str) -> bool:
    """Whether text looks like an e-mail address (one @, a dot in the domain, no spaces, not too long)."""
    return len(text) <= MAX_EMAIL_LENGTH and bool(EMAIL_RE.match(text))


def check_email(email: object) -> str | None:
    """Return a plausible e-mail address (None when blank), or raise invalid."""
    if email is None or (isinstance(email, str) and not email.strip()):
        return None
    text = email.strip() if isinstance(email, str) else ""
    if not is_email(text):
        raise ServiceError("invalid", _("Type an e-mail address like name@example.com."))
    return text


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
