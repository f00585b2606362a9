"""The support desk: the agent console under /support, and the website widget (/widget.js, /widget/…)."""
from .blueprint import bp, widget_bp

from . import routes, widget  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp", "widget_bp"]
