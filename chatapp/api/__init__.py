"""The JSON HTTP API (version 1), for clients that do not speak Socket.IO."""
from .blueprint import bp

from . import routes  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp"]
