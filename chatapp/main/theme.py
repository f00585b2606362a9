"""The colour theme: light, dark or the system's, chosen in the top bar and kept in a cookie.

The server reads the cookie so that the very first paint is in the chosen theme: base.html puts
data-theme on <html>, and tokens.css picks the palette from it (no script involved).
"""
from __future__ import annotations

from flask import redirect, request

from ..redirects import back_remembering, safe_next
from .blueprint import bp

THEMES = ("light", "dark")  # anything else, "system" included, follows prefers-color-scheme
THEME_COOKIE = "theme"


def current_theme() -> str:
    """The theme the reader chose: "light", "dark", or "system" (no choice)."""
    chosen = request.cookies.get(THEME_COOKIE)
    return chosen if chosen in THEMES else "system"


@bp.app_context_processor
def theme_context() -> dict:
    """Templates get current_theme()."""
    return {"current_theme": current_theme}


@bp.post("/theme")
def set_theme():
    """Remember the chosen theme (or forget it, for "system") and go back to the page it was chosen on."""
    theme = request.form.get("theme")
    if theme in THEMES:
        return back_remembering(cookie=THEME_COOKIE, value=theme)
    if theme == "system":
        return back_remembering(cookie=THEME_COOKIE, value=None)
    return redirect(safe_next(request.form.get("next")))
