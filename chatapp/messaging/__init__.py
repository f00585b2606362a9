"""Messaging over HTTP: uploading and serving pictures, and opening a direct conversation."""
from .blueprint import bp

from . import commands, routes  # noqa: E402,F401 - their views register on the blueprint

__all__ = ["bp"]
