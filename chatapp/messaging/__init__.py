"""Messaging over HTTP: uploading and serving pictures, and opening a direct conversation."""
from . import commands, routes  # noqa: E402,F401 - their views register on the blueprint
from .blueprint import bp

__all__ = ["bp"]
