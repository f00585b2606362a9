"""The JSON HTTP API (version 1), for clients that do not speak Socket.IO."""
from . import openapi, routes  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
