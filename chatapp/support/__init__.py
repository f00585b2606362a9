"""The support desk: the agent console under /support, and the website widget (/widget.js, /widget/…)."""
from . import routes, widget  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp, widget_bp

__all__ = ["bp", "widget_bp"]
