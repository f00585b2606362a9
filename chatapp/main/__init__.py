"""Health check and the browser's third-party scripts (served from node_modules, never copied)."""
from . import routes, theme, unsubscribe  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
