"""Reading the server's HTML forms."""
from __future__ import annotations

import re

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_token_from(html: str) -> str:
    """The CSRF token in a rendered form."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)
